"""check-config --connections against real servers on loopback: PostgreSQL (5432), a Dovecot
started for the session (tests/fixtures/email/dovecot_server.py, as the IMAP connector tests do)
and an aiosmtpd SMTP server; a refused connection is said as such, naming the server."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.config.site_files import write_site
from tests.conftest import require_service
from vigie.cli import main
from vigie.config import load_config
from vigie.connection_checks import check_connections

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "email"
REFUSED = "connection refused (is the server running and listening on this address?)"

pytestmark = pytest.mark.service


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database holding an Asterisk realtime queue_log table."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"vigie_check_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres",
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"CREATE DATABASE {name}"))
    engine = sa.create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE queue_log (id integer primary key, time timestamp, "
                          "callid varchar(80), queuename varchar(80), agent varchar(80), "
                          "event varchar(32), data1 varchar(80), data2 varchar(80), "
                          "data3 varchar(80), data4 varchar(80), data5 varchar(80))"))
    engine.dispose()
    yield name
    with admin.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _sql_source(sid: str, conn_id: str, table: str = "queue_log") -> dict:
    return {"id": sid, "type": "asterisk_queue_log_sql", "connection_id": conn_id, "table": table,
            "queues": {"accueil": "ACCUEIL"}}


def test_sql_sources_answer_lack_a_table_or_are_refused(tmp_path, monkeypatch, pg_database) -> None:
    port = _free_port()  # nothing listens there
    monkeypatch.setenv("AIRFLOW_CONN_PBX_DB", f"postgres://postgres@127.0.0.1:5432/{pg_database}")
    monkeypatch.setenv("AIRFLOW_CONN_PBX_DOWN", f"postgres://postgres@127.0.0.1:{port}/{pg_database}")
    monkeypatch.delenv("AIRFLOW_CONN_PBX_UNDEFINED", raising=False)
    cfg = load_config(write_site(tmp_path, [
        _sql_source("pbx_ok", "pbx_db"),
        _sql_source("pbx_no_table", "pbx_db", table="queue_log_realtime"),
        _sql_source("pbx_refused", "pbx_down"),
    ]))
    checks = check_connections(cfg)
    assert [(c.status, c.where) for c in checks] == [
        ("ok", "sources[pbx_ok].connection_id"),
        ("problem", "sources[pbx_no_table].connection_id"),
        ("problem", "sources[pbx_refused].connection_id"),
    ]
    assert checks[0].message == "connection 'pbx_db' (postgres 127.0.0.1:5432) answers"
    assert "table 'queue_log_realtime' not found" in checks[1].message
    assert checks[2].message == f"connection 'pbx_down' (postgres 127.0.0.1:{port}): {REFUSED}"


def test_cli_connections_lists_the_refused_server(tmp_path, monkeypatch, capsys) -> None:
    port = _free_port()
    monkeypatch.setenv("AIRFLOW_CONN_GLPI_DB", f"mysql://glpi:pw@127.0.0.1:{port}/glpi")
    site = write_site(tmp_path, [{"id": "glpi", "type": "glpi_sql", "connection_id": "glpi_db"}])
    assert main(["check-config", "--skip-paths", str(site)]) == 0
    out = capsys.readouterr().out
    assert "1 connection(s) not tried (sources[glpi].connection_id): add --connections" in out
    assert main(["check-config", "--skip-paths", "--connections", str(site)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"  PROBLEM  sources[glpi].connection_id: connection 'glpi_db' (mysql 127.0.0.1:{port}): {REFUSED}",
        f"{site}: 1 problem(s), 0 warning(s): fix each PROBLEM line above (key: what was found, what to do)",
    ]


def test_undefined_connection_says_what_to_set(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_PBX_NOWHERE", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow_home"))
    cfg = load_config(write_site(tmp_path, [_sql_source("pbx", "pbx_nowhere")]))
    (check,) = check_connections(cfg)
    assert check.status == "problem"
    assert check.message.startswith("connection 'pbx_nowhere' not found: set the environment "
                                    "variable AIRFLOW_CONN_PBX_NOWHERE (JSON or URI)")


@pytest.fixture(scope="module")
def dovecot():
    sys.path.insert(0, str(FIXTURES))
    from dovecot_server import DovecotServer, dovecot_available

    if not dovecot_available():
        reason = "dovecot is not installed (apt-get install dovecot-imapd)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    server = DovecotServer()
    server.start()
    require_service("Dovecot", server.host, server.port)
    server.write_maildir("INBOX", [])
    server.write_maildir("Sent", [])
    yield server
    server.cleanup()


def test_imap_logs_in_and_opens_each_folder(tmp_path, monkeypatch, dovecot) -> None:
    conn = {"conn_type": "imap", "host": dovecot.host, "port": dovecot.port,
            "login": dovecot.user, "password": dovecot.password, "extra": {"security": "none"}}
    monkeypatch.setenv("AIRFLOW_CONN_MAIL_OK", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW_CONN_MAIL_BADPW", json.dumps(conn | {"password": "wrong"}))
    cfg = load_config(write_site(tmp_path, [
        {"id": "mail", "type": "imap", "connection_id": "mail_ok", "mailboxes": [
            {"name": "ec", "service": "ETAT_CIVIL"},
            {"name": "urba", "service": "URBANISME", "sent": "Éléments envoyés"},
        ]},
        {"id": "mail2", "type": "imap", "connection_id": "mail_badpw",
         "mailboxes": [{"name": "ccas", "service": "CCAS"}]},
    ]))
    checks = check_connections(cfg)
    target = f"imap {dovecot.host}:{dovecot.port}"
    assert [(c.status, c.where) for c in checks] == [
        ("ok", "sources[mail].connection_id"),
        ("ok", "sources[mail].mailboxes[ec].inbox"),
        ("ok", "sources[mail].mailboxes[ec].sent"),
        ("ok", "sources[mail].mailboxes[urba].inbox"),
        ("problem", "sources[mail].mailboxes[urba].sent"),
        ("problem", "sources[mail2].connection_id"),
    ]
    assert checks[0].message == f"connection 'mail_ok' ({target}): logged in as {dovecot.user!r}"
    assert checks[4].message.startswith(f"folder 'Éléments envoyés' cannot be opened on {target}")
    assert checks[5].message.startswith(f"connection 'mail_badpw' ({target}): error:")
    assert "uthentication failed" in checks[5].message


@pytest.fixture
def smtp_server() -> Iterator[int]:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook
            raise AssertionError("check-config must never send a message")

    port = _free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def test_smtp_greets_or_is_refused(tmp_path, monkeypatch, smtp_server) -> None:
    extra = {"ssl": False, "starttls": False, "attempts": 1}
    monkeypatch.setenv("AIRFLOW_CONN_VIGIE_SMTP", json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp_server, "extra": extra}))
    site = write_site(tmp_path, [], outputs={"smtp_connection_id": "vigie_smtp"})
    (check,) = check_connections(load_config(site))
    assert (check.status, check.message) == (
        "ok", f"connection 'vigie_smtp' (smtp 127.0.0.1:{smtp_server}) greets")
    closed = _free_port()
    monkeypatch.setenv("AIRFLOW_CONN_VIGIE_SMTP", json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": closed, "extra": extra}))
    (check,) = check_connections(load_config(site))
    assert (check.status, check.message) == (
        "problem", f"connection 'vigie_smtp' (smtp 127.0.0.1:{closed}): {REFUSED}")


class _CallLogd(BaseHTTPRequestHandler):
    """call-logd's GET /1.0/cdr: one token is valid."""

    def do_GET(self) -> None:  # http.server hook name
        if self.headers.get("X-Auth-Token") != "good-token":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps({"items": [], "total": 0, "filtered": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_wazo_answers_or_refuses_the_token(tmp_path, monkeypatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CallLogd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        url = f"http://127.0.0.1:{port}/api/call-logd/1.0/cdr"
        monkeypatch.setenv("AIRFLOW_CONN_WAZO_OK", f"http://:good-token@127.0.0.1:{port}/api/call-logd")
        monkeypatch.setenv("AIRFLOW_CONN_WAZO_OLD", f"http://:expired@127.0.0.1:{port}/api/call-logd")
        cfg = load_config(write_site(tmp_path, [
            {"id": "wazo_ok", "type": "wazo_cdr", "connection_id": "wazo_ok"},
            {"id": "wazo_old", "type": "wazo_cdr", "connection_id": "wazo_old"},
        ]))
        checks = check_connections(cfg)
    finally:
        server.shutdown()
    assert [(c.status, c.message) for c in checks] == [
        ("ok", f"connection 'wazo_ok': {url} answers"),
        ("problem", f"connection 'wazo_old': {url} answered HTTP 401 (token expired or lacking "
                    "call-logd.cdr.read?)"),
    ]
