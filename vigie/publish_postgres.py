"""Publish the BI contract to a PostgreSQL schema, swapped in atomically after each good night.

Why PostgreSQL besides the DuckDB snapshot: the BI tools collectivités run (Metabase,
Superset, Power BI) connect to the PostgreSQL their DSI already operates without any driver
pinned to a DuckDB version. ``outputs.bi_postgres: {connection_id, schema}`` turns it on
(absent: nothing is published to PostgreSQL).

What is published: every table of the warehouse schema ``marts`` (the same set as the DuckDB
snapshot), every ``history.<table>`` (vigie/history.py) as ``<schema>.history_<table>`` (the
Parquet name too), and ``<schema>.snapshot_info`` (night, as_of, published_at, tables). Types
are mapped one to one (``TIMESTAMP WITH TIME ZONE`` -> ``timestamptz``, ``DOUBLE`` -> ``double
precision``, ``DATE`` -> ``date``...); a DuckDB type without a faithful PostgreSQL twin is
refused with the table and column named. Every table and column gets the comment of the dbt
YAML (vigie/bi_docs.py).

How readers are never shown a mix, a missing or a half-loaded table:

1. the night is loaded into ``<schema>_work`` (dropped first if a crash left one), with
   ``COPY`` from CSV written by DuckDB (empty string quoted, NULL bare: PostgreSQL's CSV rules),
   commented, analysed, and given the privileges the live schema has (so a read-only role
   granted once keeps reading);
2. one transaction locks every live table (NOWAIT), renames ``<schema>`` to ``<schema>_old``,
   ``<schema>_work`` to ``<schema>`` and drops ``<schema>_old``. A query in READ COMMITTED that
   starts during the swap waits on the old table's lock, then reads the new table (PostgreSQL
   looks the name up again after a concurrent DDL); a query already running finishes on the
   old tables, and the swap is tried again a moment later (``_swap`` says why it never waits).

Views that other schemas build on the published tables would be dropped silently by the swap
(they point at the old tables): the publication refuses instead, naming them, and the previous
night stays. The schema belongs to Vigie: anything else created inside it goes with the swap.
One publication at a time per schema (a PostgreSQL advisory lock).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigie.bi_docs import comment_statements, contract_docs, quote_ident
from vigie.config import BiPostgres, VigieConfig
from vigie.intervals import night_for_day
from vigie.sql_values import first_value

log = logging.getLogger(__name__)

SWAP_WAIT_SECONDS = 300.0  # how long readers may keep the live tables before the publication gives up
SWAP_RETRY_PAUSE_SECONDS = 0.05
# libpq parameters taken from the Airflow connection's extra (sslmode: 'require' etc.)
LIBPQ_EXTRA = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "options", "target_session_attrs")

# DuckDB type -> PostgreSQL type, for the types a mart may hold.
SCALAR_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20)",
    "HUGEINT": "numeric(39)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "JSON": "jsonb",
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),(\d+)\)$")


class PostgresPublishFailed(RuntimeError):
    """The PostgreSQL publication could not be done; the previous night stays in place."""


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    pg_type: str


@dataclass(frozen=True)
class Table:
    """One published table: where it is read in the warehouse, its name in PostgreSQL."""

    source: str  # "marts"."requests" (quoted, in the warehouse catalog)
    pg_name: str  # requests, history_service_indicators
    doc_key: tuple[str, str]  # (schema, table) in the contract docs
    columns: tuple[Column, ...]


def pg_type(duckdb_type: str, where: str) -> str:
    """The PostgreSQL type that holds every value of ``duckdb_type`` unchanged."""
    if duckdb_type in SCALAR_TYPES:
        return SCALAR_TYPES[duckdb_type]
    m = _DECIMAL.match(duckdb_type)
    if m:
        return f"numeric({m.group(1)},{m.group(2)})"
    if duckdb_type == "VARCHAR[]":
        return "text[]"
    raise PostgresPublishFailed(
        f"{where}: DuckDB type {duckdb_type} has no faithful PostgreSQL type in vigie/publish_postgres.py "
        "(SCALAR_TYPES): add one, or cast the column in the mart"
    )


def _csv_expression(column: Column) -> str:
    """The select expression DuckDB writes to CSV for ``column`` (lists as PostgreSQL arrays)."""
    q = quote_ident(column.name)
    if column.duckdb_type == "VARCHAR[]":
        # {"a","b\"c"}: every element quoted, backslash and double quote escaped; null stays null
        element = "case when x is null then 'NULL' else '\"' || replace(replace(x, '\\', '\\\\'), '\"', '\\\"') || '\"' end"
        return f"case when {q} is null then null else '{{' || array_to_string(list_transform({q}, x -> {element}), ',') || '}}' end"
    return q


def contract_tables(con: Any, warehouse_catalog: str) -> list[Table]:  # duckdb connection
    """The tables of the BI contract in the warehouse: marts.*, then history.* (vigie/history.py)."""
    rows = con.execute(
        """
        select schema_name, table_name, column_name, data_type
        from duckdb_columns()
        where database_name = ? and schema_name in ('marts', 'history')
        order by schema_name desc, table_name, column_index
        """,
        [warehouse_catalog],
    ).fetchall()
    grouped: dict[tuple[str, str], list[Column]] = {}
    for schema, table, column, duck_type in rows:
        where = f"{schema}.{table}.{column}"
        grouped.setdefault((schema, table), []).append(Column(column, duck_type, pg_type(duck_type, where)))
    tables = []
    for (schema, table), columns in grouped.items():
        pg_name = table if schema == "marts" else f"{schema}_{table}"
        source = f"{quote_ident(warehouse_catalog)}.{quote_ident(schema)}.{quote_ident(table)}"
        tables.append(Table(source, pg_name, (schema, table), tuple(columns)))
    return tables


def connect(target: BiPostgres) -> Any:  # psycopg2 connection
    """A psycopg2 connection from the Airflow connection ``target.connection_id``.

    Airflow's convention: ``schema`` of the connection is the database name; libpq options
    (sslmode...) come from its extra.
    """
    import psycopg2

    from vigie.secrets import get_connection

    info = get_connection(target.connection_id)
    if info.conn_type and info.conn_type not in {"postgres", "postgresql"}:
        raise PostgresPublishFailed(
            f"outputs.bi_postgres.connection_id: connection {target.connection_id!r} is of type "
            f"{info.conn_type!r}; expected a postgres connection"
        )
    params: dict[str, Any] = {
        "host": info.host or "localhost",
        "port": info.port or 5432,
        "dbname": info.schema or "postgres",
        "application_name": "vigie-publish",
    }
    if info.login:
        params["user"] = info.login
    if info.password:
        params["password"] = info.password
    params.update({k: v for k, v in info.extra.items() if k in LIBPQ_EXTRA})
    try:
        return psycopg2.connect(**params)
    except psycopg2.OperationalError as exc:
        raise PostgresPublishFailed(
            f"outputs.bi_postgres: cannot connect with connection {target.connection_id!r} "
            f"({params['host']}:{params['port']}/{params['dbname']}): {str(exc).strip()}"
        ) from None


def _export_csv(con: Any, table: Table, folder: Path) -> Path:
    path = folder / f"{table.pg_name}.csv"
    select = ", ".join(_csv_expression(c) for c in table.columns)
    literal = "'" + str(path).replace("'", "''") + "'"
    con.execute(f"copy (select {select} from {table.source}) to {literal} (format csv, header false)")
    return path


def _grants_of_live_schema(cur: Any, schema: str) -> list[str]:
    """GRANT statements that give the work schema the read privileges the live schema has."""
    cur.execute(
        """
        select distinct case when a.grantee = 0 then 'public' else quote_ident(r.rolname) end
        from pg_namespace n
        cross join lateral aclexplode(n.nspacl) a
        left join pg_roles r on r.oid = a.grantee
        where n.nspname = %s and a.privilege_type = 'USAGE' and a.grantee <> n.nspowner
        order by 1
        """,
        [schema],
    )
    usage = [r[0] for r in cur.fetchall()]
    cur.execute(
        """
        select distinct case when a.grantee = 0 then 'public' else quote_ident(r.rolname) end
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        cross join lateral aclexplode(c.relacl) a
        left join pg_roles r on r.oid = a.grantee
        where n.nspname = %s and a.privilege_type = 'SELECT' and a.grantee <> c.relowner
        order by 1
        """,
        [schema],
    )
    select = [r[0] for r in cur.fetchall()]
    return [f"grant usage on schema {{work}} to {role}" for role in usage] + [
        f"grant select on all tables in schema {{work}} to {role}" for role in select
    ]


def _outside_dependents(cur: Any, schema: str) -> list[str]:
    """Views (and materialized views) of other schemas built on the live schema's tables."""
    cur.execute(
        """
        select distinct dn.nspname || '.' || dc.relname
        from pg_depend d
        join pg_rewrite rw on d.classid = 'pg_rewrite'::regclass and rw.oid = d.objid
        join pg_class dc on dc.oid = rw.ev_class
        join pg_namespace dn on dn.oid = dc.relnamespace
        join pg_class c on d.refclassid = 'pg_class'::regclass and c.oid = d.refobjid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = %s and dn.nspname <> %s
        order by 1
        """,
        [schema, schema],
    )
    return [r[0] for r in cur.fetchall()]


