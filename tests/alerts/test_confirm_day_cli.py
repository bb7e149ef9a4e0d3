"""`vigie confirm-day`: the data team confirms a source's night (issue 11 item 3); the marker
it writes is what dbt reads (tests/alerts/test_completeness_pipeline.py shows the effect)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from vigie.cli import main


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "vigie.yml"
    path.write_text(yaml.safe_dump({
        "collectivite": {"name": "Commune", "timezone": "Europe/Paris",
                         "data_team": {"name": "Équipe données", "email": "donnees@test.fr"}},
        "services": [{"code": "EC", "name": "État civil", "opening_hours": [{"monday": ["08:30-12:00"]}]}],
        "sources": [{"id": "mail", "type": "maildir", "path": "maildir",
                     "mailboxes": [{"name": "ec", "path": "ec", "service": "EC"}]}],
        "outputs": {"landing": "landing"},
    }, allow_unicode=True))
    return path


def test_confirm_day_writes_the_marker_dbt_reads(tmp_path: Path, capsys) -> None:
    config = _config(tmp_path)
    assert main(["confirm-day", "--config", str(config), "--source", "mail", "--day", "2026-11-13",
                 "--by", "Équipe données", "--note", "panne IMAP"]) == 0
    marker = tmp_path / "landing" / "mail" / "day=2026-11-13" / "_CONFIRMED.json"
    info = json.loads(marker.read_text(encoding="utf-8"))
    assert {k: info[k] for k in ("source_id", "day", "confirmed_by", "note")} == {
        "source_id": "mail", "day": "2026-11-13", "confirmed_by": "Équipe données", "note": "panne IMAP"}
    assert "mail 2026-11-13 confirmed" in capsys.readouterr().out
    # again: the same file, rewritten (idempotent)
    assert main(["confirm-day", "--config", str(config), "--source", "mail", "--day", "2026-11-13"]) == 0
    assert [p.name for p in marker.parent.iterdir()] == ["_CONFIRMED.json"]


def test_confirm_day_names_the_known_sources_on_a_typo(tmp_path: Path, capsys) -> None:
    config = _config(tmp_path)
    assert main(["confirm-day", "--config", str(config), "--source", "mial", "--day", "2026-11-13"]) == 2
    assert "unknown source 'mial': the configuration has mail" in capsys.readouterr().err
    assert not (tmp_path / "landing" / "mial").exists()


def test_declare_down_writes_the_failed_marker(tmp_path: Path, capsys) -> None:
    """A source down although its extract ran: the same _FAILED.json as a failed extract (read by
    int_source_day_markers: incomplete without statistics, see test_completeness_pipeline)."""
    config = _config(tmp_path)
    assert main(["declare-down", "--config", str(config), "--source", "mail", "--day", "2026-11-13",
                 "--by", "Équipe données", "--note", "règle de tri qui déplaçait le courrier"]) == 0
    marker = tmp_path / "landing" / "mail" / "day=2026-11-13" / "_FAILED.json"
    info = json.loads(marker.read_text(encoding="utf-8"))
    assert (info["source_id"], info["day"], info["error"]) == (
        "mail", "2026-11-13", "déclarée en panne par Équipe données : règle de tri qui déplaçait le courrier")
    out = capsys.readouterr().out
    assert f"Undo: vigie confirm-day --config {config} --source mail --day 2026-11-13" in out
