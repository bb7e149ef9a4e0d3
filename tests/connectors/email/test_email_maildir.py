"""The Maildir++ reader on the fixture tree (tests/fixtures/email/build_maildir.py).

Night's day: Monday 2026-11-16, Europe/Paris, i.e. [2026-11-15T23:00Z, 2026-11-16T23:00Z).
Fixture files are named by their number ``.M<n>P``; the table below says what each becomes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.email.maildir import MaildirLayoutError, folder_dir, read_interval, relocate
from connectors.landing import land_batch
from connectors.landing_schemas import EMAIL_MESSAGES
from connectors.pseudonymise import Pseudonymiser
from vigie.config import VigieConfig
from vigie.intervals import night_for_day

from .conftest import MAILDIR, make_config

DAY = dt.date(2026, 11, 16)
NIGHT = night_for_day(DAY, "Europe/Paris")
UTC = dt.UTC

# message number -> (mailbox, folder_role, from_is_internal, auto_reason, received_at UTC)
EXPECTED = {
    1: ("etat-civil", "inbox", False, None, dt.datetime(2026, 11, 15, 23, 0, tzinfo=UTC)),
    4: ("etat-civil", "inbox", False, "list", dt.datetime(2026, 11, 16, 6, 30, tzinfo=UTC)),
    5: ("etat-civil", "inbox", False, None, dt.datetime(2026, 11, 16, 8, 15, tzinfo=UTC)),
    6: ("etat-civil", "inbox", False, "auto-submitted", dt.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)),
    7: ("etat-civil", "inbox", True, "bounce", dt.datetime(2026, 11, 16, 10, 0, tzinfo=UTC)),
    8: ("etat-civil", "inbox", True, None, dt.datetime(2026, 11, 16, 11, 0, tzinfo=UTC)),
    9: ("etat-civil", "inbox", False, None, dt.datetime(2026, 11, 16, 13, 2, tzinfo=UTC)),
    10: ("etat-civil", "inbox", False, None, dt.datetime(2026, 11, 16, 14, 0, tzinfo=UTC)),
    11: ("etat-civil", "inbox", False, None, dt.datetime(2026, 11, 16, 15, 0, tzinfo=UTC)),
    12: ("etat-civil", "inbox", False, None, dt.datetime(2026, 11, 16, 15, 30, tzinfo=UTC)),
    13: ("etat-civil", "inbox", False, None, dt.datetime(2026, 11, 16, 16, 0, tzinfo=UTC)),
    14: ("etat-civil", "inbox", False, None, dt.datetime(2026, 11, 16, 17, 0, tzinfo=UTC)),
    16: ("etat-civil", "inbox", False, None, dt.datetime(2026, 11, 16, 19, 0, tzinfo=UTC)),
    17: ("etat-civil", "sent", True, "auto-submitted", dt.datetime(2026, 11, 16, 8, 15, 30, tzinfo=UTC)),
    18: ("etat-civil", "sent", True, None, dt.datetime(2026, 11, 16, 15, 45, tzinfo=UTC)),
    20: ("urbanisme", "inbox", False, None, dt.datetime(2026, 11, 16, 9, 30, tzinfo=UTC)),
}
CLEAR_TEXTS = (
    "jeanne", "dupont", "exemple.fr", "exemple.ru", "exemple.org", "ivan", "petrov",
    "naissance", "справка", "réclamation", "reclamation", "livret", "recensement",
    "req1@", "rem1@", "first-id", "c.martin", "p.girard", "service-public",
)


def _number(position: str) -> int:
    m = re.search(r"\.M(\d+)P", position)
    assert m, position
    return int(m.group(1))


def _by_number(table: pa.Table) -> dict[int, dict]:
    return {_number(r["source_position"]): r for r in table.to_pylist()}


@pytest.fixture()
def result(cfg: VigieConfig, pseudo: Pseudonymiser):
    return read_interval(cfg, cfg.sources[0], NIGHT, pseudo)


def test_counts_rows_and_rejects(result) -> None:
    table = result.tables["email_messages"]
    assert table.schema.equals(EMAIL_MESSAGES)
    assert table.num_rows == 16
    rows = _by_number(table)
    assert sorted(rows) == sorted(EXPECTED)
    for n, (mailbox, role, internal, reason, received) in EXPECTED.items():
        row = rows[n]
        assert (row["mailbox"], row["folder_role"], row["from_is_internal"]) == (mailbox, role, internal), n
        assert row["auto_reason"] == reason, n
        assert row["is_auto_submitted"] is (reason is not None), n
        assert row["received_at"] == received, n
        assert row["service_code"] == {"etat-civil": "ETAT_CIVIL", "urbanisme": "URBANISME"}[mailbox]
        assert row["source_id"] == "mairie_mail"
    assert len(result.rejects) == 1
    rej = result.rejects[0]
    assert rej.table_name == "email_messages"
    assert rej.source_file == "etat-civil/new/1794852000.M15P4015Q1.mx1.val-de-vigie.fr,S=276"
    assert rej.source_position == "message 1794852000.M15P4015Q1.mx1.val-de-vigie.fr,S=276"
    assert rej.reason == "not an email message: NUL bytes in the header block"
    assert result.meta["files_seen"] == 20
    assert result.meta["files_in_interval"] == 17
    assert result.meta["messages"] == 16
    assert result.meta["received_at_from_mtime"] == 0
    assert result.meta["header_rules"] == {
        "date:unparsable": 1,
        "header:raw-8bit": 1,
        "message_id:missing": 1,
        "message_id:several": 1,
        "references:capped": 1,
    }


def test_interval_bounds_are_half_open(result) -> None:
    rows = _by_number(result.tables["email_messages"])
    assert 1 in rows  # delivered at 2026-11-16 00:00:00 local exactly
    assert 2 not in rows  # 2026-11-15 23:59:59 local
    assert 3 not in rows  # 2026-11-17 00:00:00 local exactly
    assert 19 not in rows  # the Friday before


def test_threading_keys_join(result, pseudo: Pseudonymiser) -> None:
    rows = _by_number(result.tables["email_messages"])
    request, reminder, ack, reply = rows[5], rows[9], rows[17], rows[18]
    assert request["message_key"] == pseudo.key("message_id", "req1@exemple.fr")
    assert reminder["in_reply_to_key"] == request["message_key"]
    assert ack["in_reply_to_key"] == request["message_key"]
    assert reply["in_reply_to_key"] == reminder["message_key"]
    assert reply["references_keys"] == [request["message_key"], reminder["message_key"]]
    assert request["subject_key"] == reminder["subject_key"] == reply["subject_key"]
    assert request["subject_key"] == pseudo.key("subject", "demande d'acte de naissance")
    jeanne = pseudo.email("jeanne.dupont@exemple.fr")
    assert request["from_key"] == reminder["from_key"] == rows[14]["from_key"] == jeanne
    assert reply["to_keys"] == [jeanne]
    assert request["to_keys"] == [pseudo.email("etat-civil@val-de-vigie.fr")]  # case-folded


def test_defensive_rules_on_fixture_messages(result, pseudo: Pseudonymiser) -> None:
    rows = _by_number(result.tables["email_messages"])
    assert rows[10]["subject_key"] == pseudo.key("subject", "справка о рождении")  # koi8-r
    assert rows[16]["subject_key"] == pseudo.key("subject", "réclamation décès")  # raw cp1252
    assert rows[12]["message_key"] == pseudo.key("message_id", "first-id@relay.exemple.net")
    assert rows[12]["subject_key"] == pseudo.key("subject", "recensement")
    assert rows[11]["message_key"] is not None  # no Message-ID: synthetic key
    assert rows[13]["date_header_at"] is None  # "lundi prochain vers midi"
    assert rows[10]["date_header_at"] == dt.datetime(2026, 11, 16, 14, 0, tzinfo=UTC)  # +0300
    refs = rows[14]["references_keys"]
    assert len(refs) == 50
    assert refs[0] == pseudo.key("message_id", "ref0001@exemple.fr")
    assert refs[1] == pseudo.key("message_id", "ref1952@exemple.fr")
    assert refs[-1] == pseudo.key("message_id", "ref2000@exemple.fr")
    assert rows[14]["subject_key"] == pseudo.key("subject", "longue discussion")
    assert rows[20]["to_keys"] == [
        pseudo.email("urbanisme@val-de-vigie.fr"),
        pseudo.email("etat-civil@val-de-vigie.fr"),
        pseudo.email("bruno.roche@exemple.fr"),
    ]


def test_rerun_gives_identical_rows(cfg: VigieConfig, pseudo: Pseudonymiser, result) -> None:
    again = read_interval(cfg, cfg.sources[0], NIGHT, pseudo)
    assert again.tables["email_messages"].equals(result.tables["email_messages"])
    assert again.rejects == result.rejects and again.meta == result.meta


def test_landed_batch_holds_no_clear_identity(
    cfg: VigieConfig, pseudo: Pseudonymiser, result, tmp_path: Path
) -> None:
    batch = land_batch(tmp_path / "landing", "mairie_mail", "maildir", DAY, result)
    assert batch.row_counts == {"email_messages": 16}
    assert batch.reject_count == 1
    files = sorted(p.name for p in batch.path.iterdir())
    assert files == ["_batch.json", "email_messages.parquet", "rejects.parquet"]
    landed = pq.read_table(batch.path / "email_messages.parquet")
    assert landed.schema.equals(EMAIL_MESSAGES)
    assert landed.num_rows == 16
    for path in batch.path.iterdir():
        raw = path.read_bytes().lower()
        decoded = (
            repr(pq.read_table(path).to_pylist()).lower() if path.suffix == ".parquet" else ""
        )
        for clear in CLEAR_TEXTS:
            assert clear.encode() not in raw, (path.name, clear)
            assert clear not in decoded, (path.name, clear)


def test_mtime_fallback_for_names_without_epoch(
    tmp_path: Path, pseudo: Pseudonymiser
) -> None:
    root = tmp_path / "maildir"
    shutil.copytree(MAILDIR, root)
    odd = root / "etat-civil" / "new" / "courier-import-0001"
    odd.write_bytes(
        b"From: Anne Morel <anne.morel@exemple.fr>\nSubject: Import\nMessage-ID: <imp@x.fr>\n\n"
    )
    when = dt.datetime(2026, 11, 16, 12, 0, tzinfo=UTC).timestamp()
    os.utime(odd, (when, when))
    cfg = make_config(root)
    result = read_interval(cfg, cfg.sources[0], NIGHT, pseudo)
    assert result.meta["received_at_from_mtime"] == 1
    rows = [r for r in result.tables["email_messages"].to_pylist() if "courier" in r["source_position"]]
    assert [r["received_at"] for r in rows] == [dt.datetime(2026, 11, 16, 12, 0, tzinfo=UTC)]
    assert rows[0]["source_position"] == "etat-civil/new/courier-import-0001"


def test_another_night(cfg: VigieConfig, pseudo: Pseudonymiser) -> None:
    result = read_interval(cfg, cfg.sources[0], night_for_day(dt.date(2026, 11, 13), "Europe/Paris"), pseudo)
    rows = result.tables["email_messages"].to_pylist()
    assert [(r["mailbox"], r["message_key"]) for r in rows] == [
        ("urbanisme", pseudo.key("message_id", "pc-1@exemple.fr"))
    ]
    assert result.rejects == []


def test_folder_dir() -> None:
    base = Path("/m/etat-civil")
    assert folder_dir(base, "INBOX") == base
    assert folder_dir(base, "Sent") == base / ".Sent"
    assert folder_dir(base, "INBOX.Sent") == base / ".Sent"
    assert folder_dir(base, "Archives.2026") == base / ".Archives.2026"


def test_missing_root_fails_loudly(tmp_path: Path, pseudo: Pseudonymiser) -> None:
    cfg = make_config(tmp_path / "nowhere")
    with pytest.raises(MaildirLayoutError, match=r"directory .*nowhere does not exist"):
        read_interval(cfg, cfg.sources[0], NIGHT, pseudo)


def test_missing_mailbox_fails_loudly(tmp_path: Path, pseudo: Pseudonymiser) -> None:
    root = tmp_path / "maildir"
    shutil.copytree(MAILDIR, root)
    shutil.rmtree(root / "urbanisme")
    cfg = make_config(root)
    with pytest.raises(MaildirLayoutError) as exc:
        read_interval(cfg, cfg.sources[0], NIGHT, pseudo)
    assert str(root / "urbanisme") in str(exc.value)
    assert "mailboxes[urbanisme].path" in str(exc.value)


def test_missing_sent_folder_fails_loudly(tmp_path: Path, pseudo: Pseudonymiser) -> None:
    root = tmp_path / "maildir"
    shutil.copytree(MAILDIR, root)
    shutil.rmtree(root / "etat-civil" / ".Sent")
    cfg = make_config(root)
    with pytest.raises(MaildirLayoutError) as exc:
        read_interval(cfg, cfg.sources[0], NIGHT, pseudo)
    assert str(root / "etat-civil" / ".Sent") in str(exc.value)
    assert "replies" in str(exc.value)


def test_relocate_follows_a_message_renamed_by_a_client(tmp_path: Path) -> None:
    for sub in ("new", "cur"):
        (tmp_path / sub).mkdir()
    read = tmp_path / "cur" / "1794816900.M5P4005Q1.mx1,S=261:2,RS"
    read.write_bytes(b"From: a@b.fr\n\n")
    assert relocate(tmp_path / "new" / "1794816900.M5P4005Q1.mx1,S=261") == read
    assert relocate(tmp_path / "cur" / "1794816900.M5P4005Q1.mx1,S=261:2,S") == read
    assert relocate(tmp_path / "new" / "1794816900.M6P4006Q1.mx1,S=261") is None


def test_extract_source_dispatches_to_the_maildir_reader(cfg: VigieConfig, tmp_path: Path) -> None:
    from connectors.extract import extract_source
    from vigie.config import Outputs

    cfg = cfg.model_copy(update={"outputs": Outputs(landing=str(tmp_path / "landing"))})
    batch = extract_source(cfg, "mairie_mail", DAY)  # key from VIGIE_PSEUDONYMISATION_KEY
    assert batch.path == tmp_path / "landing" / "mairie_mail" / "day=2026-11-16"
    assert (batch.row_counts, batch.reject_count) == ({"email_messages": 16}, 1)
