"""outputs.bi_postgres: absent means no PostgreSQL publication; a bad value is refused by key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from vigie.config import ConfigError, load_config
from vigie.publish_postgres import PostgresPublishFailed, pg_type, publish_postgres

DEMO = Path(__file__).resolve().parents[2] / "config" / "vigie.yml"


def _site(tmp_path: Path, bi_postgres: object | None) -> Path:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    if bi_postgres is not None:
        data.setdefault("outputs", {})["bi_postgres"] = bi_postgres
    path = tmp_path / "site.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_absent_means_nothing_published(tmp_path: Path) -> None:
    cfg = load_config(_site(tmp_path, None))
    assert cfg.outputs.bi_postgres is None
    assert publish_postgres(cfg, dt.date(2026, 11, 13)) is None


def test_schema_defaults_to_vigie_and_is_read_as_schema(tmp_path: Path) -> None:
    cfg = load_config(_site(tmp_path, {"connection_id": "bi_pg"}))
    assert (cfg.outputs.bi_postgres.connection_id, cfg.outputs.bi_postgres.schema_name) == ("bi_pg", "vigie")
    cfg = load_config(_site(tmp_path, {"connection_id": "bi_pg", "schema": "indicateurs"}))
    assert cfg.outputs.bi_postgres.schema_name == "indicateurs"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ({"connection_id": "bi_pg", "schema": "Vigie-BI"}, "outputs.bi_postgres.schema"),
        ({"schema": "vigie"}, "outputs.bi_postgres.connection_id"),
        ({"connection_id": "bi_pg", "schemas": "vigie"}, "outputs.bi_postgres.schemas"),
    ],
)
def test_bad_values_are_refused_by_key(tmp_path: Path, value: dict, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_site(tmp_path, value))
    assert key in [k for k, _ in caught.value.problems]


def test_types_without_a_faithful_twin_are_refused_by_name() -> None:
    assert pg_type("TIMESTAMP WITH TIME ZONE", "t.c") == "timestamptz"
    assert pg_type("DECIMAL(18,3)", "t.c") == "numeric(18,3)"
    with pytest.raises(PostgresPublishFailed, match=r"marts\.x\.y: DuckDB type STRUCT\(a INTEGER\)"):
        pg_type("STRUCT(a INTEGER)", "marts.x.y")
