"""cdr_csv connector on tests/fixtures/asterisk/cdr/Master.csv (18 columns, usegmtime=yes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from connectors.extract import SourceUnavailable, extract_source
from connectors.pseudonymise import Pseudonymiser
from connectors.telephony.asterisk_cdr_csv import mask_channel

DAY = dt.date(2026, 10, 25)
UTC = dt.UTC
RAW_IDENTITIES = [
    "0601020304", "0611223344", "611223344", "0033698765432", "698765432", "0655443322",
    "655443322", "0612345678", "612345678", "0477889900", "477889900", "0633445566",
    "Dupont", "JD", "Durand", "Fran", "bert", "Soci", "Curie",
]  # fmt: skip


def _legs(batch_path: Path) -> list[dict]:
    return pq.read_table(batch_path / "cdr_legs.parquet").to_pylist()


def _rejects(batch_path: Path) -> list[tuple[str, str, str, str]]:
    rows = pq.read_table(batch_path / "rejects.parquet").to_pylist()
    return [(r["table_name"], r["source_file"], r["source_position"], r["reason"]) for r in rows]


def _write(path: Path, rows: list[str]) -> None:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _row(start: str, answer: str = "", extra: tuple[str, ...] = ()) -> str:
    fields = [
        '""', '"0611223344"', '"3001"', '"from-trunk"', '"""A"" <0611223344>"', '"SIP/trunk-00000001"',
        '"SIP/1001-00000002"', '"Queue"', '"etat-civil"', f'"{start}"', f'"{answer}"' if answer else "",
        f'"{start}"', "10", "0", '"NO ANSWER"', '"DOCUMENTATION"', *extra,
    ]  # fmt: skip
    return ",".join(fields)


def test_night_legs_rows_and_values(telephony_cfg):
    cfg = telephony_cfg()
    pseudo = Pseudonymiser.from_config(cfg)
    batch = extract_source(cfg, "pbx_cdr", DAY)
    assert batch.row_counts == {"cdr_legs": 5}
    legs = _legs(batch.path)
    assert [r["source_line"] for r in legs] == [2, 3, 4, 5, 8]
    assert [r["start_at"] for r in legs] == [
        dt.datetime(2026, 10, 24, 22, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 24, 22, 16, 40, tzinfo=UTC),
        dt.datetime(2026, 10, 24, 22, 33, 20, tzinfo=UTC),
        dt.datetime(2026, 10, 24, 22, 41, 40, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 22, 59, 59, tzinfo=UTC),
    ]
    ivr = legs[1]  # NO ANSWER although billsec > 0: the voice menu answered
    assert (ivr["disposition"], ivr["billsec"], ivr["duration"]) == ("NO ANSWER", 12, 13)
    assert ivr["answer_at"] == dt.datetime(2026, 10, 24, 22, 16, 41, tzinfo=UTC)
    assert ivr["dstchannel"] is None
    assert legs[3]["answer_at"] is None  # bare empty answer field
    assert legs[0]["src_key"] == pseudo.phone("+33611223344")
    assert legs[1]["src_key"] == pseudo.phone("+33698765432")
    assert legs[0]["dst_key"] == pseudo.key("phone", "3001")
    assert legs[2]["dstchannel"] == "Local/XXXXXXXXXX@from-internal-0000000b;1"
    assert legs[2]["channel"] == "SIP/trunk-0000000a"
    assert [r["uniqueid"] for r in legs] == [
        "1792879200.2", "1792880200.4", "1792881200.6", "1792881700.7", "1792969199.14",
    ]  # fmt: skip
    assert {r["linkedid"] for r in legs} == {None}  # no newcdrcolumns in an 18-column file
    assert {r["accountcode"] for r in legs} == {None}


def test_rejects_name_line_and_reason(telephony_cfg):
    batch = extract_source(telephony_cfg(), "pbx_cdr", DAY)
    assert _rejects(batch.path) == [
        ("cdr_legs", "Master.csv", "line 6", "expected 18 columns, found 17"),
        (
            "cdr_legs",
            "Master.csv",
            "line 7",
            "start (column 10) is not a 'YYYY-MM-DD HH:MM:SS' timestamp",
        ),
    ]


def test_adjacent_nights(telephony_cfg):
    cfg = telephony_cfg()
    assert [
        r["source_line"] for r in _legs(extract_source(cfg, "pbx_cdr", dt.date(2026, 10, 24)).path)
    ] == [1]
    after = extract_source(cfg, "pbx_cdr", dt.date(2026, 10, 26))
    assert [r["source_line"] for r in _legs(after.path)] == [9]
    assert after.reject_count == 0


