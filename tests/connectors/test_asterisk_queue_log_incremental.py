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
    # One checkpoint per UTC day start crossed: 11-02, 11-03, 11-04 00:00Z.
    assert [c[0] for c in entry["checkpoints"]] == [1793577600, 1793664000, 1793750400]
    second = extract_source(_cfg(tmp_path), "ql", D3)
    stats = _meta(second)["file_stats"]["queue_log"]
    # Night start 23:00Z minus 1 h overlap = 22:00Z on 11-02: checkpoint 11-02 00:00Z is used,
    # the first call (23:00Z on 11-01, lines 1-4: call 0 has a malformed 4th line) is skipped.
    assert stats["lines"] == 72 * 3 + 8 and stats["lines_read"] == stats["lines"] - 4
    assert stats["start_offset"] == sum(len(line) + 1 for line in _lines(T0, 1))
    assert second.row_counts == {"queue_log_events": 24 * 3}  # calls 24-47, 3 events each
    assert second.reject_count == 2  # the malformed lines of calls 30 and 40
    for name in ("queue_log_events.parquet", "rejects.parquet"):
        assert (first.path / name).read_bytes() == (second.path / name).read_bytes()
        assert (cold.path / name).read_bytes() == (second.path / name).read_bytes()


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


def test_a_file_rewritten_in_place_is_read_from_the_start(tmp_path: Path) -> None:
    pbx = _setup(tmp_path)
    cfg = _cfg(tmp_path)
    extract_source(cfg, "ql", D3)
    lines = _lines(T0, 72)
    # Same first line and size; line 3 (just before the 11-02 00:00Z checkpoint) differs.
    lines[2] = lines[2].replace("|60|", "|61|")
    _write(pbx / "queue_log", lines)
    batch = extract_source(cfg, "ql", D3)
    assert _meta(batch)["file_stats"]["queue_log"]["start_offset"] == 0
