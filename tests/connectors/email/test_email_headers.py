"""The source-agnostic header parser and the email_messages row mapping."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.email.headers import (
    REFERENCES_CAP,
    HeaderParseError,
    header_block,
    normalise_subject,
    parse_headers,
)
from connectors.email.message_row import is_internal, landing_row, rows_to_table
from connectors.landing_schemas import EMAIL_MESSAGES
from connectors.pseudonymise import Pseudonymiser


def headers(*lines: str, body: str = "corps") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8")


BASE = ("From: Jeanne Dupont <jeanne.dupont@exemple.fr>", "To: etat-civil@val-de-vigie.fr")


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Demande d'acte de naissance", "demande d'acte de naissance"),
        ("RE: Re : TR :Fwd: FW: AW: Réf : [Ticket#123]  Acte de  NAISSANCE", "acte de naissance"),
        ("Re[2]: [EXT] Re^3: RE (2) : x", "x"),
        ("[GLPI #0000123] Nouveau ticket", "nouveau ticket"),
        ("TR: RÉF : Ref: dossier", "dossier"),
        ("ＲＥ：Ｃａｆé", "café"),  # full-width forms (NFKC)
        ("Relance: permis de construire", "relance: permis de construire"),
        ("Travaux : rue des Lilas", "travaux : rue des lilas"),
        ("Straße", "strasse"),  # casefold, not lower
        ("RE: ", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_subject(subject: str | None, expected: str | None) -> None:
    assert normalise_subject(subject) == expected


def test_plain_message() -> None:
    h = parse_headers(
        headers(
            *BASE,
            "Cc: Autre <Autre@Exemple.FR>, ETAT-CIVIL@val-de-vigie.fr",
            "Subject: RE: Demande",
            "Message-ID: <abc@exemple.fr>",
            "In-Reply-To: <parent@val-de-vigie.fr>",
            "References: <root@exemple.fr>\r\n <parent@val-de-vigie.fr>",
            "Date: Mon, 16 Nov 2026 09:14:12 +0100",
        )
    )
    assert h.message_id == "abc@exemple.fr"
    assert h.in_reply_to == "parent@val-de-vigie.fr"
    assert h.references == ("root@exemple.fr", "parent@val-de-vigie.fr")
    assert h.from_address == "jeanne.dupont@exemple.fr"
    assert h.to_addresses == ("etat-civil@val-de-vigie.fr", "autre@exemple.fr")
    assert h.date_header_at == dt.datetime(2026, 11, 16, 8, 14, 12, tzinfo=dt.UTC)
    assert h.subject == "demande"
    assert h.auto_reason is None and not h.is_auto_submitted
    assert h.rules == ()


def test_koi8r_subject_and_encoded_name() -> None:
    h = parse_headers(
        headers(
            "From: =?koi8-r?B?8NLJ18XU?= <ivan@exemple.ru>",
            "Subject: TR: =?koi8-r?B?89DSwdfLwQ==?=",
            "Message-ID: <k@exemple.ru>",
        )
    )
    assert h.subject == "справка"  # "Справка" in koi8-r, prefix stripped, casefolded
    assert h.from_address == "ivan@exemple.ru"


def test_broken_encoded_words_and_unknown_charset_do_not_raise() -> None:
    h = parse_headers(
        headers(
            "From: =?x-unknown?q?Jos=E9?= <jose@exemple.fr>",
            "Subject: =?x-unknown?q?caf=E9?= =?utf-8?b?%%%?= =?utf-8?q?d=C3=A9c=C3=A8s?=",
            "Message-ID: <u@exemple.fr>",
        )
    )
    assert h.from_address == "jose@exemple.fr"
    assert h.subject is not None and "décès" in h.subject
    assert "\ufffd" in h.subject  # the unknown charset's byte is U+FFFD, never a crash


def test_raw_8bit_headers_utf8_then_windows_1252() -> None:
    latin = (
        b"From: Ren\xe9 <rene@exemple.fr>\r\nSubject: R\xe9clamation d\xe9c\xe8s\r\n"
        b"Message-ID: <r@exemple.fr>\r\n\r\n"
    )
    utf8 = "From: René <rene@exemple.fr>\r\nSubject: Réclamation décès\r\n\r\n".encode()
    assert parse_headers(latin).subject == "réclamation décès"
    assert parse_headers(utf8).subject == "réclamation décès"
    assert "header:raw-8bit" in parse_headers(latin).rules


def test_missing_message_id_gets_a_stable_synthetic_id() -> None:
    raw = headers(*BASE, "Subject: Livret de famille")
    a, b = parse_headers(raw), parse_headers(raw + b"another body")
    assert a.message_id == b.message_id  # body ignored: same headers, same id
    assert a.message_id.startswith("vigie-missing-id.") and a.message_id.endswith("@vigie.invalid")
    assert "message_id:missing" in a.rules
    other = parse_headers(headers(*BASE, "Subject: Autre chose"))
    assert other.message_id != a.message_id


def test_several_message_ids_keep_the_first() -> None:
    h = parse_headers(
        headers("Message-ID: <first@relay.net>", *BASE, "Message-ID: <second@exemple.fr>")
    )
    assert h.message_id == "first@relay.net"
    assert "message_id:several" in h.rules


def test_ids_without_brackets_and_junk_in_reply_to() -> None:
    h = parse_headers(headers(*BASE, "Message-ID: bare@exemple.fr", "In-Reply-To: Your message of Tue"))
    assert h.message_id == "bare@exemple.fr"
    assert h.in_reply_to is None
    h = parse_headers(headers(*BASE, "In-Reply-To: Your message of Tue <p@x.fr> <q@x.fr>"))
    assert h.in_reply_to == "p@x.fr"


@pytest.mark.parametrize(
    ("date", "expected", "rule"),
    [
        ("lundi prochain vers midi", None, "date:unparsable"),
        ("Mon, 16 Nov 2026 09:00:00 +9999", None, "date:unparsable"),
        ("Mon, 16 Nov 2026 09:00:00 -0000", dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC), "date:no-zone-utc"),
        (None, None, "date:missing"),
    ],
)
def test_dates(date: str | None, expected: dt.datetime | None, rule: str) -> None:
    lines = [*BASE] + ([f"Date: {date}"] if date else [])
    h = parse_headers(headers(*lines))
    assert h.date_header_at == expected
    assert rule in h.rules


def test_references_are_deduplicated_and_capped() -> None:
    ids = [f"<r{i:04d}@x.fr>" for i in range(1, 2001)]
    folded = "\r\n ".join(" ".join(ids[i : i + 10]) for i in range(0, 2000, 10))
    h = parse_headers(headers(*BASE, f"References: {folded} <r0001@x.fr>"))
    assert len(h.references) == REFERENCES_CAP == 50
    assert h.references[0] == "r0001@x.fr"  # the thread root
    assert h.references[1] == "r1952@x.fr"
    assert h.references[-1] == "r2000@x.fr"  # the parent
    assert "references:capped" in h.rules


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ((), None),
        (("X-Auto-Response-Suppress: All",), None),
        (("Auto-Submitted: no",), None),
        (("Auto-Submitted: No (comment)",), None),
        (("Auto-Submitted: auto-replied",), "auto-submitted"),
        (("Auto-Submitted: auto-generated",), "auto-submitted"),
        (("Auto-Submitted: auto-notified; owner-email=x@y",), "auto-submitted"),
        (("X-Autoreply: yes",), "x-autoreply"),
        (("X-Autoreply: no",), None),
        (("X-Autorespond: Vacation",), "x-autorespond"),
        (("Precedence: bulk",), "precedence"),
        (("Precedence: JUNK",), "precedence"),
        (("Precedence: list",), "precedence"),
        (("Precedence: auto_reply",), "precedence"),
        (("Precedence: first-class",), None),
        (("List-Id: <infos.exemple.fr>",), "list"),
        (("List-Unsubscribe: <mailto:stop@exemple.fr>",), "list"),
        (("Precedence: bulk", "List-Id: <l.x.fr>"), "precedence"),
        (("X-Spam-Flag: YES",), "spam"),
        (("X-Spam-Flag: NO",), None),
        (("X-Spam-Status: Yes, score=7.1 required=5.0 tests=BAYES_99",), "spam"),
        (("X-Spam-Status: No, score=1.2 required=5.0",), None),
        (("X-Spam: Yes",), "spam"),
        (("X-Spam-Flag: YES", "Auto-Submitted: auto-replied"), "spam"),
        (("X-Spam-Level: *******",), None),
    ],
)
def test_auto_submitted_markers(extra: tuple[str, ...], reason: str | None) -> None:
    h = parse_headers(headers(*BASE, *extra))
    assert h.auto_reason == reason
    assert h.is_auto_submitted is (reason is not None)


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx1.val-de-vigie.fr", "Postmaster <postmaster@exemple.fr>"]
)
def test_bounces_win_over_auto_submitted(sender: str) -> None:
    h = parse_headers(headers(f"From: {sender}", "Auto-Submitted: auto-replied"))
    assert h.auto_reason == "bounce"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an email message: NUL bytes in the header block"),
        (b"hello world\nthis is not mail\n", "not an email message: no header field on the first line"),
        (b"X-Foo: bar\n\nbody", "not an email message: none of From, To, Date, Subject, Message-ID"),
        (b"", "not an email message: no header field on the first line"),
        (b"Subject: hi\nTo: a@b.fr\n\n", "no From header"),
        (b"From: Jeanne Dupont\nSubject: hi\n\n", "From header holds no usable address"),
    ],
)
def test_unusable_headers_are_rejected_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(HeaderParseError) as exc:
        parse_headers(raw)
    assert str(exc.value) == reason
    assert "Dupont" not in str(exc.value)


def test_header_block_and_mbox_separator() -> None:
    assert header_block(b"A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore") == b"A: 1\r\nB: 2"
    assert header_block(b"A: 1\nB: 2") == b"A: 1\nB: 2"  # no body at all
    h = parse_headers(b"From jeanne@exemple.fr Mon Nov 16 09:00:00 2026\n" + headers(*BASE))
    assert h.from_address == "jeanne.dupont@exemple.fr"


def test_broken_from_falls_back_to_the_address_in_the_text() -> None:
    h = parse_headers(headers('From: "Dupont, Jeanne <jeanne.dupont@exemple.fr>'))
    assert h.from_address == "jeanne.dupont@exemple.fr"


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("p.girard@val-de-vigie.fr", True),
        ("MAILER-DAEMON@mx1.val-de-vigie.fr", True),  # subdomain
        ("urbanisme@mairie-annexe.fr", True),  # a mailbox address
        ("jeanne@exemple.fr", False),
        ("x@faux-val-de-vigie.fr", False),
    ],
)
def test_is_internal(address: str, internal: bool) -> None:
    assert is_internal(address, ["val-de-vigie.fr"], ["Urbanisme@mairie-annexe.fr"]) is internal


def test_landing_row_keys_and_no_clear_text() -> None:
    pseudo = Pseudonymiser(b"row-test-key-0123456789")
    request = parse_headers(
        headers(*BASE, "Subject: Acte de naissance", "Message-ID: <req@exemple.fr>")
    )
    reply = parse_headers(
        headers(
            "From: Etat civil <etat-civil@val-de-vigie.fr>",
            "To: Jeanne.Dupont@Exemple.fr",
            "Subject: RE : Acte de naissance",
            "Message-ID: <rep@val-de-vigie.fr>",
            "In-Reply-To: <req@exemple.fr>",
            "References: <req@exemple.fr>",
        )
    )
    common = dict(
        source_id="mail", mailbox="etat-civil", service_code="ETAT_CIVIL",
        internal_domains=["val-de-vigie.fr"], own_addresses=["etat-civil@val-de-vigie.fr"],
        received_at=dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC),
    )
    r1 = landing_row(request, pseudo, folder_role="inbox", source_position="a", **common)
    r2 = landing_row(reply, pseudo, folder_role="sent", source_position="b", **common)
    assert r2["in_reply_to_key"] == r1["message_key"] == pseudo.key("message_id", "req@exemple.fr")
    assert r2["references_keys"] == [r1["message_key"]]
    assert r2["to_keys"] == [r1["from_key"]] == [pseudo.email("jeanne.dupont@exemple.fr")]
    assert r1["subject_key"] == r2["subject_key"] == pseudo.key("subject", "acte de naissance")
    assert (r1["from_is_internal"], r2["from_is_internal"]) == (False, True)
    table = rows_to_table([r1, r2])
    assert table.schema.equals(EMAIL_MESSAGES)
    text = repr(table.to_pylist()).lower()
    for clear in ("jeanne", "dupont", "exemple.fr", "naissance", "req@"):
        assert clear not in text
    with pytest.raises(ValueError, match="folder_role"):
        landing_row(request, pseudo, folder_role="drafts", source_position="c", **common)
