"""deploy/admin_password.py: the API server's administrator comes from .env, not from a log."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
if str(PROJECT_DIR) not in sys.path:  # deploy/ is not an installed package
    sys.path.insert(0, str(PROJECT_DIR))

from deploy.admin_password import (  # noqa: E402
    AdminPasswordError,
    admin_users,
    write_admin_password,
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(tmp_path / "home" / "pw.json"),
        "AIRFLOW_ADMIN_PASSWORD": "correct-horse-battery",
        **extra,
    }


def test_the_password_of_env_is_the_admin_s_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    path = write_admin_password(_env(tmp_path))
    assert path == tmp_path / "home" / "pw.json"
    assert json.loads(path.read_text(encoding="utf-8")) == {"admin": "correct-horse-battery"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A new password in .env replaces the old one at the next start.
    write_admin_password(_env(tmp_path, AIRFLOW_ADMIN_PASSWORD="another-long-password"))
    assert json.loads(path.read_text(encoding="utf-8")) == {"admin": "another-long-password"}


def test_a_short_or_missing_password_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(AdminPasswordError) as err:
        write_admin_password(_env(tmp_path, AIRFLOW_ADMIN_PASSWORD="short"))
    assert str(err.value) == (
        "AIRFLOW_ADMIN_PASSWORD must hold at least 12 characters (got 5): set it in .env, e.g. "
        "from python -c 'import secrets; print(secrets.token_urlsafe(24))'")
    assert not (tmp_path / "home" / "pw.json").exists()


def test_exactly_one_admin_user() -> None:
    assert admin_users("admin:admin") == ["admin"]
    assert admin_users("ops:op, boss:admin:team1|team2,viewer:viewer") == ["boss"]
    assert admin_users("") == []


def test_the_script_exits_2_with_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="bob:viewer")
    proc = subprocess.run([sys.executable, str(PROJECT_DIR / "deploy" / "admin_password.py")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == ("admin password: AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS must name "
                           "exactly one user with the admin role (user:admin), got none\n")
