"""Incremental models (macros/night_increment.sql) give, night after night, the rows a full build gives.

A sequence of nights on hand-made queue_log batches: the first night builds everything, the
next ones rebuild only the keys a new batch or the moving as_of can change (including a call the
orphan rule closes one night later without any new event); after each, a `--full-refresh` build
of the same night must give the same rows. A replay of an old night rebuilds everything and
gives that night's rows again; a late batch of an old day is picked up by the next night.
DECISIONLOG.md, Part 3, "Incremental models".
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from vigie.config import load_config
from vigie.warehouse_config import load_config_tables

DEMO_CONFIG = Path(__file__).resolve().parents[3] / "config" / "vigie.yml"

D22, D23, D24, D25, D26 = (dt.date(2026, 11, d) for d in (22, 23, 24, 25, 26))
MODELS = (
    "intermediate.int_phone_queue_visits", "intermediate.int_phone_calls_assembled",
    "intermediate.int_source_day_row_counts", "intermediate.int_tickets_responded",
    "staging.stg_asterisk__queue_log_events", "staging.stg_glpi__tickets", "staging.stg_glpi__itilsolutions",
)
SELECT = ["--select", *(f"+{m.split('.')[1]}" for m in MODELS)]


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ev(line: int, at: str, callid: str, event: str, **data: str) -> dict:
    return {"source_file": "queue_log", "source_line": line, "event_at": ts(at), "callid": callid,
            "queue_name": "accueil", "event": event,
            "caller_key": "caller-" + callid if event == "ENTERQUEUE" else None, **data}


C0 = [ev(1, "2026-11-22 09:00:00", "c0", "ENTERQUEUE"), ev(2, "2026-11-22 09:00:30", "c0", "CONNECT", data1="30")]
C1 = [ev(1, "2026-11-23 08:00:00", "c1", "ENTERQUEUE"), ev(2, "2026-11-23 08:00:20", "c1", "CONNECT", data1="20")]
C2 = [ev(3, "2026-11-24 09:00:00", "c2", "ENTERQUEUE"),
      ev(4, "2026-11-24 09:00:40", "c2", "ABANDON", data1="1", data2="1", data3="40")]
# c3 enters at 23:30 local on the 25th and never leaves: an orphan the rule closes an hour later,
# after night 25's as_of (00:00 local on the 26th): closed on night 26, with no new event.
C3 = [ev(5, "2026-11-25 22:30:00", "c3", "ENTERQUEUE")]
C4 = [ev(6, "2026-11-26 10:00:00", "c4", "ENTERQUEUE"), ev(7, "2026-11-26 10:00:05", "c4", "CONNECT", data1="5")]


def prepare(box, day: dt.date) -> None:
    """Config tables for the night with a calendar that does not move from night to night."""
    from connectors.landing_layout import ensure_empty_landing_tables

    ensure_empty_landing_tables(box.landing)
    con = duckdb.connect(str(box.warehouse))
    try:
        load_config_tables(con, load_config(DEMO_CONFIG), dt.date(2026, 10, 1), dt.date(2027, 1, 31), run_day=day)
    finally:
        con.close()


def rows(box) -> dict[str, list]:
    return {m: box.query(f"select * from {m} order by all") for m in MODELS}


def night(box, night_vars_for, statuses_of, day: dt.date, *flags: str) -> dict[str, list]:
    prepare(box, day)
    result = box.dbt(["run", *SELECT, *flags], night_vars_for(day))
    assert result.success, statuses_of(result)
    return rows(box)


def last_plans(box) -> dict[str, bool]:
    """model -> whether its last build rebuilt everything, for the models of MODELS."""
    plans = dict(box.query(
        "select model, full_rebuild from incremental.build_log qualify row_number() over "
        "(partition by model order by built_at desc) = 1"
    ))
    return {m: plans[m.split(".")[1]] for m in MODELS}


def ticket(**over: object) -> dict:
    return {"id": 7, "date": ts("2026-11-23 08:00:00"), "date_creation": ts("2026-11-23 08:00:00"),
            "requesttypes_id": 1, "itilcategories_id": 0, "type": 2, "is_deleted": 0, **over}


def test_incremental_nights_equal_full_builds(dbt_sandbox, night_vars_for, statuses_of) -> None:
    box = dbt_sandbox
    box.land("pbx_queue_log", D23, "queue_log_events", C1)
    box.land("pbx_queue_log", D24, "queue_log_events", C1 + C2)  # overlaps the 23rd
    box.land("pbx_queue_log", D25, "queue_log_events", C3)
    box.land("pbx_queue_log", D26, "queue_log_events", C4)
    # ticket 7: opened on the 23rd, solved on the 24th (a solution then), a newer version on the
    # 25th; ticket 8 opened on the 25th
    box.land("glpi", D23, "glpi_tickets", [ticket(status=2, date_mod=ts("2026-11-23 08:00:00"))])
    box.land("glpi", D24, "glpi_tickets", [ticket(status=5, date_mod=ts("2026-11-24 15:00:00"),
                                                  solvedate=ts("2026-11-24 15:00:00"))])
    box.land("glpi", D24, "glpi_itilsolutions", [
        {"id": 1, "itemtype": "Ticket", "items_id": 7, "date_creation": ts("2026-11-24 15:00:00"), "users_key": "a1"}
    ])
    box.land("glpi", D25, "glpi_tickets", [
        ticket(status=6, date_mod=ts("2026-11-25 09:00:00"), solvedate=ts("2026-11-24 15:00:00")),
        ticket(id=8, date=ts("2026-11-25 08:00:00"), date_mod=ts("2026-11-25 08:00:00"), status=1),
    ])

    first = {}
    for day in (D23, D24, D25, D26):
        built = night(box, night_vars_for, statuses_of, day)
        assert last_plans(box) == dict.fromkeys(MODELS, day == D23), day
        first[day] = built
        assert night(box, night_vars_for, statuses_of, day, "--full-refresh") == built, day
        assert last_plans(box) == dict.fromkeys(MODELS, True)
        assert night(box, night_vars_for, statuses_of, day) == built, day  # same night again

    assert box.query("select ticket_id, status from intermediate.int_tickets_responded order by 1") == [(7, 6), (8, 1)]
    ended = dict(box.query("select callid, ended_at from intermediate.int_phone_calls_assembled"))
    assert ended["c3"] == ts("2026-11-25 23:30:00")  # closed by the rule on night 26 alone

    # a replay of an old night rebuilds everything and gives that night's rows again
    assert night(box, night_vars_for, statuses_of, D24) == first[D24]
    assert last_plans(box) == dict.fromkeys(MODELS, True)

    # a late batch of an older day: read by the next night, incrementally
    box.land("pbx_queue_log", D22, "queue_log_events", C0)
    built = night(box, night_vars_for, statuses_of, D25)
    assert last_plans(box) == dict.fromkeys(MODELS, False)
    assert ("c0",) in box.query("select callid from intermediate.int_phone_calls_assembled")
    assert night(box, night_vars_for, statuses_of, D25, "--full-refresh") == built

    # a re-landed batch (the file changes): every model reading it is rebuilt, the others not
    box.land("pbx_queue_log", D24, "queue_log_events", C2)
    built = night(box, night_vars_for, statuses_of, D26)
    assert last_plans(box) == {m: "glpi" not in m and "ticket" not in m for m in MODELS}
    assert night(box, night_vars_for, statuses_of, D26, "--full-refresh") == built


CDR_MODELS = ("intermediate.int_phone_calls_from_cdr", "staging.stg_asterisk__cdr_legs")
CDR_SELECT = ["--select", *(f"+{m.split('.')[1]}" for m in CDR_MODELS)]


def leg(line: int, group: str | None, start: str, end: str, answer: str | None = None, **over: object) -> dict:
    """A CDR leg of call `group` (linkedid and uniqueid; None: a layout with neither)."""
    return {"source_file": "Master.csv", "source_line": line, "dcontext": "from-pstn", "channel": f"PJSIP/trunk-{line}",
            "dstchannel": "PJSIP/201-1" if answer else None, "start_at": ts(start), "end_at": ts(end),
            "answer_at": ts(answer) if answer else None, "disposition": "ANSWERED" if answer else "NO ANSWER",
            "uniqueid": group, "linkedid": group, **over}


def cdr_night(box, night_vars_for, statuses_of, day: dt.date, *flags: str) -> dict[str, list]:
    """Night `day` with the CDR-only context from-pstn mapped to TECHNIQUE (no queue_log)."""
    prepare(box, day)
    con = duckdb.connect(str(box.warehouse))
    try:
        con.execute("insert into config.phone_cdr_contexts values ('pbx_cdr', 'from-pstn', 'TECHNIQUE', '^PJSIP/2')")
    finally:
        con.close()
    result = box.dbt(["run", *CDR_SELECT, *flags], night_vars_for(day))
    assert result.success, statuses_of(result)
    plans = dict(box.query(
        "select model, full_rebuild from incremental.build_log qualify row_number() over "
        "(partition by model order by built_at desc) = 1"
    ))
    box.cdr_plans = {m: plans[m.split(".")[1]] for m in CDR_MODELS}
    return {m: box.query(f"select * from {m} order by all") for m in CDR_MODELS}


def test_incremental_cdr_calls_equal_full_builds(dbt_sandbox, night_vars_for, statuses_of) -> None:
    """CDR-only calls: g1 answered on the 23rd (landed again in the 24th's batch); g2 starts
    at 23:50 local on the 25th and ends at 00:10 on the 26th, after night 25's as_of: its end
    is known to night 26 alone, with no new leg; g3 on the 26th; legs with neither linkedid nor
    uniqueid (staging keeps them, under a null call group) on the 24th and the 26th."""
    box = dbt_sandbox
    g1 = [leg(1, "g1", "2026-11-23 08:00:00", "2026-11-23 08:05:00", "2026-11-23 08:00:10")]
    anonymous = [leg(9, None, "2026-11-24 09:00:00", "2026-11-24 09:01:00")]
    box.land("pbx_cdr", D23, "cdr_legs", g1)
    box.land("pbx_cdr", D24, "cdr_legs", g1 + anonymous)
    box.land("pbx_cdr", D25, "cdr_legs", [leg(2, "g2", "2026-11-25 22:50:00", "2026-11-25 23:10:00")])
    box.land("pbx_cdr", D26, "cdr_legs", [
        leg(3, "g3", "2026-11-26 09:00:00", "2026-11-26 09:02:00", "2026-11-26 09:00:05"),
        leg(10, None, "2026-11-26 10:00:00", "2026-11-26 10:01:00"),
    ])

    first = {}
    for day in (D23, D24, D25, D26):
        built = cdr_night(box, night_vars_for, statuses_of, day)
        assert box.cdr_plans == dict.fromkeys(CDR_MODELS, day == D23), day
        first[day] = built
        assert cdr_night(box, night_vars_for, statuses_of, day, "--full-refresh") == built, day
        assert cdr_night(box, night_vars_for, statuses_of, day) == built, day  # same night again

    calls = box.query("select call_group_id, call_outcome, ended_at from intermediate.int_phone_calls_from_cdr "
                      "order by 1")
    assert calls == [("g1", "answered", ts("2026-11-23 08:05:00")), ("g2", "out_of_hours", ts("2026-11-25 23:10:00")),
                     ("g3", "answered", ts("2026-11-26 09:02:00"))]
    assert box.query("select count(*) from staging.stg_asterisk__cdr_legs where call_group_id is null") == [(2,)]
    # g2's end was after night 25's as_of: unknown that night
    assert ("g2", "out_of_hours", None) in [(r[4], r[16], r[12]) for r in first[D25][CDR_MODELS[0]]]

    # a replay of an old night rebuilds everything and gives that night's rows again
    assert cdr_night(box, night_vars_for, statuses_of, D24) == first[D24]
    assert box.cdr_plans == dict.fromkeys(CDR_MODELS, True)

    # a late batch of an older day: read by the next night, incrementally
    box.land("pbx_cdr", D22, "cdr_legs", [leg(11, "g0", "2026-11-22 10:00:00", "2026-11-22 10:01:00"),
                                          leg(12, None, "2026-11-22 11:00:00", "2026-11-22 11:01:00")])
    built = cdr_night(box, night_vars_for, statuses_of, D25)
    assert box.cdr_plans == dict.fromkeys(CDR_MODELS, False)
    assert ("g0",) in box.query("select call_group_id from intermediate.int_phone_calls_from_cdr")
    assert cdr_night(box, night_vars_for, statuses_of, D25, "--full-refresh") == built

    # a re-landed batch (the file changes): everything is rebuilt
    box.land("pbx_cdr", D24, "cdr_legs", anonymous)
    built = cdr_night(box, night_vars_for, statuses_of, D26)
    assert box.cdr_plans == dict.fromkeys(CDR_MODELS, True)
    assert cdr_night(box, night_vars_for, statuses_of, D26, "--full-refresh") == built
