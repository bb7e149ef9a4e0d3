"""Send digests through an SMTP server named by an Airflow connection.

The connection (``outputs.smtp_connection_id``, resolved by vigie.secrets.get_connection, so
``AIRFLOW_CONN_VIGIE_SMTP`` works) gives host, port, login and password. Transport security
comes from its extra:
- ``{"ssl": true}``: implicit TLS (SMTPS, usually port 465);
- ``{"starttls": true}``: plain connection upgraded with STARTTLS (usually 587);
- Airflow's SMTP provider keys ``disable_ssl`` / ``disable_tls`` are honoured too;
- nothing said: SSL on port 465, STARTTLS otherwise (a server without STARTTLS then fails
  loudly rather than sending a password in clear).
``{"ssl": false, "starttls": false}`` is for a relay on loopback only.
``ca_file`` in the extra names a CA bundle to verify the server with (a private CA, a test's
self-signed certificate); the system's trust store is used otherwise.

Transient failures are retried with exponential backoff (extra ``attempts``, default 3, and
``retry_delay`` in seconds, default 5: waits 5 s, then 10 s): a refused or dropped connection,
a timeout, a 4xx reply (greylisting, "try again later"). A 5xx reply (wrong password, refused
recipient) is permanent and raises at once. A retry happens only when the server did not
accept the message (smtplib raises before the final 250), so a retried digest is received
once; the one case of a duplicate is a connection lost after the server accepted DATA but
before its 250 reached us, the at-least-once side of deliver-then-record.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from vigie.secrets import ConnectionInfo, get_connection

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
DEFAULT_ATTEMPTS = 3
DEFAULT_RETRY_DELAY = 5.0


def _flag(extra: dict[str, Any], key: str) -> bool | None:
    if key not in extra:
        return None
    value = extra[key]
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    login: str | None
    password: str | None
    use_ssl: bool
    starttls: bool
    timeout: float
    ca_file: str | None = None
    attempts: int = DEFAULT_ATTEMPTS
    retry_delay: float = DEFAULT_RETRY_DELAY

    @classmethod
    def from_connection(cls, conn: ConnectionInfo) -> SmtpSettings:
        if not conn.host:
            raise ValueError(f"SMTP connection {conn.conn_id!r} has no host: set it in the connection")
        extra = conn.extra or {}
        port = conn.port or 25
        use_ssl = _flag(extra, "ssl")
        if use_ssl is None:
            disable_ssl = _flag(extra, "disable_ssl")
            use_ssl = (not disable_ssl) if disable_ssl is not None else port == 465
        starttls = _flag(extra, "starttls")
        if starttls is None:
            disable_tls = _flag(extra, "disable_tls")
            starttls = (not disable_tls) if disable_tls is not None else not use_ssl
        return cls(
            host=conn.host,
            port=port,
            login=conn.login,
            password=conn.password,
            use_ssl=use_ssl,
            starttls=starttls and not use_ssl,
            timeout=float(extra.get("timeout", DEFAULT_TIMEOUT)),
            ca_file=extra.get("ca_file") or None,
            attempts=max(1, int(extra.get("attempts", DEFAULT_ATTEMPTS))),
            retry_delay=max(0.0, float(extra.get("retry_delay", DEFAULT_RETRY_DELAY))),
        )


def settings_for(conn_id: str) -> SmtpSettings:
    return SmtpSettings.from_connection(get_connection(conn_id))


def send_messages(settings: SmtpSettings, messages: list[EmailMessage]) -> list[dict[str, tuple[int, bytes]]]:
    """Send over one session; returns smtplib's refused-recipients dict per message.

    Raises on a transport or authentication failure, and when every recipient was refused
    (smtplib does): the caller then records nothing and the next run retries.
    """
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        client.ehlo()
        if settings.starttls:
            client.starttls(context=context)
            client.ehlo()
        if settings.login:
            client.login(settings.login, settings.password or "")
        return [client.send_message(m) for m in messages]


def is_transient(exc: BaseException) -> bool:
    """A failure worth retrying: connection trouble or a 4xx reply."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):  # incl. SMTPConnectError
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPException):  # no AUTH, no STARTTLS...: configuration
        return False  # (checked before OSError: SMTPException derives from it)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False  # a certificate we do not trust will not become trusted by waiting
    return isinstance(exc, OSError)  # refused, reset, timed out


def send_message(
    settings: SmtpSettings, message: EmailMessage, *, sleep: Callable[[float], None] = time.sleep
) -> dict[str, tuple[int, bytes]]:
    """Send one message in its own session, retrying transient failures with backoff."""
    delay = settings.retry_delay
    for attempt in range(1, settings.attempts + 1):
        try:
            return send_messages(settings, [message])[0]
        except Exception as exc:
            if attempt == settings.attempts or not is_transient(exc):
                raise
            log.warning(
                "SMTP %s:%d attempt %d/%d failed (%s); retrying in %.1f s",
                settings.host, settings.port, attempt, settings.attempts, exc, delay,
            )
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
