"""Collect parsed messages of one night into landing rows, rejects and batch metadata.

Shared by the IMAP and mbox readers (the Maildir reader predates it and does the same inline):
whatever the source, one header block goes through :func:`parse_headers` and
:func:`landing_row`, a block that cannot be used becomes a reject with its reason, and the
rows are sorted the same way (mailbox, folder role, receipt time, position) so that a rerun
lands byte-identical Parquet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from connectors.email.headers import HeaderParseError, parse_headers
from connectors.email.message_row import landing_row, rows_to_table
from connectors.landing import ExtractResult, Reject
from connectors.pseudonymise import Pseudonymiser

TABLE = "email_messages"


@dataclass
class MessageCollector:
    """Accumulates one night's messages of one source."""

    pseudo: Pseudonymiser
    source_id: str
    internal_domains: Iterable[str]
    own_addresses: Iterable[str]
    rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # counts of the parser's defensive rules (not the parsed headers: 200 000 of them would
    # hold clear addresses in memory for nothing)
    rule_counts: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        data: bytes,
        *,
        mailbox: str,
        service_code: str,
        folder_role: str,
        source_file: str,
        source_position: str,
        received_at: dt.datetime,
    ) -> None:
        """Parse one header block; land it as a row, or as a reject with its reason."""
        try:
            headers = parse_headers(data)
        except HeaderParseError as exc:
            self.reject(source_file, source_position, str(exc))
            return
        for rule in headers.rules:
            self.rule_counts[rule] = self.rule_counts.get(rule, 0) + 1
        row = landing_row(
            headers,
            self.pseudo,
            source_id=self.source_id,
            mailbox=mailbox,
            service_code=service_code,
            folder_role=folder_role,
            source_position=source_position,
            received_at=received_at,
            internal_domains=self.internal_domains,
            own_addresses=self.own_addresses,
        )
        self.rows.append(((mailbox, folder_role, received_at, source_position), row))

    def reject(self, source_file: str, source_position: str, reason: str) -> None:
        self.rejects.append(
            Reject(
                table_name=TABLE,
                source_file=source_file,
                source_position=source_position,
                reason=reason,
            )
        )

    def result(self, meta: dict[str, Any]) -> ExtractResult:
        self.rows.sort(key=lambda kr: kr[0])
        meta = {**meta, "messages": len(self.rows), "header_rules": dict(sorted(self.rule_counts.items()))}
        return ExtractResult(
            tables={TABLE: rows_to_table([r for _, r in self.rows])},
            rejects=sorted(self.rejects, key=lambda r: (r.source_file, r.source_position)),
            meta=meta,
        )
