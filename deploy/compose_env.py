"""The environment, commands and health checks of ``docker-compose.yml``, read from the file.

Why: the production smoke test (``deploy/smoke_production.py``) must run the Airflow components
with exactly what compose gives them. Copying the variables into the smoke would let the two
drift; here the compose file is the one source of truth, and this module only

1. interpolates ``${VAR}`` the way Compose does, from a ``.env`` file (``read_env_file``);
2. moves container paths, host names and ports to one machine, through ONE documented mapping
   (``LocalPlacement``), because processes sharing a host cannot each have ``/opt/airflow``,
   port 8080 or the host name ``postgres`` to themselves.

The mapping (container → this machine), applied to every value, command and health check:

=====================================  ==============================================
``postgresql://…@postgres:5432/airflow``  ``postgresql://postgres@127.0.0.1:5432/<database>``
``http://airflow-apiserver:8080``      ``http://127.0.0.1:<api_port>``
``http://localhost:8080``              ``http://127.0.0.1:<api_port>`` (health checks)
``redis://redis:6379``                 ``redis://127.0.0.1:6379``
``/opt/vigie/<code dir>``              the checkout (dags, deploy, dbt_project, vigie…)
``/opt/vigie`` (config, sources, var)  ``data_dir`` (the volumes and bind mounts)
``/opt/airflow/logs``                  ``logs_dir`` (the shared ``airflow_logs`` volume)
``/opt/airflow``                       this component's own ``AIRFLOW_HOME``
=====================================  ==============================================

plus what each container has to itself and processes on one host must not share
(``local_overrides``): the API server's port, the log servers' ports, ``AIRFLOW_HOME``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
COMPOSE_FILE = PROJECT_DIR / "docker-compose.yml"
COMMON_KEY = "x-airflow-common"
# Directories of the image that hold code (copied by the Dockerfile), not data.
CODE_DIRS = ("dags", "deploy", "dbt_project", "vigie", "connectors", "expectations")
# The official image's entrypoint runs `airflow <command>` unless the command is one of these.
NON_AIRFLOW_COMMANDS = ("bash", "sh", "python", "python3")


class ComposeError(ValueError):
    """The compose file or .env cannot give an environment; the message says which variable."""


# --- .env and ${VAR} interpolation (Compose specification, "Interpolation") ---------------

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def read_env_file(path: Path | str) -> dict[str, str]:
    """Parse a Compose ``.env`` file: ``KEY=value`` lines, ``#`` comments, blank lines.

    Single-quoted values are literal, double-quoted values keep their content, an unquoted
    value ends at `` #``. A line that is not ``KEY=value`` is an error naming its number:
    a silently skipped secret would surface much later as a confusing Airflow failure."""
    out: dict[str, str] = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _ENV_LINE.match(line)
        if not m:
            raise ComposeError(f"{path}:{n}: expected KEY=value, got {line!r}")
        key, raw = m.group(1), m.group(2).strip()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
            value = raw[1:-1]
        else:
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
        out[key] = value
    return out


def interpolate(text: str, variables: Mapping[str, str], *, where: str = "") -> str:
    """Substitute ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:?message}``, ``${VAR?message}``, ``${VAR:+alt}``, ``${VAR+alt}`` and ``$$``,
    as ``docker compose`` does (defaults may nest ``${…}``). A required variable that is
    missing raises ``ComposeError`` with compose's own message and where it is used."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing_brace(text, i + 1)
            out.append(_expand(text[i + 2 : end], variables, where))
            i = end + 1
        else:
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i + 1 :])
            if not m:
                out.append("$")
                i += 1
                continue
            out.append(variables.get(m.group(0), ""))
            i += 1 + len(m.group(0))
    return "".join(out)