def _load_work_schema(
    pg: Any, tables: list[Table], files: dict[str, Path], work: str, live: str, info_row: tuple
) -> None:
    docs = contract_docs()
    with pg, pg.cursor() as cur:
        cur.execute(f"drop schema if exists {quote_ident(work)} cascade")
        cur.execute(f"create schema {quote_ident(work)}")
        for table in tables:
            qualified = f"{quote_ident(work)}.{quote_ident(table.pg_name)}"
            columns = ", ".join(f"{quote_ident(c.name)} {c.pg_type}" for c in table.columns)
            cur.execute(f"create table {qualified} ({columns})")
            with files[table.pg_name].open("r", encoding="utf-8", newline="") as handle:
                cur.copy_expert(f"copy {qualified} from stdin with (format csv, header false)", handle)
            for statement in comment_statements(qualified, docs.get(table.doc_key), [c.name for c in table.columns]):
                cur.execute(statement)
        info = f"{quote_ident(work)}.snapshot_info"
        cur.execute(f"create table {info} (night date, as_of timestamptz, published_at timestamptz, tables text[])")
        cur.execute(f"insert into {info} values (%s, %s, %s, %s)", info_row)
        for statement in comment_statements(
            info, docs.get(("main", "snapshot_info")), ["night", "as_of", "published_at", "tables"]
        ):
            cur.execute(statement)
        for statement in _grants_of_live_schema(cur, live):
            cur.execute(statement.format(work=quote_ident(work)))
    # ANALYZE outside the load transaction is fine: nobody reads the work schema.
    with pg, pg.cursor() as cur:
        cur.execute(f"analyze {', '.join(f'{quote_ident(work)}.{quote_ident(t.pg_name)}' for t in tables)}")


