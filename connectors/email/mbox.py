"""Read one night's messages of mbox files (an export, an archive) through the shared parser.

Each mailbox has two mbox files (received, sent). Receipt time = the date on the ``From ``
separator line (``From MAILER-DAEMON Mon Nov 16 09:15:00 2026``): the delivery agent writes it
when it appends the message, in UTC by mboxrd/Postfix convention (asctime, no zone); the
``Date`` header is the sender's clock and stays in ``date_header_at``. A message whose
separator carries no readable date is rejected with its reason (nothing else says when it
arrived). Read with the stdlib ``mailbox.mbox``; only the header block of each message goes to
:func:`parse_headers`.
"""

from __future__ import annotations

import datetime as dt
import mailbox

from connectors.email.collect import MessageCollector
from connectors.email.headers import header_block
from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult
from connectors.pseudonymise import Pseudonymiser
from vigie.config import MboxSource, VigieConfig
from vigie.intervals import NightInterval


class MboxLayoutError(SourceUnavailable):
    """An mbox file named in the configuration is missing."""


def separator_time(from_line: str) -> dt.datetime | None:
    """``'MAILER-DAEMON Mon Nov 16 09:15:00 2026'`` (the text after ``From ``) -> UTC."""
    parts = from_line.split()
    if len(parts) < 6:
        return None
    text = " ".join(parts[-5:])  # 'Mon Nov 16 09:15:00 2026'
    try:
        return dt.datetime.strptime(text, "%a %b %d %H:%M:%S %Y").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def read_interval(
    cfg: VigieConfig, source: MboxSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    root = cfg.path(source.path)
    collector = MessageCollector(
        pseudo=pseudo,
        source_id=source.id,
        internal_domains=cfg.collectivite.internal_email_domains,
        own_addresses=[m.address for m in source.mailboxes if m.address],
    )
    start, end = night.start_utc, night.end_utc
    seen = 0
    for mb in source.mailboxes:
        for role, rel in (("inbox", mb.inbox), ("sent", mb.sent)):
            path = root / rel
            if not path.is_file():
                raise MboxLayoutError(
                    f"mbox source {source.id!r}, mailbox {mb.name!r}: {role} file {path} does "
                    f"not exist (sources[{source.id}].mailboxes[{mb.name}].{role} = {rel!r})"
                )
            box = mailbox.mbox(path, factory=None, create=False)
            try:
                for index, key in enumerate(box.keys()):
                    seen += 1
                    raw = box.get_bytes(key)
                    msg_from = box.get_message(key).get_from() if raw else ""
                    position = f"message {index + 1}"
                    received_at = separator_time(msg_from)
                    if received_at is None:
                        collector.reject(rel, position, "mbox separator line holds no date")
                        continue
                    if not (start <= received_at < end):
                        continue
                    collector.add(
                        header_block(raw),
                        mailbox=mb.name,
                        service_code=mb.service,
                        folder_role=role,
                        source_file=rel,
                        source_position=position,
                        received_at=received_at,
                    )
            finally:
                box.close()
    meta = {
        "interval_start_utc": start.isoformat(),
        "interval_end_utc": end.isoformat(),
        "messages_seen": seen,
    }
    return collector.result(meta)
