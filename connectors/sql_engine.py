"""Read-only SQLAlchemy engine for a source database named by an Airflow connection id.

Used by every SQL source (Asterisk realtime queue_log and cdr tables, GLPI). Why a connection
id: the configuration never holds secrets; ``vigie.secrets.get_connection`` resolves
``AIRFLOW_CONN_<ID>`` (JSON or URI) first, then Airflow's metadata. Sessions are read only:
Vigie never writes to a source system.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, Table, create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from connectors.extract import SourceUnavailable

if TYPE_CHECKING:
    from vigie.intervals import NightInterval

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


def reflect_table(engine: Engine, source_id: str, table_name: str, connection_id: str) -> Table:
    """The source's table as the database describes it; a missing table or an unreachable
    server fails loudly, naming the source, the table and the connection to check."""
    try:
        return Table(table_name, MetaData(), autoload_with=engine)
    except NoSuchTableError:
        raise SourceUnavailable(
            f"source {source_id!r}: table {table_name!r} not found in the database of "
            f"connection {connection_id!r}; set the source's 'table'"
        ) from None
    except SQLAlchemyError as exc:
        raise SourceUnavailable(
            f"source {source_id!r}: cannot reach the database of connection "
            f"{connection_id!r} ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        ) from None


def naive_window(
    night: NightInterval, zone: zoneinfo.ZoneInfo, margin: dt.timedelta = dt.timedelta(days=1)
) -> tuple[dt.datetime, dt.datetime]:
    """[lo, hi) in the naive clock of a table whose times are written in ``zone``: the night
    widened by ``margin`` on both sides, so an index on the time column narrows the read; the
    exact selection of the night's rows is made after conversion to UTC."""
    lo = night.start_utc.astimezone(zone).replace(tzinfo=None) - margin
    hi = night.end_utc.astimezone(zone).replace(tzinfo=None) + margin
    return lo, hi
