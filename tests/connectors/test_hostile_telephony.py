"""Issue 17: hostile bytes in Asterisk files cost one record, never a night, never a line.

Each test is one case of the issue, written in the source's real shape (Master.csv 18 columns
usegmtime=yes, queue_log of rotated files) and checked through ``extract_source``: what lands,
what is rejected, under which line number (``sed -n Np`` numbering: LF-terminated lines).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq

from connectors.extract import extract_source
from connectors.telephony import file_positions
from connectors.telephony.asterisk_cdr_csv import MAX_RECORD_CHARS
from tests.connectors.conftest import QUEUES, minimal_config

DAY = dt.date(2026, 10, 25)  # Europe/Paris: [2026-10-24 22:00Z, 2026-10-25 23:00Z)


def _row(start: str, uid: str, name: str = "A") -> bytes:
    """One cdr_csv record of 18 columns (usegmtime=yes), as Asterisk writes it, with its LF."""
    fields = [
        '""', '"0611223344"', '"3001"', '"from-trunk"', f'"""{name}"" <0611223344>"',
        '"SIP/trunk-00000001"', '"SIP/1001-00000002"', '"Queue"', '"etat-civil,t,,,300"',
        f'"{start}"', f'"{start}"', f'"{start}"', "10", "8", '"ANSWERED"', '"DOCUMENTATION"',
        f'"{uid}"', '""',
    ]  # fmt: skip
    return (",".join(fields) + "\n").encode()


def _cdr_cfg(tmp_path: Path, **extra):
    return minimal_config(
        tmp_path,
        [{"id": "cdr", "type": "asterisk_cdr_csv", "path": "Master.csv", "timezone": "UTC",
          "columns": "auto", **extra}],  # fmt: skip
    )


def _landed(batch) -> tuple[list[int], list[tuple[str, str]]]:
    legs = pq.read_table(batch.path / "cdr_legs.parquet").column("source_line").to_pylist()
    rej = pq.read_table(batch.path / "rejects.parquet").to_pylist()
    return legs, [(r["source_position"], r["reason"]) for r in rej]


def _two_nights(tmp_path: Path, damaged: bytes, at: int) -> None:
    """Master.csv: 4 records on 24 Oct (UTC), 4 on 25 Oct, ``damaged`` inserted as line ``at``."""
    rows = [_row(f"2026-10-23 0{i}:00:00", f"1792800000.{i}") for i in range(4)]
    rows += [_row(f"2026-10-25 0{i}:00:00", f"1792890000.{i}") for i in range(4)]
    rows.insert(at - 1, damaged)
    (tmp_path / "Master.csv").write_bytes(b"".join(rows))


def test_bare_cr_in_the_layout_sample_costs_one_record_not_every_night(tmp_path: Path) -> None:
    # Line 2: a bare CR inside an unquoted field (duration), on the night of 23 Oct local.
    damaged = _row("2026-10-23 02:30:00", "1792800000.9").replace(b",10,", b",1\r0,")
    _two_nights(tmp_path, damaged, 2)
    cfg = _cdr_cfg(tmp_path)
    # The night of the damaged line lands its neighbours and one reject.
    first = extract_source(cfg, "cdr", dt.date(2026, 10, 23))
    assert _landed(first) == (
        [1, 3, 4, 5],
        [("line 2", "a carriage return (CR) inside an unquoted field: the record cannot be "
          "split into columns")],
    )  # fmt: skip
    # Another night of the file is untouched: no failure, no reject.
    assert _landed(extract_source(cfg, "cdr", DAY)) == ([6, 7, 8, 9], [])
    meta = json.loads((first.path / "_batch.json").read_text())["meta"]
    assert meta["layout_skipped_lines"] == [2]


def test_field_over_128_kb_in_the_layout_sample_is_one_reject(tmp_path: Path) -> None:
    name = "x" * (200 * 1024)  # csv's field limit is 128 KiB: it once raised in the layout check
    _two_nights(tmp_path, _row("2026-10-25 03:30:00", "1792890000.9", name), 8)
    cfg = _cdr_cfg(tmp_path)
    assert _landed(extract_source(cfg, "cdr", DAY)) == (
        [5, 6, 7, 9],
        [("line 8", f"line longer than {MAX_RECORD_CHARS} characters (a CDR record is a few "
          "hundred): not read")],
    )  # fmt: skip
    assert _landed(extract_source(cfg, "cdr", dt.date(2026, 10, 23))) == ([1, 2, 3, 4], [])


