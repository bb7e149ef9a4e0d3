"""Read one night's messages of IMAP mailboxes (headers only, never marking anything seen).

Each configured mailbox is an IMAP account (connection id -> host, port, login, password via
``vigie.secrets.get_connection``); its INBOX and sent folder are opened with EXAMINE (read-only)
and fetched with ``BODY.PEEK[HEADER.FIELDS (...)]``: only the headers Vigie uses cross the
wire, and neither command can set ``\\Seen``. Folder names are configured as the user sees them
(``Éléments envoyés``) and sent in modified UTF-7 (RFC 3501 §5.1.3).

Receipt time = the server's INTERNALDATE (when the message was delivered or appended), never
the sender's ``Date`` header (landed apart as ``date_header_at``).

Which messages a night's batch holds (DECISIONLOG.md, "IMAP"):
1. every message whose INTERNALDATE is in [D 00:00, D+1 00:00) local (found by a server-side
   date search, then filtered exactly), and
2. every message with a UID above the last UID seen by the previous run of this folder
   (``floor``) whose INTERNALDATE is *before* D: a late arrival for an old night (a message
   copied or appended into the folder after that night ran). It lands in batch D with its true
   ``received_at``; staging de-duplicates copies on (message_key, mailbox, folder_role).
The read state (UIDVALIDITY, last UID, and per night the UID range used) is kept in
``<landing>/<source_id>/_imap_state.json`` and advanced only after the batch has landed
(:func:`after_landing`): a run cut in the middle lands nothing and advances nothing, so the retry
reads the same messages. A rerun of night D reuses D's recorded range, so it lands the same
batch. A changed UIDVALIDITY invalidates the UIDs: the folder is re-read from UID 1 (its whole
history before D lands again in batch D, de-duplicated downstream).
"""

from __future__ import annotations

import datetime as dt
import imaplib
import json
import os
import re
import socket
import ssl
from pathlib import Path
from typing import Any

from imap_tools.imap_utf7 import utf7_encode

from connectors.email.collect import MessageCollector
from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult
from connectors.landing_layout import IMAP_STATE_FILE, landing_root, source_state_path
from connectors.pseudonymise import Pseudonymiser
from vigie.config import ImapMailbox, ImapSource, VigieConfig
from vigie.intervals import NightInterval
from vigie.secrets import ConnectionInfo, get_connection

# Headers the parser uses; nothing else (no body, no Received chain) is fetched.
HEADER_FIELDS = (
    "FROM TO CC DATE SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES AUTO-SUBMITTED X-AUTOREPLY "
    "X-AUTORESPOND PRECEDENCE LIST-ID LIST-UNSUBSCRIBE RETURN-PATH CONTENT-TYPE X-SPAM-FLAG "
    "X-SPAM-STATUS X-SPAM"
)
FETCH_ITEMS = f"(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})])"
NIGHTS_KEPT = 400  # per-night UID ranges kept in the state file (reruns of older nights re-read)

_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_MONTHS = {m: i for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)}
_IMAP_ERRORS = (imaplib.IMAP4.error, OSError, socket.timeout, EOFError)


class ImapUnavailable(SourceUnavailable):
    """The server cannot be reached, refuses the login, lacks a folder or drops the session."""


def parse_internaldate(value: bytes | str) -> dt.datetime:
    """``'16-Nov-2026 09:00:00 +0100'`` (day may be space-padded) -> aware UTC datetime."""
    text = value.decode("ascii") if isinstance(value, bytes) else value
    date_part, time_part, zone = text.strip().split()
    day, month, year = date_part.split("-")
    hh, mm, ss = (int(x) for x in time_part.split(":"))
    sign = -1 if zone[0] == "-" else 1
    offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign
    local = dt.datetime(int(year), _MONTHS[month.title()], int(day), hh, mm, ss,
                        tzinfo=dt.timezone(offset))
    return local.astimezone(dt.UTC)


def encode_folder(name: str) -> str:
    """Folder name as an IMAP quoted string in modified UTF-7 (``Éléments envoyés`` ->
    ``"&AMk-l&AOk-ments envoy&AOk-s"``)."""
    enc = utf7_encode(name).decode("ascii")
    return '"' + enc.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_date(day: dt.date) -> str:
    return f"{day.day}-{list(_MONTHS)[day.month - 1]}-{day.year}"


