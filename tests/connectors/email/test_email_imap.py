"""IMAP connector against a real Dovecot started once per test session (tests/fixtures/email/
dovecot_server.py). The committed Maildir fixture is loaded into it, so the IMAP path must give
the same rows as the Maildir path for the same night (only positions differ)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from connectors.email import imap
from connectors.email.maildir import read_interval as read_maildir
from connectors.extract import extract_source
from connectors.landing_layout import IMAP_STATE_FILE
from connectors.pseudonymise import Pseudonymiser
from tests.conftest import require_service
from tests.connectors.email.conftest import FIXTURES, MAILDIR, TEST_KEY, make_config
from vigie.config import VigieConfig, parse_config
from vigie.intervals import night_for_day

sys.path.insert(0, str(FIXTURES))
from dovecot_server import DovecotServer, dovecot_available

DAY = dt.date(2026, 11, 16)
CONN = "vigie_imap_test"
SENT_FR = "Éléments envoyés"
COMMON_KEYS = 16


def _fixture_messages(folder: Path) -> list[tuple[dt.datetime, bytes]]:
    out = []
    for sub in ("cur", "new"):
        d = folder / sub
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            if f.name.startswith("."):
                continue
            epoch = int(re.match(r"^(\d+)", f.name).group(1))
            out.append((dt.datetime.fromtimestamp(epoch, dt.UTC), f.read_bytes()))
    return out


@pytest.fixture(scope="session")
def dovecot():
    if not dovecot_available():
        reason = "dovecot is not installed (apt-get install dovecot-imapd)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    server = DovecotServer()
    server.start()
    require_service("Dovecot", server.host, server.port)
    # The Maildir fixture, folder by folder, under the names a French Outlook user sees.
    server.write_maildir("INBOX", _fixture_messages(MAILDIR / "etat-civil"))
    server.write_maildir(SENT_FR, _fixture_messages(MAILDIR / "etat-civil" / ".Sent"))
    server.write_maildir("urbanisme", _fixture_messages(MAILDIR / "urbanisme"))
    server.write_maildir("urbanisme.Envoyés", _fixture_messages(MAILDIR / "urbanisme" / ".Sent"))
    yield server
    server.cleanup()


@pytest.fixture()
def conn_env(dovecot, monkeypatch):
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN.upper()}",
        json.dumps({
            "conn_type": "imap", "host": dovecot.host, "port": dovecot.port,
            "login": dovecot.user, "password": dovecot.password,
            "extra": {"security": "none"},
        }),
    )
    return dovecot


def imap_config(landing: Path, mailboxes: list[dict] | None = None, **source) -> VigieConfig:
    base = make_config(MAILDIR).model_dump(mode="json", exclude_none=True)
    base["sources"] = [{
        "id": "mairie_imap",
        "type": "imap",
        "connection_id": CONN,
        "mailboxes": mailboxes or [
            {"name": "etat-civil", "service": "ETAT_CIVIL", "sent": SENT_FR,
             "address": "etat-civil@val-de-vigie.fr"},
            {"name": "urbanisme", "service": "URBANISME", "inbox": "urbanisme",
             "sent": "urbanisme.Envoyés", "address": "urbanisme@val-de-vigie.fr"},
        ],
        **source,
    }]
    base["outputs"] = {"landing": str(landing), "warehouse": str(landing.parent / "w.duckdb")}
    return parse_config(base)


@pytest.fixture()
def pseudo() -> Pseudonymiser:
    return Pseudonymiser(TEST_KEY)


def _flags(server: DovecotServer, folder: str) -> dict[int, bytes]:
    c = server.connect()
    try:
        c.select(imap.encode_folder(folder), readonly=True)
        _, data = c.uid("FETCH", "1:*", "(FLAGS)")
        return {int(re.search(rb"UID (\d+)", d).group(1)): re.search(rb"FLAGS \(([^)]*)\)", d)
                .group(1) for d in data if d}
    finally:
        c.logout()


def test_imap_gives_the_maildir_rows(conn_env, tmp_path, pseudo) -> None:
    cfg = imap_config(tmp_path / "landing")
    night = night_for_day(DAY, "Europe/Paris")
    got = imap.read_interval(cfg, cfg.sources[0], night, pseudo)
    want = read_maildir(make_config(MAILDIR), make_config(MAILDIR).sources[0], night, pseudo)
    g = got.tables["email_messages"].to_pylist()
    w = want.tables["email_messages"].to_pylist()
    # first read of each folder = its history before D too (2 messages: 15 Nov 23:59:59 in
    # etat-civil, 13 Nov in urbanisme), landed in batch D with their true received_at
    history = [r for r in g if r["received_at"] < night.start_utc]
    assert len(g) == 18 and len(w) == 16 and len(history) == 2
    assert got.meta["late_arrivals"] == 2
    g = [r for r in g if r["received_at"] >= night.start_utc]
    drop = {"source_id", "source_position", "message_key"}

    def key(r):
        return (r["mailbox"], r["folder_role"], r["received_at"], r["from_key"])

    gs = sorted(({k: v for k, v in r.items() if k not in drop} for r in g), key=key)
    ws = sorted(({k: v for k, v in r.items() if k not in drop} for r in w), key=key)
    assert gs == ws
    # message keys are equal except for a message without a Message-ID, whose synthetic id
    # hashes its header block (IMAP fetches a subset of the fields)
    assert len({r["message_key"] for r in g} & {r["message_key"] for r in w}) == COMMON_KEYS
    # the same two messages are rejected; the NUL-bytes file shows no usable field through
    # HEADER.FIELDS (the server filters the block), so its reason differs
    # the same message is rejected; through HEADER.FIELDS the server filters the block, so the
    # NUL-bytes file shows no usable field and its reason differs
    assert [r.reason for r in want.rejects] == [
        "not an email message: NUL bytes in the header block"]
    assert [r.reason for r in got.rejects] == [
        "not an email message: no header field on the first line"]
    assert all(re.fullmatch(r"uid \d+:\d+", r.source_position) for r in got.rejects)
    assert got.meta["imap_folders"]["etat-civil/sent"]["read"] == "first-read"


def test_headers_only_and_never_seen(conn_env, tmp_path, pseudo) -> None:
    before = _flags(conn_env, "INBOX")
    cfg = imap_config(tmp_path / "landing")
    imap.read_interval(cfg, cfg.sources[0], night_for_day(DAY, "Europe/Paris"), pseudo)
    after = _flags(conn_env, "INBOX")
    assert after == before
    assert all(b"\\Seen" not in f for f in after.values())
    assert "BODY.PEEK[HEADER.FIELDS (" in imap.FETCH_ITEMS


def test_modified_utf7_folder_name() -> None:
    assert imap.encode_folder(SENT_FR) == '"&AMk-l&AOk-ments envoy&AOk-s"'
    assert imap.parse_internaldate(b" 6-Nov-2026 09:00:00 +0100") == dt.datetime(
        2026, 11, 6, 8, 0, tzinfo=dt.UTC)


def test_missing_folder_fails_loudly(conn_env, tmp_path, pseudo) -> None:
    cfg = imap_config(tmp_path / "landing", [
        {"name": "etat-civil", "service": "ETAT_CIVIL", "sent": "Sent Items"}])
    with pytest.raises(imap.ImapUnavailable, match=r"sent folder 'Sent Items' cannot be opened"):
        imap.read_interval(cfg, cfg.sources[0], night_for_day(DAY, "Europe/Paris"), pseudo)


def test_bad_password_fails_loudly(conn_env, tmp_path, pseudo, monkeypatch) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps({
        "host": conn_env.host, "port": conn_env.port, "login": conn_env.user,
        "password": "wrong", "extra": {"security": "none"}}))
    cfg = imap_config(tmp_path / "landing")
    with pytest.raises(imap.ImapUnavailable, match="cannot connect or log in"):
        imap.read_interval(cfg, cfg.sources[0], night_for_day(DAY, "Europe/Paris"), pseudo)


def _msg(n: int, folder_tag: str) -> bytes:
    return (
        f"From: citoyen{n}@exemple.fr\r\nTo: accueil@val-de-vigie.fr\r\n"
        f"Subject: demande {n}\r\nMessage-ID: <{folder_tag}-{n}@exemple.fr>\r\n"
        f"Date: Mon, 16 Nov 2026 10:00:00 +0100\r\n\r\nCorps {n}\r\n"
    ).encode()


def _landed(landing: Path, day: dt.date) -> list[dict]:
    return pq.read_table(
        landing / "mairie_imap" / f"day={day}" / "email_messages.parquet").to_pylist()


def _one_mailbox(tag: str) -> list[dict]:
    return [{"name": tag, "service": "ETAT_CIVIL", "inbox": f"{tag}", "sent": f"{tag}.Sent"}]


def test_incremental_late_arrival_and_rerun(conn_env, tmp_path) -> None:
    """Night 16 lands its messages; a message appended on the 17th with INTERNALDATE 16th
    (late for night 16) lands in night 17's batch with its true received_at; rerunning night
    17 lands the same batch; rerunning night 16 too."""
    tag = "t-incr"
    at = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
    conn_env.write_maildir(tag, [(at + dt.timedelta(minutes=i), _msg(i, tag)) for i in range(3)])
    conn_env.write_maildir(f"{tag}.Sent", [])
    landing = tmp_path / "landing"
    cfg = imap_config(landing, _one_mailbox(tag))
    extract_source(cfg, "mairie_imap", DAY)
    assert len(_landed(landing, DAY)) == 3
    state = json.loads((landing / "mairie_imap" / IMAP_STATE_FILE).read_text())
    assert state["folders"][f"{tag}/inbox"]["last_uid"] == 3
    # late arrival: appended now, INTERNALDATE 16 Nov 15:00 UTC
    conn_env.append(tag, at.replace(hour=15), _msg(9, tag))
    day17 = DAY + dt.timedelta(days=1)
    extract_source(cfg, "mairie_imap", day17)
    rows17 = _landed(landing, day17)
    assert [r["received_at"] for r in rows17] == [at.replace(hour=15)]
    assert json.loads((landing / "mairie_imap" / f"day={day17}" / "_batch.json").read_text())[
        "meta"]["late_arrivals"] == 1
    first = (landing / "mairie_imap" / f"day={day17}" / "email_messages.parquet").read_bytes()
    extract_source(cfg, "mairie_imap", day17)  # rerun: same recorded UID range, same batch
    again = (landing / "mairie_imap" / f"day={day17}" / "email_messages.parquet").read_bytes()
    assert again == first
    # rerun of night 16: its date search now also finds the late message (INTERNALDATE 16th):
    # 4 rows; the copy in batch 17 is the same (message_key, mailbox, folder_role), kept once
    # by staging
    extract_source(cfg, "mairie_imap", DAY)
    rows16 = _landed(landing, DAY)
    assert len(rows16) == 4
    assert rows17[0]["message_key"] in {r["message_key"] for r in rows16}


def test_uidvalidity_change_rereads_the_folder(conn_env, tmp_path) -> None:
    tag = "t-uidv"
    at = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
    conn_env.write_maildir(tag, [(at + dt.timedelta(minutes=i), _msg(i, tag)) for i in range(2)])
    conn_env.write_maildir(f"{tag}.Sent", [])
    landing = tmp_path / "landing"
    cfg = imap_config(landing, _one_mailbox(tag))
    extract_source(cfg, "mairie_imap", DAY)
    old = json.loads((landing / "mairie_imap" / IMAP_STATE_FILE).read_text())
    # the server rebuilds the folder's UID list: new UIDVALIDITY
    uidlist = conn_env.folder_path("", tag) / "dovecot-uidlist"
    text = uidlist.read_text()
    v = int(re.search(r" V(\d+) ", text).group(1))
    uidlist.write_text(text.replace(f" V{v} ", f" V{v + 1000} ", 1))
    day17 = DAY + dt.timedelta(days=1)
    extract_source(cfg, "mairie_imap", day17)
    meta = json.loads((landing / "mairie_imap" / f"day={day17}" / "_batch.json").read_text())[
        "meta"]
    assert meta["imap_folders"][f"{tag}/inbox"]["read"] == "uidvalidity-changed"
    assert meta["imap_folders"][f"{tag}/inbox"]["uidvalidity"] == v + 1000
    rows16, rows17 = _landed(landing, DAY), _landed(landing, day17)
    # the folder's 2 messages are read again (late for night 16) ...
    assert len(rows17) == 2
    # ... with the same message keys, so staging keeps one copy of each (message_key, mailbox,
    # folder_role): no duplicated request
    assert {r["message_key"] for r in rows17} == {r["message_key"] for r in rows16}
    assert old["folders"][f"{tag}/inbox"]["uidvalidity"] == v


def test_connection_cut_mid_fetch_fails_and_retry_lands_once(conn_env, tmp_path) -> None:
    """The server's imap process is killed while the connector is fetching: the task fails with
    a clear error, nothing lands, the state does not move; the retry lands each message once."""
    tag = "t-cut"
    at = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
    n = 400
    conn_env.write_maildir(tag, [(at + dt.timedelta(seconds=i), _msg(i, tag)) for i in range(n)])
    conn_env.write_maildir(f"{tag}.Sent", [])
    landing = tmp_path / "landing"
    cfg = imap_config(landing, _one_mailbox(tag), fetch_batch=10)
    # cut the session at the 3rd UID FETCH command (deterministic, no timing)
    real_fetch = imap._fetch
    calls = {"n": 0}

    def cutting_fetch(conn, uids):
        calls["n"] += 1
        if calls["n"] == 3:
            assert conn_env.kill_imap_processes() >= 1
        return real_fetch(conn, uids)

    imap._fetch = cutting_fetch
    try:
        with pytest.raises(imap.ImapUnavailable, match=r"connection lost during UID FETCH after "
                           r"20 message\(s\).*nothing was landed.*rerun the task"):
            extract_source(cfg, "mairie_imap", DAY)
    finally:
        imap._fetch = real_fetch
    assert not (landing / "mairie_imap" / f"day={DAY}").exists()
    assert not (landing / "mairie_imap" / IMAP_STATE_FILE).exists()
    extract_source(cfg, "mairie_imap", DAY)  # the retry
    rows = _landed(landing, DAY)
    assert len(rows) == n
    assert len({r["message_key"] for r in rows}) == n


def test_nothing_personal_on_the_imap_path(conn_env, tmp_path) -> None:
    landing = tmp_path / "landing"
    cfg = imap_config(landing)
    extract_source(cfg, "mairie_imap", DAY)
    blob = b"".join(p.read_bytes() for p in (landing / "mairie_imap").rglob("*") if p.is_file())
    for clear in (b"@exemple.fr", b"@val-de-vigie.fr", b"naissance", b"Bonjour", b"vigie-test",
                  conn_env.password.encode()):
        assert clear.lower() not in blob.lower()

