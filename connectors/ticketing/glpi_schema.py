"""The part of GLPI's database that Vigie reads, with GLPI's own table and column names and types.

Two uses: :data:`REQUIRED_COLUMNS` is what the connector checks before reading (a GLPI version or
a replica that lacks one fails with the table and column named, instead of a SQL error), and
:func:`create_glpi_tables` creates these tables (GLPI 10.0 names and types, identifying columns
such as ``name``, ``content``, ``comment`` and ``alternative_email`` included, because real
databases have them and the connector must leave them behind) for the test fixtures; the demo
generator declares its own, wider tables (``vigie/demo/glpi_schema.py``). Both get GLPI's own
indexes from :func:`create_glpi_indexes`, so a night reads what it would on a real GLPI. GLPI's MySQL ``int unsigned`` / ``tinyint`` / ``timestamp`` / ``longtext`` become the
matching SQLAlchemy generic types; timestamps are naive, in the instance's zone (or UTC when
GLPI's time zones are enabled).
"""

from __future__ import annotations

from sqlalchemy import (
    TIMESTAMP,
    Column,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.engine import Connection, Engine

# Columns the connector selects, per table. Nothing else is ever read.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "glpi_tickets": (
        "id", "entities_id", "date", "date_creation", "date_mod", "solvedate", "closedate",
        "takeintoaccountdate", "status", "requesttypes_id", "itilcategories_id", "type",
        "waiting_duration", "takeintoaccount_delay_stat", "solve_delay_stat", "is_deleted",
    ),
    "glpi_groups_tickets": ("id", "tickets_id", "groups_id", "type"),
    "glpi_tickets_users": ("id", "tickets_id", "users_id", "type"),
    "glpi_itilfollowups": (
        "id", "itemtype", "items_id", "date", "users_id", "is_private", "requesttypes_id",
    ),
    "glpi_tickettasks": ("id", "tickets_id", "date", "users_id", "is_private"),
    "glpi_itilsolutions": ("id", "itemtype", "items_id", "date_creation", "users_id"),
    "glpi_ticketsatisfactions": (
        "id", "tickets_id", "type", "date_begin", "date_answered", "satisfaction",
    ),
    "glpi_logs": (
        "id", "itemtype", "items_id", "id_search_option", "old_value", "new_value", "date_mod",
    ),
}

# GLPI 10.0's own keys (install/mysql/glpi-empty.sql) on the columns the connector filters or
# joins on: (GLPI's key name, columns, unique). A real GLPI has these (and many more), so its
# night reads the window's rows, not the history; the fixtures and the demo mirror them. The
# index is named ``<table>_<GLPI's key name>``: SQLite and PostgreSQL name indexes per schema,
# and GLPI reuses ``date``, ``item``... on every table. GLPI has no key on the survey dates.
GLPI_KEYS: dict[str, tuple[tuple[str, tuple[str, ...], bool], ...]] = {
    "glpi_tickets": (
        ("date", ("date",), False),
        ("date_mod", ("date_mod",), False),
        ("entities_id", ("entities_id",), False),
        ("is_deleted", ("is_deleted",), False),
    ),
    "glpi_groups_tickets": (("unicity", ("tickets_id", "type", "groups_id"), True),),
    "glpi_tickets_users": (
        ("unicity", ("tickets_id", "type", "users_id", "alternative_email"), True),
    ),
    "glpi_itilfollowups": (("item", ("itemtype", "items_id"), False), ("date", ("date",), False)),
    "glpi_tickettasks": (("tickets_id", ("tickets_id",), False), ("date", ("date",), False)),
    "glpi_itilsolutions": (
        ("item", ("itemtype", "items_id"), False),
        ("date_creation", ("date_creation",), False),
    ),
    "glpi_ticketsatisfactions": (("tickets_id", ("tickets_id",), True),),
    "glpi_logs": (
        ("date_mod", ("date_mod",), False),
        ("item", ("itemtype", "items_id"), False),
        ("id_search_option", ("id_search_option",), False),
    ),
}

# The timestamps the night's window compares (``_Reader._ticket_active`` in glpi.py). On
# SQLite, where GLPI's timestamps are text, the connector compares ``datetime(col)``, which an
# index on ``col`` cannot serve: SQLite gets an index on that very expression
# (``<table>_datetime_<col>``; SQLite allows date functions without 'now' in one).
WINDOW_TIMESTAMPS: dict[str, tuple[str, ...]] = {
    "glpi_tickets": ("date", "date_mod"),
    "glpi_itilfollowups": ("date",),
    "glpi_tickettasks": ("date",),
    "glpi_itilsolutions": ("date_creation",),
    "glpi_ticketsatisfactions": ("date_begin", "date_answered"),
    "glpi_logs": ("date_mod",),
}

# GLPI constants used by the connector and the fixtures.
STATUS_NEW, STATUS_ASSIGNED, STATUS_PLANNED, STATUS_WAITING, STATUS_SOLVED, STATUS_CLOSED = range(1, 7)
ACTOR_REQUESTER, ACTOR_ASSIGNED, ACTOR_OBSERVER = 1, 2, 3
SEARCH_OPTION_STATUS = 12


def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _fk(name: str) -> Column:
    return Column(name, Integer, nullable=False, default=0)


def _ts(name: str) -> Column:
    return Column(name, TIMESTAMP, nullable=True)


