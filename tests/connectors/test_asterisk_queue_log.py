"""queue_log connector on the rotated fixture pair (tests/fixtures/asterisk/queue_log/).

Night of 2026-10-25 in Europe/Paris: [2026-10-24 22:00Z, 2026-10-25 23:00Z), 25 hours.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from connectors.extract import SourceUnavailable, extract_source
from connectors.pseudonymise import Pseudonymiser
from connectors.telephony.source_files import resolve_files

DAY = dt.date(2026, 10, 25)
RAW_IDENTITIES = [
    "0601020304", "601020304", "0611223344", "611223344", "0033698765432", "698765432",
    "06 55 44 33 22", "655443322", "0477889900", "477889900", "755667788", "0612345678",
    "612345678", "0699887766", "699887766", "0145678901", "145678901", "0622334455",
    "0633445566", "0644556677", "Marie Curie", "Jean Dupont", "Durand", "Société", "Curie",
]  # fmt: skip


def _events(batch_path: Path) -> list[dict]:
    return pq.read_table(batch_path / "queue_log_events.parquet").to_pylist()


def _rejects(batch_path: Path) -> list[tuple[str, str, str, str]]:
    rows = pq.read_table(batch_path / "rejects.parquet").to_pylist()
    return [(r["table_name"], r["source_file"], r["source_position"], r["reason"]) for r in rows]


def test_night_keeps_events_by_event_time_across_the_rotated_pair(telephony_cfg):
    batch = extract_source(telephony_cfg(), "pbx_queue_log", DAY)
    assert batch.row_counts == {"queue_log_events": 25}
    assert batch.reject_count == 2
    rows = _events(batch.path)
    positions = [(r["source_file"], r["source_line"]) for r in rows]
    # queue_log.1 lines 1-2 are before local midnight; line 15 is malformed; line 19 is blank.
    assert positions == [("queue_log.1", n) for n in (*range(3, 15), 16, 17, 18)] + [
        ("queue_log", n) for n in (1, 2, 3, 4, 5, 7, 8, 9, 10, 11)
    ]
    assert rows[0]["event_at"] == dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC)  # start inclusive
    # The last event is 23:59:59 local on a 25-hour day; 1792969200 (the end) is excluded.
    assert rows[-1]["event_at"] == dt.datetime(2026, 10, 25, 22, 59, 59, tzinfo=dt.UTC)
    assert [r["event"] for r in rows if r["callid"] == "1792882200.8"] == [
        "ENTERQUEUE",
        "CONNECT",
        "BLINDTRANSFER",
    ]  # fmt: skip  (the call split across queue_log.1 and queue_log)
    assert {r["source_id"] for r in rows} == {"pbx_queue_log"}


def test_rejects_name_file_line_and_reason(telephony_cfg):
    batch = extract_source(telephony_cfg(), "pbx_queue_log", DAY)
    assert _rejects(batch.path) == [
        (
            "queue_log_events",
            "queue_log.1",
            "line 15",
            "fewer than 5 fields (1); expected epoch|callid|queuename|agent|event|data...",
        ),
        (
            "queue_log_events",
            "queue_log",
            "line 6",
            "epoch (field 1) is not an integer number of seconds",
        ),
    ]


def test_adjacent_nights_take_the_rest(telephony_cfg):
    cfg = telephony_cfg()
    before = extract_source(cfg, "pbx_queue_log", dt.date(2026, 10, 24))
    after = extract_source(cfg, "pbx_queue_log", dt.date(2026, 10, 26))
    assert (before.row_counts["queue_log_events"], before.reject_count) == (2, 0)
    assert [r["source_line"] for r in _events(before.path)] == [1, 2]
    assert [r["source_line"] for r in _events(after.path)] == [12, 13]
    # '1792969300||' has a valid epoch of the 26th: it is that night's reject, not the 25th's.
    assert _rejects(after.path) == [
        (
            "queue_log_events",
            "queue_log",
            "line 14",
            "fewer than 5 fields (3); expected epoch|callid|queuename|agent|event|data...",
        )
    ]


def test_caller_and_agent_keys_and_masking(telephony_cfg):
    cfg = telephony_cfg()
    pseudo = Pseudonymiser.from_config(cfg)
    rows = _events(extract_source(cfg, "pbx_queue_log", DAY).path)
    enters = [r for r in rows if r["event"] == "ENTERQUEUE"]
    assert len(enters) == 10
    assert all(r["data2"] is None and r["data4"] is None and r["data5"] is None for r in enters)
    by_callid = {}
    for r in enters:
        by_callid.setdefault(r["callid"], []).append(r["caller_key"])
    # Overflow: both ENTERQUEUE of the call carry the same key; 0033... normalises to +33...
    assert by_callid["1792880200.4"] == [pseudo.phone("+33698765432")] * 2
    assert by_callid["1792881200.6"] == [pseudo.phone("0655443322")]
    assert by_callid["1792884200.10"] == [None]  # 'anonymous' is no number
    assert all(r["caller_key"] is None for r in rows if r["event"] != "ENTERQUEUE")
    connect = next(r for r in rows if r["event"] == "CONNECT" and r["callid"] == "1792879200.2")
    assert connect["agent_key"] == pseudo.key("agent", "SIP/1002")
    assert (connect["data1"], connect["data2"], connect["data3"]) == ("20", "1792879215.3", "5")
    assert all(r["agent_key"] is None for r in enters)  # agent NONE
    transfer = next(r for r in rows if r["event"] == "BLINDTRANSFER")
    assert [transfer[f"data{i}"] for i in range(1, 6)] == [
        "XXXXXXXXXX", "from-internal", "40", "60", "2",
    ]  # fmt: skip
    pause = next(r for r in rows if r["event"] == "PAUSE")
    assert pause["data1"] == "Formation XXXXXXXXXX"
    assert pause["agent_key"] == pseudo.key("agent", "Local/0699887766@from-queue/n")
    ring = next(r for r in rows if r["event"] == "RINGNOANSWER")
    assert ring["data1"] == "15000"  # milliseconds, kept
    timeout = next(
        r for r in rows if r["event"] == "EXITWITHTIMEOUT" and r["queue_name"] == "urbanisme"
    )
    assert (timeout["data1"], timeout["data2"], timeout["data3"]) == (
        "1",
        "1",
        None,
    )  # empty waittime
    key_exit = next(r for r in rows if r["event"] == "EXITWITHKEY")
    assert [key_exit[f"data{i}"] for i in range(1, 5)] == ["5", "1", "1", "12"]


def test_no_raw_number_or_name_in_the_landed_files(telephony_cfg):
    batch = extract_source(telephony_cfg(), "pbx_queue_log", DAY)
    for path in sorted(batch.path.iterdir()):
        raw = path.read_bytes()
        values = repr(pq.read_table(path).to_pylist()) if path.suffix == ".parquet" else ""
        for identity in RAW_IDENTITIES:
            assert identity.encode() not in raw, (path.name, identity)
            assert identity not in values, (path.name, identity)


def test_rerun_replaces_the_batch(telephony_cfg):
    cfg = telephony_cfg()
    first = extract_source(cfg, "pbx_queue_log", DAY)
    files = sorted(p.name for p in first.path.iterdir())
    content = (first.path / "queue_log_events.parquet").read_bytes()
    second = extract_source(cfg, "pbx_queue_log", DAY)
    assert second.path == first.path
    assert sorted(p.name for p in second.path.iterdir()) == files
    assert files == ["_batch.json", "queue_log_events.parquet", "rejects.parquet"]
    assert second.row_counts == {"queue_log_events": 25} and second.reject_count == 2
    assert (second.path / "queue_log_events.parquet").read_bytes() == content  # identical bytes
    assert sorted(p.name for p in second.path.parent.iterdir()) == ["_state.json", "day=2026-10-25"]
    assert len(_events(second.path)) == 25


def test_gzipped_rotated_file_reads_the_same(telephony_cfg, asterisk_dir):
    plain = _events(extract_source(telephony_cfg(), "pbx_queue_log", DAY).path)
    rotated = asterisk_dir / "queue_log" / "queue_log.1"
    (asterisk_dir / "queue_log" / "queue_log.1.gz").write_bytes(gzip.compress(rotated.read_bytes()))
    rotated.unlink()
    rows = _events(extract_source(telephony_cfg(), "pbx_queue_log", DAY).path)
    assert [(r["source_line"], r["event"]) for r in rows] == [
        (r["source_line"], r["event"]) for r in plain
    ]
    assert rows[0]["source_file"] == "queue_log.1.gz"


def test_rotation_order_is_chronological(tmp_path):
    names = [
        "queue_log", "queue_log.1", "queue_log.10", "queue_log.2", "queue_log.3.gz",
        "queue_log-20261101", "queue_log-20261020.gz",
    ]  # fmt: skip
    for n in names:
        (tmp_path / n).write_text("")
    ordered = [p.name for p in resolve_files("s", tmp_path / "queue_log*", "queue_log")]
    assert ordered == [
        "queue_log-20261020.gz", "queue_log-20261101", "queue_log.10", "queue_log.3.gz",
        "queue_log.2", "queue_log.1", "queue_log",
    ]  # fmt: skip


def test_missing_files_fail_naming_source_and_path(telephony_cfg, asterisk_dir):
    for p in (asterisk_dir / "queue_log").iterdir():
        p.unlink()
    with pytest.raises(SourceUnavailable) as err:
        extract_source(telephony_cfg(), "pbx_queue_log", DAY)
    msg = str(err.value)
    assert "'pbx_queue_log'" in msg
    assert str(asterisk_dir / "queue_log" / "queue_log*") in msg
    assert "'path'" in msg


def test_a_file_that_is_not_a_queue_log_fails(telephony_cfg, asterisk_dir):
    (asterisk_dir / "queue_log" / "queue_log").write_bytes(
        (asterisk_dir / "cdr" / "Master.csv").read_bytes()
    )
    with pytest.raises(SourceUnavailable, match=r"'pbx_queue_log'.*none reads as"):
        extract_source(telephony_cfg(), "pbx_queue_log", DAY)


def test_a_freshly_rotated_empty_live_file_is_fine(telephony_cfg, asterisk_dir):
    (asterisk_dir / "queue_log" / "queue_log").write_bytes(b"")
    batch = extract_source(telephony_cfg(), "pbx_queue_log", DAY)
    assert batch.row_counts == {"queue_log_events": 15} and batch.reject_count == 1


def test_fields_beyond_the_tenth_stay_in_data5(telephony_cfg, asterisk_dir):
    (asterisk_dir / "queue_log" / "queue_log").write_text(
        "1792900000|NONE|ccas|NONE|CUSTOM|a|b|c|d|e|f|g\n\n\n1792900001|x|ccas|NONE||1\n"
    )
    rows = _events(extract_source(telephony_cfg(), "pbx_queue_log", DAY).path)
    custom = [r for r in rows if r["event"] == "CUSTOM"]
    assert [(r["source_line"], r["data5"]) for r in custom] == [(1, "e|f|g")]
    rejects = _rejects(extract_source(telephony_cfg(), "pbx_queue_log", DAY).path)
    assert rejects[-1] == (
        "queue_log_events",
        "queue_log",
        "line 4",
        "event name (field 5) is empty",
    )


def test_leading_epochs_fast_path_agrees_with_the_regex_rule() -> None:
    """The sliced 10-digit path and the regex (the definition) read every line alike."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from connectors.telephony.asterisk_queue_log import _EPOCH, leading_epochs

    fields = st.text(alphabet="0123456789|ab ١\u00e9", max_size=16)
    epochs = st.integers(0, 10**13).map(str)
    line = st.one_of(fields, st.tuples(epochs, fields).map(lambda t: "|".join(t)), epochs)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(line, min_size=1, max_size=40))
    def agree(lines: list[str]) -> None:
        arr = pa.array(lines, pa.string())
        head = pc.extract_regex(arr, _EPOCH)
        rule = pc.if_else(pc.is_valid(head), head.field("epoch"), None).cast(pa.int64())
        assert leading_epochs(arr).to_pylist() == rule.to_pylist()

    agree()
