"""queue_log incremental reads: saved positions, overlap window, rotation, copies.

Synthetic queue_log over three local days in Europe/Paris (CET, UTC+1): one call per hour,
4 lines each (ENTERQUEUE, CONNECT, COMPLETECALLER, and a malformed line every 10th call).
Night 2026-11-03 = [2026-11-02 23:00Z, 2026-11-03 23:00Z) = epochs [1793660400, 1793746800).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq

from connectors.extract import extract_source
from tests.connectors.conftest import QUEUES, minimal_config

D2, D3, D4 = dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 4)
T0 = 1793574000  # 2026-11-02 00:00 CET = 2026-11-01 23:00Z
NIGHT3 = (1793660400, 1793746800)


def _call(epoch: int, n: int) -> list[str]:
    cid = f"{epoch}.{n}"
    lines = [
        f"{epoch}|{cid}|etat-civil|NONE|ENTERQUEUE||06{n:08d}||1",
        f"{epoch + 10}|{cid}|etat-civil|SIP/1001|CONNECT|10|{cid}.1|3",
        f"{epoch + 70}|{cid}|etat-civil|SIP/1001|COMPLETECALLER|10|60|1",
    ]
    if n % 10 == 0:
        lines.append("garbage without pipes")
    return lines


def _lines(first: int, count: int, start_n: int = 0) -> list[str]:
    out: list[str] = []
    for k in range(count):
        out += _call(first + 3600 * k, start_n + k)
    return out


def _write(path: Path, lines: list[str], mode: str = "w") -> None:
    with open(path, mode, encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))


def _cfg(tmp_path: Path, incremental: bool = True, landing: str = "landing"):
    src = {
        "id": "ql",
        "type": "asterisk_queue_log",
        "path": "pbx/queue_log*",
        "queues": QUEUES,
        "incremental": incremental,
    }
    cfg = minimal_config(tmp_path, [src])
    return cfg.model_copy(update={"outputs": cfg.outputs.model_copy(update={"landing": landing})})


def _meta(batch) -> dict:
    return json.loads((batch.path / "_batch.json").read_text())["meta"]


def _events(batch) -> list[tuple]:
    rows = pq.read_table(batch.path / "queue_log_events.parquet").to_pylist()
    return [(r["source_file"], r["source_line"], r["event"], r["callid"]) for r in rows]


def _setup(tmp_path: Path) -> Path:
    pbx = tmp_path / "pbx"
    pbx.mkdir()
    _write(pbx / "queue_log", _lines(T0, 72))  # 72 calls: 2026-11-02 00:00 to 11-04 23:00 local
    return pbx


def test_state_resumes_from_a_checkpoint_and_gives_identical_bytes(tmp_path: Path) -> None:
    _setup(tmp_path)
    cold = extract_source(_cfg(tmp_path, incremental=False, landing="cold"), "ql", D3)
    first = extract_source(_cfg(tmp_path), "ql", D3)  # no state yet: reads from byte 0
    assert _meta(first)["file_stats"]["queue_log"]["start_offset"] == 0
    state = json.loads((tmp_path / "landing" / "ql" / "_state.json").read_text())
    (entry,) = state["files"].values()
    # One checkpoint and one stop per UTC hour start crossed: 11-02 00:00Z .. 11-04 22:00Z.
    hours = list(range(1793577600, 1793577600 + 71 * 3600, 3600))
    assert [c[0] for c in entry["checkpoints"]] == hours
    assert [c[0] for c in entry["stops"]] == hours
    second = extract_source(_cfg(tmp_path), "ql", D3)
    stats = _meta(second)["file_stats"]["queue_log"]
    # Night start 23:00Z minus 1 h overlap = 22:00Z on 11-02: the checkpoint of that hour is
    # used, calls 0-22 (23 x 3 lines + the malformed lines of calls 0, 10, 20) are skipped.
    # Night end 23:00Z on 11-03 plus 1 h = 11-04 00:00Z: the stop there ends the read before
    # call 49 (00:00Z), after 49 calls x 3 lines + 5 malformed lines (calls 0, 10 ... 40).
    assert stats["lines"] == 49 * 3 + 5 and stats["lines_read"] == stats["lines"] - (23 * 3 + 3)
    assert stats["start_offset"] == sum(len(line) + 1 for line in _lines(T0, 23))
    assert stats["stop_offset"] == sum(len(line) + 1 for line in _lines(T0, 49))
    assert second.row_counts == {"queue_log_events": 24 * 3}  # calls 24-47, 3 events each
    assert second.reject_count == 2  # the malformed lines of calls 30 and 40
    for name in ("queue_log_events.parquet", "rejects.parquet"):
        assert (first.path / name).read_bytes() == (second.path / name).read_bytes()
        assert (cold.path / name).read_bytes() == (second.path / name).read_bytes()


def test_a_backfill_reads_each_night_between_its_positions(tmp_path: Path) -> None:
    """Nights 2, 3, 4 after a first read: each reads its own slice (plus the overlap), the
    three slices together about one file, and every batch is byte-identical to a cold read."""
    pbx = _setup(tmp_path)
    size = (pbx / "queue_log").stat().st_size
    extract_source(_cfg(tmp_path), "ql", D4)  # the first read learns the positions
    read = 0
    for day in (D2, D3, D4):
        cold = extract_source(_cfg(tmp_path, incremental=False, landing="cold"), "ql", day)
        warm = extract_source(_cfg(tmp_path), "ql", day)
        stats = _meta(warm)["file_stats"]["queue_log"]
        read += (size if stats["stop_offset"] == -1 else stats["stop_offset"]) - stats["start_offset"]
        for name in ("queue_log_events.parquet", "rejects.parquet"):
            assert (cold.path / name).read_bytes() == (warm.path / name).read_bytes()
    # 3 nights of 24 calls, each widened by its 1 h overlap on both sides where the file has
    # lines: 72 calls once, plus 4 calls read twice (the first and last calls have no
    # neighbour night), about 1.06 times the file; without positions it would be 3 times.
    assert read == size + sum(len(line) + 1 for line in _lines(T0 + 23 * 3600, 2, 23)) + sum(
        len(line) + 1 for line in _lines(T0 + 47 * 3600, 2, 47)
    )


def test_late_append_is_picked_by_the_rerun_and_never_doubled(tmp_path: Path) -> None:
    pbx = _setup(tmp_path)
    cfg = _cfg(tmp_path)
    before = extract_source(cfg, "ql", D3)
    n3 = before.row_counts["queue_log_events"]
    # Late lines: two events of night 3 (written after its run), one of night 4.
    _write(
        pbx / "queue_log",
        [
            f"{NIGHT3[1] - 5}|late.1|etat-civil|NONE|ENTERQUEUE||0611111111||1",
            f"{NIGHT3[1] - 2}|late.1|etat-civil|NONE|ABANDON|1|1|3",
            f"{NIGHT3[1] + 1}|late.2|etat-civil|NONE|ENTERQUEUE||0622222222||1",
        ],
        mode="a",
    )
    rerun = extract_source(cfg, "ql", D3)
    assert rerun.row_counts["queue_log_events"] == n3 + 2
    # The file grew since its stops were learnt: they no longer hold, the read goes to the end.
    assert _meta(rerun)["file_stats"]["queue_log"]["stop_offset"] == -1
    night4 = extract_source(cfg, "ql", D4)
    callids4 = [e[3] for e in _events(night4)]
    assert callids4.count("late.2") == 1 and "late.1" not in callids4
    again = extract_source(cfg, "ql", D3)
    assert (again.path / "queue_log_events.parquet").read_bytes() == (
        rerun.path / "queue_log_events.parquet"
    ).read_bytes()


def test_rotation_between_runs_keeps_every_event_once(tmp_path: Path) -> None:
    pbx = tmp_path / "pbx"
    pbx.mkdir()
    _write(pbx / "queue_log", _lines(T0, 36))  # up to 11-03 11:00 local
    cfg = _cfg(tmp_path)
    extract_source(cfg, "ql", D2)
    # Asterisk rotates: queue_log -> queue_log.1, a new live file holds the rest of the days.
    (pbx / "queue_log").rename(pbx / "queue_log.1")
    _write(pbx / "queue_log", _lines(T0 + 36 * 3600, 36, start_n=36))
    night3 = extract_source(cfg, "ql", D3)
    files = [e[0] for e in _events(night3)]
    assert files.count("queue_log.1") == 12 * 3 and files.count("queue_log") == 12 * 3
    # The renamed file kept its checkpoints (recognised by its first line, not its name).
    assert _meta(night3)["file_stats"]["queue_log.1"]["start_offset"] > 0
    cold = extract_source(_cfg(tmp_path, incremental=False, landing="cold"), "ql", D3)
    assert (cold.path / "queue_log_events.parquet").read_bytes() == (
        night3.path / "queue_log_events.parquet"
    ).read_bytes()
    night4 = extract_source(cfg, "ql", D4)
    # queue_log.1 ends on 11-03: skipped without being read (its anchors are all before).
    assert _meta(night4)["file_stats"]["queue_log.1"] == {"skipped_by_state": 1, "events_in_night": 0}
    assert night4.row_counts["queue_log_events"] == 24 * 3


def test_a_rotated_copy_beside_its_original_is_not_doubled(tmp_path: Path) -> None:
    pbx = _setup(tmp_path)
    # Mid-compression: queue_log.1 and queue_log.1.gz hold the same lines.
    shutil.copy(pbx / "queue_log", pbx / "queue_log.1")
    (pbx / "queue_log.1.gz").write_bytes(gzip.compress((pbx / "queue_log").read_bytes()))
    (pbx / "queue_log").write_text("")
    batch = extract_source(_cfg(tmp_path), "ql", D3)
    assert batch.row_counts["queue_log_events"] == 24 * 3
    assert batch.reject_count == 2  # calls 30 and 40 have a malformed line, once each
    assert _meta(batch)["duplicate_lines_dropped"] == 24 * 3 + 2


def test_a_file_changed_before_a_checkpoint_resumes_from_an_earlier_one(tmp_path: Path) -> None:
    pbx = _setup(tmp_path)
    cfg = _cfg(tmp_path)
    extract_source(cfg, "ql", D3)
    lines = _lines(T0, 72)
    # Same first line and size; line 72 (the last before the 22:00Z checkpoint of 11-02 that
    # night 3 would resume from: call 22's COMPLETECALLER) differs.
    assert "|60|" in lines[71] and lines[72].startswith(str(T0 + 23 * 3600))
    lines[71] = lines[71].replace("|60|", "|61|")
    _write(pbx / "queue_log", lines)
    batch = extract_source(cfg, "ql", D3)
    # The 22:00Z checkpoint's last bytes changed: the 21:00Z one (call 22's first byte) is used.
    assert _meta(batch)["file_stats"]["queue_log"]["start_offset"] == sum(
        len(line) + 1 for line in _lines(T0, 22)
    )
    cold = extract_source(_cfg(tmp_path, incremental=False, landing="cold"), "ql", D3)
    for name in ("queue_log_events.parquet", "rejects.parquet"):
        assert (cold.path / name).read_bytes() == (batch.path / name).read_bytes()