def glpi_indexes(md: MetaData, dialect: str) -> list[Index]:
    """:data:`GLPI_KEYS` and, on SQLite only, the :data:`WINDOW_TIMESTAMPS` expression indexes
    for the GLPI tables of ``md``, in a fixed order: the order they are created in decides a
    SQLite file's bytes, and the demo's must not vary (a table's own index set does)."""
    indexes = []
    for name, keys in GLPI_KEYS.items():
        table = md.tables[name]
        for key, columns, unique in keys:
            indexes.append(Index(f"{name}_{key}", *(table.c[c] for c in columns), unique=unique))
    if dialect == "sqlite":
        for name, columns in WINDOW_TIMESTAMPS.items():
            table = md.tables[name]
            for c in columns:
                indexes.append(Index(f"{name}_datetime_{c}", func.datetime(table.c[c])))
    return indexes


def create_glpi_indexes(bind: Engine | Connection, md: MetaData) -> None:
    """Create :func:`glpi_indexes` on tables already created (after their rows: faster)."""
    for index in glpi_indexes(md, bind.dialect.name):
        index.create(bind)


def glpi_metadata() -> MetaData:
    """GLPI 10.0 definitions of the tables Vigie reads (columns Vigie ignores included); their
    indexes come from :func:`create_glpi_indexes`."""
    md = MetaData()
    Table(
        "glpi_tickets", md, _id(), _fk("entities_id"), Column("name", String(255)), _ts("date"),
        _ts("closedate"), _ts("solvedate"), _ts("takeintoaccountdate"), _ts("date_mod"),
        _fk("users_id_lastupdater"), Column("status", Integer, nullable=False, default=1),
        _fk("users_id_recipient"), _fk("requesttypes_id"), Column("content", Text),
        Column("urgency", Integer, nullable=False, default=1),
        Column("impact", Integer, nullable=False, default=1),
        Column("priority", Integer, nullable=False, default=1), _fk("itilcategories_id"),
        Column("type", Integer, nullable=False, default=1), _ts("time_to_resolve"),
        _ts("time_to_own"), _ts("internal_time_to_resolve"), _ts("internal_time_to_own"),
        Column("waiting_duration", Integer, nullable=False, default=0),
        Column("close_delay_stat", Integer, nullable=False, default=0),
        Column("solve_delay_stat", Integer, nullable=False, default=0),
        Column("takeintoaccount_delay_stat", Integer, nullable=False, default=0),
        Column("actiontime", Integer, nullable=False, default=0),
        Column("is_deleted", SmallInteger, nullable=False, default=0), _fk("locations_id"),
        _ts("date_creation"),
    )
    Table(
        "glpi_groups_tickets", md, _id(), _fk("tickets_id"), _fk("groups_id"),
        Column("type", Integer, nullable=False, default=1),
    )
    Table(
        "glpi_tickets_users", md, _id(), _fk("tickets_id"), _fk("users_id"),
        Column("type", Integer, nullable=False, default=1),
        Column("use_notification", SmallInteger, nullable=False, default=1),
        Column("alternative_email", String(255)),
    )
    Table(
        "glpi_itilfollowups", md, _id(), Column("itemtype", String(100), nullable=False),
        _fk("items_id"), _ts("date"), _fk("users_id"), _fk("users_id_editor"),
        Column("content", Text), Column("is_private", SmallInteger, nullable=False, default=0),
        _fk("requesttypes_id"), _ts("date_mod"), _ts("date_creation"),
        Column("timeline_position", SmallInteger, nullable=False, default=0),
    )
    Table(
        "glpi_tickettasks", md, _id(), Column("uuid", String(255)), _fk("tickets_id"),
        _fk("taskcategories_id"), _ts("date"), _fk("users_id"), _fk("users_id_editor"),
        Column("content", Text), Column("is_private", SmallInteger, nullable=False, default=0),
        Column("actiontime", Integer, nullable=False, default=0), _ts("begin"), _ts("end"),
        Column("state", Integer, nullable=False, default=1), _fk("users_id_tech"),
        _fk("groups_id_tech"), _ts("date_mod"), _ts("date_creation"),
    )
    Table(
        "glpi_itilsolutions", md, _id(), Column("itemtype", String(100), nullable=False),
        _fk("items_id"), _fk("solutiontypes_id"), Column("solutiontype_name", String(255)),
        Column("content", Text), _ts("date_creation"), _ts("date_mod"), _ts("date_approval"),
        _fk("users_id"), Column("user_name", String(255)), _fk("users_id_editor"),
        _fk("users_id_approval"), Column("user_name_approval", String(255)),
        Column("status", Integer, nullable=False, default=1), Column("itilfollowups_id", Integer),
    )
    Table(
        "glpi_ticketsatisfactions", md, _id(), _fk("tickets_id"),
        Column("type", Integer, nullable=False, default=1), _ts("date_begin"),
        _ts("date_answered"), Column("satisfaction", Integer), Column("comment", Text),
    )
    Table(
        "glpi_logs", md, _id(), Column("itemtype", String(100), nullable=False, default=""),
        _fk("items_id"), Column("itemtype_link", String(100), nullable=False, default=""),
        Column("linked_action", Integer, nullable=False, default=0),
        Column("user_name", String(255)), _ts("date_mod"),
        Column("id_search_option", Integer, nullable=False, default=0),
        Column("old_value", String(255)), Column("new_value", String(255)),
    )
    return md


def create_glpi_tables(engine: Engine) -> MetaData:
    """Create the tables of :func:`glpi_metadata` and their indexes (fixtures); returns the
    metadata."""
    md = glpi_metadata()
    md.create_all(engine)
    create_glpi_indexes(engine, md)
    return md
