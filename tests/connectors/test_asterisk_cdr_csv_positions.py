"""Master.csv saved read positions: a night reads only the bytes of its candidate window.

Synthetic 18-column Master.csv in UTC: one call every 2 hours from 2026-11-01 00:00Z for 10
days (120 records, one line each, a malformed line every 25th record). A night's candidate
window is its local day (Europe/Paris, UTC+1 in November) widened by 2 hours on each side.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq

from connectors.extract import extract_source
from tests.connectors.conftest import minimal_config

FIRST = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
STEP = dt.timedelta(hours=2)


def _record(n: int) -> str:
    start = FIRST + n * STEP
    answer = start + dt.timedelta(seconds=12)
    end = answer + dt.timedelta(seconds=90)
    fmt = "%Y-%m-%d %H:%M:%S"
    return (
        f'"","06{n:08d}","3001","from-external","""Citoyen"" <06{n:08d}>","SIP/trunk-{n:08x}",'
        f'"SIP/1001-{n + 1:08x}","Dial","SIP/1001,30","{start:{fmt}}","{answer:{fmt}}",'
        f'"{end:{fmt}}",102,90,"ANSWERED","DOCUMENTATION","{int(start.timestamp())}.{n}",""'
    )


def _lines(count: int, first: int = 0) -> list[str]:
    out: list[str] = []
    for n in range(first, first + count):
        out.append(_record(n))
        if n % 25 == 24:
            out.append('"broken","record"')
    return out


def _write(path: Path, lines: list[str], mode: str = "w") -> None:
    with open(path, mode, encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))


def _cfg(tmp_path: Path, incremental: bool = True, landing: str = "landing"):
    src = {
        "id": "cdr",
        "type": "asterisk_cdr_csv",
        "path": "pbx/Master.csv",
        "timezone": "UTC",
        "incremental": incremental,
    }
    cfg = minimal_config(tmp_path, [src])
    return cfg.model_copy(update={"outputs": cfg.outputs.model_copy(update={"landing": landing})})


def _meta(batch) -> dict:
    return json.loads((batch.path / "_batch.json").read_text())["meta"]


def _same_batch(a, b) -> None:
    for name in ("cdr_legs.parquet", "rejects.parquet"):
        assert (a.path / name).read_bytes() == (b.path / name).read_bytes(), name


def test_each_night_reads_its_window_and_lands_what_a_whole_read_lands(tmp_path: Path) -> None:
    (tmp_path / "pbx").mkdir()
    master = tmp_path / "pbx" / "Master.csv"
    _write(master, _lines(120))
    size = master.stat().st_size
    first = extract_source(_cfg(tmp_path), "cdr", dt.date(2026, 11, 10))  # learns positions
    assert _meta(first)["start_offset"] == 0 and _meta(first)["stop_offset"] == -1
    day = dt.date(2026, 11, 5)
    cold = extract_source(_cfg(tmp_path, incremental=False, landing="cold"), "cdr", day)
    warm = extract_source(_cfg(tmp_path), "cdr", day)
    _same_batch(cold, warm)
    # Night 5 Nov = [4 Nov 23:00Z, 5 Nov 23:00Z); window [4 Nov 21:00Z, 6 Nov 01:00Z) in the
    # file's clock (the night +-2 h; record n starts at 1 Nov 00:00Z + 2n h). The 4 Nov 21:00Z
    # checkpoint is the first line of record 47 (22:00Z); the 6 Nov 01:00Z stop is the first
    # line of record 61 (02:00Z): records 47-60 and the broken line after record 49 are read,
    # 15 lines of 124; without positions every night reads all of them.
    meta = _meta(warm)
    assert meta["start_offset"] == sum(len(line) + 1 for line in _lines(47))
    assert meta["stop_offset"] == sum(len(line) + 1 for line in _lines(61))
    assert meta["lines_read"] == 14 + 1 and meta["stop_offset"] < size
    # Records 48-59 start in the night; the broken line after record 49 is its reject.
    assert warm.row_counts == {"cdr_legs": 12} and warm.reject_count == 1
    legs = pq.read_table(warm.path / "cdr_legs.parquet").column("source_line").to_pylist()
    assert legs == [n + 1 + n // 25 for n in range(48, 60)]  # exact file line numbers


def test_a_grown_file_is_read_to_its_end_and_late_records_land(tmp_path: Path) -> None:
    (tmp_path / "pbx").mkdir()
    master = tmp_path / "pbx" / "Master.csv"
    _write(master, _lines(60))  # up to 5 Nov 22:00Z
    cfg = _cfg(tmp_path)
    day = dt.date(2026, 11, 5)
    before = extract_source(cfg, "cdr", day)
    _write(master, _lines(12, 60), mode="a")  # written later: 6 Nov 00:00Z .. 22:00Z
    extract_source(cfg, "cdr", dt.date(2026, 11, 6))
    rerun = extract_source(cfg, "cdr", day)
    cold = extract_source(_cfg(tmp_path, incremental=False, landing="cold"), "cdr", day)
    _same_batch(cold, rerun)
    assert before.row_counts == rerun.row_counts == {"cdr_legs": 12}
    night6 = extract_source(cfg, "cdr", dt.date(2026, 11, 6))
    cold6 = extract_source(_cfg(tmp_path, incremental=False, landing="cold"), "cdr", dt.date(2026, 11, 6))
    _same_batch(cold6, night6)
    assert night6.row_counts == {"cdr_legs": 12}


def test_the_window_margin_follows_the_layouts_first_timestamp() -> None:
    """2 hours when ``start`` is the first timestamp of the record (every cdr_csv layout); a
    day when a cdr_custom mapping writes ``end`` (or ``answer``) before ``start``."""
    from connectors.telephony.asterisk_cdr_csv import LAYOUTS, _candidate_window
    from vigie.intervals import night_for_day

    night = night_for_day(dt.date(2026, 11, 5), "Europe/Paris")
    midnight = int(dt.datetime(2026, 11, 5).replace(tzinfo=dt.UTC).timestamp())  # file clock
    lo, hi = _candidate_window(night, "Europe/Paris", LAYOUTS[18])
    assert (lo, hi) == (midnight - 2 * 3600, midnight + 86_400 + 2 * 3600)
    lo, hi = _candidate_window(night, "Europe/Paris", ("src", "end", "start", "dcontext"))
    assert (lo, hi) == (midnight - 86_400, midnight + 2 * 86_400)