def _blockers(cur: Any, live: str) -> str:
    """Who holds the live tables now (for the error when the swap never got them)."""
    cur.execute(
        """
        select distinct a.pid, coalesce(a.usename, '?'), coalesce(a.application_name, ''), coalesce(a.state, '?'),
            a.xact_start
        from pg_locks l
        join pg_class c on c.oid = l.relation
        join pg_namespace n on n.oid = c.relnamespace
        join pg_stat_activity a on a.pid = l.pid
        where n.nspname = %s and l.granted and a.pid <> pg_backend_pid()
        order by 1
        """,
        [live],
    )
    return "; ".join(
        f"pid {pid} ({user}, {app or 'no application name'}, {state}, transaction since {since:%Y-%m-%d %H:%M:%S %Z})"
        for pid, user, app, state, since in cur.fetchall()
    ) or "none seen now"


def _swap(pg: Any, work: str, live: str) -> None:
    """Rename work to live and drop the old tables, in one transaction, never waiting on a lock.

    Every live table is locked ACCESS EXCLUSIVE NOWAIT first: when a reader holds one, the
    transaction is rolled back at once and tried again SWAP_RETRY_PAUSE_SECONDS later, until
    SWAP_WAIT_SECONDS. Why never wait: a swap that waits for one table while holding another
    can deadlock with a reader that holds the first and asks for the second (PostgreSQL would
    then cancel one of the two, possibly the dashboard's query), and a waiting ACCESS EXCLUSIVE
    request queues every new reader behind it. Holding all of them before renaming also means
    that a query that starts during the swap waits a few milliseconds, then reads only new
    tables: never the old one for a table and the new one for another.
    """
    from psycopg2 import errors

    old = f"{live}_old"
    deadline = time.monotonic() + SWAP_WAIT_SECONDS
    attempts = 0
    while True:
        attempts += 1
        try:
            with pg, pg.cursor() as cur:
                cur.execute(
                    "select quote_ident(n.nspname) || '.' || quote_ident(c.relname) from pg_class c "
                    "join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s and c.relkind in ('r', 'p') "
                    "order by c.relname",
                    [live],
                )
                live_tables = [r[0] for r in cur.fetchall()]
                cur.execute("select 1 from pg_namespace where nspname = %s", [live])
                if cur.fetchone():
                    dependents = _outside_dependents(cur, live)
                    if dependents:
                        raise PostgresPublishFailed(
                            f"views of other schemas read schema {live!r}: {', '.join(dependents)}; the "
                            "nightly swap would drop them. Build them in the BI tool (a Metabase model, "
                            "a Superset virtual dataset) or drop them; the previous night stays published"
                        )
                    if live_tables:
                        cur.execute(f"lock table {', '.join(live_tables)} in access exclusive mode nowait")
                    cur.execute(f"drop schema if exists {quote_ident(old)} cascade")
                    cur.execute(f"alter schema {quote_ident(live)} rename to {quote_ident(old)}")
                cur.execute(f"alter schema {quote_ident(work)} rename to {quote_ident(live)}")
                cur.execute(f"drop schema if exists {quote_ident(old)} cascade")
            if attempts > 1:
                log.info("schema %s swapped after %d attempts (readers held its tables)", live, attempts)
            return
        except (errors.LockNotAvailable, errors.DeadlockDetected):
            if time.monotonic() >= deadline:
                with pg, pg.cursor() as cur:
                    holders = _blockers(cur, live)
                raise PostgresPublishFailed(
                    f"schema {live!r}: readers kept its tables for {SWAP_WAIT_SECONDS:.0f} s ({attempts} attempts); "
                    f"holding them now: {holders}. The previous night stays published; rerun the task"
                ) from None
            time.sleep(SWAP_RETRY_PAUSE_SECONDS)


