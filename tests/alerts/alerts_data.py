"""A night with known alerts (shared by the outbox and SMTP tests).

Night D = Monday 16 Nov 2026 (Europe/Paris), as of 17 Nov 00:00 local = 16 Nov 23:00 UTC.
Expected new alerts: ETAT_CIVIL 2 breaches (email week 9-15 Nov at 8/13, phone day 16 Nov at
30/40), 1 overdue (MEL-0001), 1 missed (MEL-0002); ENFANCE (no head -> data team) 1 overdue.
"""

from __future__ import annotations

import datetime as dt

from alerts_rules import build_candidates
from h5_builders import create_warehouse, indicator
from h5_builders import make_config as _h5_config

DAY = dt.date(2026, 11, 16)
AS_OF = dt.datetime(2026, 11, 16, 23, 0, tzinfo=dt.UTC)
REQUESTER = "ab" * 32


def deadline(d: dt.date) -> dt.datetime:
    """23:59:59 local on day d, in UTC (Paris is UTC+1 in November)."""
    return dt.datetime.combine(d, dt.time(22, 59, 59), tzinfo=dt.UTC)


def evaluation(ref: str, service: str, status: str, received: dt.date, due: dt.date | None,
               elapsed: float, *, commitment: str = "email_response_5bd", channel: str = "email",
               responded: dt.datetime | None = None, as_of: dt.datetime = AS_OF) -> dict:
    return {
        "request_id": f"mail:{ref.lower()}-{'cd' * 8}", "request_ref": ref, "commitment_id": commitment,
        "service_code": service, "channel": channel,
        "received_at": dt.datetime.combine(received, dt.time(9), tzinfo=dt.UTC),
        "deadline_at": deadline(due) if due else None, "responded_at": responded,
        "elapsed_value": elapsed, "elapsed_unit": "business_days", "status": status,
        "evaluated_as_of": as_of,
    }


def night_marts(day: dt.date = DAY, extra_evaluations: list[dict] | None = None) -> dict:
    as_of = dt.datetime.combine(day, dt.time(23), tzinfo=dt.UTC)
    d = dt.date
    evaluations = [
        evaluation("MEL-0001", "ETAT_CIVIL", "overdue", d(2026, 11, 2), d(2026, 11, 9), 10, as_of=as_of),
        evaluation("MEL-0002", "ETAT_CIVIL", "missed", d(2026, 11, 3), d(2026, 11, 10), 7,
                   responded=dt.datetime(2026, 11, 12, 10, tzinfo=dt.UTC), as_of=as_of),
        evaluation("MEL-0003", "ETAT_CIVIL", "met", d(2026, 11, 3), d(2026, 11, 10), 2, as_of=as_of,
                   responded=dt.datetime(2026, 11, 5, 10, tzinfo=dt.UTC)),
        evaluation("TEL-0004", "ETAT_CIVIL", "missed", d(2026, 11, 16), None, 0, as_of=as_of,
                   commitment="phone_pickup_rate", channel="phone"),
        # deadline 76 days before the night: older than max_age_days (35)
        evaluation("MEL-0005", "ETAT_CIVIL", "overdue", d(2026, 8, 25), d(2026, 9, 1), 55, as_of=as_of),
        evaluation("MEL-0100", "ENFANCE", "overdue", d(2026, 11, 5), d(2026, 11, 12), 7, as_of=as_of),
        *(extra_evaluations or []),
    ]
    week = dt.timedelta(days=7)
    indicators = [
        # 12 final weeks of email compliance for ETAT_CIVIL; the last (9-15 Nov) is breached
        *[indicator("email_response_5bd", "ETAT_CIVIL", "week", d(2026, 8, 24) + i * week,
                    d(2026, 8, 31) + i * week, n, 10, 0.9, 3, as_of=as_of)
          for i, n in enumerate([10, 9, 10, 9, 10, 9, 10, 9, 9, 9, 10])],
        indicator("email_response_5bd", "ETAT_CIVIL", "week", d(2026, 11, 9), d(2026, 11, 16), 8, 13, 0.9, 3, as_of=as_of),
        # the running week is breached so far but not final: no alert
        indicator("email_response_5bd", "ETAT_CIVIL", "week", d(2026, 11, 16), d(2026, 11, 23), 0, 4, 0.9, 3,
                  final=False, as_of=as_of),
        indicator("phone_pickup_rate", "ETAT_CIVIL", "day", d(2026, 11, 16), d(2026, 11, 17), 30, 40, 0.85, 20,
                  channel="phone", target=(None, None), as_of=as_of),
        # a September breach: its last day is 46 days before the night, older than 35 days
        indicator("email_response_5bd", "ETAT_CIVIL", "month", d(2026, 9, 1), d(2026, 10, 1), 5, 10, 0.9, 3, as_of=as_of),
        # URBANISME below threshold but under min_volume: not breached
        indicator("email_response_5bd", "URBANISME", "week", d(2026, 11, 9), d(2026, 11, 16), 1, 2, 0.9, 3, as_of=as_of),
    ]
    requests = [
        {"request_id": e["request_id"], "request_ref": e["request_ref"], "source_system": "maildir",
         "channel": e["channel"], "service_code": e["service_code"], "received_at": e["received_at"],
         "requester_key": REQUESTER, "is_excluded": False}
        for e in evaluations
    ]
    return {"requests": requests, "commitment_evaluations": evaluations, "service_indicators": indicators}


def make_config(tmp, **overrides):
    """h5_builders.make_config paging breaches at every grain (day, week, month): these tests
    predate issue 11's default (week and month) and keep the daily phone breach in view; the
    default itself is pinned by test_quality_and_suppression.py::test_default_grains_week_and_month."""
    alerts = {"language": "fr", "from_address": "vigie@test.fr", "max_age_days": 35,
              "breach_grains": ["day", "week", "month"], **overrides.pop("alerts", {})}
    return _h5_config(tmp, alerts=alerts, **overrides)


def build(cfg, day: dt.date = DAY, extra_evaluations: list[dict] | None = None) -> None:
    """The night's marts, then the real alert rules over them (alerts_rules.build_candidates)."""
    create_warehouse(cfg, night_marts(day, extra_evaluations))
    build_candidates(cfg, day)
