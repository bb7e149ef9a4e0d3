"""Read one night's messages of a Maildir source (headers only) into ``email_messages``.

Layouts (``source.layout``): each configured mailbox is a directory
``<source.path>/<mailbox.path>/``. Maildir++ (default, as Dovecot and Courier write it): the
folder INBOX is that directory itself (``cur/``, ``new/``, ``tmp/``), any other folder F is
``.F/`` inside it (``Sent`` -> ``.Sent/cur/...``). fs (mbsync/isync, offlineimap, Dovecot
``LAYOUT=fs``): every folder is a sibling Maildir named as the folder (``INBOX/cur/...``,
``Sent/cur/...``). Both INBOX and Sent are read: the service's replies are only visible in Sent.

Receipt time: the delivery time that the delivering agent wrote as the leading epoch of the
file name (``1700000000.M123P45Q6.host,S=1234:2,S``), which survives moves between ``new/``
and ``cur/`` and flag changes (the name's ``:2,`` suffix); the file's mtime only when the name
has no epoch. The ``Date`` header is the sender's clock: landed as ``date_header_at``, never used
to place a message in a night.

A night's batch holds the messages whose receipt time is in [D 00:00, D+1 00:00) local. Only
the header block of those files is read (up to the first blank line), never the body.
A file that is not an email goes to the rejects with its reason, and the batch goes on; a
missing mailbox or folder directory stops the run with the path to fix.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

from connectors.email.headers import (
    BLANK_LINE,
    MAX_HEADER_BYTES,
    HeaderParseError,
    MessageHeaders,
    count_rules,
    header_block,
    parse_headers,
)
from connectors.email.message_row import landing_row, rows_to_table
from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult, Reject
from connectors.pseudonymise import Pseudonymiser
from vigie.config import Mailbox, MaildirSource, VigieConfig
from vigie.intervals import NightInterval

TABLE = "email_messages"
_EPOCH = re.compile(r"^(\d{9,10})(?:\.|$)")
_CHUNK = 64 * 1024


class MaildirLayoutError(SourceUnavailable):
    """The Maildir tree is not where or what the configuration says; the message says what to fix."""


def folder_dir(mailbox_dir: Path, folder: str, layout: str = "maildir++") -> Path:
    """Directory of a folder. Maildir++: INBOX is the mailbox root, F is ``.F``. fs: every
    folder, INBOX included, is the sibling Maildir ``<mailbox>/<folder>`` (``/`` nests)."""
    if layout == "fs":
        return mailbox_dir.joinpath(*[p for p in folder.split("/") if p])
    if folder.upper() == "INBOX":
        return mailbox_dir
    if folder.upper().startswith("INBOX."):
        folder = folder[len("INBOX.") :]
    return mailbox_dir / f".{folder}"


def delivery_time(path: Path) -> tuple[dt.datetime, bool]:
    """(receipt instant in UTC, True when it came from the mtime fallback; the entry's own
    mtime, not its target's: a dangling link is still placed in one night)."""
    m = _EPOCH.match(path.name)
    if m:
        return dt.datetime.fromtimestamp(int(m.group(1)), dt.UTC), False
    return dt.datetime.fromtimestamp(path.lstat().st_mtime, dt.UTC), True


def read_header_bytes(path: Path) -> bytes:
    """The bytes before the first blank line, reading no more of the file than needed."""
    buf = bytearray()
    with path.open("rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            start = max(0, len(buf) - 3)
            buf += chunk
            if BLANK_LINE.search(buf, start) or len(buf) > MAX_HEADER_BYTES:
                break
    return header_block(bytes(buf))


def relocate(path: Path) -> Path | None:
    """Where a message listed at ``path`` went: Maildir clients rename a message when they
    read or flag it (``new/X`` -> ``cur/X:2,S``, ``cur/X:2,S`` -> ``cur/X:2,RS``), keeping its
    unique part X. None when it is gone (deleted or moved to another folder)."""
    unique = path.name.split(":", 1)[0]
    cur = path.parent.parent / "cur"
    if not cur.is_dir():
        return None
    for candidate in sorted(cur.iterdir()):
        if candidate.name == unique or candidate.name.startswith(unique + ":"):
            return candidate
    return None


def _entry_kind(entry: os.DirEntry[str]) -> str | None:
    """None for a regular file (a message), else what the entry is, for the reject's reason."""
    try:
        if entry.is_file():
            return None
        if entry.is_dir():
            return "a directory"
        if entry.is_symlink():
            return "a symbolic link to nothing"
    except OSError as exc:
        return f"an entry that cannot be examined ({exc.strerror})"
    return "a special file (socket, pipe or device)"


def _message_entries(
    folder: Path, seconds: tuple[int, int] | None = None
) -> tuple[list[tuple[Path, str | None]], int]:
    """(path, None) for every message file of a folder's new/ and cur/ (tmp/ holds deliveries in
    progress), (path, what it is) for any other entry there, sorted by path; and how many entries
    were listed.

    Why the other entries are kept: a directory or socket where a message should be is a
    message Vigie cannot read; it becomes a reject naming its path, never a silent gap.

    ``seconds = (lo, hi)`` leaves out, from the name alone, every entry whose name starts with a
    delivery epoch outside [lo, hi] (issue 16: a mailbox holds years of messages and a night
    wants one day; building a path and a kind for each of them was most of the listing's time).
    The caller passes bounds that contain its interval, so nothing it would keep is left out."""
    found: list[tuple[Path, str | None]] = []
    listed = 0
    for sub in ("new", "cur"):
        d = folder / sub
        if d.is_dir():
            with os.scandir(d) as entries:  # d_type from the directory: no stat per file
                for e in entries:
                    if e.name.startswith("."):
                        continue
                    listed += 1
                    if seconds is not None:
                        m = _EPOCH.match(e.name)
                        if m and not seconds[0] <= int(m.group(1)) <= seconds[1]:
                            continue
                    found.append((Path(e.path), _entry_kind(e)))
    return sorted(found), listed


_LAYOUT_RULE = {
    "maildir++": "INBOX is the mailbox directory, any other folder F is .F inside it",
    "fs": "each folder, INBOX included, is a Maildir named as the folder inside it",
}


def _is_maildir(folder: Path) -> bool:
    return (folder / "cur").is_dir() or (folder / "new").is_dir()


def _check_layout(source: MaildirSource, root: Path) -> None:
    if not root.is_dir():
        raise MaildirLayoutError(
            f"maildir source {source.id!r}: directory {root} does not exist "
            f"(sources[{source.id}].path = {source.path!r}); point it at the directory that "
            "holds the mailboxes"
        )
    for mb in source.mailboxes:
        mdir = root / mb.path
        if not mdir.is_dir():
            raise MaildirLayoutError(
                f"maildir source {source.id!r}, mailbox {mb.name!r}: directory {mdir} does not "
                f"exist (sources[{source.id}].mailboxes[{mb.name}].path = {mb.path!r})"
            )
        for role, folder in (("inbox", mb.inbox), ("sent", mb.sent)):
            fdir = folder_dir(mdir, folder, source.layout)
            if not _is_maildir(fdir):
                other = "fs" if source.layout == "maildir++" else "maildir++"
                found = folder_dir(mdir, folder, other)
                hint = (
                    f"a Maildir is at {found} ({other} layout): set sources[{source.id}].layout: "
                    f"{other}"
                    if _is_maildir(found)
                    else "the service's replies are read from this folder"
                    if role == "sent"
                    else "citizens' messages are read from this folder"
                )
                raise MaildirLayoutError(
                    f"maildir source {source.id!r}, mailbox {mb.name!r}: {role} folder "
                    f"{folder!r} expected at {fdir} with cur/ and new/ ({source.layout} layout: "
                    f"{_LAYOUT_RULE[source.layout]}); {hint}"
                )


def read_interval(
    cfg: VigieConfig, source: MaildirSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    """Messages received in the night's local day, one pseudonymised row each."""
    root = cfg.path(source.path)
    _check_layout(source, root)
    own_addresses = [m.address for m in source.mailboxes if m.address]
    internal = cfg.collectivite.internal_email_domains
    start, end = night.start_utc, night.end_utc
    # Whole seconds around the interval: a name's epoch outside them is outside the interval.
    seconds = (int(start.timestamp()) - 1, int(end.timestamp()) + 1)

    rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    rejects: list[Reject] = []
    parsed: list[MessageHeaders] = []
    seen = in_interval = from_mtime = 0
    mb: Mailbox
    for mb in source.mailboxes:
        mdir = root / mb.path
        for role, folder in (("inbox", mb.inbox), ("sent", mb.sent)):
            entries, listed = _message_entries(folder_dir(mdir, folder, source.layout), seconds)
            seen += listed
            for path, kind in entries:
                rel = path.relative_to(root).as_posix()
                try:
                    received_at, fallback = delivery_time(path)
                except OSError as exc:
                    rejects.append(_reject(rel, path, f"cannot stat file: {exc.strerror}"))
                    continue
                if not (start <= received_at < end):
                    continue
                in_interval += 1
                from_mtime += fallback
                if kind is not None:
                    rejects.append(_reject(rel, path, f"not a message file: {kind}"))
                    continue
                try:
                    try:
                        data = read_header_bytes(path)
                    except FileNotFoundError:
                        # A mail client read or flagged it since the listing: same message,
                        # new name (new/ -> cur/, or another ':2,' suffix).
                        moved = relocate(path)
                        if moved is None:
                            raise
                        path, rel = moved, moved.relative_to(root).as_posix()
                        data = read_header_bytes(path)
                    headers = parse_headers(data)
                except OSError as exc:
                    rejects.append(_reject(rel, path, f"cannot read file: {exc.strerror}"))
                    continue
                except HeaderParseError as exc:
                    rejects.append(_reject(rel, path, str(exc)))
                    continue
                parsed.append(headers)
                row = landing_row(
                    headers,
                    pseudo,
                    source_id=source.id,
                    mailbox=mb.name,
                    service_code=mb.service,
                    folder_role=role,
                    source_position=rel,
                    received_at=received_at,
                    internal_domains=internal,
                    own_addresses=own_addresses,
                )
                rows.append(((mb.name, role, received_at, rel), row))
    rows.sort(key=lambda kr: kr[0])
    meta = {
        "interval_start_utc": start.isoformat(),
        "interval_end_utc": end.isoformat(),
        "files_seen": seen,
        "files_in_interval": in_interval,
        "received_at_from_mtime": from_mtime,
        "messages": len(rows),
        "header_rules": count_rules(parsed),
    }
    return ExtractResult(
        tables={TABLE: rows_to_table([r for _, r in rows])},
        rejects=sorted(rejects, key=lambda r: r.source_file),
        meta=meta,
    )


def _reject(rel: str, path: Path, reason: str) -> Reject:
    return Reject(
        table_name=TABLE,
        source_file=rel,
        source_position=f"message {path.name.split(':', 1)[0]}",
        reason=reason,
    )
