"""Table and column descriptions of the BI contract, for ``COMMENT ON`` in every publication.

Why from the dbt YAML: the YAML beside each mart is where every column is defined (and what
``dbt docs`` shows); writing the same text as comments into the DuckDB snapshot and the
PostgreSQL schema gives an analyst in Metabase, Superset or DBeaver the definitions without
reading the code, and one text to maintain. The YAML files are read directly rather than dbt's
``manifest.json`` because the YAML ships with the code and is always there, while a manifest
exists only after a dbt invocation in the same run directory (and would be stale after an
upgrade until the next build).

The two tables that dbt does not build are described here: ``history.service_indicators``
(the columns of ``marts.service_indicators`` plus ``recorded_on``, vigie/transform.py) and
``main.snapshot_info`` (vigie/publish.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from vigie.transform import DBT_PROJECT_DIR

if TYPE_CHECKING:
    import duckdb  # imported lazily at run time

MARTS_DIR = Path("models") / "marts"
# libyaml's loader when PyYAML has it: the marts' YAML read at every publication cost about
# 0.1-0.2 s a night with the pure-Python loader, a tenth of that with libyaml; same data.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class TableDoc:
    """The comment of one table and of its columns (column name -> text)."""

    description: str
    columns: dict[str, str] = field(default_factory=dict)


def _clean(text: object) -> str:
    """One line, single spaces: YAML folded blocks keep a trailing newline and indentation."""
    return re.sub(r"\s+", " ", str(text or "")).strip()


def mart_docs(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, TableDoc]:
    """Descriptions of every model in ``models/marts`` (model name -> TableDoc)."""
    docs: dict[str, TableDoc] = {}
    for path in sorted((project_dir / MARTS_DIR).glob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
        for model in data.get("models") or []:
            columns = {
                c["name"]: _clean(c.get("description"))
                for c in model.get("columns") or []
                if c.get("description")
            }
            docs[model["name"]] = TableDoc(_clean(model.get("description")), columns)
    return docs


HISTORY_DESCRIPTION = (
    "Every final row of marts.service_indicators as recorded night after night, kept after the "
    "landed batches behind it are purged (retention.landed_days): the indicator history a "
    "quality manager shows at audits. Same columns as marts.service_indicators, plus is_recovery "
    "and recorded_on."
)
IS_RECOVERY = (
    "compliance_rate rows: this final, complete period directly follows a breached one of the same grain "
    "and is back at or above the threshold on at least min_volume requests (the alert rules' 'de nouveau "
    "dans l'engagement', intermediate.int_alert_candidates); null for rows recorded before it was kept."
)
RECORDED_ON = "The night that last wrote this row (a later night that still computes it final rewrites it)."
SNAPSHOT_INFO = TableDoc(
    "One row: which night these tables hold, and when they were published.",
    {
        "night": "The night's day (local date) the tables were computed for.",
        "as_of": "Instant the statuses were evaluated at: 00:00 local after the night's day (UTC).",
        "published_at": "When this publication was written (UTC).",
        "tables": "The tables published, schema-qualified when outside marts.",
    },
)


def contract_docs(project_dir: Path = DBT_PROJECT_DIR) -> dict[tuple[str, str], TableDoc]:
    """(schema, table) -> TableDoc for every table a publication may hold."""
    marts = mart_docs(project_dir)
    docs = {("marts", name): doc for name, doc in marts.items()}
    indicators = marts.get("service_indicators", TableDoc(""))
    docs[("history", "service_indicators")] = TableDoc(
        HISTORY_DESCRIPTION, {**indicators.columns, "is_recovery": IS_RECOVERY, "recorded_on": RECORDED_ON}
    )
    exclusions = marts.get("exclusion_reasons", TableDoc(""))
    docs[("history", "exclusion_reasons")] = TableDoc(
        "Every final row of marts.exclusion_reasons as recorded night after night (excluded requests "
        "per period, service, channel and reason), kept after the retention purge. Same columns, plus "
        "recorded_on.", {**exclusions.columns, "recorded_on": RECORDED_ON}
    )
    commitments = marts.get("commitments", TableDoc(""))
    docs[("history", "commitment_versions")] = TableDoc(
        "Every description of a commitment version marts.commitments gave on some night, with the first "
        "and last nights that saw it: what was promised when, kept whatever the configuration says later. "
        "Same columns as marts.commitments but is_in_force.",
        {**{k: v for k, v in commitments.columns.items() if k != "is_in_force"},
         "first_recorded_on": "The first night that recorded this exact description of the version.",
         "last_recorded_on": "The last night that recorded this exact description of the version."},
    )
    docs[("main", "snapshot_info")] = SNAPSHOT_INFO
    return docs


def sql_literal(text: str) -> str:
    """A SQL string literal (the same quoting in DuckDB and PostgreSQL with standard strings)."""
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def comment_statements(
    qualified: str, doc: TableDoc | None, columns: list[str]
) -> list[str]:
    """``COMMENT ON TABLE/COLUMN`` statements for table ``qualified`` (already quoted)."""
    if doc is None:
        return []
    out = []
    if doc.description:
        out.append(f"comment on table {qualified} is {sql_literal(doc.description)}")
    for column in columns:
        text = doc.columns.get(column)
        if text:
            out.append(f"comment on column {qualified}.{quote_ident(column)} is {sql_literal(text)}")
    return out


def comment_duckdb_tables(con: duckdb.DuckDBPyConnection, database: str) -> int:
    """Write the contract's comments on every table of attached DuckDB ``database``.

    Returns the number of COMMENT statements run (tables and columns). A table the contract
    does not describe is left without comment rather than refused: the snapshot copies every
    mart, and a mart added without YAML fails dbt's own checks, not the publication.
    """
    docs = contract_docs()
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? order by 1, 2",
        [database],
    ).fetchall()
    columns_of: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() where database_name = ? "
        "order by schema_name, table_name, column_index",
        [database],
    ).fetchall():
        columns_of.setdefault((schema, table), []).append(column)
    statements = []
    for schema, table in tables:
        qualified = ".".join(quote_ident(p) for p in (database, schema, table))
        statements += comment_statements(
            qualified, docs.get((schema, table)), columns_of.get((schema, table), [])
        )
    # One statement string: DuckDB runs them in order, in the caller's transaction when it has
    # one (vigie.publish: the whole snapshot is one), and parses them once.
    if statements:
        con.execute(";\n".join(statements))
    return len(statements)
