"""Data Docs that show a failed ``warning`` expectation as a warning, not as a failure.

Why: Vigie's suites mix blocking checks (the night stops) and warnings (suspicious data, or a
breached commitment: a business finding, the run goes on). Every expectation carries GX's own
``severity`` field (``critical`` for blocking, ``warning`` for warnings; expectations.gx_context),
but GX 1.24.1's renderers ignore it: any failed expectation gets a red cross, and any result with
one failure reads "Failed" on its page and on the index. A data team reading the docs after a
night whose only findings are breached commitments would look for a broken run that is not.

These classes are plugged in through the site builder's configuration (renderer, table renderer,
index builder and index renderer: expectations.gx_context) and change only the status shown:
- a failed expectation of severity ``warning`` (or ``info``): amber triangle and the word
  "Warning" instead of the red cross;
- a result whose failures are all warnings: "Status: Warning" on its page, and "Warning" in
  the index's status column (and its filter) instead of "Failed";
- a result with one failed ``critical`` expectation (or one without severity): "Failed", as GX.
The table renderer also writes "no rows to check" where GX wrote "NaN% null" (a commitment
with no period closing tonight: its row condition keeps no row).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
)
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.render import RenderedStringTemplateContent
from great_expectations.render.renderer import SiteIndexPageRenderer, ValidationResultsPageRenderer
from great_expectations.render.renderer.content_block import (
    ValidationResultsTableContentBlockRenderer,
)
from great_expectations.render.renderer.site_builder import (
    DefaultSiteIndexBuilder,
    _resolve_asset_name,
)
from great_expectations.render.util import resource_key_passes_run_name_filter

SUCCESS = "success"
WARNING = "warning"
FAILED = "failed"

WARNING_LABEL = "Warning"
NO_ROWS = "no rows to check"
WARNING_ICON_CLASSES = ["fas", "fa-exclamation-triangle", "vigie-warning-icon"]


def result_status(result: ExpectationSuiteValidationResult) -> str:
    """success, warning (every failed expectation is a warning or info) or failed."""
    if result.success:
        return SUCCESS
    worst = result.get_max_severity_failure()
    if worst in (FailureSeverity.WARNING, FailureSeverity.INFO):
        return WARNING
    return FAILED


def expectation_is_warning(result: Any) -> bool:
    """True for a failed expectation whose configured severity is warning or info."""
    if result.success:
        return False
    config = result.expectation_config
    severity = config.severity if config is not None else None
    return severity in (FailureSeverity.WARNING, FailureSeverity.INFO)


def _warning_cell(title: str) -> RenderedStringTemplateContent:
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={
            "template": "$icon $label",
            "params": {"icon": "", "label": WARNING_LABEL, "markdown_status_icon": "⚠️"},
            "styling": {
                "params": {
                    "icon": {"tag": "i", "classes": WARNING_ICON_CLASSES,
                             "attributes": {"title": title, "aria-hidden": "true"}},
                    "label": {"classes": ["vigie-status-warning", "small"]},
                }
            },
        },
    )


class SeverityTableContentBlockRenderer(ValidationResultsTableContentBlockRenderer):
    """GX's results table, with a warning status cell for failed warning expectations."""

    @classmethod
    def _get_content_block_fn(cls, expectation_type: str, expectation_config: Any = None) -> Any:
        row_fn = super()._get_content_block_fn(
            expectation_type=expectation_type, expectation_config=expectation_config
        )
        if row_fn is None:
            return None

        def row_with_severity(configuration: Any = None, result: Any = None,
                              runtime_configuration: Any = None, **kwargs: Any) -> Any:
            rows = row_fn(configuration=configuration, result=result,
                          runtime_configuration=runtime_configuration, **kwargs)
            if result is None:
                return rows
            raised = (result.exception_info or {}).get("raised_exception")
            if not raised and expectation_is_warning(result):
                rows[0][0] = _warning_cell("failed, severity warning: the run goes on")
            if (result.result or {}).get("element_count") == 0 and len(rows[0]) > 2:
                rows[0][2] = NO_ROWS  # GX writes "NaN% null" when a row condition keeps no row
            return rows

        return row_with_severity


