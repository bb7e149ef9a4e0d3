"""check-config on this host's files: each missing path listed with its key and what to do, the
demo passing once its sources exist, --skip-paths for a machine that is not the production host.

Real files and folders in tmp_path; the command is the CLI's main(), output read as a user does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.config.site_files import demo_site, maildir_folder, write_site
from vigie.cli import main
from vigie.config import load_config

MISSING_SOURCES = [
    {"id": "pbx", "type": "asterisk_queue_log", "path": "pbx/queue_log*",
     "queues": {"accueil": "ACCUEIL"}},
    {"id": "cdr", "type": "asterisk_cdr_csv", "path": "pbx/Master.csv", "timezone": "UTC"},
    {"id": "mail", "type": "maildir", "path": "maildir",
     "mailboxes": [{"name": "ec", "path": "etat-civil", "service": "ETAT_CIVIL"}]},
    {"id": "boxes", "type": "mbox", "path": "mbox",
     "mailboxes": [{"name": "cc", "service": "CCAS", "inbox": "in.mbox", "sent": "out.mbox"}]},
    {"id": "glpi", "type": "glpi_sql", "path": "glpi/glpi.sqlite"},
    {"id": "courrier", "type": "request_register", "path": "exports/courrier-*.csv",
     "columns": {"request_id": "N°", "received_at": "Reçu le"}},
    {"id": "off", "type": "asterisk_queue_log", "path": "nowhere/queue_log", "enabled": False,
     "queues": {"accueil": "ACCUEIL"}},
]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], list[str]]:
    code = main(["check-config", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def _lines(lines: list[str], label: str) -> list[str]:
    return [x.strip() for x in lines if x.strip().startswith(label)]


def test_each_missing_path_is_listed_with_its_key(tmp_path: Path, capsys) -> None:
    site = write_site(tmp_path, MISSING_SOURCES)
    code, out, err = _run(capsys, str(site))
    assert code == 1
    problems = _lines(err, "PROBLEM")
    assert [p.split(":")[0].removeprefix("PROBLEM").strip() for p in problems] == [
        "sources[pbx].path", "sources[cdr].path", "sources[mail].path", "sources[boxes].path",
        "sources[glpi].path", "sources[courrier].path",
    ]  # the disabled source is not checked
    assert f"no queue_log file at {tmp_path}/pbx/queue_log* (configured as 'pbx/queue_log*')" in problems[0]
    assert f"no directory {tmp_path}/maildir" in problems[2]
    assert "connection_id" in problems[4]  # GLPI: what a real site sets instead of a file
    assert "--skip-paths" in problems[0]
    assert err[-1] == f"{site}: 6 problem(s), 0 warning(s): fix each PROBLEM line above (key: what was found, what to do)"
    # the key (from the tests' environment) and the six outputs are fine
    assert len(_lines(out, "ok")) == 7


def test_skip_paths_checks_the_file_only(tmp_path: Path, capsys) -> None:
    site = write_site(tmp_path, MISSING_SOURCES)
    code, out, err = _run(capsys, "--skip-paths", str(site))
    assert (code, err) == (0, [])
    assert out[1].strip() == "source paths, pseudonymisation key and outputs not checked (--skip-paths)"
    assert out[-1] == f"{site}: ok"


def test_demo_config_passes_after_demo_data(tmp_path: Path, capsys, monkeypatch) -> None:
    from vigie.demo import generate_demo_sources

    site = demo_site(tmp_path)
    monkeypatch.delenv("VIGIE_PSEUDONYMISATION_KEY", raising=False)
    code, _, err = _run(capsys, str(site))
    assert code == 1  # no sources yet, no key: the demo's configuration elsewhere fails
    assert len(_lines(err, "PROBLEM")) == 5
    assert "these are the demo's sources: run `vigie demo-data`" in "\n".join(err)

    generate_demo_sources(load_config(site), dt.date(2026, 11, 25), dt.date(2026, 11, 27))
    assert main(["generate-key", str(tmp_path / "var" / "secrets" / "pseudonymisation.key")]) == 0
    capsys.readouterr()
    code, out, err = _run(capsys, str(site))
    assert (code, err) == (0, [])
    oks = _lines(out, "ok")
    # queue_log, Master.csv, 4 mailboxes x (inbox, sent), GLPI, the key, 6 outputs
    assert len(oks) == 1 + 1 + 8 + 1 + 1 + 6
    assert any(x.startswith("ok       sources[pbx_cdr].path:") and x.endswith("(18 columns)") for x in oks)
    assert f"ok       pseudonymisation: key found in the file {tmp_path}/var/secrets/pseudonymisation.key" in oks
    assert out[-1] == f"{site}: ok"


def test_maildir_folders_need_cur_new_tmp_and_the_other_layout_is_named(tmp_path: Path, capsys) -> None:
    root = tmp_path / "maildir"
    maildir_folder(root / "ec")                                    # INBOX (Maildir++ root)
    maildir_folder(root / "ec" / ".Sent", ("cur", "new"))          # no tmp/: a warning
    maildir_folder(root / "urba" / "INBOX")                        # fs layout (mbsync)
    maildir_folder(root / "urba" / "Sent")
    maildir_folder(root / "ccas")                                  # no Sent at all
    site = write_site(tmp_path, [{
        "id": "mail", "type": "maildir", "path": "maildir", "mailboxes": [
            {"name": "ec", "path": "ec", "service": "ETAT_CIVIL"},
            {"name": "urba", "path": "urba", "service": "URBANISME"},
            {"name": "ccas", "path": "ccas", "service": "CCAS"},
            {"name": "accueil", "path": "accueil", "service": "ACCUEIL"},
        ]}])
    code, out, err = _run(capsys, str(site))
    assert code == 1
    warnings = _lines(out, "WARNING")
    assert warnings == [
        f"WARNING  sources[mail].mailboxes[ec].sent: {root}/ec/.Sent lacks tmp/ (a Maildir folder "
        "has cur/, new/ and tmp/): is it a complete copy of the mailbox?"
    ]
    problems = _lines(err, "PROBLEM")
    assert [p.split(":")[0].removeprefix("PROBLEM").strip() for p in problems] == [
        "sources[mail].mailboxes[urba].inbox", "sources[mail].mailboxes[urba].sent",
        "sources[mail].mailboxes[ccas].sent", "sources[mail].mailboxes[accueil].path",
    ]
    assert f"a Maildir was found at {root}/urba/INBOX (fs layout): set sources[mail].layout: fs" in problems[0]
    assert f"sent folder 'Sent' not found at {root}/ccas/.Sent (no cur/ or new/)" in problems[2]
    assert f"no mailbox directory {root}/accueil" in problems[3]
    assert "ok       sources[mail].mailboxes[ec].inbox: inbox folder 'INBOX'" in "\n".join(out)


def test_cdr_width_without_a_layout_suggests_custom_columns(tmp_path: Path, capsys) -> None:
    """Issue 13 point 7: columns: 21 on a 19-column file must not advise "set columns to 19"
    (the validator refuses 19): a width cdr_csv never writes is a cdr_custom layout."""
    (tmp_path / "pbx").mkdir()
    row = ",".join(f'"{i}"' for i in range(19))
    (tmp_path / "pbx" / "Master.csv").write_text(f"{row}\n{row}\n", encoding="utf-8")
    site = write_site(tmp_path, [{"id": "cdr", "type": "asterisk_cdr_csv",
                                  "path": "pbx/Master.csv", "timezone": "UTC", "columns": 21}])
    code, _, err = _run(capsys, str(site))
    assert code == 1
    (problem,) = _lines(err, "PROBLEM")
    assert problem.startswith("PROBLEM  sources[cdr].columns: source 'cdr':")
    assert "has 19 columns per record, but the source is configured with columns: 21" in problem
    assert "list the file's columns in custom_columns" in problem
    assert "set columns to 19" not in problem
    # a width cdr_csv does write keeps the plain advice
    (tmp_path / "pbx" / "Master.csv").write_text(
        "\n".join(",".join(f'"{i}"' for i in range(18)) for _ in range(2)) + "\n", encoding="utf-8")
    code, _, err = _run(capsys, str(site))
    assert code == 1
    assert "set columns to 18 or to 'auto'" in _lines(err, "PROBLEM")[0]


def test_register_export_without_its_mapped_header(tmp_path: Path, capsys) -> None:
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "courrier-2026.csv").write_text(
        "Numéro;Date d'arrivée\nC-1;28/11/2026\n", encoding="utf-8")
    site = write_site(tmp_path, [{"id": "courrier", "type": "request_register",
                                  "path": "exports/courrier-*.csv",
                                  "columns": {"request_id": "Numéro", "received_at": "Reçu le"}}])
    code, _, err = _run(capsys, str(site))
    assert code == 1
    (problem,) = _lines(err, "PROBLEM")
    assert problem.startswith("PROBLEM  sources[courrier].columns: source 'courrier': "
                              "courrier-2026.csv has no column columns.received_at = 'Reçu le'")


def test_an_output_that_cannot_be_written(tmp_path: Path, capsys) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "warehouse").write_text("a file where a directory should be")
    site = write_site(tmp_path, [])
    code, _, err = _run(capsys, str(site))
    assert code == 1
    (problem,) = _lines(err, "PROBLEM")
    assert problem.startswith(f"PROBLEM  outputs.warehouse: {tmp_path}/var/warehouse cannot be written")
