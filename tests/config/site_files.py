"""Helpers of the check-config tests: a site configuration written to a file, real trees on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEMO = PROJECT_DIR / "config" / "vigie.yml"
HOURS = {d: ["08:30-12:00", "13:30-17:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def write_site(base: Path, sources: list[dict[str, Any]], **top: Any) -> Path:
    """A small configuration file in ``base`` whose outputs sit in ``base/var``."""
    data: dict[str, Any] = {
        "collectivite": {
            "name": "Commune de test",
            "timezone": "Europe/Paris",
            "data_team": {"name": "Données", "email": "donnees@test.fr"},
        },
        "services": [
            {"code": c, "name": c.title(), "opening_hours": [HOURS]}
            for c in ("ETAT_CIVIL", "URBANISME", "CCAS", "ACCUEIL")
        ],
        "sources": sources,
        "outputs": {k: f"var/{k}" for k in ("landing", "data_docs", "gx_project", "outbox")}
        | {"warehouse": "var/warehouse/vigie.duckdb", "bi_snapshot": "var/bi/vigie_bi.duckdb"},
    }
    data.update(top)
    path = base / "site.yml"
    base.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def demo_site(base: Path) -> Path:
    """The demo configuration with every source, output and the key file under ``base/var``."""
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["path"] = source["path"].replace("../var/", "var/")
    data["outputs"] = {k: (v.replace("../var/", "var/") if isinstance(v, str) else v)
                       for k, v in data["outputs"].items()}
    data["pseudonymisation"]["key_file"] = "var/secrets/pseudonymisation.key"
    base.mkdir(parents=True, exist_ok=True)
    path = base / "site.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def maildir_folder(path: Path, subdirs: tuple[str, ...] = ("cur", "new", "tmp")) -> Path:
    for sub in subdirs:
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path
