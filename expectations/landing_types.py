"""One table-level check of a landed table's column types, instead of one expectation a column.

WHY: the landing suites held one ``ExpectColumnValuesToBeOfType`` per contract column (140 of
their 245 expectations). Inside GX each expectation costs its own metric graph, configuration
copies and result, whatever it reads: about 0.35 s a night at the demo's sources for checks
that read each column's dtype (docs/performance.md, "Checks"). ``ExpectTableColumnsToHaveLandingTypes``
judges every column of the frame in one metric, with GX's own rule column by column
(``column_verdict``), so a column passes exactly when its former expectation passed:

- the column's pandas dtype is not ``object`` (or the expected type is ``object``): its
  dtype's ``.type`` must be one of the types GX derives from the name (``_accepted_types``:
  numpy's, pandas', Python's), e.g. ``str`` for pandas' text dtype, ``numpy.int64`` for
  ``Int64``, ``pandas.Timestamp`` for a zoned timestamp;
- an ``object`` column expected to hold another type: every non-null value must be an
  instance of those types (GX's map version, nulls ignored).

A column missing from the frame fails (its former expectation raised an error; the ordered
column list fails too). The result lists each failing column with what it holds and what the
contract expects (``details.mismatched``), which ``expectations.run`` turns into one failure a
column, as before.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider
from great_expectations.expectations.type_comparison import native_type_type_map
from pandas.core.dtypes import dtypes as pandas_dtypes

EXPECTATION_TYPE = "expect_table_columns_to_have_landing_types"
METRIC = "vigie.table.landing_type_mismatches"
OBJECT_TYPES = ("object", "object_", "O")  # GX: an object column is then judged on its dtype
MAX_SAMPLE = 5


def _accepted_types(type_: str) -> tuple[type, ...]:
    """The types GX 1.24's ``ExpectColumnValuesToBeOfType`` accepts for ``type_`` on pandas
    (``_validate_pandas`` and the ``column_values.of_type`` map metric build the same list)."""
    accepted: list[type] = []
    try:
        accepted.append(np.dtype(type_).type)
    except TypeError:
        for module in (pd, pandas_dtypes):
            found = getattr(module, type_, None)
            if isinstance(found, type):
                accepted.append(found)
    accepted.extend(native_type_type_map(type_) or ())
    if not accepted:
        raise ValueError(f"unrecognized numpy/python type: {type_}")
    return tuple(accepted)


def column_verdict(frame: pd.DataFrame, column: str, type_: str) -> str | None:
    """None when ``column`` of ``frame`` is of ``type_`` as GX judges it, else what it holds."""
    if column not in frame.columns:
        return "missing"
    series = frame[column]
    accepted = _accepted_types(type_)
    if series.dtype.type.__name__ == "object_" and type_ not in OBJECT_TYPES:
        values = series[series.notna()]
        wrong = values[~values.map(lambda v: isinstance(v, accepted)).astype(bool)]
        if len(wrong) == 0:
            return None
        sample = [str(v) for v in wrong.head(MAX_SAMPLE)]
        return f"{len(wrong)} values of another type, e.g. {sample}"
    if series.dtype.type in accepted:
        return None
    return series.dtype.type.__name__


class TableLandingTypeMismatches(TableMetricProvider):
    """``[{column, expected, observed}]`` for each column not of its expected type."""

    metric_name = METRIC
    value_keys = ("column_types",)

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        execution_engine: PandasExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: dict[str, Any],
        runtime_configuration: dict,
    ) -> list[dict[str, str]]:
        frame, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        mismatched = []
        for column, type_ in metric_value_kwargs["column_types"].items():
            observed = column_verdict(frame, column, type_)
            if observed is not None:
                mismatched.append({"column": column, "expected": type_, "observed": observed})
        return mismatched


class ExpectTableColumnsToHaveLandingTypes(BatchExpectation):
    """Each named column holds the type its landing contract gives it (GX's type names, as
    ``ExpectColumnValuesToBeOfType`` reads them on pandas)."""

    column_types: dict[str, str] = pydantic.Field(
        description="column name -> GX type name (str, int64, bool, Timestamp, float64, object)"
    )

    metric_dependencies = (METRIC,)
    success_keys = ("column_types",)
    args_keys = ("column_types",)
    library_metadata: ClassVar[dict[str, Any]] = {"maturity": "experimental", "tags": ["vigie"]}

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        mismatched = metrics[METRIC]
        if not mismatched:
            observed = f"{len(self.column_types)} columns of their contract types"
        else:
            observed = "; ".join(f"{m['column']}: {describe(m)}" for m in mismatched)
        return {
            "success": not mismatched,
            "result": {"observed_value": observed, "details": {"mismatched": mismatched}},
        }


def describe(mismatch: dict[str, str]) -> str:
    """What a failing column holds against what it should: ``str, expected object``."""
    return f"{mismatch['observed']}, expected {mismatch['expected']}"