def test_line_cut_inside_a_quoted_field_does_not_swallow_the_next_line(tmp_path: Path) -> None:
    # Line 7 stops inside the quoted clid (a write cut by a full disk); line 8 is intact.
    cut = _row("2026-10-25 01:30:00", "1792890000.9", "Marie Curie")[:80] + b"\n"
    assert cut.endswith(b'"SIP/trunk-00\n')
    _two_nights(tmp_path, cut, 7)
    legs, rejects = _landed(extract_source(_cdr_cfg(tmp_path), "cdr", DAY))
    assert legs == [5, 6, 8, 9]  # line 8 lands under its own number
    assert rejects == [
        ("line 7", "expected 18 columns, found 6; a quoted field is not closed before the end "
         "of the line (a line cut short?)"),
    ]  # fmt: skip


def test_quiet_night_whose_only_record_is_damaged_lands_a_reject(tmp_path: Path) -> None:
    rows = [_row("2026-10-20 10:00:00", "1792490000.1")]
    rows.append(_row("2026-10-25 10:00:00", "1792929600.1").replace(b',10,8,', b',ten,8,'))
    rows.append(_row("2026-10-30 10:00:00", "1793354400.1"))
    (tmp_path / "Master.csv").write_bytes(b"".join(rows))
    batch = extract_source(_cdr_cfg(tmp_path), "cdr", DAY)  # once: "none of the 1 records"
    assert batch.row_counts == {"cdr_legs": 0}
    assert _landed(batch) == (
        [], [("line 2", "duration (column 13) is not a whole number of seconds")]
    )


def test_line_numbers_after_a_bare_cr_are_those_of_wc_and_sed(tmp_path: Path) -> None:
    # A bare CR inside a quoted caller-id name (line 6): one record, one line for wc -l.
    rows = [_row(f"2026-10-25 0{i}:00:00", f"1792890000.{i}") for i in range(8)]
    rows[5] = _row("2026-10-25 05:00:00", "1792890000.5", "Jean\rDupont")
    (tmp_path / "Master.csv").write_bytes(b"".join(rows))
    legs, rejects = _landed(extract_source(_cdr_cfg(tmp_path), "cdr", DAY))
    assert (legs, rejects) == ([1, 2, 3, 4, 5, 6, 7, 8], [])
    wc = subprocess.run(["wc", "-l", "Master.csv"], cwd=tmp_path, capture_output=True, text=True)
    assert wc.stdout.split()[0] == "8"
    sed = subprocess.run(
        ["sed", "-n", "7p", "Master.csv"], cwd=tmp_path, capture_output=True, check=True
    )
    assert b"1792890000.6" in sed.stdout  # line 7 is the record landed as source_line 7


def _queue_log_cfg(tmp_path: Path, incremental: bool = True):
    return minimal_config(
        tmp_path,
        [{"id": "ql", "type": "asterisk_queue_log", "path": "queue_log*", "queues": QUEUES,
          "incremental": incremental}],  # fmt: skip
    )


