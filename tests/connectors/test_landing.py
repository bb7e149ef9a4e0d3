"""Atomic landing of a batch: contract casting, every table written, replace-on-rerun."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import connectors.landing as landing
from connectors.landing import ExtractResult, LandingSchemaError, Reject, land_batch
from connectors.landing_layout import batch_dir
from connectors.landing_schemas import CDR_LEGS, TABLES_BY_SOURCE_TYPE

DAY = dt.date(2026, 11, 2)


def _legs(n: int, **override) -> pa.Table:
    cols = {f.name: pa.nulls(n, f.type) for f in CDR_LEGS if f.name != "source_id"}
    cols["source_file"] = pa.array(["Master.csv"] * n)
    cols["source_line"] = pa.array(range(1, n + 1), pa.int32())  # cast to int64 on landing
    cols.update(override)
    return pa.table(cols)


def test_batch_dir_layout(tmp_path):
    assert batch_dir(tmp_path, "pbx_cdr", DAY) == tmp_path / "pbx_cdr" / "day=2026-11-02"


def test_lands_every_table_of_the_type_even_empty(tmp_path):
    batch = land_batch(tmp_path, "glpi", "glpi_sql", DAY, ExtractResult(tables={}))
    expected = sorted(f"{t}.parquet" for t in TABLES_BY_SOURCE_TYPE["glpi_sql"])
    assert sorted(p.name for p in batch.path.iterdir()) == sorted(
        [*expected, "rejects.parquet", "_batch.json"]
    )
    for name, schema in TABLES_BY_SOURCE_TYPE["glpi_sql"].items():
        table = pq.read_table(batch.path / f"{name}.parquet")
        assert table.num_rows == 0 and table.schema.equals(schema)
    assert batch.row_counts == dict.fromkeys(TABLES_BY_SOURCE_TYPE["glpi_sql"], 0)


def test_casts_to_the_contract_and_fills_source_id(tmp_path):
    result = ExtractResult(
        tables={"cdr_legs": _legs(3)},
        rejects=[Reject("cdr_legs", "Master.csv", "line 4", "expected 18 columns, found 17")],
        meta={"file": "Master.csv"},
    )
    batch = land_batch(tmp_path, "pbx_cdr", "asterisk_cdr_csv", DAY, result)
    table = pq.read_table(batch.path / "cdr_legs.parquet")
    assert table.schema.equals(CDR_LEGS)
    assert table.column("source_id").to_pylist() == ["pbx_cdr"] * 3
    rejects = pq.read_table(batch.path / "rejects.parquet").to_pylist()
    assert rejects == [
        {
            "source_id": "pbx_cdr",
            "table_name": "cdr_legs",
            "source_file": "Master.csv",
            "source_position": "line 4",
            "reason": "expected 18 columns, found 17",
        }
    ]
    info = json.loads((batch.path / "_batch.json").read_text())
    assert info["row_counts"] == {"cdr_legs": 3} and info["reject_count"] == 1
    assert info["meta"] == {"file": "Master.csv"} and info["day"] == "2026-11-02"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            _legs(1, clid=pa.array(["x"])),
            r"table 'cdr_legs': column\(s\) \['clid'\] are not in the landing contract",
        ),
        (
            _legs(1).drop_columns(["billsec"]),
            r"table 'cdr_legs': column\(s\) \['billsec'\] missing",
        ),
        (
            _legs(1, duration=pa.array(["ten"])),
            r"table 'cdr_legs', column 'duration': cannot cast string to int64",
        ),
    ],
)
def test_a_wrong_column_fails_naming_table_and_column(tmp_path, table, message):
    with pytest.raises(LandingSchemaError, match=message):
        land_batch(
            tmp_path, "pbx_cdr", "asterisk_cdr_csv", DAY, ExtractResult(tables={"cdr_legs": table})
        )
    assert not (tmp_path / "pbx_cdr" / "day=2026-11-02").exists()


def test_a_table_of_another_type_is_refused(tmp_path):
    with pytest.raises(LandingSchemaError, match="lands tables"):
        land_batch(
            tmp_path, "pbx_cdr", "asterisk_cdr_csv", DAY, ExtractResult(tables={"glpi_logs": None})
        )


def test_rerun_replaces_and_is_byte_identical(tmp_path):
    first = land_batch(
        tmp_path, "pbx_cdr", "asterisk_cdr_csv", DAY, ExtractResult({"cdr_legs": _legs(5)})
    )
    before = {p.name: p.read_bytes() for p in first.path.glob("*.parquet")}
    second = land_batch(
        tmp_path, "pbx_cdr", "asterisk_cdr_csv", DAY, ExtractResult({"cdr_legs": _legs(5)})
    )
    assert {p.name: p.read_bytes() for p in second.path.glob("*.parquet")} == before
    third = land_batch(
        tmp_path, "pbx_cdr", "asterisk_cdr_csv", DAY, ExtractResult({"cdr_legs": _legs(2)})
    )
    assert third.row_counts == {"cdr_legs": 2}
    assert pq.read_table(third.path / "cdr_legs.parquet").num_rows == 2  # replaced, not appended
    assert [p.name for p in (tmp_path / "pbx_cdr").iterdir()] == ["day=2026-11-02"]


def test_a_failed_write_keeps_the_old_batch_and_leaves_no_temp(tmp_path, monkeypatch):
    land_batch(tmp_path, "pbx_cdr", "asterisk_cdr_csv", DAY, ExtractResult({"cdr_legs": _legs(5)}))
    real = landing._write_parquet

    def failing(table: pa.Table, path: Path) -> None:
        if path.name == "rejects.parquet":
            raise OSError(28, "No space left on device")
        real(table, path)

    monkeypatch.setattr(landing, "_write_parquet", failing)
    with pytest.raises(OSError, match="No space left"):
        land_batch(
            tmp_path, "pbx_cdr", "asterisk_cdr_csv", DAY, ExtractResult({"cdr_legs": _legs(1)})
        )
    target = batch_dir(tmp_path, "pbx_cdr", DAY)
    assert pq.read_table(target / "cdr_legs.parquet").num_rows == 5
    assert [p.name for p in (tmp_path / "pbx_cdr").iterdir()] == ["day=2026-11-02"]


def test_leftovers_of_a_crashed_run_are_removed(tmp_path):
    parent = tmp_path / "pbx_cdr"
    (parent / ".day=2026-11-02.tmp-dead01").mkdir(parents=True)
    (parent / ".day=2026-11-02.old-dead02").mkdir()
    land_batch(tmp_path, "pbx_cdr", "asterisk_cdr_csv", DAY, ExtractResult({"cdr_legs": _legs(1)}))
    assert [p.name for p in parent.iterdir()] == ["day=2026-11-02"]


def test_naive_timestamps_are_refused(tmp_path):
    naive = pa.array([dt.datetime(2026, 11, 2, 10, 0)], pa.timestamp("us"))
    with pytest.raises(LandingSchemaError, match=r"column 'start_at': naive timestamps"):
        land_batch(
            tmp_path,
            "pbx_cdr",
            "asterisk_cdr_csv",
            DAY,
            ExtractResult({"cdr_legs": _legs(1, start_at=naive)}),
        )
