"""Digests through a real SMTP server (aiosmtpd) on a free loopback port."""

from __future__ import annotations

import email
import json
import socket
import sys
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alerts_data import DAY, REQUESTER, build, make_config

from connectors.outbound.smtp import SmtpSettings
from vigie.alerts import run_alerts
from vigie.secrets import ConnectionInfo

# The server is started by the test itself: no external service, so no "service" marker.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Collect:
    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook name
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = Collect()
    port = _free_port()

    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data == (b"vigie", b"s3cret")
        return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535 itself

    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=check,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def cfg(tmp_path: Path, smtp_server, monkeypatch):
    _, port = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_VIGIE_SMTP_TEST", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": "vigie",
        "password": "s3cret", "extra": {"ssl": False, "starttls": False, "timeout": 10},
    }))
    c = make_config(tmp_path)
    c = c.model_copy(update={"outputs": c.outputs.model_copy(update={"smtp_connection_id": "vigie_smtp_test"})})
    build(c)
    return c


def test_digests_reach_head_and_deputy_once(cfg, smtp_server) -> None:
    handler, _ = smtp_server
    result = run_alerts(cfg, DAY)
    assert (result.delivery, result.digests, result.new_alerts) == ("smtp", 2, 5)
    assert result.outbox_files == [] and not cfg.path("var/outbox").exists()
    by_to = {sorted(r)[0]: (frm, sorted(r), data) for frm, r, data in handler.envelopes}
    assert sorted(by_to) == ["c.martin@test.fr", "donnees@test.fr"]
    frm, rcpts, data = by_to["c.martin@test.fr"]
    assert frm == "vigie@test.fr"
    assert rcpts == ["c.martin@test.fr", "p.girard@test.fr"]
    assert by_to["donnees@test.fr"][1] == ["donnees@test.fr"]
    msg = email.message_from_bytes(data, policy=policy.default)
    assert msg["Subject"].startswith("[Vigie] État civil : 2 engagements manqués")
    html = msg.get_body(("html",)).get_content()
    image = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert image.get_content_disposition() == "inline"
    for _, _, raw in handler.envelopes:
        assert REQUESTER.encode() not in raw
    again = run_alerts(cfg, DAY)
    assert (again.digests, again.new_alerts, again.already_sent) == (0, 0, 5)
    assert len(handler.envelopes) == 2


def test_wrong_password_sends_and_records_nothing(cfg, smtp_server, monkeypatch) -> None:
    import smtplib

    handler, port = smtp_server
    monkeypatch.setenv("AIRFLOW_CONN_VIGIE_SMTP_TEST", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": "vigie",
        "password": "wrong", "extra": {"ssl": False, "starttls": False, "timeout": 10},
    }))
    with pytest.raises(smtplib.SMTPAuthenticationError):
        run_alerts(cfg, DAY)
    assert handler.envelopes == []
    monkeypatch.setenv("AIRFLOW_CONN_VIGIE_SMTP_TEST", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": "vigie",
        "password": "s3cret", "extra": {"ssl": False, "starttls": False, "timeout": 10},
    }))
    assert run_alerts(cfg, DAY).new_alerts == 5  # nothing was recorded by the failed run


@pytest.mark.parametrize(
    ("port", "extra", "expected"),
    [
        (465, {}, (True, False)),
        (587, {}, (False, True)),
        (25, {"ssl": False, "starttls": False}, (False, False)),
        (465, {"disable_ssl": True, "disable_tls": True}, (False, False)),
        (587, {"starttls": "true"}, (False, True)),
    ],
)
def test_transport_security_from_connection_extra(port, extra, expected) -> None:
    s = SmtpSettings.from_connection(ConnectionInfo(conn_id="x", host="mail", port=port, extra=extra))
    assert (s.use_ssl, s.starttls) == expected
