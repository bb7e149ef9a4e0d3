"""The landing suites' table-level type check (expectations.landing_types) gives, column by
column, the verdict GX's per-column ``ExpectColumnValuesToBeOfType`` gave (DECISIONLOG Part 6,
"GX mechanics and speed")."""

from __future__ import annotations

import datetime as dt
import decimal

import great_expectations as gx
import great_expectations.expectations as gxe
import pyarrow as pa
import pytest

from expectations.landing_types import ExpectTableColumnsToHaveLandingTypes, column_verdict
from expectations.suites import pandas_dtype

UTC = dt.UTC
T = dt.datetime(2026, 11, 16, 8, 0, tzinfo=UTC)

# Every Arrow type a landed file could hold, read as expectations.run.read_landed_table reads it.
COLUMNS: dict[str, pa.Array] = {
    "string": pa.array(["a", None, "c"], pa.string()),
    "large_string": pa.array(["a", "b", None], pa.large_string()),
    "string_all_null": pa.array([None, None, None], pa.string()),
    "int64": pa.array([1, None, 3], pa.int64()),
    "int32": pa.array([1, 2, 3], pa.int32()),
    "uint8": pa.array([1, 2, None], pa.uint8()),
    "bool": pa.array([True, None, False], pa.bool_()),
    "float64": pa.array([1.5, None, 3.0], pa.float64()),
    "float32": pa.array([1.5, 2.0, None], pa.float32()),
    "ts_us_utc": pa.array([T, None, T], pa.timestamp("us", tz="UTC")),
    "ts_ns_paris": pa.array([T, T, None], pa.timestamp("ns", tz="Europe/Paris")),
    "ts_naive": pa.array([T.replace(tzinfo=None), None, None], pa.timestamp("us")),
    "date32": pa.array([dt.date(2026, 11, 16), None, None], pa.date32()),
    "list_string": pa.array([["a"], [], None], pa.list_(pa.string())),
    "null": pa.array([None, None, None], pa.null()),
    "binary": pa.array([b"a", None, b"c"], pa.binary()),
    "decimal": pa.array([decimal.Decimal("1.5"), None, None], pa.decimal128(5, 2)),
    "dictionary": pa.array(["a", "b", "a"]).dictionary_encode(),
}
GX_TYPES = ["str", "int64", "bool", "Timestamp", "float64", "object"]


@pytest.fixture(scope="module")
def frame():
    table = pa.table(COLUMNS)
    return table.to_pandas(types_mapper=pandas_dtype)


@pytest.fixture(scope="module")
def validate(frame):
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("t")
        .add_dataframe_asset("t")
        .add_batch_definition_whole_dataframe("w")
    )

    def run(expectations):
        suite = context.suites.add(
            gx.ExpectationSuite(name=f"s{len(context.suites.all())}", expectations=expectations)
        )
        return batch.get_batch(batch_parameters={"dataframe": frame}).validate(suite)

    return run


def test_each_column_passes_exactly_when_gxs_per_column_type_check_passes(frame, validate) -> None:
    per_column = validate(
        [gxe.ExpectColumnValuesToBeOfType(column=c, type_=t) for t in GX_TYPES for c in COLUMNS]
    )
    gx_failed = {
        (r.expectation_config.kwargs["column"], r.expectation_config.kwargs["type_"])
        for r in per_column.results
        if not r.success
    }
    table_level = validate(
        [
            ExpectTableColumnsToHaveLandingTypes(column_types=dict.fromkeys(COLUMNS, t))
            for t in GX_TYPES
        ]
    )
    vigie_failed = {
        (m["column"], m["expected"])
        for r in table_level.results
        for m in r.result["details"]["mismatched"]
    }
    assert vigie_failed == gx_failed
    assert [r.success for r in table_level.results] == [False] * len(GX_TYPES)
    # What the landing contract's types accept (expectations.suites._python_type), in words.
    passed = {t: sorted(c for c in COLUMNS if (c, t) not in gx_failed) for t in GX_TYPES}
    assert passed == {
        "str": ["large_string", "null", "string", "string_all_null"],
        "int64": ["int32", "int64", "null", "uint8"],
        "bool": ["bool", "null"],
        "Timestamp": ["null", "ts_ns_paris", "ts_us_utc"],
        "float64": ["float64", "null"],
        "object": ["binary", "date32", "decimal", "list_string", "null"],
    }


def test_a_wrong_type_is_named_with_what_it_holds(frame, validate) -> None:
    result = validate(
        [
            ExpectTableColumnsToHaveLandingTypes(
                column_types={
                    "string": "str",
                    "int32": "str",
                    "ts_naive": "Timestamp",
                    "binary": "str",
                    "list_string": "str",
                    "absent": "int64",
                    "int64": "int64",
                }
            )
        ]
    ).results[0]
    assert not result.success
    assert result.result["details"]["mismatched"] == [  # by column name (GX sorts the kwargs)
        {"column": "absent", "expected": "int64", "observed": "missing"},
        {
            "column": "binary",
            "expected": "str",
            "observed": "2 values of another type, e.g. [\"b'a'\", \"b'c'\"]",
        },
        {"column": "int32", "expected": "str", "observed": "int64"},
        {
            "column": "list_string",
            "expected": "str",
            "observed": "2 values of another type, e.g. [\"['a']\", '[]']",
        },
        {"column": "ts_naive", "expected": "Timestamp", "observed": "datetime64"},
    ]
    assert result.result["observed_value"] == (
        "absent: missing, expected int64; binary: 2 values of another type, e.g. [\"b'a'\", \"b'c'\"], expected str;"
        " int32: int64, expected str; list_string: 2 values of another type, e.g. [\"['a']\", '[]'], expected str;"
        " ts_naive: datetime64, expected Timestamp"
    )
    ok = validate(
        [
            ExpectTableColumnsToHaveLandingTypes(
                column_types={"string": "str", "ts_us_utc": "Timestamp"}
            )
        ]
    )
    assert ok.success
    assert ok.results[0].result == {
        "observed_value": "2 columns of their contract types",
        "details": {"mismatched": []},
    }


def test_column_verdict_alone(frame) -> None:
    assert column_verdict(frame, "bool", "bool") is None
    assert column_verdict(frame, "bool", "int64") == "bool"
    assert column_verdict(frame, "nope", "str") == "missing"
