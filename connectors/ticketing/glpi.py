"""Read one night of a GLPI database (read-only SQL) into the ``glpi_*`` landing tables.

Why SQL rather than the REST API: a read-only replica gives every table in one consistent pass,
and GLPI's REST search hides columns (``takeintoaccountdate``, delay stats) behind display
options (source-formats.md §5).

Which rows a night's batch holds (DECISIONLOG.md, "GLPI interval"):
GLPI tables hold the *current* state of each ticket, so a batch is a snapshot of the tickets
active in the window W = [D - overlap_days 00:00, D+1 00:00) (the collectivité's local
midnights, expressed on GLPI's clock). A ticket is active in W when any of these is in W:

- its ``date_mod`` (the nightly case: every change moves it);
- its opening ``date``;
- the date of one of the rows the batch lands with it: a follow-up or task ``date``, a solution
  ``date_creation``, a status change (``glpi_logs.date_mod``), a survey ``date_begin`` or
  ``date_answered``.

The last two arms are for backfills: nights replayed from a database already in its final state
(first install, the demo) would otherwise land a ticket opened on 9 Nov and last touched on
20 Nov only on 20-21 Nov, so nights 9-19 would neither count it nor see its 12 Nov answer.
For each non-deleted ticket landed, the batch holds its actors, groups, and the follow-ups,
tasks, solutions, surveys and status changes dated before D+1 00:00. The ticket row itself is
the current one (a later ``solvedate``, ``status``, ``date_mod``); the models ignore any instant
at or after the night's as-of, and keep the latest landed version (batch day <= night).
A deleted ticket is landed too (``is_deleted`` = 1, without children): GLPI's trash updates
``date_mod``, so that batch is how the warehouse learns that an earlier-landed ticket left scope.

Nothing identifying is read: no ``name``, ``content``, ``comment``, ``alternative_email`` or
``user_name`` column is selected; users are landed as ``pseudo.key('glpi_user',
'<source_id>:<users_id>')`` (``users_id`` 0, GLPI's "no user", lands as null).
Naive timestamps are read in ``source.timezone`` and landed in UTC.
"""

from __future__ import annotations

