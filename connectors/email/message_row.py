"""Turn parsed headers into one ``email_messages`` landing row, pseudonymised.

Shared by every email reader (Maildir now, IMAP and mbox later) so that the same message gives
the same keys whatever the source. Identities leave this module only as keyed digests:

- message ids (own, In-Reply-To, References) through ``pseudo.key('message_id', id)``: the same
  clear id gives the same key in the citizen's message and in the service's reply, so threading
  still joins in the warehouse;
- addresses through ``pseudo.email`` (lower-cased addr-spec), so a citizen's messages link;
- the normalised subject through ``pseudo.key('subject', ...)``, for the subject-based threading
  fallback (equal normalised subjects give equal keys, nothing else is learnt).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from connectors.email.headers import MessageHeaders
from connectors.landing_schemas import EMAIL_MESSAGES
from connectors.pseudonymise import Pseudonymiser

FOLDER_ROLES = ("inbox", "sent")


def is_internal(address: str, internal_domains: Iterable[str], own_addresses: Iterable[str]) -> bool:
    """Sender of the collectivité itself: a configured domain (or a subdomain of it), or the
    address of one of the source's mailboxes."""
    address = address.lower()
    if address in {a.lower() for a in own_addresses}:
        return True
    domain = address.rsplit("@", 1)[-1]
    for d in internal_domains:
        d = d.lower().lstrip("@").strip(".")
        if d and (domain == d or domain.endswith("." + d)):
            return True
    return False


def landing_row(
    headers: MessageHeaders,
    pseudo: Pseudonymiser,
    *,
    source_id: str,
    mailbox: str,
    service_code: str,
    folder_role: str,
    source_position: str,
    received_at: dt.datetime,
    internal_domains: Iterable[str],
    own_addresses: Iterable[str],
) -> dict[str, Any]:
    """One row of the ``email_messages`` table (connectors/landing_schemas.py)."""
    if folder_role not in FOLDER_ROLES:
        raise ValueError(f"folder_role must be one of {FOLDER_ROLES}, got {folder_role!r}")
    if received_at.tzinfo is None:
        raise ValueError("received_at must be an aware datetime")
    return {
        "source_id": source_id,
        "mailbox": mailbox,
        "service_code": service_code,
        "folder_role": folder_role,
        "source_position": source_position,
        "message_key": pseudo.key("message_id", headers.message_id),
        "in_reply_to_key": pseudo.key("message_id", headers.in_reply_to),
        "references_keys": [pseudo.key("message_id", r) for r in headers.references],
        "from_key": pseudo.email(headers.from_address),
        "to_keys": [pseudo.email(a) for a in headers.to_addresses],
        "from_is_internal": is_internal(headers.from_address, internal_domains, own_addresses),
        "received_at": received_at.astimezone(dt.UTC),
        "date_header_at": headers.date_header_at,
        "subject_key": pseudo.key("subject", headers.subject),
        "is_auto_submitted": headers.is_auto_submitted,
        "auto_reason": headers.auto_reason,
        "glpi_ticket_id": headers.glpi_ticket_id,
    }


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows to an Arrow table with exactly the landing schema."""
    return pa.Table.from_pylist(rows, schema=EMAIL_MESSAGES)
