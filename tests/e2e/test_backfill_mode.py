"""End to end: `vigie run --backfill` gives the tables of a night-by-night run, cheaper.

Two identical sites (same demo sources). On one, every night of the range is landed first and
then run night by night through the DAGs (what the backfill mode must reproduce: with the
landing complete, alert ages count from its newest night). On the other, `vigie run
--backfill` lands the range and builds only the nights that can still send an alert. With
``alerts.max_age_days: 3`` and the range 2 Nov–13 Nov 2026, nights 2–9 Nov can send nothing
(13 Nov − 3 days = 10 Nov): 4 nights are built instead of 12. Every warehouse table (config,
staging copies, intermediate, marts, history, alert log without its send time; not the
incremental models' bookkeeping of which builds ran) and the digests written must be the same. DECISIONLOG Part 1, "Backfill mode".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from e2e_site import site_config, vigie_cli

FIRST, LAST = "2026-11-02", "2026-11-13"

pytestmark = pytest.mark.slow


def _site(root: Path) -> Path:
    root.mkdir()
    config = site_config(root)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["alerts"]["max_age_days"] = 3
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = vigie_cli("demo-data", "--config", str(config), "--from", "2026-10-19", "--to", LAST, cwd=root)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return config


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return proc.stdout


def _land_only(config: Path, root: Path) -> None:
    env = dict(os.environ, AIRFLOW_HOME=str(root / "airflow_home"),
               VIGIE_PSEUDONYMISATION_KEY="e2e-key-0123456789abcdef")
    env.pop("VIGIE_CONFIG", None)
    code = (f"import datetime as d; from vigie.runner import land_nights; "
            f"r = land_nights({str(config)!r}, d.date.fromisoformat({FIRST!r}), "
            f"d.date.fromisoformat({LAST!r})); assert not r.failed, r.failed")
    _ok(subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True,
                       text=True, timeout=1800))


def _tables(site: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table and view of the site's warehouse, rows sorted; the alert log without
    sent_at, the warehouse's copy of the landing with paths relative to the site and without
    the files' modification times (the two sites live in different directories)."""
    con = duckdb.connect(str(site / "var" / "warehouse" / "vigie.duckdb"), read_only=True)
    root = f"{site}/"

    def relative(row: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(v.replace(root, "") if isinstance(v, str) else v for v in row)

    try:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            "union all select schema_name, view_name from duckdb_views() "
            "where database_name = current_database() and not internal order by all"
            # schema incremental is the incremental models' bookkeeping (which builds ran), not
            # results: a backfill runs fewer builds by design
        ).fetchall()
        names = [(schema, name) for schema, name in names if schema != "incremental"]
        out = {}
        for schema, name in names:
            cols = {("alerts", "alert_log"): "* exclude (sent_at)",
                    ("landed", "_files"): "* exclude (last_modified)"}.get((schema, name), "*")
            rows = con.execute(f'select {cols} from "{schema}"."{name}"').fetchall()
            out[f"{schema}.{name}"] = sorted((relative(r) for r in rows), key=repr)
        return out
    finally:
        con.close()


def test_backfill_mode_gives_the_tables_of_night_by_night(tmp_path: Path) -> None:
    ref_config, fast_config = _site(tmp_path / "nightly"), _site(tmp_path / "backfill")

    _land_only(ref_config, tmp_path / "nightly")
    out = _ok(vigie_cli("run", "--config", str(ref_config), "--from", FIRST, "--to", LAST,
                        cwd=tmp_path / "nightly"))
    assert "12 nights" in out

    out = _ok(vigie_cli("run", "--backfill", "--config", str(fast_config), "--from", FIRST, "--to", LAST,
                        cwd=tmp_path / "backfill"))
    assert "building 4 night(s) from 2026-11-10 (8 older night(s) can send no alert" in out
    assert "12 nights" in out

    ref, fast = _tables(tmp_path / "nightly"), _tables(tmp_path / "backfill")
    assert sorted(fast) == sorted(ref)
    different = [name for name in ref if ref[name] != fast[name]]
    assert not different, different
    assert len(ref["alerts.alert_log"]) > 0, "the last nights of the range must page someone"
    assert len(ref["history.service_indicators"]) > 0

    def outbox(root: Path) -> list[str]:
        return sorted(p.name for p in (root / "var" / "outbox").rglob("*.eml"))

    assert outbox(tmp_path / "backfill") == outbox(tmp_path / "nightly")
    assert outbox(tmp_path / "nightly"), "the range must write digests"
    var = tmp_path / "backfill" / "var"
    for night in ("2026-11-02", "2026-11-09", "2026-11-13"):
        assert (var / "landing" / "_nights" / f"day={night}.json").is_file()
    # A night not built on its own still has its landed batches validated, and says so.
    summary = json.loads((var / "gx" / "summaries" / "2026-11-05.json").read_text(encoding="utf-8"))
    assert summary["marts"].startswith("not checked this night: a backfilled night")
    assert {s["suite"] for s in summary["suites"]} >= {"landing.queue_log_events", "landing.email_messages"}
    assert "marts" not in json.loads((var / "gx" / "summaries" / "2026-11-12.json").read_text(encoding="utf-8"))
