"""docker-compose.celery.yml (the CeleryExecutor variant) is valid Compose and routes the
warehouse's writers to one worker."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _load(name: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / name).read_text(encoding="utf-8"))


def _schema() -> dict:
    ref = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    return json.loads(ref.read_text(encoding="utf-8"))


def test_celery_override_matches_the_compose_specification() -> None:
    validator_cls = jsonschema.validators.validator_for(_schema())
    errors = list(validator_cls(_schema()).iter_errors(_load("docker-compose.celery.yml")))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_every_airflow_service_of_the_base_file_gets_the_celery_executor() -> None:
    base = _load("docker-compose.yml")["services"]
    override = _load("docker-compose.celery.yml")["services"]
    airflow_services = {name for name in base if name.startswith("airflow-")}
    assert airflow_services <= set(override)
    for name in airflow_services | {"airflow-worker-warehouse", "airflow-worker-extract"}:
        env = override[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0", name


def test_only_one_worker_serves_the_duckdb_queue() -> None:
    override = _load("docker-compose.celery.yml")["services"]
    queues = {
        name: svc["command"][svc["command"].index("--queues") + 1].split(",")
        for name, svc in override.items() if name.startswith("airflow-worker")
    }
    assert sorted(n for n, q in queues.items() if "duckdb" in q) == ["airflow-worker-warehouse"]
    assert all("default" in q for q in queues.values())
    for svc in ("airflow-worker-warehouse", "airflow-worker-extract"):
        assert override[svc]["extends"] == {"file": "docker-compose.yml", "service": "airflow-scheduler"}
