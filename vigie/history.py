"""The warehouse's ``history`` schema: what the year's record for audits reads after the purge.

Why tables outside dbt: the marts are rebuilt every night from what is landed, and landed
batches are purged after ``retention.landed_days`` (vigie/retention.py); the quality manager's
audits need the figures of the purged periods too. dbt never rebuilds these tables and nothing
purges them. Written by ``record_history`` after each successful ``dbt build``
(vigie/transform.py ``run_transform``), in one transaction:

- ``history.service_indicators``: the final rows of ``marts.service_indicators`` (rates,
  thresholds, breaches, volumes, completeness), plus ``is_recovery`` (the alert rules' "de
  nouveau dans l'engagement", read from ``intermediate.int_alert_candidates``: the rule keeps one
  definition, in dbt) and ``recorded_on``, the night that last wrote the row;
- ``history.exclusion_reasons``: the final rows of ``marts.exclusion_reasons`` (excluded
  requests per period, service, channel and reason), plus ``recorded_on``;
- ``history.commitment_versions``: every commitment version as ``marts.commitments`` described
  it on some night (``is_in_force`` left out: it depends on the night), with the first and last
  nights that saw that exact description, so a version edited in place stays visible.

Idempotent: a rerun of a night writes the same rows; for the versions, the first/last nights
are a min/max, so nights run in any order give the same table.

Period rows are replaced by every later night that still computes them final, except for
periods starting before ``history_frozen_before`` (their batches may be partly purged: they keep
what was recorded from complete batches). DECISIONLOG Part 6, "Retention of landed batches;
indicator history for audits".
"""

from __future__ import annotations

import datetime as dt

import duckdb

from vigie.config import VigieConfig
from vigie.sql_values import first_value

SCHEMA = "history"
INDICATORS = "history.service_indicators"
EXCLUSIONS = "history.exclusion_reasons"
VERSIONS = "history.commitment_versions"


def _exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(first_value(con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, name]
    )))


def _indicator_rows(con: duckdb.DuckDBPyConnection) -> str:
    """marts.service_indicators plus ``is_recovery``, as the alert rules decide it
    (int_alert_candidates, kind 'recovered'); null when the rules model is not built."""
    if not _exists(con, "intermediate.int_alert_candidates"):
        return "select *, cast(null as boolean) as is_recovery from marts.service_indicators"
    return """
        select i.*, i.indicator = 'compliance_rate' and r.period_start is not null as is_recovery
        from marts.service_indicators as i
        left join (
            select distinct commitment_id, service_code, channel, period_grain, period_start
            from intermediate.int_alert_candidates where kind = 'recovered'
        ) as r
            on r.commitment_id = i.commitment_id and r.service_code is not distinct from i.service_code
            and r.channel = i.channel and r.period_grain = i.period_grain and r.period_start = i.period_start
    """


INDICATOR_KEY = ("period_grain", "period_start", "service_code", "channel", "commitment_id", "indicator")
CELL_KEY = ("period_grain", "period_start", "service_code", "channel")
# The cells whose reasons a night rewrites: every final requests_excluded row (zero included),
# so a reason that disappeared from a rewritten cell leaves the history too.
EXCLUSION_CELLS = "select * from marts.service_indicators where indicator = 'requests_excluded'"


