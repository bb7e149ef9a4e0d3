"""The demo collectivité as a site inside a test's tmp_path, and the `vigie` command run there
as a user runs it (its own Airflow home, a test key, no DAG folder or config from the caller)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]


def site_config(tmp_path: Path) -> Path:
    """The demo configuration with every source and output inside tmp_path."""
    data = yaml.safe_load((PROJECT_DIR / "config" / "vigie.yml").read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["path"] = source["path"].replace("../var/", "var/")
    data["outputs"] = {k: (v.replace("../var/", "var/") if isinstance(v, str) else v)
                       for k, v in data["outputs"].items()}
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def vigie_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AIRFLOW_HOME=str(cwd / "airflow_home"),
               VIGIE_PSEUDONYMISATION_KEY="e2e-key-0123456789abcdef")
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    env.pop("VIGIE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "vigie.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=1800)
