"""Read one night's messages of mbox files (an export, an archive) through the shared parser.

Each mailbox has two mbox files (received, sent). Receipt time = the date on the ``From ``
separator line (``From MAILER-DAEMON Mon Nov 16 09:15:00 2026``, possibly followed by more
text): the delivery agent writes it when it appends the message, in UTC by mboxrd/Postfix
convention (asctime, no zone); the ``Date`` header is the sender's clock and stays in
``date_header_at``. A message whose separator carries no readable date is rejected with its
reason (nothing else says when it arrived). Messages are split by
:mod:`connectors.email.mbox_split` (mboxo and mboxrd; an unquoted ``From `` line in a body
does not split a message); only the header block of each goes to :func:`parse_headers`.
"""

from __future__ import annotations

from connectors.email.collect import MessageCollector
from connectors.email.mbox_split import NotAnMboxFile, separator_time, split_mbox
from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult
from connectors.pseudonymise import Pseudonymiser
from vigie.config import MboxSource, VigieConfig
from vigie.intervals import NightInterval


class MboxLayoutError(SourceUnavailable):
    """An mbox file named in the configuration is missing, or is not an mbox file."""


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
            messages = split_mbox(path)
            try:
                for message in messages:
                    seen += 1
                    position = f"message {message.number}"
                    received_at = separator_time(message.separator)
                    if received_at is None:
                        collector.reject(rel, position, "mbox separator line holds no date")
                        continue
                    if not (start <= received_at < end):
                        continue
                    collector.add(
                        message.header,
                        mailbox=mb.name,
                        service_code=mb.service,
                        folder_role=role,
                        source_file=rel,
                        source_position=position,
                        received_at=received_at,
                    )
            except NotAnMboxFile as exc:
                raise MboxLayoutError(
                    f"mbox source {source.id!r}, mailbox {mb.name!r}: {role} file {path}: {exc}"
                ) from None
    meta = {
        "interval_start_utc": start.isoformat(),
        "interval_end_utc": end.isoformat(),
        "messages_seen": seen,
    }
    return collector.result(meta)
