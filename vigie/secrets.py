"""Resolve secrets (database passwords, the pseudonymisation key) from Airflow connections.

Secrets never sit in ``config/vigie.yml``: the configuration names a connection id, and this
module resolves it at run time. ``AIRFLOW_CONN_<ID>`` environment variables come first (JSON or
URI, exactly as Airflow reads them) so that the ``vigie`` CLI, tests and containers work without
an Airflow metadata database; otherwise Airflow's own ``BaseHook.get_connection`` answers (its
secrets backends, its database). Airflow is imported lazily: it is slow to import and not needed
when the environment variable is set.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


class SecretNotFound(LookupError):
    """No connection with this id could be resolved; the message says how to provide one."""


@dataclass(frozen=True)
class ConnectionInfo:
    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed in logs
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def env_var_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _from_json(conn_id: str, text: str) -> ConnectionInfo:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    extra = data.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra) if extra.strip() else {}
    port = data.get("port")
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type=data.get("conn_type"),
        host=data.get("host"),
        port=int(port) if port not in (None, "") else None,
        login=data.get("login"),
        password=data.get("password"),
        schema=data.get("schema"),
        extra=dict(extra),
    )


def _from_uri(conn_id: str, uri: str) -> ConnectionInfo:
    """Parse Airflow's URI form ``type://login:password@host:port/schema?extra=...``."""
    parts = urlsplit(uri)
    conn_type = parts.scheme.replace("-", "_") or None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "__extra__" in query:
        extra: dict[str, Any] = json.loads(query["__extra__"])
    else:
        extra = dict(query)
    host = unquote(parts.hostname) if parts.hostname else None
    schema = unquote(parts.path[1:]) if parts.path.startswith("/") and len(parts.path) > 1 else None
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type=conn_type,
        host=host or None,
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=schema,
        extra=extra,
    )


def _from_airflow(conn_id: str) -> ConnectionInfo:
    try:
        try:
            from airflow.sdk import BaseHook  # Airflow 3
        except ImportError:  # pragma: no cover - older Airflow
            from airflow.hooks.base import BaseHook  # type: ignore[no-redef]
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - any Airflow failure means "not found here"
        raise SecretNotFound(
            f"connection {conn_id!r} not found: set the environment variable "
            f"{env_var_name(conn_id)} (JSON or URI) or create the Airflow connection "
            f"{conn_id!r} ({type(exc).__name__})"
        ) from None
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type=conn.conn_type,
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=dict(extra or {}),
    )


def get_connection(conn_id: str) -> ConnectionInfo:
    """The connection ``conn_id``: ``AIRFLOW_CONN_<ID>`` env (JSON or URI) first, else Airflow."""
    raw = os.environ.get(env_var_name(conn_id))
    if raw is not None and raw.strip():
        text = raw.strip()
        try:
            return _from_json(conn_id, text) if text.startswith("{") else _from_uri(conn_id, text)
        except ValueError as exc:
            raise SecretNotFound(
                f"{env_var_name(conn_id)} is neither a JSON object nor an Airflow connection URI "
                f"such as 'generic://:secret@': {exc}"
            ) from None
    return _from_airflow(conn_id)
