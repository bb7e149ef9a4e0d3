"""The demo PBX files: queue_log lines as app_queue writes them, Master.csv as cdr_csv writes it."""

from __future__ import annotations

import csv
import datetime as dt
import re
import zoneinfo
from collections import defaultdict
from pathlib import Path

import pytest

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
LINE = re.compile(r"^(\d{10})\|([^|]+)\|([^|]+)\|([^|]+)\|([A-Z]+)((?:\|[^|]*)*)$")
CALLER_EVENTS = {"ENTERQUEUE", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON", "EXITWITHTIMEOUT",
                 "EXITWITHKEY", "RINGNOANSWER", "BLINDTRANSFER"}
CLOSING = {"COMPLETECALLER", "COMPLETEAGENT", "ABANDON", "EXITWITHKEY", "BLINDTRANSFER"}
SYSTEM_EVENTS = {"QUEUESTART", "ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE"}


@pytest.fixture(scope="module")
def qlog(demo) -> dict[str, list[list[str]]]:
    cfg, _ = demo
    directory = cfg.path(cfg.sources_of("asterisk_queue_log")[0].path).parent
    files = {}
    for name in ("queue_log.1", "queue_log"):
        files[name] = [line.split("|") for line in (directory / name).read_text(encoding="utf-8").splitlines()]
    return files


@pytest.fixture(scope="module")
def calls(qlog) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = defaultdict(list)
    for name in ("queue_log.1", "queue_log"):
        for parts in qlog[name]:
            if parts[1] != "NONE":
                out[parts[1]].append(parts)
    return out


def _cdr_path(demo) -> Path:
    cfg, _ = demo
    return cfg.path(cfg.sources_of("asterisk_cdr_csv")[0].path)


def test_every_queue_log_line_parses(demo, qlog) -> None:
    cfg, _ = demo
    queues = set(cfg.sources_of("asterisk_queue_log")[0].queues) | {"NONE"}
    for name, lines in qlog.items():
        previous = 0
        for parts in lines:
            line = "|".join(parts)
            m = LINE.match(line)
            assert m, f"{name}: {line}"
            epoch, callid, queue, _agent, event = int(m[1]), m[2], m[3], m[4], m[5]
            assert epoch >= previous, "sorted by time"
            previous = epoch
            assert queue in queues
            assert event in CALLER_EVENTS | SYSTEM_EVENTS
            if callid != "NONE":
                assert re.fullmatch(r"\d{10}\.\d+", callid)
                assert event in CALLER_EVENTS


def test_rotation_splits_one_call_across_the_two_files(qlog) -> None:
    older, newer = qlog["queue_log.1"], qlog["queue_log"]
    assert int(older[-1][0]) <= int(newer[0][0])
    split = {p[1] for p in older if p[1] != "NONE"} & {p[1] for p in newer if p[1] != "NONE"}
    assert len(split) == 1
    (callid,) = split
    assert [p[4] for p in older if p[1] == callid] == ["ENTERQUEUE"]
    assert "CONNECT" in [p[4] for p in newer if p[1] == callid]


def test_call_shapes(calls) -> None:
    orphans, overflows, short, key, timeout, rna = [], [], [], [], [], []
    for callid, events in calls.items():
        names = [e[4] for e in events]
        assert names[0] == "ENTERQUEUE"
        if not (set(names) & CLOSING) and names[-1] != "EXITWITHTIMEOUT":
            orphans.append(callid)
        if names.count("ENTERQUEUE") == 2:
            overflows.append(callid)
            assert [e[2] for e in events if e[4] == "ENTERQUEUE"] == ["accueil", "accueil-debordement"]
        for e in events:
            if e[4] == "CONNECT":
                holdtime, member_uid, ringtime = e[5:8]
                assert int(holdtime) >= 1 and re.fullmatch(r"\d{10}\.\d+", member_uid) and int(ringtime) >= 0
            if e[4] == "ABANDON" and int(e[7]) < 5:
                short.append(callid)
            if e[4] == "EXITWITHKEY":
                key.append(callid)
                assert len(e) == 9  # key|position|origposition|waittime
            if e[4] == "EXITWITHTIMEOUT" and e[2] != "accueil":
                timeout.append(callid)
            if e[4] == "RINGNOANSWER":
                rna.append(callid)
                assert e[5] == "15000"  # milliseconds
    assert len(orphans) == 2
    assert overflows and short and key and timeout and rna
    assert any(e[4] == "BLINDTRANSFER" for events in calls.values() for e in events)