def state_path(cfg: VigieConfig, source: ImapSource) -> Path:
    return source_state_path(landing_root(cfg), source.id, IMAP_STATE_FILE)


def load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"version": 1, "folders": {}}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ImapUnavailable(
            f"IMAP state file {path} is unreadable ({exc}); delete it to re-read every folder "
            "from UID 1 (copies are de-duplicated downstream)"
        ) from exc
    state.setdefault("folders", {})
    return state


def connect(info: ConnectionInfo, timeout: float) -> imaplib.IMAP4:
    """Open and log in. ``extra.security``: ``ssl`` (default on port 993), ``starttls``
    (default otherwise) or ``none`` (loopback test servers only)."""
    host = info.host or "localhost"
    port = info.port or 993
    security = str(info.extra.get("security") or ("ssl" if port == 993 else "starttls")).lower()
    if security == "ssl":
        conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            host, port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    else:
        conn = imaplib.IMAP4(host, port, timeout=timeout)
        if security == "starttls":
            conn.starttls(ssl.create_default_context())
        elif security != "none":
            raise ImapUnavailable(
                f"connection {info.conn_id!r}: extra.security must be ssl, starttls or none, "
                f"got {security!r}"
            )
    conn.login(info.login or "", info.password or "")
    return conn


def _uids(conn: imaplib.IMAP4, *criteria: str) -> set[int]:
    status, data = conn.uid("SEARCH", *criteria)
    if status != "OK":
        raise imaplib.IMAP4.error(f"UID SEARCH {' '.join(criteria)} answered {status}")
    return {int(x) for x in b" ".join(d for d in data if d).split()}


def _fetch(conn: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, dt.datetime, bytes]]:
    status, data = conn.uid("FETCH", ",".join(str(u) for u in uids), FETCH_ITEMS)
    if status != "OK":
        raise imaplib.IMAP4.error(f"UID FETCH answered {status}")
    out = []
    for item in data:
        if not isinstance(item, tuple):
            continue  # closing ')' and unsolicited FETCH FLAGS lines
        envelope, header = item
        uid_m, date_m = _UID.search(envelope), _INTERNALDATE.search(envelope)
        if uid_m is None or date_m is None:
            continue
        out.append((int(uid_m.group(1)), parse_internaldate(date_m.group(1)), header))
    return out


def _examine(conn: imaplib.IMAP4, source: ImapSource, mb: ImapMailbox, role: str,
             folder: str) -> tuple[int, int]:
    """EXAMINE (read-only SELECT) a folder; (UIDVALIDITY, last UID = UIDNEXT - 1)."""
    status, data = conn.select(encode_folder(folder), readonly=True)
    if status != "OK":
        detail = data[0].decode(errors="replace") if data and data[0] else status
        raise ImapUnavailable(
            f"imap source {source.id!r}, mailbox {mb.name!r}: {role} folder {folder!r} cannot be "
            f"opened ({detail}); set sources[{source.id}].mailboxes[{mb.name}].{role} to the "
            "folder's name as the mail client shows it"
            + ("; the service's replies are read from it" if role == "sent" else "")
        )
    validity = int(conn.response("UIDVALIDITY")[1][0])
    uidnext_resp = conn.response("UIDNEXT")[1]
    if uidnext_resp and uidnext_resp[0]:
        last = int(uidnext_resp[0]) - 1
    else:  # a server that does not announce UIDNEXT: ask for the highest UID
        found = _uids(conn, "ALL")
        last = max(found) if found else 0
    return validity, last