def publish_postgres(cfg: VigieConfig, day: dt.date) -> str | None:
    """Publish night ``day``'s BI contract to ``outputs.bi_postgres``; None when not configured.

    Returns ``postgresql://host:port/database`` and the schema, for the task's log. Idempotent:
    a rerun of the night publishes the same rows (only ``snapshot_info.published_at`` differs).
    Refuses (vigie.publish.PublishRefused) a night whose checks failed, like the DuckDB snapshot.
    """
    target = cfg.outputs.bi_postgres
    if target is None:
        return None
    from vigie.publish import PublishRefused, _checks_failed, open_warehouse_for_reading

    if _checks_failed(cfg, day):
        raise PublishRefused(f"the checks of night {day} failed: the previous PostgreSQL publication stays in place")
    warehouse = cfg.path(cfg.outputs.warehouse)
    if not warehouse.is_file():
        raise PublishRefused(f"warehouse {warehouse} does not exist: run the transform for {day} first")
    live, work = target.schema_name, f"{target.schema_name}_work"
    night = night_for_day(day, cfg.collectivite.timezone)
    published_at = dt.datetime.now(dt.UTC)

    with tempfile.TemporaryDirectory(prefix="vigie_pg_") as folder:
        con = open_warehouse_for_reading(warehouse)
        try:
            con.execute("set TimeZone = 'UTC'")  # timestamptz written as +00 in the CSV
            catalog = first_value(con.execute("select current_database()"))
            tables = contract_tables(con, catalog)
            if not any(t.doc_key[0] == "marts" for t in tables):
                raise PublishRefused(f"no table in schema marts of {warehouse}: run the transform for {day}")
            files = {t.pg_name: _export_csv(con, t, Path(folder)) for t in tables}
        finally:
            con.close()
        names = [t.pg_name for t in tables]
        info_row = (day, night.as_of_utc, published_at, names)

        pg = connect(target)
        try:
            with pg, pg.cursor() as cur:
                # one publication per schema at a time (two tries of the task, two nights)
                cur.execute("select pg_advisory_lock(hashtext(%s))", [f"vigie.publish_postgres:{live}"])
            try:
                _load_work_schema(pg, tables, files, work, live, info_row)
                _swap(pg, work, live)
            except BaseException:
                try:
                    with pg, pg.cursor() as cur:
                        cur.execute(f"drop schema if exists {quote_ident(work)} cascade")
                except Exception:  # the original error matters more
                    log.exception("could not drop %s after a failed publication", work)
                raise
            finally:
                with pg, pg.cursor() as cur:
                    cur.execute("select pg_advisory_unlock(hashtext(%s))", [f"vigie.publish_postgres:{live}"])
            where = f"postgresql://{pg.info.host}:{pg.info.port}/{pg.info.dbname}"
        finally:
            pg.close()
    log.info("BI tables of night %s published to %s schema %s (%d tables)", day, where, live, len(tables) + 1)
    return f"{where} schema {live}"
