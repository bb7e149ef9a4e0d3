"""Wazo call-logd CDR client against a LOCAL HTTP server, not a real Wazo.

Wazo cannot run on this machine, so ``WazoCallLogd`` below (http.server in a thread) answers as
call-logd's documented ``GET /1.0/cdr`` does: ``X-Auth-Token`` required (401 otherwise),
``from``/``until`` filter on ``start``, ``from_id`` keeps ids greater than it, ``order=id``,
``direction=asc``, ``limit``; body ``{"items": [...], "filtered": n, "total": n}`` with
ISO 8601 instants carrying an offset. Night 2026-10-25 in Europe/Paris:
[2026-10-24 22:00Z, 2026-10-25 23:00Z).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow.parquet as pq
import pytest

from connectors.extract import SourceUnavailable, extract_source
from tests.connectors.conftest import minimal_config

DAY = dt.date(2026, 10, 25)
TOKEN = "0f3c2b8e-7a41-4e1e-9d7c-1b2a3c4d5e6f"


def _cdr(
    cdr_id: int, start: str, answer: str | None, end: str, talk: int, answered: bool, **dest: object
) -> dict:
    """A call-logd CDR; ``dest`` overrides the destination (default: the voice menu 3001)."""
    return {
        "id": cdr_id, "tenant_uuid": "t", "start": start, "answer": answer, "end": end,
        "answered": answered, "duration": talk, "call_direction": "inbound",
        "source_extension": "0601020304", "source_name": "Marie Curie",
        "requested_extension": "3001", "requested_context": "from-extern",
        "destination_extension": "3001", "destination_name": "Accueil",
        "destination_internal_extension": None, "destination_user_uuid": None, "tags": [],
        **dest,
    }  # fmt: skip


def _user(extension: str | None, internal: str | None, uuid: str = "9c1d-user") -> dict:
    """Destination fields of a CDR whose destination (the line that answered) is a Wazo user."""
    return {
        "destination_extension": extension, "destination_internal_extension": internal,
        "destination_user_uuid": uuid, "destination_name": "Agent Dupont",
    }  # fmt: skip


# 8: answered by user 1001; 9: user 1002 rang, no answer; 11: answered by the voice menu (no
# user); 12: answered by a user whose only extension is a long number (masked).
CDRS = [
    _cdr(7, "2026-10-24T21:59:59.500000+00:00", None, "2026-10-24T22:00:20+00:00", 0, False),
    _cdr(8, "2026-10-25T00:30:00+02:00", "2026-10-25T00:30:12+02:00", "2026-10-25T00:32:12+02:00", 120, True, **_user("1001", "1001")),
    _cdr(9, "2026-10-25T09:00:00+00:00", None, "2026-10-25T09:00:40+00:00", 0, False, **_user("1002", "1002")),
    _cdr(11, "2026-10-25T10:00:00+00:00", "2026-10-25T10:00:05+00:00", "2026-10-25T10:01:05+00:00", 60, True),
    _cdr(12, "2026-10-25T22:59:59+00:00", "2026-10-25T23:00:03+00:00", "2026-10-25T23:01:03+00:00", 60, True, **_user("0612345678", None)),
    _cdr(13, "2026-10-25T23:00:00+00:00", None, "2026-10-25T23:00:30+00:00", 0, False),
]  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    requests_seen: list[dict[str, str]] = []
    cdrs: list[dict] = CDRS  # what this stand-in serves (a subclass may serve others)

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        return

    def do_GET(self) -> None:  # http.server's name
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/api/call-logd/1.0/cdr":
            self.send_error(404)
            return
        if self.headers.get("X-Auth-Token") != TOKEN:
            self.send_error(401, "Unauthorized")
            return
        q = dict(urllib.parse.parse_qsl(url.query))
        type(self).requests_seen.append(q)
        lo, hi = dt.datetime.fromisoformat(q["from"]), dt.datetime.fromisoformat(q["until"])
        cdrs = type(self).cdrs
        items = [c for c in cdrs if lo <= dt.datetime.fromisoformat(c["start"]) < hi]
        if "from_id" in q:
            items = [c for c in items if c["id"] > int(q["from_id"])]
        items.sort(key=lambda c: c[q.get("order", "start")], reverse=q.get("direction") == "desc")
        filtered = len(items)
        items = items[: int(q.get("limit", 1000))]
        body = json.dumps({"items": items, "filtered": filtered, "total": len(cdrs)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def call_logd() -> Iterator[int]:
    yield from serve(_Handler)


def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """Run ``handler`` on a free local port for the duration of a fixture; yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _extract(tmp_path, monkeypatch, port: int, token: str = TOKEN, page_size: int = 2, day: dt.date = DAY):
    monkeypatch.setenv("AIRFLOW_CONN_WAZO", f"http://:{token}@127.0.0.1:{port}/api/call-logd")
    src = {"id": "wazo", "type": "wazo_cdr", "connection_id": "wazo", "page_size": page_size}
    return extract_source(minimal_config(tmp_path, [src]), "wazo", day)