def _closing_brace(text: str, open_at: int) -> int:
    depth = 0
    for j in range(open_at, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise ComposeError(f"unclosed '${{' in {text!r}")


def _expand(body: str, variables: Mapping[str, str], where: str) -> str:
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$", body, re.DOTALL)
    if not m:
        raise ComposeError(f"invalid interpolation '${{{body}}}'{' in ' + where if where else ''}")
    name, op, arg = m.group(1), m.group(2), m.group(3) or ""
    value = variables.get(name)
    is_set = value is not None
    non_empty = bool(value)
    if op is None:
        return value or ""
    ok = non_empty if op.startswith(":") else is_set
    kind = op[-1]
    if kind == "-":
        return value if ok else interpolate(arg, variables, where=where)  # type: ignore[return-value]
    if kind == "+":
        return interpolate(arg, variables, where=where) if ok else ""
    if not ok:  # "?"
        message = interpolate(arg, variables, where=where) or f"{name} is required"
        raise ComposeError(f"{message} (variable {name}{', used by ' + where if where else ''})")
    return value  # type: ignore[return-value]


# --- reading the compose file --------------------------------------------------------------


def load_compose(path: Path | str = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file as a mapping; YAML anchors and ``<<`` merges resolved."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "services" not in data:
        raise ComposeError(f"{path}: not a compose file (no 'services')")
    return data


def _as_mapping(environment: Any, where: str) -> dict[str, str]:
    if environment is None:
        return {}
    if isinstance(environment, list):  # ["KEY=value", ...]
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in environment)
        return {k: v for k, v in pairs}
    if isinstance(environment, dict):
        return {str(k): "" if v is None else str(v) for k, v in environment.items()}
    raise ComposeError(f"{where}: environment must be a mapping or a list")


def common_environment(compose: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    """The ``x-airflow-common`` environment, interpolated: what every Airflow container gets."""
    common = compose.get(COMMON_KEY) or {}
    env = _as_mapping(common.get("environment"), COMMON_KEY)
    return {k: interpolate(v, variables, where=f"{COMMON_KEY}.environment.{k}")
            for k, v in env.items()}


CELERY_FILE = PROJECT_DIR / "docker-compose.celery.yml"


def with_override(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``docker compose -f base -f override`` for what the smoke reads: a service's
    ``environment`` is merged key by key, its other keys replaced; new services are added, and
    ``extends`` of a service of the base file is resolved (the extended service, then the
    override's keys merged the same way)."""
    services = {k: dict(v) for k, v in base["services"].items()}

    def merged(into: dict[str, Any], extra: Mapping[str, Any], where: str) -> dict[str, Any]:
        out = dict(into)
        for key, value in extra.items():
            if key == "environment":
                out[key] = {**_as_mapping(into.get(key), where), **_as_mapping(value, where)}
            elif key != "extends":
                out[key] = value
        return out

    for name, svc in override.get("services", {}).items():
        extends = svc.get("extends")
        if extends:
            start = services[extends["service"]] if isinstance(extends, dict) else services[extends]
        else:
            start = services.get(name, {})
        services[name] = merged(start, svc, name)
    return {**base, "services": services}


def service(compose: Mapping[str, Any], name: str) -> dict[str, Any]:
    try:
        return compose["services"][name]
    except KeyError:
        raise ComposeError(f"no service {name!r} in the compose file "
                           f"(services: {sorted(compose['services'])})") from None


def service_environment(
    compose: Mapping[str, Any], name: str, variables: Mapping[str, str]
) -> dict[str, str]:
    """One service's environment, interpolated (for Airflow services: x-airflow-common's)."""
    env = _as_mapping(service(compose, name).get("environment"), name)
    return {k: interpolate(v, variables, where=f"{name}.environment.{k}") for k, v in env.items()}


def service_command(compose: Mapping[str, Any], name: str) -> list[str]:
    """The argv a service's container runs, as the official image's entrypoint builds it:
    ``command: scheduler`` runs ``airflow scheduler``; ``bash -c …`` runs as written."""
    cmd = service(compose, name).get("command")
    if cmd is None:
        raise ComposeError(f"service {name!r} has no command")
    argv = shlex.split(cmd) if isinstance(cmd, str) else [str(a) for a in cmd]
    if argv and argv[0] not in NON_AIRFLOW_COMMANDS and argv[0] != "airflow":
        argv = ["airflow", *argv]
    return argv


def healthcheck_command(compose: Mapping[str, Any], name: str) -> list[str] | None:
    """A service's health check as an argv (``CMD`` form as is, ``CMD-SHELL`` through sh)."""
    check = service(compose, name).get("healthcheck")
    if not check or check.get("disable"):
        return None
    test = check["test"]
    if isinstance(test, str):
        return ["sh", "-c", test]
    if test[0] == "CMD":
        return [str(a) for a in test[1:]]
    if test[0] == "CMD-SHELL":
        return ["sh", "-c", str(test[1])]
    return None


# --- one machine instead of containers -----------------------------------------------------


@dataclass(frozen=True)
class LocalPlacement:
    """Where one component's container paths, hosts and ports land on this machine."""

    data_dir: Path
    home: Path
    logs_dir: Path
    api_port: int
    database: str
    worker_log_port: int
    trigger_log_port: int
    checkout: Path = PROJECT_DIR
    db_host: str = "127.0.0.1"
    db_port: int = 5432
    db_user: str = "postgres"

    def value(self, text: str) -> str:
        """Apply the mapping of the module docstring to one value or argument."""
        if text.startswith("postgresql"):
            return self._database_url(text)
        if text.startswith("db+postgresql"):  # Celery's result backend
            return "db+" + self._database_url(text.removeprefix("db+"))
        api = f"http://127.0.0.1:{self.api_port}"
        text = text.replace("http://airflow-apiserver:8080", api)
        text = text.replace("http://localhost:8080", api)
        text = text.replace("redis://redis:6379", "redis://127.0.0.1:6379")
        for code in CODE_DIRS:
            text = re.sub(rf"/opt/vigie/{code}(?=/|$|\s|'|\")", str(self.checkout / code), text)
        text = re.sub(r"/opt/airflow/logs(?=/|$|\s|'|\")", str(self.logs_dir), text)
        text = re.sub(r"/opt/airflow(?=/|$|\s|'|\")", str(self.home), text)
        return re.sub(r"/opt/vigie(?=/|$|\s|'|\")", str(self.data_dir), text)

    def _database_url(self, url: str) -> str:
        from sqlalchemy.engine import make_url

        parsed = make_url(url).set(
            host=self.db_host, port=self.db_port, username=self.db_user,
            database=self.database,
        )
        return parsed.render_as_string(hide_password=False)

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        return {k: self.value(v) for k, v in env.items()}

    def argv(self, argv: list[str]) -> list[str]:
        return [self.value(a) for a in argv]

    def local_overrides(self) -> dict[str, str]:
        """What a container has to itself (home, port 8080, log server ports) but processes
        sharing this host must not share."""
        return {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.worker_log_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.trigger_log_port),
        }
