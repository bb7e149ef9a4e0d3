"""Write the API server's administrator password from ``AIRFLOW_ADMIN_PASSWORD``.

Why: Airflow 3's SimpleAuthManager reads ``[core] simple_auth_manager_passwords_file`` and only
generates a random password (printed once in the API server's log) for a user missing from it.
The API server's command in ``docker-compose.yml`` runs this script before ``airflow api-server``,
so the administrator is the one of ``.env``, and changing it there takes effect at the next
restart. The file holds one user (``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS``'s admin), mode 600.

Run: ``python deploy/admin_password.py`` (no argument; everything comes from the environment).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

MIN_LENGTH = 12
HOW_TO = "python -c 'import secrets; print(secrets.token_urlsafe(24))'"


class AdminPasswordError(ValueError):
    """The environment cannot give an administrator; the message says what to set."""


def admin_users(users_setting: str) -> list[str]:
    """User names with the ``admin`` role in ``user:role[:teams],…``."""
    names = []
    for item in filter(None, (part.strip() for part in users_setting.split(","))):
        name, _, rest = item.partition(":")
        if rest.split(":", 1)[0] == "admin":
            names.append(name)
    return names


def passwords_file(environ: dict[str, str]) -> Path:
    configured = environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    if configured:
        return Path(configured)
    home = environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return Path(home) / "simple_auth_manager_passwords.json.generated"


def write_admin_password(environ: dict[str, str]) -> Path:
    """Write ``{admin: password}`` atomically; return the file written."""
    password = environ.get("AIRFLOW_ADMIN_PASSWORD", "")
    if len(password) < MIN_LENGTH:
        raise AdminPasswordError(
            f"AIRFLOW_ADMIN_PASSWORD must hold at least {MIN_LENGTH} characters "
            f"(got {len(password)}): set it in .env, e.g. from {HOW_TO}"
        )
    admins = admin_users(environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", ""))
    if len(admins) != 1:
        raise AdminPasswordError(
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS must name exactly one user with the admin "
            f"role (user:admin), got {admins or 'none'}"
        )
    target = passwords_file(environ)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({admins[0]: password}) + "\n")
    os.replace(tmp, target)
    return target


def main() -> int:
    try:
        path = write_admin_password(dict(os.environ))
    except AdminPasswordError as exc:
        print(f"admin password: {exc}", file=sys.stderr)
        return 2
    print(f"admin password: written for the API server ({path})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
