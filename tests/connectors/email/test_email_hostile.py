"""Hostile messages of issue 5 point 7 not covered elsewhere: mislabelled charsets, raw 8-bit
Cyrillic, a Date in the future. Each lands by a documented rule (DECISIONLOG.md,
"Hostile messages"), none raises."""

from __future__ import annotations

import datetime as dt

from connectors.email.headers import normalise_subject, parse_headers
from connectors.email.message_row import landing_row
from connectors.pseudonymise import Pseudonymiser

KEY = b"hostile-test-key-0123456789abcdef"
WORD = "Справка"  # "certificate"


def _block(subject: bytes, date: bytes = b"Mon, 16 Nov 2026 10:00:00 +0100") -> bytes:
    return (b"From: ivan@exemple.ru\r\nTo: etat-civil@val-de-vigie.fr\r\nMessage-ID: <h1@ru>\r\n"
            b"Date: " + date + b"\r\nSubject: " + subject + b"\r\n\r\n")


def test_mislabelled_charset_gives_stable_mojibake() -> None:
    import base64
    # windows-1251 bytes labelled koi8-r: decodes without error to the wrong letters
    payload = base64.b64encode(WORD.encode("cp1251")).decode()
    h = parse_headers(_block(f"=?koi8-r?B?{payload}?=".encode()))
    assert h.subject == normalise_subject(WORD.encode("cp1251").decode("koi8-r"))
    assert h.subject != normalise_subject(WORD)
    # the same mislabelling always gives the same subject key (threading within that client)
    again = parse_headers(_block(f"RE: =?koi8-r?B?{payload}?=".encode()))
    assert again.subject == h.subject


def test_raw_8bit_cyrillic_header_is_read_as_windows_1252() -> None:
    h = parse_headers(_block(WORD.encode("cp1251")))  # no encoded word, raw bytes
    assert "header:raw-8bit" in h.rules
    assert h.subject == normalise_subject(WORD.encode("cp1251").decode("cp1252"))
    utf8 = parse_headers(_block(WORD.encode("utf-8")))  # raw UTF-8 is valid UTF-8: kept
    assert utf8.subject == "справка"


def test_date_in_the_future_is_kept_and_does_not_place_the_message() -> None:
    h = parse_headers(_block(b"x", date=b"Fri, 01 Jan 2100 00:00:00 +0000"))
    assert h.date_header_at == dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    assert not any(r.startswith("date:") for r in h.rules)
    received = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
    row = landing_row(
        h, Pseudonymiser(KEY), source_id="s", mailbox="m", service_code="S",
        folder_role="inbox", source_position="p", received_at=received,
        internal_domains=["val-de-vigie.fr"], own_addresses=[],
    )
    # receipt time is the server's; the skew (received - Date) is negative (-26 709 days, floored),
    # counted as skewed (|skew| > 24 h) by email_indicators.date_header_skewed_share
    assert row["received_at"] == received
    assert (row["received_at"] - row["date_header_at"]).days == -26709
