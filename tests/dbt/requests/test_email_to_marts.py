"""Email rows as the IMAP connector lands them, through staging, requests and the engine to the
marts: a message landed twice under two positions (an IMAP folder re-read after its UIDVALIDITY
changed) is one request; the service's automatic acknowledgement meets the acknowledgement
commitment without stopping the first-response clock; a reply sent from another service's
mailbox answers the request (issue 5 points 2, 5, 6)."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

D23, D24 = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
SOURCE = "mairie_mail"  # the demo configuration's email source (mailboxes etat-civil, urbanisme)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def row(**over: object) -> dict:
    return {"references_keys": [], "to_keys": [], "is_auto_submitted": False,
            "from_is_internal": False, **over}


CITIZEN = dict(mailbox="etat-civil", service_code="ETAT_CIVIL", folder_role="inbox",
               message_key="k-citizen", from_key="f-citizen", to_keys=["f-ec"],
               received_at=ts("2026-11-23 09:00:00"), subject_key="s1",
               date_header_at=ts("2026-11-23 08:58:00"))
ACK = dict(mailbox="etat-civil", service_code="ETAT_CIVIL", folder_role="sent",
           source_position="uid 7:1", message_key="k-ack", in_reply_to_key="k-citizen",
           from_key="f-ec", to_keys=["f-citizen"], from_is_internal=True,
           received_at=ts("2026-11-23 09:00:05"), is_auto_submitted=True,
           auto_reason="auto-submitted")
REPLY = dict(mailbox="urbanisme", service_code="URBANISME", folder_role="sent",
             source_position="uid 9:1", message_key="k-reply", in_reply_to_key="k-citizen",
             references_keys=["k-citizen"], from_key="f-ur", to_keys=["f-citizen"],
             from_is_internal=True, received_at=ts("2026-11-24 14:00:00"))


def test_imap_rows_to_marts(dbt_sandbox, night_vars_for, statuses_of) -> None:
    box = dbt_sandbox
    box.prepare(D24)
    box.land(SOURCE, D23, "email_messages", [row(**CITIZEN, source_position="uid 1:1"), row(**ACK)])
    # night 24: the INBOX was re-read after a UIDVALIDITY change: the citizen's message lands
    # again under a new position, plus the reply sent from the urbanisme mailbox
    box.land(SOURCE, D24, "email_messages", [row(**CITIZEN, source_position="uid 2:1"),
                                             row(**REPLY)])
    built = box.dbt(["run", "--select", "+commitment_evaluations +email_indicators"],
                    night_vars_for(D24))
    assert built.success, statuses_of(built)
    assert box.query(
        "select folder_role, source_position, landed_day, receipt_skew_seconds "
        "from staging.stg_email__messages where message_key = 'k-citizen'"
    ) == [("inbox", "uid 2:1", D24, 120.0)]
    assert box.query(
        "select service_code, received_at, acknowledged_at, first_response_at, is_excluded "
        "from intermediate.int_email_requests_identified"
    ) == [("ETAT_CIVIL", ts("2026-11-23 09:00:00"), ts("2026-11-23 09:00:05"),
           ts("2026-11-24 14:00:00"), False)]
    assert box.query(
        "select commitment_id, responded_at, elapsed_value, status from marts.commitment_evaluations"
        " where channel = 'email' order by commitment_id"
    ) == [
        ("email_acknowledgement_1bd", ts("2026-11-23 09:00:05"), 0.0, "met"),
        ("marianne_email_response", ts("2026-11-24 14:00:00"), 1.0, "met"),
    ]
    assert box.query(
        "select indicator, commitment_id, numerator, denominator, value from marts.email_indicators"
        " where period_grain = 'day' order by indicator, commitment_id"
    ) == [
        ("acknowledgement_within_commitment", "email_acknowledgement_1bd", 1, 1, 1.0),
        ("date_header_skewed_share", None, 0, 1, 0.0),
        ("first_response_business_days_mean", None, 1, None, 1.0),
        ("first_response_business_days_median", None, 1, None, 1.0),
        ("first_response_business_days_p90", None, 1, None, 1.0),
        ("receipt_skew_hours_median", None, 1, None, 120 / 3600),
        ("reminders_per_request", None, 0, 1, 0.0),
        ("requests_excluded", None, 0, 1, 0.0),
        ("requests_received", None, 1, None, 1.0),
    ]
