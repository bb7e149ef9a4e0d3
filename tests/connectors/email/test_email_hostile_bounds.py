"""Issue 17: email input that once cost minutes or vanished: bounded, linear, rejected by name.

- the address search on a long ``From`` without ``@`` was a backtracking regex, quadratic
  (80 KB: about 19 s); it is now one pass over the text, equal to the regex on what it finds;
- address fields above ``MAX_ADDRESS_FIELD_CHARS`` skip the stdlib's superlinear parser;
- a directory, a socket or a dangling link where a Maildir message file should be is a reject
  with its path and what it is, and the other messages land;
- an endless header line in an mbox is one reject, the next message lands.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
import socket
from pathlib import Path

import pytest

from connectors.email import mbox
from connectors.email.headers import (
    MAX_ADDRESS_FIELD_CHARS,
    HeaderParseError,
    _glpi_message_id_ticket,
    _glpi_subject_ticket,
    parse_headers,
    search_addresses,
)
from connectors.email.maildir import read_interval
from connectors.pseudonymise import Pseudonymiser
from tests.connectors.email.conftest import MAILDIR, TEST_KEY, make_config
from vigie.config import parse_config
from vigie.intervals import night_for_day

NIGHT = night_for_day(dt.date(2026, 11, 16), "Europe/Paris")
# The regex the search replaced (quadratic on a run without '@'), kept here as the reference.
OLD_SEARCH = re.compile(r"[^@\s<>\"(),;:\[\]]+@[^@\s<>\"(),;:\[\]]+\.[^@\s<>\"(),;:\[\]]+")


def test_linear_address_search_finds_what_the_regex_found() -> None:
    rnd = random.Random(17)
    alphabet = ["a", "b.", ".", "@", " ", "<", ">", ",", "é", "x@y", "c.d"]
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        assert search_addresses(text) == OLD_SEARCH.findall(text), text
    assert search_addresses("Jeanne <jeanne@exemple.fr>, a@b@c.fr, x@y") == [
        "jeanne@exemple.fr", "b@c.fr",
    ]  # fmt: skip


def test_glpi_references_found_as_the_regexes_found_them() -> None:
    subject = re.compile(r"\[.+#(\d+)\]")
    ref = re.compile(r"GLPI(?:_[a-z0-9]+)?-Ticket-(\d+)", re.IGNORECASE)
    rnd = random.Random(4)
    for _ in range(20_000):
        s = "".join(rnd.choice("[]#12a ") for _ in range(rnd.randint(0, 12)))
        m = subject.search(s)
        assert _glpi_subject_ticket(s) == (int(m.group(1)) if m else None), s
        r = "".join(rnd.choice(["GLPI", "_", "a1", "-Ticket-", "7", "-"]) for _ in range(8))
        m = ref.search(r)
        assert _glpi_message_id_ticket(r) == (int(m.group(1)) if m else None), r


def test_from_of_80_kb_without_at_is_rejected_by_the_linear_rules() -> None:
    # Once about 19 s (the regex retried from each of the 80,000 characters).
    data = b"From: " + b"a" * 80_000 + b"\r\nSubject: x\r\nMessage-ID: <m@x.fr>\r\n\r\n"
    with pytest.raises(HeaderParseError, match="^From header holds no usable address$"):
        parse_headers(data)


def test_long_recipient_list_is_read_by_the_linear_search() -> None:
    to = ", ".join(f'"Agent {i}, Mairie" <agent{i}@val-de-vigie.fr>' for i in range(80))
    assert len(to) > MAX_ADDRESS_FIELD_CHARS
    h = parse_headers(f"From: a@exemple.fr\r\nTo: {to}\r\n\r\n".encode())
    assert h.to_addresses == tuple(f"agent{i}@val-de-vigie.fr" for i in range(80))
    assert "to:long-linear-search" in h.rules


def test_long_subject_is_cut_to_its_bound() -> None:
    h = parse_headers(b"From: a@exemple.fr\r\nSubject: " + b"Re: " * 100_000 + b"acte\r\n\r\n")
    assert "subject:long-cut" in h.rules
    assert h.subject is None  # 2,000 characters of "Re: " prefixes: nothing left to match on


def test_directory_socket_and_dangling_link_in_place_of_messages_are_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "maildir"
    shutil.copytree(MAILDIR, root)
    new = root / "etat-civil" / "new"
    (new / "1794850000.M90P1Q1.mx1.val-de-vigie.fr").mkdir()  # 2026-11-16 in Paris
    (new / "1794850001.M91P1Q1.mx1.val-de-vigie.fr").symlink_to(tmp_path / "gone")
    sock = socket.socket(socket.AF_UNIX)
    sock_path = new / "1794850002.M92P1Q1.mx1.val-de-vigie.fr"
    monkeypatch.chdir(new)  # AF_UNIX paths are limited to 107 bytes: bind the bare name
    sock.bind(sock_path.name)
    monkeypatch.undo()
    cfg, clean_cfg = make_config(root), make_config(MAILDIR)
    pseudo = Pseudonymiser(TEST_KEY)
    got = read_interval(cfg, cfg.sources[0], NIGHT, pseudo)
    clean = read_interval(clean_cfg, clean_cfg.sources[0], NIGHT, pseudo)
    sock.close()
    # Every message of the clean tree lands as before.
    assert got.tables["email_messages"].to_pylist() == clean.tables["email_messages"].to_pylist()
    added = [
        (r.source_file, r.source_position, r.reason) for r in got.rejects if r not in clean.rejects
    ]
    expected = [
        ("etat-civil/new/1794850000.M90P1Q1.mx1.val-de-vigie.fr", "message 1794850000.M90P1Q1.mx1.val-de-vigie.fr",
         "not a message file: a directory"),
        ("etat-civil/new/1794850001.M91P1Q1.mx1.val-de-vigie.fr", "message 1794850001.M91P1Q1.mx1.val-de-vigie.fr",
         "not a message file: a symbolic link to nothing"),
    ]  # fmt: skip
    expected.append(
        ("etat-civil/new/1794850002.M92P1Q1.mx1.val-de-vigie.fr",
         "message 1794850002.M92P1Q1.mx1.val-de-vigie.fr",
         "not a message file: a special file (socket, pipe or device)")
    )  # fmt: skip
    assert added == expected


def test_mbox_endless_header_line_is_one_reject_and_the_next_message_lands(
    tmp_path: Path,
) -> None:
    endless = b"X-Junk: " + b"j" * (3 * 1024 * 1024) + b"\n"  # 3 MB, past the 1 MB header cap
    (tmp_path / "in.mbox").write_bytes(
        b"From MAILER-DAEMON Mon Nov 16 09:00:00 2026\nFrom: a@exemple.fr\n" + endless
        + b"\nbody\n\n"
        + b"From MAILER-DAEMON Mon Nov 16 10:00:00 2026\nFrom: b@exemple.fr\nSubject: acte\n"
        + b"Message-ID: <b@exemple.fr>\n\nbody\n"
    )  # fmt: skip
    (tmp_path / "sent.mbox").write_bytes(b"")
    data = make_config(MAILDIR).model_dump(mode="json", exclude_none=True)
    data["sources"] = [{
        "id": "mb", "type": "mbox", "path": str(tmp_path), "mailboxes": [
            {"name": "etat-civil", "service": "ETAT_CIVIL", "inbox": "in.mbox",
             "sent": "sent.mbox"}]}]  # fmt: skip
    cfg = parse_config(data)
    got = mbox.read_interval(cfg, cfg.sources[0], NIGHT, Pseudonymiser(TEST_KEY))
    assert [r["source_position"] for r in got.tables["email_messages"].to_pylist()] == [
        "message 2"
    ]
    assert [(r.source_file, r.source_position, r.reason) for r in got.rejects] == [
        ("in.mbox", "message 1", "header block larger than 1048576 bytes")
    ]
