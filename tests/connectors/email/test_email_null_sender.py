"""Null-sender messages are mail-system messages: they land, excluded as ``bounce`` (issue 13,
item 4). Before, ``From: MAILER DAEMON <>`` was rejected ("From header holds no usable
address") and the reply it bounced was missing from the thread's counts."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.email.headers import HeaderParseError, parse_headers
from connectors.email.message_row import landing_row
from connectors.pseudonymise import Pseudonymiser


def _msg(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\ncorps").encode("utf-8")


DSN = (
    "Return-Path: <>",
    "From: MAILER DAEMON <>",
    "To: etat-civil@val-de-vigie.fr",
    "Subject: Undelivered Mail Returned to Sender",
    "Date: Sun, 07 Aug 2022 11:40:37 +0200",
    "Message-ID: <20220807094037.1A2B3C@mx1.val-de-vigie.fr>",
    "Content-Type: multipart/report; report-type=delivery-status;",
    '\tboundary="B1"',
)


def test_a_null_sender_lands_as_a_bounce_without_a_sender_key() -> None:
    h = parse_headers(_msg(*DSN))
    assert (h.from_address, h.auto_reason, h.rules) == ("", "bounce", ("from:null-sender",))
    row = landing_row(
        h,
        Pseudonymiser(b"k" * 32),
        source_id="mail",
        mailbox="etat-civil",
        service_code="ETAT_CIVIL",
        folder_role="inbox",
        source_position="message 1",
        received_at=dt.datetime(2022, 8, 7, 9, 40, 37, tzinfo=dt.UTC),
        internal_domains=["val-de-vigie.fr"],
        own_addresses=[],
    )
    assert (row["from_key"], row["from_is_internal"], row["is_auto_submitted"], row["auto_reason"]) == (
        None, False, True, "bounce",
    )  # fmt: skip


@pytest.mark.parametrize(
    "lines",
    [
        # Return-Path <> and a person-looking From, no other marker (a server's own notice)
        ("Return-Path: <>", "From: Service courrier <notices@relais.exemple.fr>", "Subject: Avis"),
        # no From at all, null Return-Path
        ("Return-Path: < >", "To: etat-civil@val-de-vigie.fr", "Subject: Delivery Status Notification"),
        # a delivery report from an ordinary-looking sender
        ("From: Mail Delivery System <mds@relais.exemple.fr>", "Subject: Non remis",
         "Content-Type: multipart/report; report-type=\"delivery-status\"; boundary=x"),
        # quoted display name, null address
        ('From: "Mail Delivery Subsystem" <>', "Subject: Returned mail"),
    ],
)
def test_other_null_sender_and_report_shapes_are_bounces(lines: tuple[str, ...]) -> None:
    assert parse_headers(_msg(*lines)).auto_reason == "bounce"


def test_an_auto_reply_with_a_null_return_path_keeps_its_own_reason() -> None:
    h = parse_headers(
        _msg("Return-Path: <>", "From: Jeanne <jeanne@exemple.fr>", "Auto-Submitted: auto-replied")
    )
    assert h.auto_reason == "auto-submitted"


def test_an_ordinary_message_is_not_a_bounce_and_a_from_without_address_is_still_rejected() -> None:
    ordinary = parse_headers(
        _msg("Return-Path: <jeanne@exemple.fr>", "From: Jeanne <jeanne@exemple.fr>", "Subject: Acte")
    )
    assert ordinary.auto_reason is None
    with pytest.raises(HeaderParseError, match="From header holds no usable address"):
        parse_headers(_msg("From: Jeanne Dupont", "Subject: Acte"))
