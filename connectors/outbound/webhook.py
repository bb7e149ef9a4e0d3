"""Post digests as JSON to a chat webhook (Mattermost, Slack-compatible, Microsoft Teams).

The URL comes from an Airflow connection (``alerts.webhook_connection_id``, resolved by
vigie.secrets.get_connection, so ``AIRFLOW_CONN_VIGIE_WEBHOOK`` works): a webhook URL is a
secret (whoever has it can post), so it never sits in vigie.yml.
- ``host`` holding the whole URL (``https://chat.example.fr/hooks/abc``), or
- Airflow's HTTP connection layout: ``schema`` = http/https (default https), ``host``,
  ``port``, extra ``endpoint`` (the path).
Extra ``timeout`` (s, default 30), ``attempts`` (default 3), ``retry_delay`` (s, default 5,
doubled after each failure).

Payloads, all with the digest's plain-text lines:
- mattermost: ``{"username": "Vigie", "text": "#### subject\\n\\ntext"}``;
- slack: ``{"text": "*subject*\\ntext"}``, with ``& < >`` escaped as Slack requires (``<...>``
  would otherwise become a link or a mention);
- teams: a MessageCard ``{"@type": "MessageCard", "summary", "title", "text"}``, with
  ``& < >`` escaped (Teams renders HTML in card text).
Mattermost renders no HTML, so its text is sent as written (JSON-encoded).
Retries: connection errors, 429 and 5xx. Another 4xx (a revoked hook) raises at once.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from vigie.secrets import ConnectionInfo, get_connection

log = logging.getLogger(__name__)

FORMATS = ("mattermost", "slack", "teams")


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    timeout: float = 30.0
    attempts: int = 3
    retry_delay: float = 5.0

    @classmethod
    def from_connection(cls, conn: ConnectionInfo) -> WebhookSettings:
        extra = conn.extra or {}
        host = (conn.host or "").strip()
        if not host:
            raise ValueError(f"webhook connection {conn.conn_id!r} has no host: put the webhook URL in it")
        if host.startswith(("http://", "https://")):
            url = host
        else:
            scheme = conn.schema if conn.schema in ("http", "https") else "https"
            port = f":{conn.port}" if conn.port else ""
            endpoint = str(extra.get("endpoint", "")).lstrip("/")
            url = f"{scheme}://{host}{port}/{endpoint}"
        return cls(
            url=url,
            timeout=float(extra.get("timeout", 30.0)),
            attempts=max(1, int(extra.get("attempts", 3))),
            retry_delay=max(0.0, float(extra.get("retry_delay", 5.0))),
        )


def settings_for(conn_id: str) -> WebhookSettings:
    return WebhookSettings.from_connection(get_connection(conn_id))


def payload(fmt: str, subject: str, text: str) -> dict[str, Any]:
    """The JSON body for one digest in the receiver's format."""
    if fmt == "mattermost":
        return {"username": "Vigie", "text": f"#### {subject}\n\n{text}"}
    if fmt == "slack":
        return {"text": f"*{escape(subject, quote=False)}*\n{escape(text, quote=False)}"}
    if fmt == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": escape(subject, quote=False),
            "title": escape(subject, quote=False),
            "text": escape(text, quote=False).replace("\n", "\n\n"),
        }
    raise ValueError(f"unknown webhook format {fmt!r}; expected one of {FORMATS}")


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code == 429 or exc.code >= 500
    return isinstance(exc, (urllib.error.URLError, OSError))


def post_json(
    settings: WebhookSettings, body: dict[str, Any], *, sleep: Callable[[float], None] = time.sleep
) -> int:
    """POST ``body`` as JSON; returns the HTTP status. Retries transient failures."""
    data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
    delay = settings.retry_delay
    for attempt in range(1, settings.attempts + 1):
        request = urllib.request.Request(
            settings.url, data=data, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "Vigie"},
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.timeout) as response:  # URL from the operator's connection
                return response.status
        except Exception as exc:
            if attempt == settings.attempts or not _transient(exc):
                raise
            log.warning("webhook attempt %d/%d failed (%s); retrying in %.1f s",
                        attempt, settings.attempts, exc, delay)
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
