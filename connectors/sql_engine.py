"""Read-only SQLAlchemy engine for a source database named by an Airflow connection id.

Used by every SQL source (Asterisk realtime queue_log and cdr tables, GLPI). Why a connection
id: the configuration never holds secrets; ``vigie.secrets.get_connection`` resolves
``AIRFLOW_CONN_<ID>`` (JSON or URI) first, then Airflow's metadata. Sessions are read only:
Vigie never writes to a source system.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, Table, create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.sql import Select

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


def fetch_rows(engine: Engine, source_id: str, table_name: str, query: Select[Any]) -> list[dict[str, Any]]:
    """Every row of ``query`` as a dict; a failing query fails loudly naming source and table."""
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
    except SQLAlchemyError as exc:
        raise SourceUnavailable(
            f"source {source_id!r}: query on {table_name!r} failed "
            f"({type(exc).__name__}: {str(exc).splitlines()[0]})"
        ) from None


_TIME_TEXT = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\s*$")


def naive_to_utc(value: Any, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """UTC instant of a time column's value (a datetime, or text such as queue_log's char(26)
    ``2026-10-25 02:30:00.250000``) written in ``zone``; None when unreadable. The repeated
    autumn hour resolves to its first occurrence (fold=0), as everywhere in Vigie."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        naive = value
    else:
        m = _TIME_TEXT.match(str(value))
        if not m:
            return None
        frac = (m.group(3) or "").ljust(6, "0")
        try:
            naive = dt.datetime.fromisoformat(f"{m.group(1)} {m.group(2)}").replace(
                microsecond=int(frac or 0)
            )
        except ValueError:
            return None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=zone, fold=0)
    return naive.astimezone(dt.UTC)
