"""docker-compose.yml is valid against the Compose Specification's JSON schema.

No Docker engine nor compose plugin runs here, so the file is checked against the schema that
check-jsonschema vendors from compose-spec/compose-spec, plus the choices the deployment relies on.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text(encoding="utf-8"))


def _schema() -> dict:
    ref = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    return json.loads(ref.read_text(encoding="utf-8"))


def test_compose_file_matches_the_compose_specification() -> None:
    validator_cls = jsonschema.validators.validator_for(_schema())
    errors = sorted(validator_cls(_schema()).iter_errors(_compose()), key=lambda e: e.path)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_airflow_image_is_the_pinned_official_one() -> None:
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM apache/airflow:3.3.2-python3.11" in dockerfile


def test_metadata_on_postgres_and_outputs_on_volumes() -> None:
    compose = _compose()
    sched = compose["services"]["airflow-scheduler"]
    assert sched["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    mounts = {v.split(":")[1] for v in sched["volumes"]}
    for target in ("/opt/vigie/var/warehouse", "/opt/vigie/var/landing", "/opt/vigie/var/bi",
                   "/opt/vigie/var/outbox"):
        assert target in mounts
    assert {"warehouse", "landing", "bi_snapshot", "outbox"} <= set(compose["volumes"])


def test_no_secret_is_written_in_the_compose_file() -> None:
    text = (PROJECT_DIR / "docker-compose.yml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if "PASSWORD" in line or "_CONN" in line:
            assert "${" in line or line.strip().startswith("#") or line.strip().endswith(":"), line
