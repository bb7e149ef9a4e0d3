"""A source that cannot be read for a night does not hold the other channels back.

DECISIONLOG Part 1 "Nights never mix": the failed extract leaves a ``_FAILED.json`` marker in
the landing area, the extract DAG run ends failed (loud), the family still announces its night
and the night is built with what landed; the report names what failed. A later successful
landing of that night removes the marker.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from e2e_site import site_config, vigie_cli

from connectors.landing_layout import failed_extract, record_failed_extract

NIGHT = "2026-11-10"

pytestmark = pytest.mark.slow


def test_marker_is_written_only_when_the_night_has_no_batch(tmp_path: Path) -> None:
    day = dt.date(2026, 11, 10)
    marker = record_failed_extract(tmp_path, "mail", "maildir", day, "SourceUnavailable: gone")
    assert marker == tmp_path / "mail" / "day=2026-11-10" / "_FAILED.json"
    info = failed_extract(tmp_path, "mail", day)
    assert info is not None
    assert (info["source_id"], info["day"], info["error"]) == ("mail", "2026-11-10", "SourceUnavailable: gone")
    # a batch that landed earlier for the night stays the night's data: no marker beside it
    other = tmp_path / "mail" / "day=2026-11-09"
    other.mkdir(parents=True)
    (other / "_batch.json").write_text("{}", encoding="utf-8")
    assert record_failed_extract(tmp_path, "mail", "maildir", dt.date(2026, 11, 9), "x") is None
    assert failed_extract(tmp_path, "mail", dt.date(2026, 11, 9)) is None


def test_night_is_built_without_the_failed_source_and_the_run_says_so(tmp_path: Path) -> None:
    site = site_config(tmp_path)
    gen = vigie_cli("demo-data", "--config", str(site), "--from", "2026-11-04", "--to", NIGHT,
                 cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr[-4000:]
    maildir = tmp_path / "var" / "demo_sources" / "maildir"
    hidden = maildir.with_name("maildir.away")
    maildir.rename(hidden)  # the mail server's export is gone for this night

    run = vigie_cli("run", "--config", str(site), "--from", NIGHT, "--to", NIGHT, cwd=tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out[-4000:]
    assert "vigie_extract_email failed" in out and "built without it" in out, out[-4000:]
    # the checks take the failed source as a warning: the other channels' alerts still go out
    assert "vigie_night failed" not in out, out[-4000:]

    landing = tmp_path / "var" / "landing"
    marker = json.loads((landing / "mairie_mail" / f"day={NIGHT}" / "_FAILED.json").read_text())
    assert marker["day"] == NIGHT and "does not exist" in marker["error"]
    con = duckdb.connect(str(tmp_path / "var" / "warehouse" / "vigie.duckdb"), read_only=True)
    try:
        systems = dict(con.execute(
            "select source_system, count(*) from marts.requests group by all").fetchall())
    finally:
        con.close()
    # telephony and GLPI are judged; no message of the mail server could land
    assert systems.get("asterisk_queue_log", 0) > 0 and systems.get("glpi", 0) > 0, systems
    assert "maildir" not in systems, systems

    # the source is back: the rerun of the night lands it and the marker goes with the old dir
    hidden.rename(maildir)
    again = vigie_cli("run", "--config", str(site), "--from", NIGHT, "--to", NIGHT, cwd=tmp_path)
    assert again.returncode == 0, (again.stdout + again.stderr)[-4000:]
    assert not (landing / "mairie_mail" / f"day={NIGHT}" / "_FAILED.json").exists()
    assert (landing / "mairie_mail" / f"day={NIGHT}" / "_batch.json").is_file()
    shutil.rmtree(tmp_path / "airflow_home", ignore_errors=True)
