"""deploy.compose_env: the compose file's environment, read once for compose and the smoke.

Interpolation follows the Compose specification; the local mapping is the one table the
production smoke relies on (every row asserted with its exact result).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
if str(PROJECT_DIR) not in sys.path:  # deploy/ is not an installed package
    sys.path.insert(0, str(PROJECT_DIR))

from deploy.compose_env import (  # noqa: E402
    ComposeError,
    LocalPlacement,
    common_environment,
    healthcheck_command,
    interpolate,
    load_compose,
    read_env_file,
    service_command,
    service_environment,
)

AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler",
                    "airflow-dag-processor", "airflow-triggerer")
FILLED = {
    "POSTGRES_PASSWORD": "pg-secret",
    "AIRFLOW_JWT_SECRET": "jwt-secret",
    "AIRFLOW_API_SECRET_KEY": "api-secret",
    "AIRFLOW_FERNET_KEY": "ZmVybmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OTA=",
    "AIRFLOW_ADMIN_USER": "admin",
    "AIRFLOW_ADMIN_PASSWORD": "admin-password-123",
    "VIGIE_PSEUDONYMISATION_CONN": '{"conn_type": "generic", "password": "k"}',
    "VIGIE_SITE_CONFIG_DIR": "./site",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${A}", "a"),
        ("$A/x", "a/x"),
        ("${E:-dflt}", "dflt"),      # empty counts as unset with ':-'
        ("${E-dflt}", ""),           # set (even empty) keeps its value with '-'
        ("${U-dflt}", "dflt"),
        ("${U:-${A}-${B}}", "a-b"),  # nested defaults
        ("${A:+alt}", "alt"),
        ("${E:+alt}", ""),
        ("$${A}", "${A}"),           # '$$' is a literal dollar
        ("cost $ 5", "cost $ 5"),
    ],
)
def test_interpolation_follows_compose(text: str, expected: str) -> None:
    assert interpolate(text, {"A": "a", "B": "b", "E": ""}) == expected


def test_a_required_variable_names_itself_and_where_it_is_used() -> None:
    with pytest.raises(ComposeError) as err:
        interpolate("x${SECRET:?set SECRET in .env}", {"SECRET": ""}, where="svc.environment.K")
    assert str(err.value) == "set SECRET in .env (variable SECRET, used by svc.environment.K)"


def test_env_file_quotes_comments_and_a_bad_line(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("# comment\n\nA=plain # trailing comment\nB='{\"k\": \"v # not a comment\"}'\n"
                   'export C="double"\nD=\n', encoding="utf-8")
    assert read_env_file(env) == {"A": "plain", "B": '{"k": "v # not a comment"}',
                                  "C": "double", "D": ""}
    env.write_text("A=1\nnot a variable\n", encoding="utf-8")
    with pytest.raises(ComposeError, match=r"\.env:2: expected KEY=value, got 'not a variable'"):
        read_env_file(env)


def test_env_example_as_shipped_refuses_to_start() -> None:
    """Every secret of .env.example is empty: the first one used stops compose, named."""
    example = read_env_file(PROJECT_DIR / ".env.example")
    with pytest.raises(ComposeError, match="set POSTGRES_PASSWORD in .env"):
        common_environment(load_compose(), example)
    filled = {**example, **FILLED}
    env = common_environment(load_compose(), filled)
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "jwt-secret"
    assert env["AIRFLOW__API__SECRET_KEY"] == "api-secret"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert env["AIRFLOW_CONN_VIGIE_SMTP"] == ""


def test_every_airflow_service_gets_the_common_environment() -> None:
    compose = load_compose()
    common = common_environment(compose, FILLED)
    for name in AIRFLOW_SERVICES:
        env = service_environment(compose, name, FILLED)
        extra = set(env) - set(common)
        assert {k: env[k] for k in common} == common, name
        # Only the API server gets the admin password; no other secret is service-specific.
        assert extra == ({"AIRFLOW_ADMIN_PASSWORD"} if name == "airflow-apiserver" else set()), name


def test_commands_as_the_official_entrypoint_runs_them() -> None:
    compose = load_compose()
    assert service_command(compose, "airflow-scheduler") == ["airflow", "scheduler"]
    assert service_command(compose, "airflow-dag-processor") == ["airflow", "dag-processor"]
    assert service_command(compose, "airflow-triggerer") == ["airflow", "triggerer"]
    assert service_command(compose, "airflow-apiserver") == [
        "bash", "-c", "python /opt/vigie/deploy/admin_password.py && exec airflow api-server"]
    init = service_command(compose, "airflow-init")
    assert init[:2] == ["bash", "-c"]
    assert init[2] == ('airflow db migrate && airflow pools set vigie_duckdb 1 "Serialises every '
                       'task that opens the DuckDB warehouse" && vigie check-config '
                       '/opt/vigie/config/vigie.yml')


def test_health_checks_of_every_long_running_service() -> None:
    compose = load_compose()
    assert healthcheck_command(compose, "airflow-apiserver") == [
        "curl", "--fail", "--silent", "http://localhost:8080/api/v2/monitor/health"]
    assert healthcheck_command(compose, "airflow-scheduler") == [
        "airflow", "jobs", "check", "--job-type", "SchedulerJob", "--local"]
    assert healthcheck_command(compose, "airflow-dag-processor") == [
        "airflow", "jobs", "check", "--job-type", "DagProcessorJob", "--local"]
    assert healthcheck_command(compose, "airflow-triggerer") == [
        "airflow", "jobs", "check", "--job-type", "TriggererJob", "--local"]
    assert healthcheck_command(compose, "airflow-init") is None


def test_the_local_mapping_row_by_row(tmp_path: Path) -> None:
    where = LocalPlacement(data_dir=tmp_path / "site", home=tmp_path / "home",
                           logs_dir=tmp_path / "logs", api_port=18080, database="vigie_smoke_1",
                           worker_log_port=18793, trigger_log_port=18794,
                           checkout=Path("/src/vigie"))
    assert where.value("postgresql+psycopg2://airflow:pw@postgres:5432/airflow") == (
        "postgresql+psycopg2://postgres:pw@127.0.0.1:5432/vigie_smoke_1")
    assert where.value("http://airflow-apiserver:8080/execution/") == (
        "http://127.0.0.1:18080/execution/")
    assert where.value("http://localhost:8080/api/v2/monitor/health") == (
        "http://127.0.0.1:18080/api/v2/monitor/health")
    assert where.value("redis://redis:6379/0") == "redis://127.0.0.1:6379/0"
    assert where.value("/opt/vigie/dags") == "/src/vigie/dags"
    assert where.value("python /opt/vigie/deploy/admin_password.py && exec airflow api-server") == (
        "python /src/vigie/deploy/admin_password.py && exec airflow api-server")
    assert where.value("vigie check-config /opt/vigie/config/vigie.yml") == (
        f"vigie check-config {tmp_path}/site/config/vigie.yml")
    assert where.value("/opt/vigie/var/warehouse") == f"{tmp_path}/site/var/warehouse"
    assert where.value("/opt/vigie/dagsx") == f"{tmp_path}/site/dagsx"  # whole names only
    assert where.value("/opt/airflow/logs") == f"{tmp_path}/logs"
    assert where.value("/opt/airflow/simple_auth_manager_passwords.json") == (
        f"{tmp_path}/home/simple_auth_manager_passwords.json")
    assert where.local_overrides() == {
        "AIRFLOW_HOME": f"{tmp_path}/home",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": "18080",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "18793",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": "18794",
    }


def test_no_container_path_or_host_survives_the_mapping(tmp_path: Path) -> None:
    """Every value, command and health check of every Airflow service, once mapped, names only
    this machine: nothing under /opt, no compose host name."""
    compose = load_compose()
    where = LocalPlacement(data_dir=tmp_path / "site", home=tmp_path / "home",
                           logs_dir=tmp_path / "logs", api_port=18080, database="vigie_smoke_1",
                           worker_log_port=18793, trigger_log_port=18794)
    for name in AIRFLOW_SERVICES:
        texts = list(where.environment(service_environment(compose, name, FILLED)).values())
        texts += where.argv(service_command(compose, name))
        texts += where.argv(healthcheck_command(compose, name) or [])
        for text in texts:
            for leftover in ("/opt/", "@postgres:", "airflow-apiserver", "localhost:8080"):
                assert leftover not in text, (name, text)