def test_no_raw_number_or_name_in_the_landed_files(telephony_cfg):
    batch = extract_source(telephony_cfg(), "pbx_cdr", DAY)
    for path in sorted(batch.path.iterdir()):
        raw = path.read_bytes()
        values = (
            repr(pq.read_table(path).to_pylist()) if path.suffix == ".parquet" else raw.decode()
        )
        for identity in RAW_IDENTITIES:
            assert identity.encode() not in raw, (path.name, identity)
            assert identity not in values, (path.name, identity)


def test_auto_detects_18_columns(telephony_cfg):
    batch = extract_source(telephony_cfg(columns="auto"), "pbx_cdr", DAY)
    assert batch.row_counts == {"cdr_legs": 5} and batch.reject_count == 2


def test_configured_count_that_does_not_match_fails(telephony_cfg):
    with pytest.raises(SourceUnavailable) as err:
        extract_source(telephony_cfg(columns=16), "pbx_cdr", DAY)
    msg = str(err.value)
    assert "'pbx_cdr'" in msg and "has 18 columns" in msg and "columns: 16" in msg


def test_unknown_column_count_fails_naming_the_count(telephony_cfg, asterisk_dir):
    _write(
        asterisk_dir / "cdr" / "Master.csv",
        [_row("2026-10-25 10:00:00", extra=('"a"', '"b"', '"c"'))],
    )
    with pytest.raises(SourceUnavailable, match=r"has 19 columns per record.*16, 17, 18 or 21"):
        extract_source(telephony_cfg(columns="auto"), "pbx_cdr", DAY)


def test_17_columns_tell_uniqueid_from_userfield(telephony_cfg, asterisk_dir):
    master = asterisk_dir / "cdr" / "Master.csv"
    _write(master, [_row("2026-10-25 10:00:00", extra=('"pbx1-1792922400.7"',))])
    legs = _legs(extract_source(telephony_cfg(columns="auto"), "pbx_cdr", DAY).path)
    assert legs[0]["uniqueid"] == "pbx1-1792922400.7"
    _write(master, [_row("2026-10-25 10:00:00", extra=('"dossier 42"',))])
    legs = _legs(extract_source(telephony_cfg(columns=17), "pbx_cdr", DAY).path)
    assert legs[0]["uniqueid"] is None  # it was the userfield, which is dropped


def test_21_columns_land_linkedid(telephony_cfg, asterisk_dir):
    extra = ('"1792922400.7"', '""', '""', '"1792922400.5"', "3")
    _write(asterisk_dir / "cdr" / "Master.csv", [_row("2026-10-25 10:00:00", extra=extra)])
    legs = _legs(extract_source(telephony_cfg(columns="auto"), "pbx_cdr", DAY).path)
    assert (legs[0]["uniqueid"], legs[0]["linkedid"]) == ("1792922400.7", "1792922400.5")


def test_local_time_zone_and_dst_fold(telephony_cfg, asterisk_dir):
    """usegmtime=no: naive local times. 02:30 happens twice on 2026-10-25: the first (CEST)."""
    _write(
        asterisk_dir / "cdr" / "Master.csv",
        [
            _row("2026-10-24 23:59:59"),  # previous local day
            _row("2026-10-25 00:00:00"),  # 2026-10-24 22:00Z
            _row("2026-10-25 02:30:00", answer="2026-10-25 02:30:05"),  # 00:30Z (first 02:30)
            _row("2026-10-25 23:59:59"),  # 22:59:59Z
            _row("2026-10-26 00:00:00"),  # next local day
        ],
    )
    legs = _legs(
        extract_source(telephony_cfg(timezone="Europe/Paris", columns=16), "pbx_cdr", DAY).path
    )
    assert [r["source_line"] for r in legs] == [2, 3, 4]
    assert [r["start_at"] for r in legs] == [
        dt.datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 22, 59, 59, tzinfo=UTC),
    ]
    assert legs[1]["answer_at"] == dt.datetime(2026, 10, 25, 0, 30, 5, tzinfo=UTC)
    assert legs[1]["uniqueid"] is None


def test_missing_master_csv_fails_naming_source_and_path(telephony_cfg, asterisk_dir):
    (asterisk_dir / "cdr" / "Master.csv").unlink()
    with pytest.raises(SourceUnavailable) as err:
        extract_source(telephony_cfg(), "pbx_cdr", DAY)
    assert "'pbx_cdr'" in str(err.value)
    assert str(asterisk_dir / "cdr" / "Master.csv") in str(err.value)


def test_mask_channel_keeps_the_sequence_suffix():
    assert mask_channel("SIP/trunk-0612345678-0000001a") == "SIP/trunk-XXXXXXXXXX-0000001a"
    assert mask_channel("PJSIP/1001-00000012") == "PJSIP/1001-00000012"
    assert mask_channel("Local/0612345678@ctx-0000000b;2") == "Local/XXXXXXXXXX@ctx-0000000b;2"
    assert mask_channel("") is None and mask_channel(None) is None