def read_interval(
    cfg: VigieConfig, source: ImapSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    """Messages of the night (plus late arrivals for earlier nights), one row each."""
    state = load_state(state_path(cfg, source))
    day_key = night.day.isoformat()
    collector = MessageCollector(
        pseudo=pseudo,
        source_id=source.id,
        internal_domains=cfg.collectivite.internal_email_domains,
        own_addresses=[m.address for m in source.mailboxes if m.address],
    )
    start, end = night.start_utc, night.end_utc
    since = _imap_date(start.date() - dt.timedelta(days=1))
    before = _imap_date(end.date() + dt.timedelta(days=2))
    folders_meta: dict[str, dict[str, Any]] = {}
    late = fetched = 0
    for mb in source.mailboxes:
        conn_id = mb.connection_id or source.connection_id
        info = get_connection(conn_id)
        where = f"imap source {source.id!r}, mailbox {mb.name!r} ({info.host}:{info.port})"
        try:
            conn = connect(info, source.timeout_seconds)
        except ImapUnavailable:
            raise
        except _IMAP_ERRORS as exc:
            raise ImapUnavailable(
                f"{where}: cannot connect or log in as connection {conn_id!r} ({exc}); check "
                "the connection's host, port, login, password and extra.security"
            ) from exc
        try:
            for role, folder in (("inbox", mb.inbox), ("sent", mb.sent)):
                key = f"{mb.name}/{role}"
                step = "EXAMINE"
                done = 0
                try:
                    validity, last = _examine(conn, source, mb, role, folder)
                    prev = state["folders"].get(key, {})
                    recorded = prev.get("nights", {}).get(day_key)
                    if recorded and recorded["uidvalidity"] == validity:
                        floor, ceiling, reason = recorded["floor"], recorded["ceiling"], "rerun"
                    elif prev.get("uidvalidity") == validity:
                        floor, ceiling, reason = prev.get("last_uid", 0), last, "incremental"
                    else:
                        floor, ceiling = 0, last
                        reason = "uidvalidity-changed" if prev else "first-read"
                    step = "UID SEARCH"
                    in_night = _uids(conn, "SINCE", since, "BEFORE", before)
                    later = (
                        _uids(conn, f"UID {floor + 1}:{ceiling}") if ceiling > floor else set()
                    )
                    later = {u for u in later if floor < u <= ceiling}
                    wanted = sorted(in_night | later)
                    step = "UID FETCH"
                    for i in range(0, len(wanted), source.fetch_batch):
                        for uid, received_at, header in _fetch(
                            conn, wanted[i : i + source.fetch_batch]
                        ):
                            done += 1
                            if received_at >= end:
                                continue  # a later night's message
                            if received_at < start:
                                if uid not in later:
                                    continue
                                late += 1
                            collector.add(
                                header,
                                mailbox=mb.name,
                                service_code=mb.service,
                                folder_role=role,
                                source_file=f"{mb.name}/{folder}",
                                source_position=f"uid {validity}:{uid}",
                                received_at=received_at,
                            )
                    fetched += done
                except ImapUnavailable:
                    raise
                except _IMAP_ERRORS as exc:
                    raise ImapUnavailable(
                        f"{where}: {role} folder {folder!r}: connection lost during {step} "
                        f"after {done} message(s) ({type(exc).__name__}: {exc}); nothing was "
                        "landed and the read state was not advanced: rerun the task"
                    ) from exc
                folders_meta[key] = {
                    "uidvalidity": validity,
                    "floor": floor,
                    "ceiling": ceiling,
                    "read": reason,
                }
        finally:
            try:
                conn.logout()
            except _IMAP_ERRORS:
                pass
    meta = {
        "interval_start_utc": start.isoformat(),
        "interval_end_utc": end.isoformat(),
        "messages_fetched": fetched,
        "late_arrivals": late,
        "imap_folders": folders_meta,
    }
    return collector.result(meta)


def after_landing(cfg: VigieConfig, source: ImapSource, day: dt.date,
                  result: ExtractResult) -> None:
    """Advance the read state once the batch is on disk (called by ``extract_source``)."""
    path = state_path(cfg, source)
    state = load_state(path)
    day_key = day.isoformat()
    for key, f in result.meta.get("imap_folders", {}).items():
        prev = state["folders"].get(key, {})
        same = prev.get("uidvalidity") == f["uidvalidity"]
        nights = dict(prev.get("nights", {})) if same else {}
        nights[day_key] = {k: f[k] for k in ("uidvalidity", "floor", "ceiling")}
        nights = dict(sorted(nights.items())[-NIGHTS_KEPT:])
        state["folders"][key] = {
            "uidvalidity": f["uidvalidity"],
            "last_uid": max(f["ceiling"], prev.get("last_uid", 0) if same else 0),
            "nights": nights,
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, path)
