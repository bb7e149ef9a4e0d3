"""The registry of source types: each type declared once, everything else derived from it.

A source type is its configuration model (``vigie.config``: the keys a site writes, with the
``type`` literal that names it), its family (which extract DAG lands it, which landing asset it
announces), its connector module (``connectors.connector.Connector``: reads one night), the
tables it lands (their Arrow schemas: ``connectors.landing_schemas``) and whether it also lands
when a file is dropped (an asset watcher, not only at 02:00). Modelled on a Singer tap's stream
catalogue, where a stream is declared once with its keys, schema and tables together.

Derived from here, never written again: the extract dispatch (``connectors.extract``), the
landed tables per type (``connectors.landing_schemas.TABLES_BY_SOURCE_TYPE``), the DAG families
and dropped-export sources (``vigie.airflow_dags``). ``tests/config/test_source_types.py`` fails
when a type is declared in one place and not the others: the configuration's discriminated
union, this registry, the connector modules, the schemas, the dbt completeness models and
docs/configuration.md.

Adding a type: its model in ``vigie.config`` (and in the ``Source`` union), one entry below, its
connector module, its tables' schemas if new, its section in docs/configuration.md.

This module imports only ``vigie.config`` (pydantic, yaml) so DAG files may use it at parse time.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from vigie.config import (
    AsteriskCdrCsvSource,
    AsteriskCdrSqlSource,
    AsteriskQueueLogSource,
    AsteriskQueueLogSqlSource,
    GlpiSqlSource,
    ImapSource,
    MaildirSource,
    MboxSource,
    RequestRegisterSource,
    SatisfactionSurveySource,
    SourceModel,
    WazoCdrSource,
    source_type_name,
)

Family = Literal["telephony", "email", "ticketing"]
FAMILY_NAMES: tuple[Family, ...] = typing.get_args(Family)


@dataclass(frozen=True)
class SourceType:
    """One source type. ``name`` is the ``type:`` a configuration writes (the model's literal)."""

    model: type[SourceModel]
    family: Family
    connector: str  # module implementing connectors.connector.Connector, imported when it runs
    tables: tuple[str, ...]  # landed tables; the first is the one whose volume follows activity
    lands_when_dropped: bool = False  # also landed by vigie_extract_dropped_exports

    @property
    def name(self) -> str:
        return source_type_name(self.model)


REGISTRY: tuple[SourceType, ...] = (
    SourceType(
        AsteriskQueueLogSource, "telephony", "connectors.telephony.asterisk_queue_log",
        ("queue_log_events",),
    ),
    SourceType(
        AsteriskQueueLogSqlSource, "telephony", "connectors.telephony.asterisk_queue_log_sql",
        ("queue_log_events",),
    ),
    SourceType(AsteriskCdrCsvSource, "telephony", "connectors.telephony.asterisk_cdr_csv", ("cdr_legs",)),
    SourceType(AsteriskCdrSqlSource, "telephony", "connectors.telephony.asterisk_cdr_sql", ("cdr_legs",)),
    SourceType(WazoCdrSource, "telephony", "connectors.telephony.wazo_cdr", ("cdr_legs",)),
    SourceType(MaildirSource, "email", "connectors.email.maildir", ("email_messages",)),
    SourceType(ImapSource, "email", "connectors.email.imap", ("email_messages",)),
    SourceType(MboxSource, "email", "connectors.email.mbox", ("email_messages",)),
    SourceType(
        GlpiSqlSource, "ticketing", "connectors.ticketing.glpi",
        (
            "glpi_tickets",
            "glpi_groups_tickets",
            "glpi_tickets_users",
            "glpi_itilfollowups",
            "glpi_tickettasks",
            "glpi_itilsolutions",
            "glpi_ticketsatisfactions",
            "glpi_logs",
        ),
    ),
    SourceType(
        RequestRegisterSource, "ticketing", "connectors.registers.request_register",
        ("register_requests",), lands_when_dropped=True,
    ),
    SourceType(
        SatisfactionSurveySource, "ticketing", "connectors.registers.satisfaction_survey",
        ("survey_responses",), lands_when_dropped=True,
    ),
)
SOURCE_TYPES: dict[str, SourceType] = {t.name: t for t in REGISTRY}


def source_type(name: str) -> SourceType:
    """The registered type ``name``; a KeyError naming the known types otherwise."""
    try:
        return SOURCE_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown source type {name!r}; registered types: {sorted(SOURCE_TYPES)}") from None


def type_names(*, family: Family | None = None, lands_when_dropped: bool | None = None) -> tuple[str, ...]:
    """Names of the registered types, in registry order, optionally of one family or kind."""
    return tuple(
        t.name for t in REGISTRY
        if (family is None or t.family == family)
        and (lands_when_dropped is None or t.lands_when_dropped == lands_when_dropped)
    )


def families() -> dict[str, tuple[str, ...]]:
    """Family -> its type names (the extract DAGs, in FAMILY_NAMES order)."""
    return {f: type_names(family=f) for f in FAMILY_NAMES}


def markdown_table(types: Iterable[SourceType] = REGISTRY) -> str:
    """The summary table of docs/configuration.md's ``sources`` section, from the registry
    (``python -m vigie.source_types`` prints it; a test holds the docs to it)."""
    lines = [
        "| `type` | family (its extract DAG) | landed tables | also landed when its file is dropped |",
        "| --- | --- | --- | --- |",
    ]
    for t in types:
        tables = ", ".join(f"`{name}`" for name in t.tables)
        dropped = "yes (`vigie_extract_dropped_exports`)" if t.lands_when_dropped else "no"
        lines.append(f"| `{t.name}` | {t.family} (`vigie_extract_{t.family}`) | {tables} | {dropped} |")
    return "\n".join(lines)


def tables_markdown_table(types: Iterable[SourceType] = REGISTRY) -> str:
    """docs/landing.md's table: the types that land each set of tables, grouped
    (``python -m vigie.source_types tables`` prints it; a test holds the docs to it)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for t in types:
        groups.setdefault(t.tables, []).append(t.name)
    lines = ["| source types | tables |", "| --- | --- |"]
    for tables, names in groups.items():
        lines.append(f"| {', '.join(f'`{n}`' for n in names)} | {', '.join(f'`{t}`' for t in tables)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    table = tables_markdown_table() if sys.argv[1:] == ["tables"] else markdown_table()
    sys.stdout.write(table + "\n")