def test_absurd_queue_log_epochs_are_rejects_and_positions_stay_per_line(tmp_path: Path) -> None:
    base = 1792911600  # 2026-10-25 07:00Z, in the night of 25 Oct (Paris)
    lines = [f"{base + 900 * i}|{base + 900 * i}.{i}|accueil|NONE|ENTERQUEUE||0611223344|1|"
             for i in range(6)]  # fmt: skip
    lines.insert(2, "7|7.1|accueil|NONE|ENTERQUEUE||0611223344|1|")
    lines.insert(5, "999999999999|9.1|accueil|NONE|ENTERQUEUE||0611223344|1|")
    (tmp_path / "queue_log").write_text("\n".join(lines) + "\n")
    for incremental in (True, False):
        cfg = _queue_log_cfg(tmp_path, incremental)
        batch = extract_source(cfg, "ql", DAY)
        events = pq.read_table(batch.path / "queue_log_events.parquet")
        assert events.column("source_line").to_pylist() == [1, 2, 4, 5, 7, 8]
        rejects = pq.read_table(batch.path / "rejects.parquet").to_pylist()
        assert [(r["source_position"], r["reason"]) for r in rejects] == [
            ("line 3", "epoch (field 1) 7 lies outside the years 2000-2099 (946684800 to "
             "4102444799)"),
            ("line 6", "epoch (field 1) 999999999999 lies outside the years 2000-2099 "
             "(946684800 to 4102444799)"),
        ]  # fmt: skip
    # The saved positions hold one checkpoint per hour start the lines cross (08:00Z), not one
    # per hour since 1970: the absurd epochs placed nothing.
    state = file_positions.load_state(tmp_path / "landing" / "ql" / "_state.json")
    (entry,) = state.values()
    assert [c[0] for c in entry.checkpoints] == [base + 3600]
    assert [c[0] for c in entry.stops] == [base + 3600]
    assert (entry.min_anchor, entry.max_anchor) == (base, base + 4500)


def test_positions_are_learnt_per_line_whatever_the_span_of_the_anchors() -> None:
    # Anchors 7 and 10^12 beside 2026: the hours to consider are those where the running
    # maximum (checkpoints) or the suffix minimum (stops) rises, at most one per line.
    import numpy as np

    t = 1792911600  # 2026-10-25 07:00Z
    a = np.array([7, t, t + 3600, 10**12, t + 7200], dtype=np.int64)
    assert file_positions._checkpoint_hours(a) == [(3600, 1), (t + 3600, 2), (t + 7200, 3)]
    assert file_positions._stop_hours(a) == [(t, 1), (t + 3600, 2), (t + 7200, 3)]


def test_queue_log_line_of_a_megabyte_is_one_reject(tmp_path: Path) -> None:
    base = 1792911600  # 2026-10-25 07:00Z
    lines = [f"{base + 60 * i}|{base}.{i}|accueil|NONE|ENTERQUEUE||0611223344|1|" for i in range(3)]
    lines[1] += "x" * (1 << 20)  # a 1 MB url field: its bytes would otherwise land
    (tmp_path / "queue_log").write_text("\n".join(lines) + "\n")
    batch = extract_source(_queue_log_cfg(tmp_path), "ql", DAY)
    events = pq.read_table(batch.path / "queue_log_events.parquet")
    assert events.column("source_line").to_pylist() == [1, 3]
    rejects = pq.read_table(batch.path / "rejects.parquet").to_pylist()
    assert [(r["source_position"], r["reason"]) for r in rejects] == [
        ("line 2", "line longer than 65536 characters (a queue_log event is a few hundred): "
         "not read"),
    ]  # fmt: skip


def test_queue_log_line_numbers_after_a_bare_cr_are_those_of_sed(tmp_path: Path) -> None:
    base = 1792911600  # 2026-10-25 07:00Z
    lines = [f"{base + 60 * i}|{base}.{i}|accueil|NONE|ENTERQUEUE||0611223344|1|" for i in range(4)]
    lines[1] = f"{base + 60}|NONE|accueil|SIP/1001|PAUSE|Pause\rdéjeuner|"  # a bare CR in data1
    (tmp_path / "queue_log").write_text("\n".join(lines) + "\n")
    batch = extract_source(_queue_log_cfg(tmp_path, incremental=False), "ql", DAY)
    events = pq.read_table(batch.path / "queue_log_events.parquet").to_pylist()
    assert [(e["source_line"], e["callid"]) for e in events] == [
        (1, f"{base}.0"), (2, "NONE"), (3, f"{base}.2"), (4, f"{base}.3"),
    ]  # fmt: skip
    assert events[1]["data1"] == "Pause\rdéjeuner"
    sed = subprocess.run(
        ["sed", "-n", "3p", "queue_log"], cwd=tmp_path, capture_output=True, check=True
    )
    assert f"|{base}.2|".encode() in sed.stdout
