"""A citizen's reply to a GLPI notification continues its ticket (issue 13, item 6).

The demo configuration has an email source (mairie_mail) and GLPI (glpi). Ticket 101 is opened
on Monday 23 Nov 2026 at 09:00 UTC (request type 2 E-Mail, group 1 = ETAT_CIVIL); GLPI
notifies the citizen ("[GLPI #0000101] Nouveau ticket"); the citizen answers at 10:30 to the
service's mailbox, which Vigie reads. Before, that answer opened a second request (an email
request of ETAT_CIVIL, overdue five jours ouvrés later); now it is excluded as
``glpi_ticket_reply`` and the ticket is the one request. A reply naming it only through its
headers (a GLPI Message-ID in In-Reply-To) continues the ticket just the same; an ordinary
message the same day stays an email request.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

from connectors.email.headers import parse_headers
from connectors.email.message_row import landing_row
from connectors.pseudonymise import Pseudonymiser

DAY = dt.date(2026, 11, 23)
PSEUDO = Pseudonymiser(b"test-key-glpi-replies-0123456789")


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _landed(raw: str, position: str, received: str) -> dict:
    row = landing_row(
        parse_headers(raw.replace("\n", "\r\n").encode()),
        PSEUDO,
        source_id="mairie_mail",
        mailbox="etat-civil",
        service_code="ETAT_CIVIL",
        folder_role="inbox",
        source_position=position,
        received_at=ts(received),
        internal_domains=["val-de-vigie.fr"],
        own_addresses=["etat-civil@val-de-vigie.fr"],
    )
    row.pop("source_id")
    return row


SUBJECT_REPLY = """From: Jeanne Dupont <jeanne.dupont@exemple.fr>
To: etat-civil@val-de-vigie.fr
Subject: RE: [GLPI #0000101] Nouveau ticket
Date: Mon, 23 Nov 2026 11:29:50 +0100
Message-ID: <rep-101@exemple.fr>

Merci, voici la pièce demandée.
"""
HEADER_REPLY = """From: Jeanne Dupont <jeanne.dupont@exemple.fr>
To: etat-civil@val-de-vigie.fr
Subject: Re: votre demande
Date: Mon, 23 Nov 2026 12:00:00 +0100
Message-ID: <rep-101-b@exemple.fr>
In-Reply-To: <GLPI_5f2a9c1e0b7d4-Ticket-101.1795424400.1234567@glpi.val-de-vigie.fr>

Et le livret de famille.
"""
ORDINARY = """From: Paul Durand <paul.durand@exemple.org>
To: etat-civil@val-de-vigie.fr
Subject: Acte de mariage
Date: Mon, 23 Nov 2026 14:00:00 +0100
Message-ID: <mar-1@exemple.org>

Bonjour.
"""


def test_a_reply_to_a_glpi_notification_opens_no_second_request(
    dbt_sandbox, night_vars_for, statuses_of
) -> None:
    box = dbt_sandbox
    box.prepare(DAY)
    replies = [
        _landed(SUBJECT_REPLY, "uid 1:1", "2026-11-23 10:30:00"),
        _landed(HEADER_REPLY, "uid 1:2", "2026-11-23 11:00:00"),
        _landed(ORDINARY, "uid 1:3", "2026-11-23 13:00:00"),
    ]
    assert [r["glpi_ticket_id"] for r in replies] == [101, 101, None]
    box.land("mairie_mail", DAY, "email_messages", replies)
    box.land("glpi", DAY, "glpi_tickets", [{
        "id": 101, "entities_id": 0, "date": ts("2026-11-23 09:00:00"),
        "date_creation": ts("2026-11-23 09:00:00"), "date_mod": ts("2026-11-23 09:00:00"),
        "status": 2, "requesttypes_id": 2, "type": 2, "is_deleted": 0,
    }])  # fmt: skip
    box.land("glpi", DAY, "glpi_groups_tickets", [{"id": 1, "tickets_id": 101, "groups_id": 1, "type": 2}])
    built = box.dbt(["run", "--select", "+int_requests_unioned"], night_vars_for(DAY))
    assert built.success, statuses_of(built)
    assert box.query(
        "select source_system, service_code, received_at, is_excluded, exclusion_reason "
        "from intermediate.int_requests_unioned order by received_at"
    ) == [
        ("glpi", "ETAT_CIVIL", ts("2026-11-23 09:00:00"), False, None),
        ("maildir", "ETAT_CIVIL", ts("2026-11-23 10:30:00"), True, "glpi_ticket_reply"),
        ("maildir", "ETAT_CIVIL", ts("2026-11-23 11:00:00"), True, "glpi_ticket_reply"),
        ("maildir", "ETAT_CIVIL", ts("2026-11-23 13:00:00"), False, None),
    ]
