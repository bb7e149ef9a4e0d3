"""After `vigie demo`, `vigie run --from D --to D` re-runs a demo night with the same results.

Issue 12 point 8: the demo's key used to exist only inside `vigie demo`, so a later `vigie run`
of the same configuration failed. Now the demo writes a key file once (0600) that the demo
configuration names; the re-run of the last night must give identical marts, write no new
digest, and land the very same citizen hashes (checked against the key file: every caller key
landed for the night is the HMAC, with that key, of a caller found in the demo's queue_log).
A demo of 3 nights keeps it short.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from connectors.pseudonymise import Pseudonymiser
from tests.config.site_files import PROJECT_DIR, demo_site

TODAY, LAST = "2026-11-28", "2026-11-27"
MARTS = ("requests", "commitment_evaluations", "service_indicators", "email_indicators")

pytestmark = pytest.mark.slow


def _vigie(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIGIE_PSEUDONYMISATION_KEY", "AIRFLOW_CONN_VIGIE_PSEUDONYMISATION",
                        "VIGIE_CONFIG", "AIRFLOW__CORE__DAGS_FOLDER")}
    env.update(AIRFLOW_HOME=str(cwd / "airflow_home"), VIGIE_TODAY=TODAY, PYTHONPATH=str(PROJECT_DIR))
    proc = subprocess.run([sys.executable, "-m", "vigie.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, f"vigie {' '.join(args)}:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    return proc


def _fingerprint(warehouse: Path) -> dict[str, tuple[int, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
                for t in MARTS
                for rows in [con.execute(f"select * from marts.{t} order by all").fetchall()]}
    finally:
        con.close()


def _files(root: Path, pattern: str) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob(pattern))}


def _landed_caller_keys(landing: Path) -> set[str]:
    con = duckdb.connect()
    try:
        rows = con.execute(
            "select distinct caller_key from read_parquet(?) where caller_key is not null",
            [str(landing / "pbx_queue_log" / f"day={LAST}" / "queue_log_events.parquet")],
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def test_vigie_run_after_demo_reproduces_a_demo_night(tmp_path: Path) -> None:
    site = demo_site(tmp_path)
    demo = _vigie("demo", "--config", str(site), "--days", "3", cwd=tmp_path)
    key_file = tmp_path / "var" / "secrets" / "pseudonymisation.key"
    assert f"pseudonymisation key: generated {key_file} (mode 0600" in demo.stdout
    assert "3 nights in" in demo.stdout
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    var = tmp_path / "var"
    marts = _fingerprint(var / "warehouse" / "vigie.duckdb")
    outbox = _files(var / "outbox", "*.eml")
    assert all(n > 0 for n, _ in marts.values()), marts
    keys = _landed_caller_keys(var / "landing")
    assert len(keys) > 20

    # Positive control: the landed keys are the file key's HMAC of the demo's callers.
    pseudo = Pseudonymiser(key_file.read_bytes().strip())
    callers = set()
    for path in (var / "demo_sources" / "asterisk").glob("queue_log*"):
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split("|")
            if len(fields) > 6 and fields[4] == "ENTERQUEUE":
                callers.add(pseudo.phone(fields[6]))
    assert keys <= callers

    rerun = _vigie("run", "--config", str(site), "--from", LAST, "--to", LAST, cwd=tmp_path)
    assert "1 nights in" in rerun.stdout
    assert _fingerprint(var / "warehouse" / "vigie.duckdb") == marts
    assert _files(var / "outbox", "*.eml") == outbox, "the re-run must not write a new digest"
    assert _landed_caller_keys(var / "landing") == keys
    assert key_file.read_bytes().strip() == pseudo._key  # the demo never replaced its key