def record_periods(con: duckdb.DuckDBPyConnection, table: str, rows: str, cells: str,
                    key: tuple[str, ...], day: dt.date, frozen_before: dt.date | None) -> int:
    """Replace, in ``table``, the history rows of the final, unfrozen ``cells`` (matched on
    ``key``, null-safe) by the final, unfrozen ``rows`` of tonight's mart."""
    final = "where is_final and (cast(? as date) is null or period_start >= cast(? as date))"
    con.execute(f"create or replace temp table final_rows as select *, cast(? as date) as recorded_on "
                f"from ({rows}) {final}", [day, frozen_before, frozen_before])
    con.execute(f"create or replace temp table final_cells as select distinct {', '.join(key)} "
                f"from ({cells}) {final}", [frozen_before, frozen_before])
    con.execute(f"create table if not exists {table} as select * from final_rows where false")
    # A column added to the mart later is added here (null for rows recorded before it).
    have = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    for name, type_, *_ in con.execute("describe final_rows").fetchall():
        if name not in have:
            con.execute(f'alter table {table} add column "{name}" {type_}')
    match = " and ".join(f"h.{k} is not distinct from f.{k}" for k in key)
    con.execute(f"delete from {table} as h using final_cells as f where {match}")
    con.execute(f"insert into {table} by name select * from final_rows")
    written = int(first_value(con.execute("select count(*) from final_rows")))
    con.execute("drop table final_rows")
    con.execute("drop table final_cells")
    return written


def record_versions(con: duckdb.DuckDBPyConnection, day: dt.date) -> int:
    """Every version description seen tonight: new ones inserted, known ones' nights widened."""
    con.execute("create or replace temp table seen as select * exclude (is_in_force) from marts.commitments")
    con.execute(
        f"create table if not exists {VERSIONS} as select *, cast(null as date) as first_recorded_on, "
        "cast(null as date) as last_recorded_on from seen where false"
    )
    cols = [r[0] for r in con.execute("describe seen").fetchall()]
    match = " and ".join(f'h."{c}" is not distinct from s."{c}"' for c in cols)
    con.execute(
        f"update {VERSIONS} as h set first_recorded_on = least(h.first_recorded_on, cast(? as date)), "
        f"last_recorded_on = greatest(h.last_recorded_on, cast(? as date)) from seen as s where {match}",
        [day, day],
    )
    con.execute(
        f"insert into {VERSIONS} by name select s.*, cast(? as date) as first_recorded_on, "
        f"cast(? as date) as last_recorded_on from seen as s "
        f"where not exists (select 1 from {VERSIONS} as h where {match})",
        [day, day],
    )
    seen = int(first_value(con.execute("select count(*) from seen")))
    con.execute("drop table seen")
    return seen


def record_history(cfg: VigieConfig, day: dt.date) -> dict[str, int]:
    """Record night ``day``'s final period rows and commitment versions in the history schema.

    Returns the rows written (or versions seen) per history table.
    """
    from vigie.retention import history_frozen_before
    from vigie.warehouse_config import warehouse_path

    frozen_before = history_frozen_before(cfg, day)
    con = duckdb.connect(str(warehouse_path(cfg)))
    written: dict[str, int] = {}
    try:
        con.execute("begin")
        con.execute(f"create schema if not exists {SCHEMA}")
        rows = _indicator_rows(con)
        written[INDICATORS] = record_periods(con, INDICATORS, rows, rows, INDICATOR_KEY, day, frozen_before)
        if _exists(con, "marts.exclusion_reasons"):
            written[EXCLUSIONS] = record_periods(con, EXCLUSIONS, "select * from marts.exclusion_reasons",
                                                  EXCLUSION_CELLS, CELL_KEY, day, frozen_before)
        if _exists(con, "marts.commitments"):
            written[VERSIONS] = record_versions(con, day)
        con.execute("commit")
    finally:
        con.close()
    return written


def record_versions_seen(cfg: VigieConfig, day: dt.date) -> int:
    """Record that night ``day`` saw tonight's commitment versions (``marts.commitments``).

    For the backfill mode (vigie/runner.py), which builds the last nights of a range only:
    the nights before them saw the same versions (marts.commitments is the configuration's,
    whatever the night, ``is_in_force`` aside), so the range's first night widens each
    version's ``first_recorded_on`` as building it would have."""
    from vigie.warehouse_config import warehouse_path

    con = duckdb.connect(str(warehouse_path(cfg)))
    try:
        con.execute("begin")
        seen = record_versions(con, day) if _exists(con, "marts.commitments") else 0
        con.execute("commit")
    finally:
        con.close()
    return seen