import datetime as dt
import warnings
import zoneinfo
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from sqlalchemy import (
    ColumnElement,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    func,
    inspect,
    literal,
    or_,
    select,
    type_coerce,
    union,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SAWarning, SQLAlchemyError

from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult
from connectors.landing_schemas import TABLES_BY_SOURCE_TYPE
from connectors.pseudonymise import Pseudonymiser
from connectors.sql_engine import engine_for
from connectors.ticketing.glpi_schema import REQUIRED_COLUMNS, SEARCH_OPTION_STATUS
from vigie.config import GlpiSqlSource, VigieConfig
from vigie.intervals import NightInterval

SCHEMAS = TABLES_BY_SOURCE_TYPE["glpi_sql"]


class GlpiSchemaError(SourceUnavailable):
    """The GLPI database lacks a table or column Vigie reads; the message names it."""


# -- engine --------------------------------------------------------------------------------
def make_engine(cfg: VigieConfig, source: GlpiSqlSource) -> Engine:
    """A read-only engine: a SQLite file opened with mode=ro, or the Airflow connection."""
    if source.path is not None:
        path = cfg.path(source.path)
        if not path.is_file():
            raise SourceUnavailable(
                f"glpi source {source.id!r}: SQLite file {path} does not exist "
                f"(sources[{source.id}].path = {source.path!r})"
            )
        return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert source.connection_id is not None
    return engine_for(
        source.id, source.connection_id, expected="GLPI runs on MySQL/MariaDB", label="glpi source"
    )


def reflect_tables(engine: Engine, source_id: str) -> dict[str, Table]:
    """Reflect only the tables read; a missing table or column fails with its name."""
    try:
        insp = inspect(engine)
        present = set(insp.get_table_names())
    except SQLAlchemyError as exc:
        raise SourceUnavailable(
            f"glpi source {source_id!r}: cannot reach the database ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]})"
        ) from None
    missing_tables = [t for t in REQUIRED_COLUMNS if t not in present]
    if missing_tables:
        raise GlpiSchemaError(
            f"glpi source {source_id!r}: table(s) {missing_tables} not found in the GLPI "
            "database; Vigie reads " + ", ".join(REQUIRED_COLUMNS)
        )
    md = MetaData()
    tables: dict[str, Table] = {}
    problems: list[str] = []
    for name, columns in REQUIRED_COLUMNS.items():
        with warnings.catch_warnings():
            # SQLite copies indexed like the demo's have indexes on datetime(col), which
            # SQLAlchemy cannot reflect; only the columns are needed here.
            warnings.filterwarnings(
                "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
            )
            table = Table(name, md, autoload_with=engine)
        absent = [c for c in columns if c not in table.c]
        if absent:
            problems.append(f"{name}: column(s) {absent} missing")
        tables[name] = table
    if problems:
        raise GlpiSchemaError(
            f"glpi source {source_id!r}: the GLPI schema lacks columns Vigie reads: "
            + "; ".join(problems)
            + " (connectors/ticketing/glpi_schema.py lists them; GLPI 10.0 has them all)"
        )
    return tables


# -- time ----------------------------------------------------------------------------------
def glpi_window(
    night: NightInterval, overlap_days: int, glpi_tz: zoneinfo.ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """[D - overlap_days 00:00, D+1 00:00) local, as naive datetimes on GLPI's clock."""
    lower = dt.datetime.combine(
        night.day - dt.timedelta(days=overlap_days), dt.time(0), tzinfo=night.tz
    )
    return (
        lower.astimezone(glpi_tz).replace(tzinfo=None),
        night.end.astimezone(glpi_tz).replace(tzinfo=None),
    )


class _Clock:
    """Naive GLPI timestamps to aware UTC instants; counts values that are not dates."""

    def __init__(self, tz: zoneinfo.ZoneInfo) -> None:
        self.tz = tz
        self.invalid: dict[str, int] = {}

    def __call__(self, value: Any, where: str) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            text = value.strip()
            if not text or text.startswith("0000-00-00"):  # MySQL zero date = no date
                return None
            try:
                value = dt.datetime.fromisoformat(text)
            except ValueError:
                self.invalid[where] = self.invalid.get(where, 0) + 1
                return None
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time(0))
        if not isinstance(value, dt.datetime):
            self.invalid[where] = self.invalid.get(where, 0) + 1
            return None
        if value.tzinfo is None:
            # fold=0: an ambiguous wall time of the autumn change is read as the first one.
            value = value.replace(tzinfo=self.tz)
        return value.astimezone(dt.UTC)


# -- reading -------------------------------------------------------------------------------
def read_interval(
    cfg: VigieConfig, source: GlpiSqlSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    """The tickets active in the night's window (module docstring) and their child rows,
    pseudonymised."""
    glpi_tz = zoneinfo.ZoneInfo(source.timezone)
    lower, upper = glpi_window(night, source.overlap_days, glpi_tz)
    engine = make_engine(cfg, source)
    try:
        tables = reflect_tables(engine, source.id)
        reader = _Reader(engine, tables, source, pseudo, _Clock(glpi_tz), lower, upper)
        with engine.connect() as conn:
            landed = reader.read_all(conn)
    except SQLAlchemyError as exc:
        raise SourceUnavailable(
            f"glpi source {source.id!r}: query failed ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]})"
        ) from None
    finally:
        engine.dispose()
    deleted = sum(1 for v in landed["glpi_tickets"].column("is_deleted").to_pylist() if v)
    meta = {
        "glpi_timezone": source.timezone,
        "window_glpi_local": [lower.isoformat(sep=" "), upper.isoformat(sep=" ")],
        "window_utc": [
            lower.replace(tzinfo=glpi_tz).astimezone(dt.UTC).isoformat(),
            upper.replace(tzinfo=glpi_tz).astimezone(dt.UTC).isoformat(),
        ],
        "overlap_days": source.overlap_days,
        "entities": source.entities,
        "tickets_deleted": deleted,
        "invalid_timestamps": dict(sorted(reader.clock.invalid.items())),
        "rows": {name: t.num_rows for name, t in landed.items()},
    }
    return ExtractResult(tables=landed, rejects=[], meta=meta)


class _Reader:
    def __init__(
        self,
        engine: Engine,
        tables: dict[str, Table],
        source: GlpiSqlSource,
        pseudo: Pseudonymiser,
        clock: _Clock,
        lower: dt.datetime,
        upper: dt.datetime,
    ) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        self.t = tables
        self.source = source
        self.pseudo = pseudo
        self.clock = clock
        self.lower = lower
        self.upper = upper
        self._user_keys: dict[int, str | None] = {}

    # SQLite stores GLPI timestamps as text ('2026-11-16 10:00:00', sometimes with '.000000'
    # or a 'T'): compare datetime(col) with 'YYYY-MM-DD HH:MM:SS' so every spelling compares
    # right at the bounds, and read the raw text (parsed by _Clock) rather than trusting
    # SQLAlchemy's SQLite datetime parser, which raises on the 'T' spelling.
    def _cmp_col(self, col: Any) -> Any:
        return func.datetime(col) if self.sqlite else col

    def _bound(self, value: dt.datetime) -> Any:
        if self.sqlite:
            return literal(value.strftime("%Y-%m-%d %H:%M:%S"), String)
        return literal(value)

    def _out_col(self, col: Any) -> Any:
        return type_coerce(col, String).label(col.name) if self.sqlite else col

    def _before_upper(self, col: Any) -> ColumnElement[bool]:
        return self._cmp_col(col) < self._bound(self.upper)

    def _in_window(self, col: Any) -> ColumnElement[bool]:
        return and_(
            self._cmp_col(col) >= self._bound(self.lower),
            self._cmp_col(col) < self._bound(self.upper),
        )

    def _ticket_active(self, tk: Table) -> ColumnElement[bool]:
        """The tickets a batch lands: changed, opened, or with a landed child row in the window.

        On a live instance ``date_mod`` alone would do (each change moves it). The other arms
        are for backfills from a database in its final state, where ``date_mod`` is the last
        change only: they land the ticket on the nights it was opened and answered, so night
        D's marts count it and see its answers before D+1 00:00 (later ones are cut here, later
        instants in the ticket row are ignored by the models).

        Written as ``id IN (arm UNION arm ...)``, each arm one range on one date, rather than
        ``arm OR arm ...``: the same tickets, but each arm is a search on its own date index
        (GLPI's keys; ``datetime(col)`` on SQLite), whereas SQLite's planner weighs an OR of
        seven arms against a scan of every ticket and, on some histories, scans.
        """
        t = self.t
        fu, ta, so = t["glpi_itilfollowups"], t["glpi_tickettasks"], t["glpi_itilsolutions"]
        sa, lg = t["glpi_ticketsatisfactions"], t["glpi_logs"]
        tk_arm = tk.alias("active")  # not correlated with the ticket query around it
        arms = union(
            select(tk_arm.c.id).where(self._in_window(tk_arm.c.date_mod)),
            select(tk_arm.c.id).where(self._in_window(tk_arm.c.date)),
            select(fu.c.items_id).where(fu.c.itemtype == "Ticket", self._in_window(fu.c.date)),
            select(ta.c.tickets_id).where(self._in_window(ta.c.date)),
            select(so.c.items_id).where(
                so.c.itemtype == "Ticket", self._in_window(so.c.date_creation)
            ),
            select(lg.c.items_id).where(
                lg.c.itemtype == "Ticket",
                lg.c.id_search_option == SEARCH_OPTION_STATUS,
                self._in_window(lg.c.date_mod),
            ),
            select(sa.c.tickets_id).where(self._in_window(sa.c.date_begin)),
            select(sa.c.tickets_id).where(self._in_window(sa.c.date_answered)),
        )
        # IN (SELECT id FROM (the union)) rather than IN (the union): MariaDB can then run it
        # as a semi-join on the materialised union instead of probing the union per ticket.
        union_ids = arms.subquery("active_ids")
        active = tk.c.id.in_(select(union_ids.c.id))
        if self.source.entities is None:
            return active
        # Only the collectivité's entities: another commune's tickets on a shared instance are
        # never read (data minimisation), not even as tombstones.
        return and_(tk.c.entities_id.in_(self.source.entities), active)

    def users_key(self, users_id: Any) -> str | None:
        if users_id is None or int(users_id) == 0:
            return None
        uid = int(users_id)
        if uid not in self._user_keys:
            self._user_keys[uid] = self.pseudo.key("glpi_user", f"{self.source.id}:{uid}")
        return self._user_keys[uid]

    def _fetch(
        self,
        conn: Any,
        name: str,
        where: ColumnElement[bool],
        timestamps: tuple[str, ...],
        convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> pa.Table:
        table = self.t[name]
        schema = SCHEMAS[name]
        columns = REQUIRED_COLUMNS[name]
        selected = [self._out_col(table.c[c]) if c in timestamps else table.c[c] for c in columns]
        stmt = select(*selected).where(where).order_by(table.c.id)
        rows = []
        for rec in conn.execute(stmt).mappings():
            row = dict(rec)
            for c in timestamps:
                row[c] = self.clock(row[c], f"{name}.{c}")
            if convert is not None:
                row = convert(row)
            row["source_id"] = self.source.id
            rows.append(row)
        return pa.Table.from_pylist(rows, schema=schema)

    def _with_users_key(self, row: dict[str, Any]) -> dict[str, Any]:
        row["users_key"] = self.users_key(row.pop("users_id"))
        return row

    def read_all(self, conn: Any) -> dict[str, pa.Table]:
        t = self.t
        tk = t["glpi_tickets"]
        window = self._ticket_active(tk)
        live_ids = select(tk.c.id).where(window, tk.c.is_deleted == 0).scalar_subquery()
        out: dict[str, pa.Table] = {}
        out["glpi_tickets"] = self._fetch(
            conn,
            "glpi_tickets",
            window,
            ("date", "date_creation", "date_mod", "solvedate", "closedate", "takeintoaccountdate"),
        )
        gt = t["glpi_groups_tickets"]
        out["glpi_groups_tickets"] = self._fetch(
            conn, "glpi_groups_tickets", gt.c.tickets_id.in_(live_ids), ()
        )
        tu = t["glpi_tickets_users"]
        out["glpi_tickets_users"] = self._fetch(
            conn, "glpi_tickets_users", tu.c.tickets_id.in_(live_ids), (), self._with_users_key
        )
        fu = t["glpi_itilfollowups"]
        out["glpi_itilfollowups"] = self._fetch(
            conn,
            "glpi_itilfollowups",
            and_(fu.c.itemtype == "Ticket", fu.c.items_id.in_(live_ids), self._before_upper(fu.c.date)),
            ("date",),
            self._with_users_key,
        )
        ta = t["glpi_tickettasks"]
        out["glpi_tickettasks"] = self._fetch(
            conn,
            "glpi_tickettasks",
            and_(ta.c.tickets_id.in_(live_ids), self._before_upper(ta.c.date)),
            ("date",),
            self._with_users_key,
        )
        so = t["glpi_itilsolutions"]
        out["glpi_itilsolutions"] = self._fetch(
            conn,
            "glpi_itilsolutions",
            and_(
                so.c.itemtype == "Ticket",
                so.c.items_id.in_(live_ids),
                self._before_upper(so.c.date_creation),
            ),
            ("date_creation",),
            self._with_users_key,
        )
        sa = t["glpi_ticketsatisfactions"]
        out["glpi_ticketsatisfactions"] = self._fetch(
            conn,
            "glpi_ticketsatisfactions",
            and_(
                sa.c.tickets_id.in_(live_ids),
                or_(sa.c.date_begin.is_(None), self._before_upper(sa.c.date_begin)),
            ),
            ("date_begin", "date_answered"),
        )
        lg = t["glpi_logs"]
        out["glpi_logs"] = self._fetch(
            conn,
            "glpi_logs",
            and_(
                lg.c.itemtype == "Ticket",
                lg.c.items_id.in_(live_ids),
                lg.c.id_search_option == SEARCH_OPTION_STATUS,
                self._before_upper(lg.c.date_mod),
            ),
            ("date_mod",),
            _values_as_text,
        )
        return out


def _values_as_text(row: dict[str, Any]) -> dict[str, Any]:
    for c in ("old_value", "new_value"):
        if row[c] is not None:
            row[c] = str(row[c])
    return row