def test_waits_mostly_short_with_a_tail(calls) -> None:
    waits = [int(e[5]) for events in calls.values() for e in events if e[4] == "CONNECT"]
    under_20 = sum(w <= 20 for w in waits) / len(waits)
    assert 0.7 < under_20 < 0.95
    assert max(waits) > 120


def test_monday_peak_and_calls_on_closed_days(calls) -> None:
    per_day: dict[dt.date, int] = defaultdict(int)
    for events in calls.values():
        per_day[dt.datetime.fromtimestamp(int(events[0][0]), PARIS).date()] += 1
    mondays = [n for d, n in per_day.items() if d.weekday() == 0]
    tuesdays = [n for d, n in per_day.items() if d.weekday() == 1]
    assert sum(mondays) / len(mondays) > 1.3 * sum(tuesdays) / len(tuesdays)
    assert 1 <= per_day[dt.date(2026, 11, 10)] <= 10  # the pont: a few stray, out-of-hours calls
    assert 1 <= per_day[dt.date(2026, 11, 11)] <= 10  # 11 November
    weekdays = [n for d, n in per_day.items() if d.weekday() < 5 and d.day not in (10, 11)]
    assert 120 <= sum(weekdays) / len(weekdays) <= 190  # about 150 calls a business day


def test_master_csv_has_18_fields_and_cdr_csv_quoting(demo, calls) -> None:
    raw = _cdr_path(demo).read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(raw))
    assert rows and all(len(r) == 18 for r in rows)
    for line, r in zip(raw, rows, strict=True):
        # strings quoted; duration and billsec bare; an empty answer bare (",,")
        assert line.startswith('"') and line.endswith('"')
        assert f',{r[12]},{r[13]},"{r[14]}",' in line
        if r[10] == "":
            assert ',,"' in line
        start, end = (dt.datetime.strptime(r[i], "%Y-%m-%d %H:%M:%S") for i in (9, 11))
        assert int(r[12]) == (end - start).total_seconds()
        assert r[14] in {"ANSWERED", "NO ANSWER", "BUSY"}
        assert r[15] == "DOCUMENTATION"
    ivr = [r for r in rows if r[14] == "NO ANSWER" and int(r[13]) > 0]
    assert len(ivr) == 1 and ivr[0][7] == "Playback"
    assert any(r[14] == "BUSY" for r in rows)
    assert any('""' in line for line in raw if '<' in line)  # caller-id names with doubled quotes
    # One CDR leg set per queue call, joined by uniqueid = callid (orphans have none: the PBX died).
    queue_uids = {r[16] for r in rows if r[7] == "Queue"}
    orphans = {c for c, ev in calls.items() if [e[4] for e in ev] == ["ENTERQUEUE"]}
    assert len(orphans) == 2
    assert queue_uids == set(calls) - orphans
    answered = {r[16] for r in rows if r[7] == "Queue" and r[14] == "ANSWERED"}
    connected = {c for c, ev in calls.items() if any(e[4] == "CONNECT" for e in ev)}
    assert answered == connected


def test_master_csv_is_utc(demo, calls) -> None:
    rows = list(csv.reader(_cdr_path(demo).read_text(encoding="utf-8").splitlines()))
    row = next(r for r in rows if r[16] in calls and r[7] == "Queue")
    enter = int(calls[row[16]][0][0])
    start = dt.datetime.strptime(row[9], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC).timestamp()
    assert 0 < enter - start <= 12  # the channel starts a few seconds before it enters the queue