def test_pages_by_from_id_and_maps_to_cdr_legs(call_logd, tmp_path, monkeypatch):
    _Handler.requests_seen.clear()
    batch = _extract(tmp_path, monkeypatch, call_logd)
    # ids 8, 9, 11, 12 start in the night; 7 (21:59:59.5Z) and 13 (23:00Z) do not.
    assert batch.row_counts == {"cdr_legs": 4} and batch.reject_count == 0
    assert [r.get("from_id") for r in _Handler.requests_seen] == [None, "9", "12"]
    legs = pq.read_table(batch.path / "cdr_legs.parquet").to_pylist()
    assert [r["uniqueid"] for r in legs] == ["wazo-8", "wazo-9", "wazo-11", "wazo-12"]
    first = legs[0]
    assert first["start_at"] == dt.datetime(2026, 10, 24, 22, 30, tzinfo=dt.UTC)
    assert first["answer_at"] == dt.datetime(2026, 10, 24, 22, 30, 12, tzinfo=dt.UTC)
    # duration = end - start (132 s); Wazo's own duration (talk time) lands as billsec.
    assert (first["duration"], first["billsec"], first["disposition"]) == (132, 120, "ANSWERED")
    assert legs[1]["disposition"] == "NO ANSWER" and legs[1]["answer_at"] is None
    assert first["dcontext"] == "inbound" and first["src_key"] is not None
    assert "Marie" not in json.dumps(legs, default=str)


def test_a_user_destination_lands_as_a_masked_agent_channel(call_logd, tmp_path, monkeypatch):
    """The synthetic dstchannel the CDR-only model's agent_channel_pattern reads (§3b)."""
    batch = _extract(tmp_path, monkeypatch, call_logd)
    legs = pq.read_table(batch.path / "cdr_legs.parquet").to_pylist()
    assert [(r["uniqueid"], r["dstchannel"], r["disposition"]) for r in legs] == [
        ("wazo-8", "wazo/user/1001", "ANSWERED"),  # a user answered: an agent leg
        ("wazo-9", "wazo/user/1002", "NO ANSWER"),  # a user rang, nobody answered
        ("wazo-11", None, "ANSWERED"),  # the voice menu answered: no agent
        ("wazo-12", "wazo/user/XXXXXXXXXX", "ANSWERED"),  # a long number is masked
    ]
    landed = json.dumps(legs, default=str)
    assert "0612345678" not in landed and "9c1d-user" not in landed and "Dupont" not in landed


def test_a_bad_token_fails_loudly(call_logd, tmp_path, monkeypatch):
    with pytest.raises(SourceUnavailable, match="HTTP 401 .token expired"):
        _extract(tmp_path, monkeypatch, call_logd, token="wrong")


def test_one_page_when_the_night_fits(call_logd, tmp_path, monkeypatch):
    _Handler.requests_seen.clear()
    batch = _extract(tmp_path, monkeypatch, call_logd, page_size=1000)
    assert batch.row_counts == {"cdr_legs": 4} and len(_Handler.requests_seen) == 1
