"""Where the pseudonymisation key is found, how a new one is written, and `vigie run` refusing
to start without one (one line saying what to set, before any night runs)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.pseudonymise import Pseudonymiser
from tests.config.site_files import PROJECT_DIR, write_site
from vigie.config import load_config
from vigie.config_checks import check_key
from vigie.demo.key import ensure_demo_key
from vigie.secrets import (
    PseudonymisationKeyMissing,
    find_pseudonymisation_key,
    write_new_key,
)

FILE_KEY = "file-key-0123456789abcdef"
CONN = "AIRFLOW_CONN_VIGIE_PSEUDONYMISATION"


@pytest.fixture
def no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIGIE_PSEUDONYMISATION_KEY", raising=False)
    monkeypatch.delenv(CONN, raising=False)


def _site_with_key_file(tmp_path: Path, content: str | None = FILE_KEY) -> Path:
    site = write_site(tmp_path, [], pseudonymisation={"key_file": "secrets/pseudo.key"})
    if content is not None:
        (tmp_path / "secrets").mkdir()
        (tmp_path / "secrets" / "pseudo.key").write_text(content + "\n")
    return site


def test_lookup_order_env_then_connection_env_then_file(tmp_path, monkeypatch, no_key_env) -> None:
    cfg = load_config(_site_with_key_file(tmp_path))
    found = find_pseudonymisation_key(cfg)
    assert (found.key, found.origin) == (FILE_KEY.encode(), f"the file {tmp_path}/secrets/pseudo.key")

    monkeypatch.setenv(CONN, "generic://:conn-key-0123456789abcdef@")
    found = find_pseudonymisation_key(cfg)
    assert (found.key, found.origin) == (b"conn-key-0123456789abcdef", f"the environment variable {CONN}")

    monkeypatch.setenv("VIGIE_PSEUDONYMISATION_KEY", "env-key-0123456789abcdef")
    found = find_pseudonymisation_key(cfg)
    assert (found.key, found.origin) == (b"env-key-0123456789abcdef",
                                         "the environment variable VIGIE_PSEUDONYMISATION_KEY")
    assert "env-key" not in repr(found)  # the key is never shown


def test_connectors_hash_with_the_file_key(tmp_path, no_key_env) -> None:
    cfg = load_config(_site_with_key_file(tmp_path))
    assert Pseudonymiser.from_config(cfg).phone("06 12 34 56 78") == Pseudonymiser(
        FILE_KEY.encode()).phone("+33612345678")


def test_missing_short_or_empty_key_file(tmp_path, no_key_env) -> None:
    cfg = load_config(_site_with_key_file(tmp_path, content=None))
    with pytest.raises(PseudonymisationKeyMissing) as err:
        find_pseudonymisation_key(cfg)
    path = tmp_path / "secrets" / "pseudo.key"
    assert str(err.value) == (
        f"the pseudonymisation key file {path} (pseudonymisation.key_file = 'secrets/pseudo.key') "
        "does not exist: restore it from your backup (a new key breaks threads and repeat callers "
        f"across the change); only for a site with nothing landed yet, create it with: vigie "
        f"generate-key {path}"
    )
    path.parent.mkdir()
    path.write_text("short\n")
    with pytest.raises(PseudonymisationKeyMissing, match="is 5 bytes long; it must be at least 16"):
        find_pseudonymisation_key(cfg)
    path.write_text("\n")
    with pytest.raises(PseudonymisationKeyMissing, match="is empty"):
        find_pseudonymisation_key(cfg)


def test_generate_key_writes_0600_and_never_replaces(tmp_path, capsys) -> None:
    from vigie.cli import main

    path = tmp_path / "secrets" / "pseudonymisation.key"
    assert main(["generate-key", str(path)]) == 0
    key = path.read_text()
    assert len(key.strip()) == 64 and int(key, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert main(["generate-key", str(path)]) == 1
    assert "already exists: Vigie never replaces a pseudonymisation key" in capsys.readouterr().err
    assert path.read_text() == key
    with pytest.raises(FileExistsError):
        write_new_key(path)


def test_check_config_warns_about_a_readable_or_disagreeing_key_file(tmp_path, monkeypatch, no_key_env) -> None:
    cfg = load_config(_site_with_key_file(tmp_path))
    path = tmp_path / "secrets" / "pseudo.key"
    path.chmod(0o644)
    assert [(c.status, c.where) for c in check_key(cfg)] == [
        ("ok", "pseudonymisation"), ("warning", "pseudonymisation.key_file")]
    assert f"chmod 600 {path}" in check_key(cfg)[1].message
    path.chmod(0o600)
    assert [c.status for c in check_key(cfg)] == ["ok"]
    monkeypatch.setenv("VIGIE_PSEUDONYMISATION_KEY", "another-key-0123456789abcdef")
    checks = check_key(cfg)
    assert [c.status for c in checks] == ["ok", "warning"]
    assert checks[1].message.startswith(f"{path} holds another key than the environment variable")
    monkeypatch.setenv("VIGIE_PSEUDONYMISATION_KEY", FILE_KEY)  # the same key: nothing to say
    assert [c.status for c in check_key(cfg)] == ["ok"]


def test_demo_key_is_generated_once_then_kept(tmp_path, monkeypatch, no_key_env) -> None:
    cfg = load_config(_site_with_key_file(tmp_path, content=None))
    path = tmp_path / "secrets" / "pseudo.key"
    # a connection variable read before the file, but without a key: said, no file written
    monkeypatch.setenv(CONN, "generic://host")
    with pytest.raises(PseudonymisationKeyMissing, match="'vigie_pseudonymisation' has no password"):
        ensure_demo_key(cfg)
    assert not path.exists()
    monkeypatch.delenv(CONN)
    assert ensure_demo_key(cfg) == (
        f"pseudonymisation key: generated {path} (mode 0600; keep it with your backups)")
    key = path.read_bytes()
    assert ensure_demo_key(cfg) == f"pseudonymisation key: the file {path}"
    assert path.read_bytes() == key


def _vigie_run(site: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIGIE_PSEUDONYMISATION_KEY", CONN, "VIGIE_CONFIG", "AIRFLOW__CORE__DAGS_FOLDER")}
    env.update(AIRFLOW_HOME=str(site.parent / "airflow_home"), PYTHONPATH=str(PROJECT_DIR), **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "vigie.cli", "run", "--config", str(site),
         "--from", "2026-11-20", "--to", "2026-11-21"],
        cwd=site.parent, env=env, capture_output=True, text=True, timeout=300,
    )


def test_vigie_run_without_a_key_says_what_to_set_in_one_line(tmp_path) -> None:
    site = write_site(tmp_path, [])
    proc = _vigie_run(site, {})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "vigie run: no pseudonymisation key: set pseudonymisation.key_file in the configuration "
        "to a key file (create it once with: vigie generate-key FILE), or put the key in the "
        "password of the Airflow connection 'vigie_pseudonymisation' "
        "(AIRFLOW_CONN_VIGIE_PSEUDONYMISATION='generic://:<key>@'), or set VIGIE_PSEUDONYMISATION_KEY"
    ]
    assert "night" not in proc.stdout  # stopped before the first night
    assert not (tmp_path / "var" / "landing").exists()


def test_vigie_run_with_a_lost_key_file_says_restore_it(tmp_path) -> None:
    site = _site_with_key_file(tmp_path, content=None)
    proc = _vigie_run(site, {})
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"vigie run: the pseudonymisation key file {tmp_path}/secrets/pseudo.key")
    assert "restore it from your backup" in line
