"""Channels of issue 7 against real servers on loopback, started by the tests themselves.

- SMTP with STARTTLS and with implicit TLS (aiosmtpd, a self-signed certificate made here with
  the ``cryptography`` package, trusted through the connection's ``ca_file``), login required;
- a server that refuses the first attempt (451 on DATA; a dropped connection): the digest is
  retried with backoff and received exactly once;
- a webhook receiver (http.server in a thread) getting the JSON of each digest, once, with
  data-derived strings escaped for the receiver's format.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import json
import socket
import ssl
import sys
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alerts_data import DAY, REQUESTER, build, evaluation, make_config
from alerts_rules import build_candidates

from vigie.alerts import run_alerts

LOGIN = (b"vigie", b"s3cret")
# the implicit-TLS server is TLS from the first byte; aiosmtpd still warns at construction
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (SAN IP), valid one day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return d / "cert.pem", d / "key.pem"


class Collect:
    """Stores what the server accepted; can refuse the first DATA (451) or drop the line."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []
        self.fail_next: str | None = None  # '451' | 'drop'
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook name
        self.attempts += 1
        if self.fail_next == "451":
            self.fail_next = None
            return "451 4.3.0 Try again later"
        if self.fail_next == "drop":
            self.fail_next = None
            server.transport.close()
            return "421 4.3.0 closing"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _auth(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=isinstance(auth_data, LoginPassword) and auth_data == LOGIN, handled=False)


@pytest.fixture(scope="module")
def servers(certificate):
    """Two SMTP servers for the module: STARTTLS required (587-like) and implicit TLS (465-like)."""
    cert, key = certificate
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    starttls, implicit = Collect(), Collect()
    c1 = Controller(starttls, hostname="127.0.0.1", port=_free_port(), tls_context=ctx,
                    require_starttls=True, auth_required=True, auth_require_tls=True, authenticator=_auth)
    c2 = Controller(implicit, hostname="127.0.0.1", port=_free_port(), ssl_context=ctx,
                    auth_required=True, auth_require_tls=False, authenticator=_auth)  # TLS from the start
    c1.start()
    c2.start()
    try:
        yield {"starttls": (starttls, c1.port), "ssl": (implicit, c2.port)}
    finally:
        c1.stop()
        c2.stop()


def _smtp_cfg(tmp_path: Path, monkeypatch, port: int, extra: dict, **overrides):
    monkeypatch.setenv("AIRFLOW_CONN_VIGIE_SMTP_T7", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": "vigie", "password": "s3cret",
        "extra": {"timeout": 10, "retry_delay": 0.01, **extra},
    }))
    c = make_config(tmp_path, **overrides)
    c = c.model_copy(update={"outputs": c.outputs.model_copy(update={"smtp_connection_id": "vigie_smtp_t7"})})
    build(c)
    return c


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_login_and_one_message_per_head(mode, servers, certificate, tmp_path, monkeypatch) -> None:
    handler, port = servers[mode]
    handler.envelopes.clear()
    extra = {"starttls": True} if mode == "starttls" else {"ssl": True}
    cfg = _smtp_cfg(tmp_path, monkeypatch, port, {**extra, "ca_file": str(certificate[0])})
    result = run_alerts(cfg, DAY)
    assert (result.delivery, result.digests, result.new_alerts) == ("smtp", 2, 5)
    rcpts = sorted(sorted(r) for _, r, _ in handler.envelopes)
    assert rcpts == [["c.martin@test.fr", "p.girard@test.fr"], ["donnees@test.fr"]]
    for _, _, raw in handler.envelopes:
        assert REQUESTER.encode() not in raw
    assert run_alerts(cfg, DAY).digests == 0
    assert len(handler.envelopes) == 2


def test_untrusted_certificate_is_refused_not_retried(servers, tmp_path, monkeypatch) -> None:
    handler, port = servers["starttls"]
    handler.envelopes.clear()
    cfg = _smtp_cfg(tmp_path, monkeypatch, port, {"starttls": True})  # no ca_file: system store
    with pytest.raises(ssl.SSLCertVerificationError):
        run_alerts(cfg, DAY)
    assert handler.envelopes == []


