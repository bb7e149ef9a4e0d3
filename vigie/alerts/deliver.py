"""Where a rendered digest goes: SMTP or the outbox, and the webhook when one is configured.

Connections are resolved once, before any work (``channels_for``): a missing or broken
connection fails the run before a single digest is built, rather than half-way through.
The webhook is an additional channel (a data team's chat room), never a replacement for
mail: a head reads Vigie in their mailbox.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigie.config import VigieConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Channels:
    outbox: Path
    smtp: Any = None  # connectors.outbound.smtp.SmtpSettings
    webhook: Any = None  # connectors.outbound.webhook.WebhookSettings
    webhook_format: str = "mattermost"

    @property
    def delivery(self) -> str:
        """'smtp' | 'outbox', with '+webhook' when the webhook is on (alert_log.delivery)."""
        return ("smtp" if self.smtp is not None else "outbox") + ("+webhook" if self.webhook else "")


def channels_for(cfg: VigieConfig) -> Channels:
    smtp = webhook = None
    if cfg.outputs.smtp_connection_id:
        from connectors.outbound.smtp import settings_for

        smtp = settings_for(cfg.outputs.smtp_connection_id)
    if cfg.alerts.webhook_connection_id:
        from connectors.outbound.webhook import settings_for as webhook_settings_for

        webhook = webhook_settings_for(cfg.alerts.webhook_connection_id)
    return Channels(cfg.path(cfg.outputs.outbox), smtp, webhook, cfg.alerts.webhook_format)


def deliver(channels: Channels, day: dt.date, digest_id: str, message: Any, subject: str,
            text: str) -> str | None:
    """Send (SMTP) or write (outbox) the message, then post the webhook; the .eml path or None.

    Raises on any failure, so the caller records nothing and the next run retries. A webhook
    failing after the mail left makes that retry send the mail again (same Message-ID): the
    at-least-once rule of deliver-then-record.
    """
    path: str | None = None
    if channels.smtp is not None:
        from connectors.outbound.smtp import send_message

        send_message(channels.smtp, message)
    else:
        from connectors.outbound.outbox import write_eml

        written_path, written = write_eml(channels.outbox, day, digest_id, message)
        path = str(written_path)
        if not written:
            log.warning("digest %s was already in the outbox (earlier run stopped before recording)", path)
    if channels.webhook is not None:
        from connectors.outbound.webhook import payload, post_json

        post_json(channels.webhook, payload(channels.webhook_format, subject, text))
    return path
