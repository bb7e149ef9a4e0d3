"""``vigie check-config --connections``: does each server a configuration names answer?

Tried only on request (a laptop checking a site's file has no route to the site's servers):
each SQL source connects, answers ``select 1`` and has the table its connector reads (the
connector's own reflection, so the check and a night fail alike); each IMAP account logs in and
opens every configured folder read-only (EXAMINE: nothing is marked read); the Wazo API answers
one page of one CDR; the SMTP server greets, upgrades to TLS when configured and accepts the
login. Nothing is written, no message is sent, no webhook is posted (a test post would reach
people). A refused connection is said as such, with the server it tried.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from vigie.config import (
    AsteriskCdrSqlSource,
    AsteriskQueueLogSqlSource,
    GlpiSqlSource,
    ImapSource,
    VigieConfig,
    WazoCdrSource,
)
from vigie.config_checks import Check, ok, problem


def _reason(exc: BaseException) -> str:
    """One line: "connection refused" said plainly, else the exception's type and first line."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "connection refused" in str(seen).lower():
            return "connection refused (is the server running and listening on this address?)"
        seen = seen.__cause__ or seen.__context__
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _endpoint(conn_id: str) -> str:
    from vigie.secrets import get_connection

    info = get_connection(conn_id)
    return f"{info.conn_type or '?'} {info.host or 'localhost'}:{info.port or 'default port'}"


def _check_sql(where: str, conn_id: str, make: Callable[[], Any], then: Callable[[Any], Any]) -> Check:
    """Connect, ``select 1``, then the connector's own table check; the engine is disposed."""
    from sqlalchemy import text

    from vigie.secrets import SecretNotFound

    try:
        target = _endpoint(conn_id)
        engine = make()
    except SecretNotFound as exc:
        return problem(where, str(exc))
    except Exception as exc:  # a wrong connection type, said as the connector says it
        return problem(where, str(exc))
    try:
        with engine.connect() as c:
            c.execute(text("select 1"))
        then(engine)
    except Exception as exc:  # every failure becomes one line naming the server
        return problem(where, f"connection {conn_id!r} ({target}): {_reason(exc)}")
    finally:
        engine.dispose()
    return ok(where, f"connection {conn_id!r} ({target}) answers")


def _check_imap(s: ImapSource) -> Iterator[Check]:
    from connectors.email.imap import connect, encode_folder
    from vigie.secrets import SecretNotFound, get_connection

    by_conn: dict[str, list[tuple[str, str]]] = {}
    for mb in s.mailboxes:
        conn_id = mb.connection_id or s.connection_id
        by_conn.setdefault(conn_id, []).extend(
            [(f"sources[{s.id}].mailboxes[{mb.name}].inbox", mb.inbox),
             (f"sources[{s.id}].mailboxes[{mb.name}].sent", mb.sent)]
        )
    for conn_id, folders in by_conn.items():
        where = f"sources[{s.id}].connection_id"
        try:
            info = get_connection(conn_id)
        except SecretNotFound as exc:
            yield problem(where, str(exc))
            continue
        target = f"imap {info.host or 'localhost'}:{info.port or 993}"
        try:
            conn = connect(info, s.timeout_seconds)
        except Exception as exc:  # refused, TLS, login: one line each
            yield problem(where, f"connection {conn_id!r} ({target}): {_reason(exc)}")
            continue
        try:
            yield ok(where, f"connection {conn_id!r} ({target}): logged in as {info.login!r}")
            for fwhere, folder in folders:
                status, data = conn.select(encode_folder(folder), readonly=True)
                if status == "OK":
                    yield ok(fwhere, f"folder {folder!r} opens ({int(data[0] or 0)} messages)")
                else:
                    detail = data[0].decode(errors="replace") if data and data[0] else status
                    yield problem(
                        fwhere, f"folder {folder!r} cannot be opened on {target} ({detail}): set "
                        "it to the folder's name as the mail client shows it"
                    )
        finally:
            try:
                conn.logout()
            except Exception:  # the check is already decided
                pass