@pytest.mark.parametrize("failure", ["451", "drop"])
def test_first_attempt_refused_then_exactly_one_message(failure, servers, certificate, tmp_path, monkeypatch) -> None:
    handler, port = servers["starttls"]
    handler.envelopes.clear()
    handler.attempts = 0
    # only the data team's digest: one message, so the count of attempts is exact
    cfg = _smtp_cfg(tmp_path, monkeypatch, port, {"starttls": True, "ca_file": str(certificate[0])})
    from alerts_data import night_marts
    from h5_builders import create_warehouse

    marts = night_marts()
    marts["commitment_evaluations"] = [e for e in marts["commitment_evaluations"] if e["service_code"] == "ENFANCE"]
    marts["service_indicators"] = []
    create_warehouse(cfg, marts)
    build_candidates(cfg, DAY)
    handler.fail_next = failure
    result = run_alerts(cfg, DAY)
    assert (result.digests, result.new_alerts) == (1, 1)
    assert handler.attempts == 2
    assert len(handler.envelopes) == 1
    msg = email.message_from_bytes(handler.envelopes[0][2], policy=policy.default)
    assert msg["Subject"] == "[Vigie] Enfance : 1 demande en retard"


class Receiver(BaseHTTPRequestHandler):
    bodies: list[dict] = []
    statuses: list[int] = []

    def do_POST(self) -> None:  # http.server hook name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = Receiver.statuses.pop(0) if Receiver.statuses else 200
        if status == 200:
            assert self.headers["Content-Type"].startswith("application/json")
            Receiver.bodies.append(json.loads(body))
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("fmt", ["mattermost", "slack", "teams"])
def test_webhook_gets_each_digest_once(fmt, receiver, tmp_path, monkeypatch) -> None:
    Receiver.bodies.clear()
    Receiver.statuses[:] = [503]  # the first post fails: retried
    monkeypatch.setenv("AIRFLOW_CONN_VIGIE_HOOK", json.dumps({
        "conn_type": "http", "host": f"http://127.0.0.1:{receiver}/hooks/abc",
        "extra": {"retry_delay": 0.01, "timeout": 5},
    }))
    cfg = make_config(tmp_path, alerts={"language": "fr", "from_address": "vigie@test.fr",
                                        "webhook_connection_id": "vigie_hook", "webhook_format": fmt},
                      services=_hostile_services())
    build(cfg, extra_evaluations=[evaluation("MEL-<b>&9", "ETAT_CIVIL", "overdue", dt.date(2026, 11, 2),
                                             dt.date(2026, 11, 9), 9)])
    result = run_alerts(cfg, DAY)
    assert result.delivery == "outbox+webhook" and result.digests == 2
    assert len(Receiver.bodies) == 2
    texts = [json.dumps(b, ensure_ascii=False) for b in Receiver.bodies]
    head = next(t for t in texts if "MEL-0001" in t)
    if fmt == "mattermost":
        assert set(Receiver.bodies[0]) == {"username", "text"}
        assert "#### [Vigie] <script>alert(1)</script> & Co : " in Receiver.bodies[0]["text"] + Receiver.bodies[1]["text"]
    else:
        assert "<script>" not in head and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in head
        assert "MEL-&lt;b&gt;&amp;9" in head
    if fmt == "teams":
        assert all(b["@type"] == "MessageCard" for b in Receiver.bodies)
    assert all(REQUESTER not in t for t in texts)
    assert run_alerts(cfg, DAY).digests == 0
    assert len(Receiver.bodies) == 2


def _hostile_services() -> list[dict]:
    hours = {"monday": ["08:30-12:00"]}
    return [
        {"code": "ETAT_CIVIL", "name": "<script>alert(1)</script> & Co",
         "head": {"name": "Claire Martin", "email": "c.martin@test.fr"},
         "deputies": [{"name": "Paul Girard", "email": "p.girard@test.fr"}], "opening_hours": [hours]},
        {"code": "URBANISME", "name": "Urbanisme", "head": {"name": "K B", "email": "k.benali@test.fr"},
         "opening_hours": [hours]},
        {"code": "ENFANCE", "name": "Enfance", "opening_hours": [hours]},
    ]
