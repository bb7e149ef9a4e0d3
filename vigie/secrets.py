"""Resolve secrets (database passwords, the pseudonymisation key) from Airflow connections.

Secrets never sit in ``config/vigie.yml``: the configuration names a connection id (or, for the
pseudonymisation key, a file outside the repository), and this module resolves it at run time. ``AIRFLOW_CONN_<ID>`` environment variables come first (JSON or
URI, exactly as Airflow reads them) so that the ``vigie`` CLI, tests and containers work without
an Airflow metadata database; otherwise Airflow's own ``BaseHook.get_connection`` answers (its
secrets backends, its database). Airflow is imported lazily: it is slow to import and not needed
when the environment variable is set.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from vigie.config import VigieConfig


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
        port=int(port) if port is not None and port != "" else None,
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
            from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined]
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # any Airflow failure means "not found here"
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


# -- the pseudonymisation key -----------------------------------------------------------------
# Why here and not in connectors/pseudonymise.py: `vigie run`, `vigie check-config` and the demo
# must find the key exactly as the extract tasks do, before any task runs; one lookup serves all.
KEY_ENV = "VIGIE_PSEUDONYMISATION_KEY"
MIN_KEY_BYTES = 16
GENERATE_HINT = "vigie generate-key FILE"


class PseudonymisationKeyMissing(RuntimeError):
    """No usable key: the one-line message says where Vigie looked and what to set."""


@dataclass(frozen=True)
class KeyFound:
    """The key and where it came from (said by check-config; the key itself is never shown)."""

    key: bytes = field(repr=False)
    origin: str


def key_file_path(cfg: VigieConfig) -> Path | None:
    """``pseudonymisation.key_file`` resolved against the configuration's directory, or None."""
    value = cfg.pseudonymisation.key_file
    return cfg.path(value) if value else None


def _checked(key: bytes, origin: str) -> KeyFound:
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymisationKeyMissing(
            f"the pseudonymisation key from {origin} is {len(key)} bytes long; it must be at "
            f"least {MIN_KEY_BYTES} (a short key lets anyone enumerate phone numbers against "
            f"the hashes): create a new one with: {GENERATE_HINT}"
        )
    return KeyFound(key, origin)


def read_key_file(path: Path, where: str) -> KeyFound:
    """The key held in ``path`` (surrounding whitespace and the final newline stripped)."""
    try:
        text = path.read_bytes().strip()
    except FileNotFoundError:
        raise PseudonymisationKeyMissing(
            f"the pseudonymisation key file {path} ({where}) does not exist: restore it from "
            f"your backup (a new key breaks threads and repeat callers across the change); only "
            f"for a site with nothing landed yet, create it with: vigie generate-key {path}"
        ) from None
    except OSError as exc:
        raise PseudonymisationKeyMissing(
            f"the pseudonymisation key file {path} ({where}) cannot be read "
            f"({exc.strerror}): let the user that runs Vigie read it"
        ) from None
    if not text:
        raise PseudonymisationKeyMissing(
            f"the pseudonymisation key file {path} ({where}) is empty: restore it from your "
            f"backup, or for a new site create it with: vigie generate-key {path}"
        )
    return _checked(text, f"the file {path}")


def find_pseudonymisation_key(cfg: VigieConfig) -> KeyFound:
    """The HMAC key, looked up in this order (the first that is set wins):

    1. the environment variable ``VIGIE_PSEUDONYMISATION_KEY`` (tests, CI);
    2. the environment variable ``AIRFLOW_CONN_<KEY_CONNECTION_ID>`` (compose's ``.env``);
    3. the file ``pseudonymisation.key_file`` when the configuration names one (the demo's
       ``var/secrets/pseudonymisation.key``, or a secret file mounted read-only); a named file
       that is missing is an error, never a reason to look further: another key would
       silently give every citizen new hashes;
    4. the password of the Airflow connection ``pseudonymisation.key_connection_id`` in
       Airflow's secrets backends and metadata database.

    The environment comes first because an operator sets it on purpose for one process or
    container; files and Airflow's database are the site's stored settings. Raises
    :class:`PseudonymisationKeyMissing` with one line saying what to set.
    """
    raw = os.environ.get(KEY_ENV)
    if raw:
        return _checked(raw.encode("utf-8"), f"the environment variable {KEY_ENV}")
    conn_id = cfg.pseudonymisation.key_connection_id
    path = key_file_path(cfg)
    if path is not None and not os.environ.get(env_var_name(conn_id), "").strip():
        return read_key_file(path, f"pseudonymisation.key_file = {cfg.pseudonymisation.key_file!r}")
    try:
        conn = get_connection(conn_id)
    except SecretNotFound:
        raise PseudonymisationKeyMissing(
            f"no pseudonymisation key: set pseudonymisation.key_file in the configuration to a "
            f"key file (create it once with: {GENERATE_HINT}), or put the key in the password "
            f"of the Airflow connection {conn_id!r} ({env_var_name(conn_id)}="
            f"'generic://:<key>@'), or set {KEY_ENV}"
        ) from None
    if not conn.password:
        raise PseudonymisationKeyMissing(
            f"the Airflow connection {conn_id!r} has no password: put the pseudonymisation key "
            f"in its password field (or set pseudonymisation.key_file, or {KEY_ENV})"
        )
    origin = (
        f"the environment variable {env_var_name(conn_id)}"
        if os.environ.get(env_var_name(conn_id), "").strip()
        else f"the Airflow connection {conn_id!r}"
    )
    return _checked(conn.password.encode("utf-8"), origin)


def pseudonymisation_key(cfg: VigieConfig) -> bytes:
    """The HMAC key (see :func:`find_pseudonymisation_key` for where it is looked up)."""
    return find_pseudonymisation_key(cfg).key


def new_key() -> str:
    """A fresh key: 32 random bytes as 64 hex characters (printable, safe in a URI password)."""
    return secrets.token_hex(32)


def write_new_key(path: Path) -> None:
    """Create ``path`` holding a new key, readable by its owner only (mode 0600).

    Refuses to replace an existing file: the key of a site that already landed data must be
    kept (a new one gives every citizen new hashes, so threads and repeat callers break across
    the change). The directory is created 0700 when missing.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise FileExistsError(
            f"{path} already exists: Vigie never replaces a pseudonymisation key (hashes would "
            "change); delete it yourself only if nothing was landed with it"
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(new_key() + "\n")
    os.chmod(path, 0o600)  # whatever the umask
