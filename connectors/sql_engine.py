"""Read-only SQLAlchemy engine for a source database named by an Airflow connection id.

Used by every SQL source (Asterisk realtime queue_log and cdr tables, GLPI). Why a connection
id: the configuration never holds secrets; ``vigie.secrets.get_connection`` resolves
``AIRFLOW_CONN_<ID>`` (JSON or URI) first, then Airflow's metadata. Sessions are read only:
Vigie never writes to a source system.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine

from connectors.extract import SourceUnavailable

DRIVERS = {
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
}


def engine_for(
    source_id: str,
    connection_id: str,
    expected: str = "Asterisk realtime/CDR databases: PostgreSQL, MySQL/MariaDB",
    label: str = "source",
) -> Engine:
    """The engine of ``connection_id``; a connection of another type fails naming ``expected``."""
    from vigie.secrets import get_connection

    conn = get_connection(connection_id)
    kind = (conn.conn_type or "").lower()
    if kind not in DRIVERS:
        raise SourceUnavailable(
            f"{label} {source_id!r}: connection {connection_id!r} has type {conn.conn_type!r}; "
            f"expected one of {sorted(DRIVERS)} ({expected})"
        )
    driver = DRIVERS[kind]
    query: dict[str, str] = {}
    connect_args: dict[str, Any] = {}
    if driver.startswith("mysql"):
        query["charset"] = "utf8mb4"
        connect_args["init_command"] = "SET SESSION TRANSACTION READ ONLY"
    else:
        connect_args["options"] = "-c default_transaction_read_only=on"
    url = URL.create(
        driver,
        username=conn.login,
        password=conn.password,
        host=conn.host,
        port=conn.port,
        database=conn.schema,
        query=query,
    )
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)
