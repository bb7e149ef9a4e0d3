"""Data Docs that open without internet: page views with local assets, and the asset copy.

Why: Great Expectations 1.24.1's page templates load Bootstrap, jQuery, bootstrap-table,
Font Awesome and the logo from CDNs (``render/view/templates/page.j2``, ``index_page.j2``,
``js_script_imports.j2``, ``top_navbar.j2``). On a town hall's intranet none of them loads: the
index's table of results is built by bootstrap-table in the browser, so the page stays blank.

GX's hook for this is the site builder's ``view`` option (``site_section_builders.<section>.view``
and ``site_index_builder.view``, see expectations.gx_context): a view class that renders pages.
``OfflinePageView`` is GX's page view with Vigie's templates (``docs_site/templates/``) put
*before* GX's own in the Jinja loader. (GX's other hook, ``plugins/custom_data_docs/views``, is
searched *after* GX's templates, so it cannot replace ``page.j2``.) The templates reference
``static/vendor/...`` through a relative ``site_root`` so the site works from any folder, over
``file://`` or any web server, and ``install_static_assets`` copies the vendored files
(``docs_site/static/``, licences in ``docs_site/static/vendor/README.md``) into the site.

Vega (GX's charts) is not vendored: none of Vigie's expectations renders a chart
(tests/expectations/test_data_docs.py fails if a page ever calls ``vegaEmbed``).
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path
from typing import Any

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemBytecodeCache, FileSystemLoader

DOCS_SITE = Path(__file__).resolve().parent / "docs_site"
TEMPLATES = DOCS_SITE / "templates"
STATIC = DOCS_SITE / "static"


def site_root(renderer_type: str | None, suite_name: str | None) -> str:
    """Relative path from a GX page to the site's root ('' for the index).

    GX writes a suite page at ``expectations/<suite parts>.html`` and a result page at
    ``validations/<suite parts>/<run name>/<run time>/<batch>.html`` (suite names split on dots).
    """
    dots = (suite_name or "").count(".")
    kind = renderer_type or ""
    if "ValidationResults" in kind or "ProfilingResults" in kind:
        return "../" * (dots + 4)
    if "ExpectationSuite" in kind:
        return "../" * (dots + 1)
    return ""


class _OfflineTemplates:
    """Mixin: Vigie's templates first in the loader, ``site_root`` passed to every page, and
    the compiled templates kept in ``bytecode_directory`` when given.

    WHY the bytecode: GX builds a new site builder, hence new views and Jinja environments, at
    every ``build_data_docs``, so every night (every process, in production one a task)
    compiled the page templates again: 0.15–0.2 s of CPU (docs/performance.md, "Checks").
    Jinja's own file cache keeps them, keyed by template name and source checksum (a changed
    template, or another Python, is compiled again), written atomically."""

    env: Any

    def _prefer_vigie_templates(self, bytecode_directory: str | None) -> None:
        self.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), self.env.loader])
        if bytecode_directory:
            Path(bytecode_directory).mkdir(parents=True, exist_ok=True)
            self.env.bytecode_cache = FileSystemBytecodeCache(bytecode_directory)

    def render(self, document: Any, template: Any = None, **kwargs: Any) -> str:
        def field(name: str) -> Any:
            if isinstance(document, dict):
                return document.get(name)
            return getattr(document, name, None)

        kwargs.setdefault(
            "site_root", site_root(field("renderer_type"), field("expectation_suite_name"))
        )
        return super().render(document, template, **kwargs)  # type: ignore[misc]


class OfflinePageView(_OfflineTemplates, DefaultJinjaPageView):
    """GX's suite and result page view, rendering only local assets."""

    def __init__(self, custom_styles_directory: str | None = None,
                 custom_views_directory: str | None = None, bytecode_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self._prefer_vigie_templates(bytecode_directory)


class OfflineIndexPageView(_OfflineTemplates, DefaultJinjaIndexPageView):
    """GX's index page view, rendering only local assets."""

    def __init__(self, custom_styles_directory: str | None = None,
                 custom_views_directory: str | None = None, bytecode_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self._prefer_vigie_templates(bytecode_directory)


def install_static_assets(docs_dir: Path) -> int:
    """Copy ``docs_site/static/`` into ``<docs_dir>/static/``; return how many files changed.

    GX copies its own static folder (fonts, images, styles) at every build; this adds the
    vendored libraries beside it. Files already identical are left alone, so a rerun writes
    nothing.
    """
    copied = 0
    for src in sorted(STATIC.rglob("*")):
        if not src.is_file():
            continue
        dest = docs_dir / "static" / src.relative_to(STATIC)
        if dest.is_file() and filecmp.cmp(src, dest, shallow=False):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        copied += 1
    return copied