def _check_wazo(s: WazoCdrSource) -> Check:
    """One page of one CDR from call-logd, with the source's token, TLS and timeout."""
    import json
    import urllib.error
    import urllib.request

    from connectors.telephony.wazo_cdr import base_url

    where = f"sources[{s.id}].connection_id"
    try:
        url, token = base_url(s)
        context = None if s.verify_tls else ssl._create_unverified_context()
        request = urllib.request.Request(
            f"{url}?limit=1", headers={"X-Auth-Token": token, "Accept": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=s.timeout_seconds, context=context) as resp:
            json.load(resp)
    except urllib.error.HTTPError as exc:
        hint = " (token expired or lacking call-logd.cdr.read?)" if exc.code in (401, 403) else ""
        return problem(where, f"connection {s.connection_id!r}: {url} answered HTTP {exc.code}{hint}")
    except Exception as exc:  # refused, TLS, not JSON: one line
        return problem(where, f"connection {s.connection_id!r}: {_reason(exc)}")
    return ok(where, f"connection {s.connection_id!r}: {url} answers")


def _check_smtp(conn_id: str) -> Check:
    from connectors.outbound.smtp import settings_for

    where = "outputs.smtp_connection_id"
    try:
        st = settings_for(conn_id)
    except Exception as exc:  # not defined, no host
        return problem(where, str(exc))
    target = f"smtp {st.host}:{st.port}"
    try:
        context = ssl.create_default_context(cafile=st.ca_file)
        client: smtplib.SMTP = (
            smtplib.SMTP_SSL(st.host, st.port, timeout=st.timeout, context=context)
            if st.use_ssl else smtplib.SMTP(st.host, st.port, timeout=st.timeout)
        )
        with client:
            client.ehlo()
            if st.starttls:
                client.starttls(context=context)
                client.ehlo()
            if st.login:
                client.login(st.login, st.password or "")
    except Exception as exc:  # refused, TLS, authentication: one line
        return problem(where, f"connection {conn_id!r} ({target}): {_reason(exc)}")
    return ok(where, f"connection {conn_id!r} ({target}) greets" + (" and accepts the login" if st.login else ""))


def connection_targets(cfg: VigieConfig) -> list[str]:
    """Configuration keys that name a connection ``--connections`` would try."""
    keys = [
        f"sources[{s.id}].connection_id"
        for s in cfg.sources
        if s.enabled and getattr(s, "connection_id", None)
    ]
    if cfg.outputs.smtp_connection_id:
        keys.append("outputs.smtp_connection_id")
    return keys


def check_connections(cfg: VigieConfig) -> list[Check]:
    """Try every source connection and the SMTP server (nothing written, nothing sent)."""
    from connectors.sql_engine import engine_for, reflect_table
    from connectors.ticketing.glpi import make_engine, reflect_tables

    os.environ.setdefault("PGCONNECT_TIMEOUT", "10")  # libpq: a silent host fails in 10 s
    out: list[Check] = []
    for s in cfg.sources:
        if not s.enabled:
            continue
        where = f"sources[{s.id}].connection_id"
        if isinstance(s, AsteriskQueueLogSqlSource | AsteriskCdrSqlSource):
            out.append(_check_sql(
                where, s.connection_id, partial(engine_for, s.id, s.connection_id),
                partial(reflect_table, source_id=s.id, table_name=s.table, connection_id=s.connection_id),
            ))
        elif isinstance(s, GlpiSqlSource) and s.connection_id is not None:
            out.append(_check_sql(
                where, s.connection_id, partial(make_engine, cfg, s), partial(reflect_tables, source_id=s.id)
            ))
        elif isinstance(s, ImapSource):
            out.extend(_check_imap(s))
        elif isinstance(s, WazoCdrSource):
            out.append(_check_wazo(s))
    if cfg.outputs.smtp_connection_id:
        out.append(_check_smtp(cfg.outputs.smtp_connection_id))
    return out
