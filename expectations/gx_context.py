"""The Great Expectations project Vigie validates with, created once per process.

Why a cache: the demo checks 28 nights in one process, and each night validates ~20 batches.
Building a file context, its pandas datasource, assets and validation definitions costs little
once but adds up if repeated; rewriting unchanged suites also rewrites their JSON and Data Docs
pages. So the context is kept per project directory, suites are rewritten only when their
fingerprint (expectations.suites.SuiteSpec.fingerprint, stored in the suite's meta) changed,
and validation definitions are created once per (suite, asset).

GX is imported inside functions only: ``import great_expectations`` costs about 3 s, which a
DAG file or the CLI's --help must not pay.

GX 1.24 cannot read DuckDB through its SQL datasource (docs/stack.md): every batch here is a
pandas DataFrame handed over at validation time (``add_batch_definition_whole_dataframe``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from expectations.suites import GX_SEVERITY, Check, SuiteSpec

if TYPE_CHECKING:
    from great_expectations.data_context.store.store import DataDocsSiteConfigTypedDict

log = logging.getLogger(__name__)

DATASOURCE = "vigie"
SITE_NAME = "vigie"
FINGERPRINT_KEY = "vigie_fingerprint"
INDEX_RESULTS_LIMIT = 100  # about five nights of results on the Data Docs index page
_OFFLINE = "expectations.data_docs_offline"
_SEVERITY = "expectations.data_docs_severity"
# Data Docs' compiled page templates, kept between processes (expectations.data_docs_offline).
TEMPLATE_BYTECODE = Path("uncommitted") / "data_docs_templates"


@dataclass
class GxProject:
    """A file-backed GX context plus what was already registered in it this process."""

    root: Path
    docs_dir: Path
    context: Any
    datasource: Any
    suites: dict[str, Any] = field(default_factory=dict)  # name -> ExpectationSuite
    validations: dict[str, Any] = field(default_factory=dict)  # vd name -> ValidationDefinition


_PROJECTS: dict[tuple[Path, Path], GxProject] = {}


def get_project(root: Path, docs_dir: Path) -> GxProject:
    """The process's GX project for ``root`` with its Data Docs site in ``docs_dir``."""
    key = (root.resolve(), docs_dir.resolve())
    project = _PROJECTS.get(key)
    if project is None:
        project = _open_project(*key)
        _PROJECTS[key] = project
    return project


def _open_project(root: Path, docs_dir: Path) -> GxProject:
    import great_expectations as gx

    import expectations.landing_types  # noqa: F401  (registers Vigie's expectation before suites load)

    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    bytecode = str(root / TEMPLATE_BYTECODE)
    page_view = {"module_name": _OFFLINE, "class_name": "OfflinePageView", "bytecode_directory": bytecode}
    no_progress_bars = {"globally": False}
    current: object = context.variables.progress_bars  # typed ProgressBarsConfig, read back as a dict
    if current != no_progress_bars:
        context.variables.progress_bars = no_progress_bars  # type: ignore[assignment]
        context.variables.save()
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        # The index page lists the newest results only: building it loads every listed result,
        # and after 28 nights x ~19 batches that alone took 2 s. Older pages stay on disk.
        # Views: pages load their styles and scripts from the site's static/vendor/, never a
        # CDN (expectations.data_docs_offline), their compiled templates kept in the project
        # (TEMPLATE_BYTECODE). Renderers and index builder: a failed warning
        # is shown as a warning, not "Failed" (expectations.data_docs_severity).
        "site_index_builder": {
            "module_name": _SEVERITY,
            "class_name": "SeveritySiteIndexBuilder",
            "validation_results_limit": INDEX_RESULTS_LIMIT,
            "renderer": {"module_name": _SEVERITY, "class_name": "SeveritySiteIndexPageRenderer"},
            "view": {"module_name": _OFFLINE, "class_name": "OfflineIndexPageView", "bytecode_directory": bytecode},
        },
        "site_section_builders": {
            "expectations": {"view": page_view},
            "validations": {
                "renderer": {
                    "module_name": _SEVERITY,
                    "class_name": "SeverityValidationResultsPageRenderer",
                },
                "view": page_view,
            },
            "profiling": {"view": page_view},
        },
    }
    sites = context.list_data_docs_sites()
    for name in list(sites):
        if name != SITE_NAME:
            context.delete_data_docs_site(name)  # the default local_site: one site, where cfg says
    if SITE_NAME not in sites:
        context.add_data_docs_site(SITE_NAME, cast("DataDocsSiteConfigTypedDict", site))
    elif sites[SITE_NAME] != site:
        context.update_data_docs_site(SITE_NAME, cast("DataDocsSiteConfigTypedDict", site))
    datasource = context.data_sources.add_or_update_pandas(DATASOURCE)
    return GxProject(root=root, docs_dir=docs_dir, context=context, datasource=datasource)


