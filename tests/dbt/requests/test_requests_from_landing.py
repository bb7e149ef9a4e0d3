"""From landed Parquet batches to int_requests_unioned, across overlapping batches and nights.

Checks what unit tests cannot: the landing scan (hive `day`, union_by_name, the `_empty`
placeholders), de-duplication of a batch that overlaps another, "latest batch wins" for GLPI
rows, and that a batch landed after the night's day is ignored, so re-running an old night
gives the same requests as the first time.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

D23, D24, D25 = dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def queue_event(line: int, at: str, callid: str, queue: str, event: str, **data: str) -> dict:
    return {
        "source_file": "queue_log", "source_line": line, "event_at": ts(at), "callid": callid,
        "queue_name": queue, "event": event, "caller_key": "caller-" + callid if event == "ENTERQUEUE" else None,
        **data,
    }


C1 = [
    queue_event(1, "2026-11-23 08:00:00", "c1", "accueil", "ENTERQUEUE"),
    queue_event(2, "2026-11-23 08:00:20", "c1", "accueil", "CONNECT", data1="20"),
]
C2 = [
    queue_event(1, "2026-11-24 09:00:00", "c2", "accueil", "ENTERQUEUE"),
    queue_event(2, "2026-11-24 09:00:40", "c2", "accueil", "ABANDON", data1="1", data2="1", data3="40"),
]
C3 = [queue_event(1, "2026-11-25 08:00:00", "c3", "accueil", "ENTERQUEUE")]

E1 = {
    "mailbox": "etat-civil", "service_code": "ETAT_CIVIL", "folder_role": "inbox",
    "source_position": "cur/1763888400.M1P1Q1.host:2,S", "message_key": "a1b2c3d4e5f6", "references_keys": [],
    "from_key": "fa", "to_keys": ["ec"], "from_is_internal": False, "received_at": ts("2026-11-23 10:00:00"),
    "subject_key": "s1", "is_auto_submitted": False,
}
E2 = {
    "mailbox": "etat-civil", "service_code": "ETAT_CIVIL", "folder_role": "sent",
    "source_position": ".Sent/cur/1763974800.M2P1Q1.host:2,S", "message_key": "f00dfeed0000",
    "in_reply_to_key": "a1b2c3d4e5f6", "references_keys": ["a1b2c3d4e5f6"], "from_key": "ec",
    "to_keys": ["fa"], "from_is_internal": True, "received_at": ts("2026-11-24 09:00:00"),
    "subject_key": "s1", "is_auto_submitted": False,
}


def ticket(**over: object) -> dict:
    return {"id": 7, "date": ts("2026-11-23 08:00:00"), "date_creation": ts("2026-11-23 08:00:00"),
            "requesttypes_id": 1, "itilcategories_id": 0, "type": 2, "is_deleted": 0, **over}


def land_three_nights(box) -> None:
    box.land("pbx_queue_log", D23, "queue_log_events", C1)
    box.land("pbx_queue_log", D24, "queue_log_events", C1 + C2)  # overlaps the 23rd
    box.land("pbx_queue_log", D25, "queue_log_events", C3)
    box.land("mairie_mail", D23, "email_messages", [E1])
    box.land("mairie_mail", D24, "email_messages", [E1, E2])  # E1 again
    box.land("glpi", D23, "glpi_tickets", [ticket(status=2, date_mod=ts("2026-11-23 08:00:00"))])
    box.land("glpi", D24, "glpi_tickets", [ticket(status=5, date_mod=ts("2026-11-24 15:00:00"),
                                                  solvedate=ts("2026-11-24 15:00:00"))])
    box.land("glpi", D25, "glpi_tickets", [
        ticket(status=5, date_mod=ts("2026-11-25 09:00:00"), solvedate=ts("2026-11-25 09:00:00")),
        ticket(id=8, date=ts("2026-11-25 08:00:00"), date_mod=ts("2026-11-25 08:00:00"), status=1),
    ])
    for day in (D23, D24, D25):
        box.land("glpi", day, "glpi_groups_tickets", [{"id": 1, "tickets_id": 7, "groups_id": 1, "type": 2}])
        box.land("glpi", day, "glpi_tickets_users", [{"id": 1, "tickets_id": 7, "users_key": "u1", "type": 1}])
    box.land("glpi", D24, "glpi_itilsolutions", [
        {"id": 1, "itemtype": "Ticket", "items_id": 7, "date_creation": ts("2026-11-24 15:00:00"), "users_key": "a1"}
    ])


REQUESTS_SQL = """
    select request_id, channel, service_code, received_at, first_response_at, resolved_at,
           wait_seconds, call_outcome, is_excluded
    from intermediate.int_requests_unioned order by request_id
"""

NIGHT_24 = [
    ("glpi:glpi:7", "online", "ETAT_CIVIL", ts("2026-11-23 08:00:00"), ts("2026-11-24 15:00:00"),
     ts("2026-11-24 15:00:00"), None, None, False),
    ("mail:mairie_mail:etat-civil:a1b2c3d4e5f6", "email", "ETAT_CIVIL", ts("2026-11-23 10:00:00"),
     ts("2026-11-24 09:00:00"), None, None, None, False),
    ("tel:pbx_queue_log:c1", "phone", "ACCUEIL", ts("2026-11-23 08:00:00"), ts("2026-11-23 08:00:20"),
     None, 20.0, "answered", False),
    ("tel:pbx_queue_log:c2", "phone", "ACCUEIL", ts("2026-11-24 09:00:00"), None, None, None, "abandoned", False),
]


def build(box, night_vars_for, statuses_of, day: dt.date) -> None:
    box.prepare(day)
    result = box.dbt(["run", "--select", "+int_requests_unioned"], night_vars_for(day))
    assert result.success, statuses_of(result)


def test_overlapping_batches_count_once_and_later_batches_wait_their_night(
    dbt_sandbox, night_vars_for, statuses_of
) -> None:
    box = dbt_sandbox
    land_three_nights(box)

    build(box, night_vars_for, statuses_of, D24)
    assert box.query("select count(*) from staging.stg_asterisk__queue_log_events") == [(4,)]
    assert box.query("select count(*) from staging.stg_email__messages") == [(2,)]
    assert box.query("select ticket_id, status, landed_day from staging.stg_glpi__tickets") == [(7, 5, D24)]
    assert box.query(REQUESTS_SQL) == NIGHT_24

    build(box, night_vars_for, statuses_of, D25)
    later = box.query(REQUESTS_SQL)
    assert [r[0] for r in later] == [
        "glpi:glpi:7", "glpi:glpi:8", "mail:mairie_mail:etat-civil:a1b2c3d4e5f6",
        "tel:pbx_queue_log:c1", "tel:pbx_queue_log:c2", "tel:pbx_queue_log:c3",
    ]
    assert later[0][5] == ts("2026-11-25 09:00:00")  # the ticket's newest version wins
    assert later[5][7] == "orphan"  # c3: entered at 09:00 local, no closing event yet

    build(box, night_vars_for, statuses_of, D24)  # re-running the old night
    assert box.query(REQUESTS_SQL) == NIGHT_24
