"""``alerts.alert_log``: every alert row ever delivered, keyed by its alert key.

Owned by Vigie's Python code, not dbt (dbt never touches the ``alerts`` schema), so it
survives every nightly rebuild of the marts. A key present here is never sent again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from vigie.alerts.collect import Alert

DDL = """
create schema if not exists alerts;
create table if not exists alerts.alert_log (
    alert_key varchar primary key,
    kind varchar not null,            -- breach | missed | overdue
    commitment_id varchar not null,
    service_code varchar not null,
    period varchar not null,          -- 'week:2026-11-09' or the deadline date
    request_ref varchar,              -- short pseudonymous reference, null for a breach
    night_day date not null,          -- the night whose run delivered it
    digest_id varchar not null,
    recipients varchar not null,      -- 'To: a@x; Cc: b@x'
    delivery varchar not null,        -- smtp | outbox
    sent_at timestamptz not null
);
"""


def ensure_alert_log(con: Any) -> None:
    con.execute(DDL)


def already_sent(con: Any, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    if not keys:
        return set()
    found = con.execute(
        "select alert_key from alerts.alert_log where alert_key in (select unnest(?::varchar[]))",
        [keys],
    ).fetchall()
    return {r[0] for r in found}


def record_digest(
    con: Any,
    alerts: list[Alert],
    *,
    night_day: dt.date,
    digest_id: str,
    recipients: str,
    delivery: str,
    sent_at: dt.datetime,
) -> None:
    """Insert the digest's keys in one transaction: all of a digest is logged, or none."""
    rows = [
        (a.key, a.kind, a.commitment_id, a.service_code, a.period, a.request_ref, night_day,
         digest_id, recipients, delivery, sent_at)
        for a in alerts
    ]
    con.execute("begin transaction")
    try:
        con.executemany(
            "insert into alerts.alert_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
            rows,
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
