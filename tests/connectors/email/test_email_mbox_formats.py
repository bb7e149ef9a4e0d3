"""mbox files of both kinds, as delivery agents write them (issue 13, item 3).

tests/fixtures/email/mbox/README.md describes the files: an mboxo pair whose separators carry
text after the date (``... 2026 extra info``, ``... 2026 remote from relais``) and an mboxrd
pair with quoted ``>From`` / ``>>From`` body lines and one unquoted ``From the 1st of
December...`` line. Every message lands (none rejected, none split); the null-sender delivery
report and the MAILER-DAEMON delay notice are excluded as bounces.
"""

from __future__ import annotations

import datetime as dt
import mailbox
from pathlib import Path

import pytest

from connectors.email import mbox
from connectors.email.mbox_split import separator_time, split_mbox, unquote_mboxrd
from connectors.pseudonymise import Pseudonymiser
from tests.connectors.email.conftest import FIXTURES, TEST_KEY, make_config
from vigie.config import parse_config
from vigie.intervals import night_for_day

MBOX = FIXTURES / "mbox"
DAY = dt.date(2026, 11, 16)
UTC = dt.UTC


def _config(root: Path):
    data = make_config(root).model_dump(mode="json", exclude_none=True)
    data["sources"] = [{
        "id": "mairie_mbox", "type": "mbox", "path": str(root), "mailboxes": [
            {"name": "etat-civil", "service": "ETAT_CIVIL", "inbox": "mboxo/etat-civil-inbox.mbox",
             "sent": "mboxo/etat-civil-sent.mbox", "address": "etat-civil@val-de-vigie.fr"},
            {"name": "urbanisme", "service": "URBANISME", "inbox": "mboxrd/urbanisme-inbox.mbox",
             "sent": "mboxrd/urbanisme-sent.mbox", "address": "urbanisme@val-de-vigie.fr"}]}]  # fmt: skip
    return parse_config(data)


def test_both_kinds_land_every_message_and_none_is_rejected() -> None:
    cfg = _config(MBOX)
    pseudo = Pseudonymiser(TEST_KEY)
    got = mbox.read_interval(cfg, cfg.sources[0], night_for_day(DAY, "Europe/Paris"), pseudo)
    rows = got.tables["email_messages"].to_pylist()
    assert got.rejects == []
    assert got.meta["messages_seen"] == 8
    assert [
        (r["mailbox"], r["folder_role"], r["source_position"], r["received_at"], r["auto_reason"])
        for r in rows
    ] == [
        ("etat-civil", "inbox", "message 1", dt.datetime(2026, 11, 16, 8, 14, 12, tzinfo=UTC), None),
        ("etat-civil", "inbox", "message 2", dt.datetime(2026, 11, 16, 9, 40, 37, tzinfo=UTC), "bounce"),
        ("etat-civil", "inbox", "message 3", dt.datetime(2026, 11, 16, 13, 5, 0, tzinfo=UTC), None),
        ("etat-civil", "sent", "message 1", dt.datetime(2026, 11, 16, 15, 30, 0, tzinfo=UTC), None),
        ("urbanisme", "inbox", "message 1", dt.datetime(2026, 11, 16, 8, 30, 0, tzinfo=UTC), None),
        ("urbanisme", "inbox", "message 2", dt.datetime(2026, 11, 16, 10, 15, 2, tzinfo=UTC), "bounce"),
        ("urbanisme", "inbox", "message 3", dt.datetime(2026, 11, 16, 16, 45, 10, tzinfo=UTC), None),
        ("urbanisme", "sent", "message 1", dt.datetime(2026, 11, 16, 14, 0, 0, tzinfo=UTC), None),
    ]  # fmt: skip
    null_sender = rows[1]
    assert (null_sender["from_key"], null_sender["message_key"]) == (
        None, pseudo.key("message_id", "20261116094037.4F1A2@mx1.val-de-vigie.fr"),
    )  # fmt: skip
    # the replies thread onto the requests whose bodies held the From lines
    assert rows[3]["in_reply_to_key"] == rows[0]["message_key"] == pseudo.key("message_id", "mbo-1@exemple.fr")
    assert rows[7]["in_reply_to_key"] == rows[4]["message_key"] == pseudo.key("message_id", "mrd-1@exemple.fr")


def test_an_unquoted_from_line_in_a_body_does_not_split_the_message() -> None:
    path = MBOX / "mboxrd" / "urbanisme-inbox.mbox"
    assert [m.number for m in split_mbox(path)] == [1, 2, 3]
    # Python's mailbox.mbox starts a message at every "From " line: 4 there
    assert len(mailbox.mbox(str(path), create=False)) == 4


@pytest.mark.parametrize(
    ("separator", "expected"),
    [
        ("MAILER-DAEMON Sun Aug  7 11:40:37 2022 extra info", dt.datetime(2022, 8, 7, 11, 40, 37, tzinfo=UTC)),
        ("MAILER-DAEMON Mon Nov 16 09:15:00 2026", dt.datetime(2026, 11, 16, 9, 15, tzinfo=UTC)),
        ("a@b.fr Mon Nov 16 09:15 2026", dt.datetime(2026, 11, 16, 9, 15, tzinfo=UTC)),
        ("a@b.fr Mon Nov 16 09:15:00 CET 2026", dt.datetime(2026, 11, 16, 9, 15, tzinfo=UTC)),
        ("a@b.fr Mon Nov 16 10:15:00 +0100 2026", dt.datetime(2026, 11, 16, 9, 15, tzinfo=UTC)),
        ("paul@exemple.org Mon Nov 16 13:05:00 2026 remote from relais", dt.datetime(2026, 11, 16, 13, 5, tzinfo=UTC)),
        ("nodate", None),
        ("a@b.fr Mon Feb 30 10:00:00 2026", None),
    ],
)  # fmt: skip
def test_separator_dates(separator: str, expected: dt.datetime | None) -> None:
    assert separator_time(separator) == expected


def test_mboxrd_unquoting_and_a_file_that_is_no_mbox(tmp_path: Path) -> None:
    assert unquote_mboxrd(b">From a\n>>From b\nFrom c\n>>>From d\n") == b"From a\n>From b\nFrom c\n>>From d\n"
    bad = tmp_path / "notes.txt"
    bad.write_text("Notes de service\nFrom: personne\n")
    cfg = _config(tmp_path)
    (tmp_path / "mboxo").mkdir()
    (tmp_path / "mboxrd").mkdir()
    for name in ("mboxo/etat-civil-inbox.mbox", "mboxo/etat-civil-sent.mbox",
                 "mboxrd/urbanisme-inbox.mbox", "mboxrd/urbanisme-sent.mbox"):
        (tmp_path / name).write_bytes(bad.read_bytes())
    with pytest.raises(mbox.MboxLayoutError, match="not an mbox file: the first line does not start with 'From '"):
        mbox.read_interval(cfg, cfg.sources[0], night_for_day(DAY, "Europe/Paris"), Pseudonymiser(TEST_KEY))
