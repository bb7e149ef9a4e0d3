"""docker-compose.yml is valid against the Compose Specification's JSON schema.

No Docker engine nor compose plugin runs here, so the file is checked against the schema that
check-jsonschema vendors from compose-spec/compose-spec, plus the choices the deployment relies on.
"""

from __future__ import annotations

import json
import re
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


SECRET_NAME = re.compile(r"PASSWORD|SECRET|_CONN\b|_CONN$|KEY$")
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler",
                    "airflow-dag-processor", "airflow-triggerer")


def _environments(compose: dict) -> dict[str, dict]:
    envs = {"x-airflow-common": compose["x-airflow-common"]["environment"]}
    envs.update({name: svc.get("environment") or {} for name, svc in compose["services"].items()})
    return envs


def test_no_secret_is_written_in_the_compose_file() -> None:
    """Every variable that names a password, secret, key or connection takes its value from
    .env (``${VAR…}``); the passwords *file* is a path, not a secret."""
    for where, env in _environments(_compose()).items():
        for key, value in env.items():
            if not SECRET_NAME.search(key) or key.endswith("_FILE"):
                continue
            if "://" in str(value):  # a URL: its password part comes from .env
                from urllib.parse import urlsplit

                assert not urlsplit(re.sub(r"\$\{[^}]*\}", "", value)).password, (where, key)
                assert ":${" in value, (where, key)
            else:
                assert re.fullmatch(r"\$\{[A-Z_]+(:?[-?][^}]*)?\}", str(value)), (where, key, value)


def test_components_share_the_jwt_and_api_secrets_from_env() -> None:
    compose = _compose()
    common = compose["x-airflow-common"]["environment"]
    assert common["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")
    assert common["AIRFLOW__API__SECRET_KEY"].startswith("${AIRFLOW_API_SECRET_KEY:?")
    for name in AIRFLOW_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == common["AIRFLOW__API_AUTH__JWT_SECRET"], name
        assert env["AIRFLOW__API__SECRET_KEY"] == common["AIRFLOW__API__SECRET_KEY"], name


def test_dags_unpaused_on_first_start_and_admin_from_env() -> None:
    compose = _compose()
    common = compose["x-airflow-common"]["environment"]
    assert common["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "False"
    assert common["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "${AIRFLOW_ADMIN_USER:-admin}:admin"
    api = compose["services"]["airflow-apiserver"]
    assert api["environment"]["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    assert "deploy/admin_password.py" in " ".join(api["command"])


def test_every_long_running_service_has_a_health_check() -> None:
    services = _compose()["services"]
    without = sorted(n for n, s in services.items() if "healthcheck" not in s)
    assert without == ["airflow-init"]  # one-shot: compose waits for it to complete instead
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                 "airflow-triggerer"):
        assert services[name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"}, name


def test_site_config_and_file_sources_are_read_only_and_never_the_demo() -> None:
    volumes = _compose()["x-airflow-common"]["volumes"]
    by_target = {v.rsplit(":", 2)[1] if v.endswith(":ro") else v.rsplit(":", 1)[1]: v
                 for v in volumes}
    config = by_target["/opt/vigie/config"]
    assert config.startswith("${VIGIE_SITE_CONFIG_DIR:?") and config.endswith(":ro")
    assert "./config" not in config  # the demo's configuration is never mounted
    for target in ("/opt/vigie/sources/asterisk", "/opt/vigie/sources/maildir",
                   "/opt/vigie/sources/registers"):
        assert by_target[target].endswith(":ro"), target


def test_writable_volumes_are_created_owned_by_airflow_in_the_image() -> None:
    """A new named volume takes the owner of the image directory it is mounted on: every
    writable mount point must exist in the image, created and chowned to airflow."""
    compose = _compose()
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text(encoding="utf-8")
    mkdir = dockerfile[dockerfile.index("RUN mkdir -p"):dockerfile.index("USER airflow")]
    assert "chown -R airflow:0 /opt/vigie /opt/airflow/logs" in mkdir
    named = set(compose["volumes"])
    for volume in compose["x-airflow-common"]["volumes"]:
        source, target = volume.split(":")[0], volume.split(":")[1]
        if source in named:
            assert target in mkdir.split(), f"{target} (volume {source}) is not created in the image"


def test_env_example_lists_every_variable_with_how_to_generate_each_secret() -> None:
    text = (PROJECT_DIR / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    example = (PROJECT_DIR / ".env.example").read_text(encoding="utf-8")
    listed = re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, re.MULTILINE)
    assert used == set(listed), (sorted(used - set(listed)), sorted(set(listed) - used))
    for secret in ("POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY",
                   "AIRFLOW_ADMIN_PASSWORD", "VIGIE_PSEUDONYMISATION_CONN"):
        block = example[:example.index(f"\n{secret}=")].rsplit("\n\n", 1)[-1]
        assert "python -c 'import" in block and "secrets." in block, secret
    block = example[:example.index("\nAIRFLOW_FERNET_KEY=")].rsplit("\n\n", 1)[-1]
    assert "Fernet.generate_key()" in block


def test_components_share_the_fernet_key() -> None:
    """The DAG processor encrypts the asset watchers' trigger arguments; the triggerer decrypts
    them: with a key of its own it dies with InvalidToken (seen in the smoke)."""
    common = _compose()["x-airflow-common"]["environment"]
    assert common["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW_FERNET_KEY:?")


def test_the_lock_has_what_production_needs() -> None:
    lock = (PROJECT_DIR / "requirements.lock").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([a-z0-9-]+)==(\S+)$", lock, re.MULTILINE))
    assert pins["apache-airflow"] == "3.3.2"
    for name in ("asyncpg", "psycopg2-binary", "apache-airflow-providers-celery", "redis"):
        assert name in pins, name


def test_secrets_and_data_stay_out_of_the_image_and_the_repository() -> None:
    dockerignore = (PROJECT_DIR / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for entry in (".env", "var", "sources", ".venv"):
        assert entry in dockerignore, entry
    assert "!.env.example" in dockerignore
    gitignore = (PROJECT_DIR / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in gitignore and "/sources/" in gitignore
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text(encoding="utf-8")
    copied = re.findall(r"^COPY --chown=airflow:0 (.+) \S+$", dockerfile, re.MULTILINE)
    assert " ".join(copied).split() == ["requirements.lock", "pyproject.toml", "vigie",
                                        "connectors", "expectations", "dags", "dbt_project",
                                        "deploy"]
