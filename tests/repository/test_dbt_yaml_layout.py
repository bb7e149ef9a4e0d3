"""One YAML beside each dbt model (DECISIONLOG Part 8, "One YAML beside each dbt model").

A model's description, columns, data tests and unit tests live in `<model>.yml` next to
`<model>.sql`, so its contract and worked examples are found by name. Only sources and exposures
keep files of their own (leading underscore).
"""

from __future__ import annotations

from pathlib import Path

import yaml

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"


def _yaml_files() -> dict[Path, dict]:
    return {p: yaml.safe_load(p.read_text(encoding="utf-8")) or {} for p in sorted(MODELS.rglob("*.yml"))}


def test_every_model_has_its_own_yaml_and_nothing_else_describes_it() -> None:
    problems: list[str] = []
    for sql in sorted(MODELS.rglob("*.sql")):
        yml = sql.with_suffix(".yml")
        if not yml.exists():
            problems.append(f"{sql.relative_to(MODELS)}: no {yml.name} beside it")
            continue
        data = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
        names = [m["name"] for m in data.get("models") or []]
        if names != [sql.stem]:
            problems.append(f"{yml.relative_to(MODELS)} describes {names}, not [{sql.stem!r}]")
        for unit in data.get("unit_tests") or []:
            if unit["model"] != sql.stem:
                problems.append(f"{yml.relative_to(MODELS)}: unit test {unit['name']} is for {unit['model']}")
    assert problems == []


def test_only_sources_and_exposures_have_files_of_their_own() -> None:
    problems: list[str] = []
    for path, data in _yaml_files().items():
        if path.with_suffix(".sql").exists():
            continue
        keys = set(data) - {"version"}
        if not path.name.startswith("_") or not keys <= {"sources", "exposures"}:
            problems.append(f"{path.relative_to(MODELS)} holds {sorted(keys)}")
    assert problems == []
