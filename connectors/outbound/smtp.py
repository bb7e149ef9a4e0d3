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
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from vigie.secrets import ConnectionInfo, get_connection

DEFAULT_TIMEOUT = 30.0


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
        )


def settings_for(conn_id: str) -> SmtpSettings:
    return SmtpSettings.from_connection(get_connection(conn_id))


def send_messages(settings: SmtpSettings, messages: list[EmailMessage]) -> list[dict[str, tuple[int, bytes]]]:
    """Send over one session; returns smtplib's refused-recipients dict per message.

    Raises on a transport or authentication failure, and when every recipient was refused
    (smtplib does): the caller then records nothing and the next run retries.
    """
    context = ssl.create_default_context()
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


def send_message(settings: SmtpSettings, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    return send_messages(settings, [message])[0]