def _condition(where: tuple[tuple[str, str, Any], ...]) -> Any:
    from great_expectations.expectations.row_conditions import Column

    cond = None
    for column, op, value in where:
        col = Column(column)
        part = {"==": col == value, ">=": col >= value, "<=": col <= value, "!=": col != value}[op]
        cond = part if cond is None else cond & part
    return cond


def _expectation(check: Check) -> Any:
    import great_expectations.expectations as gxe

    from expectations import landing_types

    cls = getattr(gxe, check.expectation, None) or getattr(landing_types, check.expectation)
    kwargs = dict(check.kwargs)
    if check.where:
        kwargs["row_condition"] = _condition(check.where)
    meta = {"severity": check.severity, "why": check.why, **check.extra_meta}
    if check.description:
        kwargs["description"] = check.description
    return cls(**kwargs, meta=meta, severity=GX_SEVERITY[check.severity])


def ensure_suite(project: GxProject, spec: SuiteSpec) -> Any:
    """The stored suite for ``spec``; rewritten only when the spec's fingerprint changed."""
    cached = project.suites.get(spec.name)
    if cached is not None and cached.meta.get(FINGERPRINT_KEY) == spec.fingerprint:
        return cached
    import great_expectations as gx

    ctx = project.context
    try:
        stored = ctx.suites.get(spec.name)
    except Exception:  # GX raises various "not found" errors
        stored = None
    if stored is not None and stored.meta.get(FINGERPRINT_KEY) == spec.fingerprint:
        project.suites[spec.name] = stored
        return stored
    suite = gx.ExpectationSuite(name=spec.name, meta={FINGERPRINT_KEY: spec.fingerprint})
    for check in spec.checks:
        suite.add_expectation(_expectation(check))
    suite = ctx.suites.add_or_update(suite)
    log.info("GX suite %s written (%d expectations)", spec.name, len(spec.checks))
    project.suites[spec.name] = suite
    # Validation definitions embed the suite: drop the cached ones of this suite.
    for name in [n for n in project.validations if n.startswith(spec.name + "@")]:
        del project.validations[name]
    return suite


def ensure_validation(project: GxProject, spec: SuiteSpec, asset_name: str) -> Any:
    """Validation definition of ``spec`` over the dataframe asset ``asset_name``."""
    suite = ensure_suite(project, spec)
    vd_name = f"{spec.name}@{asset_name}"
    vd = project.validations.get(vd_name)
    if vd is not None:
        return vd
    import great_expectations as gx

    ds = project.datasource
    try:
        asset = ds.get_asset(asset_name)
    except LookupError:
        asset = ds.add_dataframe_asset(asset_name)
    try:
        batch_def = asset.get_batch_definition("whole")
    except (KeyError, LookupError):
        batch_def = asset.add_batch_definition_whole_dataframe("whole")
    ctx = project.context
    vd = gx.ValidationDefinition(name=vd_name, data=batch_def, suite=suite)
    vd = ctx.validation_definitions.add_or_update(vd)
    project.validations[vd_name] = vd
    return vd


def forget_batches(project: GxProject) -> None:
    """Drop the frames GX keeps after a validation.

    GX 1.24's pandas datasource keeps one execution engine, whose batch manager holds every
    batch it loaded (the frame and its batch request, one entry per asset) until the process
    ends. Called after each validation, so that a validated frame is freed as soon as the
    caller drops it: at scale 10 and three years the mart suites' frames would otherwise all
    stay alive together (docs/performance.md, "Peak memory"). The engine's metric cache
    (counts, conditions) is GX's and is left as it is."""
    manager = project.datasource.get_execution_engine().batch_manager
    manager.batch_data_cache.clear()
    manager.reset_batch_cache()


def build_docs(project: GxProject, result_ids: list[Any]) -> Path:
    """Render this run's validation results and the index page; return the index path.

    Only this run's results are re-rendered (earlier nights' pages are already on disk), so
    the cost per night does not grow with the history. Exception: a site without the vendored
    assets yet (new, or written by a Vigie whose pages used CDNs) is rendered whole once,
    which GX bounds to the suites and the newest INDEX_RESULTS_LIMIT results, so every page
    the index links to loads its assets locally.
    """
    from expectations.data_docs_offline import install_static_assets

    ctx = project.context
    offline_ready = (project.docs_dir / "static" / "vendor").is_dir()
    ids = (result_ids or None) if offline_ready else None
    ctx.build_data_docs(site_names=[SITE_NAME], resource_identifiers=ids)
    install_static_assets(project.docs_dir)
    return project.docs_dir / "index.html"