def _column_section_renderer() -> dict[str, Any]:
    return {
        "module_name": "great_expectations.render.renderer.column_section_renderer",
        "class_name": "ValidationResultsColumnSectionRenderer",
        "table_renderer": {
            "module_name": __name__,
            "class_name": SeverityTableContentBlockRenderer.__name__,
        },
    }


class SeverityValidationResultsPageRenderer(ValidationResultsPageRenderer):
    """GX's result page: "Status: Warning" when every failure is a warning, warning rows."""

    def __init__(self, column_section_renderer: dict[str, Any] | None = None,
                 run_info_at_end: bool = False, data_context: Any = None) -> None:
        super().__init__(column_section_renderer or _column_section_renderer(),
                         run_info_at_end, data_context)

    @classmethod
    def _render_validation_header(cls, validation_results: Any) -> Any:
        header = super()._render_validation_header(validation_results)
        # GX reads the asset from batch_kwargs, which its dataframe assets leave empty ("None").
        header.subheader.string_template["params"]["data_asset_name"] = _resolve_asset_name(
            validation_results
        )
        if result_status(validation_results) == WARNING:
            params = header.subheader.string_template["params"]
            params["success"] = WARNING_LABEL
            params["html_success_icon"] = (
                f'<i class="{" ".join(WARNING_ICON_CLASSES)}" aria-hidden="true"></i>'
            )
        return header


class SeveritySiteIndexBuilder(DefaultSiteIndexBuilder):
    """GX's index builder, recording each listed result's status (success, warning, failed).

    ``_add_validations_to_index_links`` is GX 1.24.1's, plus ``vigie_status`` on each link: GX
    keeps only the result's ``success`` flag, and reading each result a second time to learn
    its severities would double the index's cost (the index reads up to 100 results a night).
    """

    def _add_validations_to_index_links(self, index_links_dict: OrderedDict,
                                        validation_and_profiling_result_site_keys: list) -> None:
        validations = self.site_section_builders_config.get("validations")
        if not validations:
            return
        name_filter = validations["run_name_filter"]
        keys = sorted(
            (k for k in validation_and_profiling_result_site_keys
             if resource_key_passes_run_name_filter(k, name_filter)),
            key=lambda k: k.run_id.run_time,
            reverse=True,
        )
        if self.validation_results_limit:
            keys = keys[: self.validation_results_limit]
        for key in keys:
            validation = self.data_context.get_validation_result(
                batch_identifier=key.batch_identifier,
                expectation_suite_name=key.expectation_suite_identifier.name,
                run_id=key.run_id,
                validation_results_store_name=self.source_stores.get("validations"),
            )
            if not isinstance(validation, ExpectationSuiteValidationResult):
                continue  # GX logs and skips a result it cannot read; so does Vigie
            self.add_resource_info_to_index_links_dict(
                index_links_dict=index_links_dict,
                expectation_suite_name=key.expectation_suite_identifier.name,
                section_name="validations",
                batch_identifier=key.batch_identifier,
                run_id=key.run_id,
                validation_success=validation.success,
                run_time=key.run_id.run_time,
                run_name=key.run_id.run_name,
                asset_name=_resolve_asset_name(validation),
                batch_kwargs=validation.meta.get("batch_kwargs", {}),
                batch_spec=validation.meta.get("batch_spec", {}),
            )
            index_links_dict["validations_links"][-1]["vigie_status"] = result_status(validation)


class SeveritySiteIndexPageRenderer(SiteIndexPageRenderer):
    """GX's index page, with "Warning" rows for results whose failures are all warnings."""

    @classmethod
    def _generate_validation_results_link_table(cls, index_links_dict: dict) -> Any:
        table = super()._generate_validation_results_link_table(index_links_dict)
        links = index_links_dict.get("validations_links", [])
        for link, row in zip(links, table.table_data, strict=True):
            if link.get("vigie_status") == WARNING:
                row["validation_success"] = _warning_cell("only warnings failed")
                row["_validation_success_text"] = WARNING_LABEL
        return table
