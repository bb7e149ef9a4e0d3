"""Property: whatever bytes arrive, the parser returns a record or raises HeaderParseError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.email.headers import (
    HeaderParseError,
    MessageHeaders,
    normalise_subject,
    parse_headers,
)

NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
     "Auto-Submitted", "Precedence", "List-Id", "X-Autoreply", "Received"]
)
PIECES = st.sampled_from(
    ["<a@b.fr>", "=?utf-8?b?w6k=?=", "=?koi8-r?q?=F0=D2?=", "=?x-bad?q?=E9?=", "=?utf-8?b?%%?=",
     '"', "<", ">", "@", ",", ";", ":", "(", ")", "\\", " ", "\t", "\r\n ", "é", "\udcff",
     "jeanne@exemple.fr", "Re:", "[x]", "Mon, 16 Nov 2026 09:00:00 +0100", "-0000", "+9999"]
)
VALUE = st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=12).map("".join)
LINE = st.tuples(NAMES, VALUE).map(lambda nv: f"{nv[0]}: {nv[1]}")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, min_size=1, max_size=8), st.sampled_from(["utf-8", "cp1252-raw"]))
def test_header_like_input_never_crashes(lines: list[str], enc: str) -> None:
    text = "\r\n".join(lines) + "\r\n\r\nbody"
    data = _encode(text) if enc == "utf-8" else text.encode("cp1252", "replace")
    try:
        h = parse_headers(data)
    except HeaderParseError:
        return
    assert isinstance(h, MessageHeaders)
    assert "@" in h.from_address
    for value in (h.message_id, h.in_reply_to, h.subject, *h.references, *h.to_addresses):
        if value is not None:
            value.encode("utf-8")  # keyable: no lone surrogates


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    try:
        parse_headers(data)
    except HeaderParseError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_subject_normalisation_is_idempotent(subject: str) -> None:
    once = normalise_subject(subject)
    assert normalise_subject(once) == once
