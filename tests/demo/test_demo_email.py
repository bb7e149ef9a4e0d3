"""The demo Maildir++ tree: INBOX at the mailbox root, Sent in .Sent, parseable RFC 5322 messages."""

from __future__ import annotations

import datetime as dt
import os
import re
import zoneinfo
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

import pytest

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NAME = re.compile(r"^(\d{10})\.M\d+P\d+Q\d+\.[a-z.-]+,S=(\d+)(:2,S)?$")


def _local(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, PARIS)


@pytest.fixture(scope="module")
def messages(demo) -> list[dict]:
    """Every message: mailbox, folder role, delivery epoch, parsed headers."""
    cfg, _ = demo
    src = cfg.sources_of("maildir")[0]
    root = cfg.path(src.path)
    out = []
    parser = BytesParser(policy=policy.default)
    for mbox in src.mailboxes:
        for role, folder in (("inbox", root / mbox.path), ("sent", root / mbox.path / ".Sent")):
            for sub in ("cur", "new", "tmp"):
                assert (folder / sub).is_dir(), folder / sub
            for sub in ("cur", "new"):
                for path in sorted((folder / sub).iterdir()):
                    m = NAME.match(path.name)
                    assert m, path.name
                    data = path.read_bytes()
                    assert int(m[2]) == len(data)  # S= is the size
                    assert int(os.stat(path).st_mtime) == int(m[1])
                    assert (m[3] is not None) == (sub == "cur")
                    msg = parser.parsebytes(data)
                    headers = {k: str(v) for k, v in msg.items()}
                    out.append({"mailbox": mbox.name, "address": mbox.address, "role": role, "epoch": int(m[1]),
                                "msg": msg, "h": headers, "sub": sub})
    return out


def test_every_message_parses_with_the_threading_headers(messages) -> None:
    assert len(messages) > 800
    for m in messages:
        msg = m["msg"]
        for header in ("Message-ID", "Date", "From", "To", "Subject"):
            assert msg[header], header
        assert not msg.defects, msg.defects
        body = msg.get_content()
        assert body.strip()
    ids = [m["h"].get("Message-ID") for m in messages]
    assert len(ids) == len(set(ids))


def test_replies_thread_onto_inbox_messages(messages) -> None:
    inbox_ids = {m["h"].get("Message-ID") for m in messages if m["role"] == "inbox"}
    replies = [m for m in messages if m["role"] == "sent" and m["h"].get("In-Reply-To")]
    assert replies
    for m in replies:
        assert m["h"].get("In-Reply-To") in inbox_ids
        assert m["h"].get("References")
        assert parseaddr(m["h"].get("From"))[1] == m["address"]
        subject = str(m["h"].get("Subject"))
        assert subject.startswith(("RE : ", "Accusé de réception : "))


def test_auto_replies_bounce_newsletter_internal_and_reminders(messages) -> None:
    inbox = [m for m in messages if m["role"] == "inbox"]
    sent = [m for m in messages if m["role"] == "sent"]
    acks = [m for m in sent if m["h"].get("Auto-Submitted") == "auto-replied"]
    assert {m["mailbox"] for m in acks} == {"etat-civil", "ccas"}  # the service's acknowledgements
    absences = [m for m in inbox if str(m["h"].get("Subject")).startswith("Absence du bureau")]
    assert absences and all(m["h"].get("Auto-Submitted") == "auto-replied" for m in absences)
    bounces = [m for m in inbox if parseaddr(m["h"].get("From"))[1].lower().startswith("mailer-daemon@")]
    assert len(bounces) == 1
    assert {m["mailbox"] for m in inbox if m["h"].get("List-Id")} == {"etat-civil", "urbanisme", "ccas", "enfance"}
    assert any(parseaddr(m["h"].get("From"))[1].endswith("@val-de-vigie.fr") for m in inbox)
    by_id = {m["h"].get("Message-ID"): m for m in inbox}
    reminders = [m for m in inbox if m["h"].get("In-Reply-To") in by_id
                 and parseaddr(by_id[m["h"].get("In-Reply-To")]["h"]["From"]) == parseaddr(m["h"].get("From"))]
    assert reminders and all(str(m["h"].get("Subject")).startswith("RE : ") for m in reminders)
    assert {parseaddr(m["h"].get("From"))[1].rsplit("@", 1)[1] for m in inbox if "RE" not in str(m["h"].get("Subject"))
            and m["h"].get("Received")} >= {"gmail.com", "orange.fr", "free.fr"}


def test_late_and_unanswered_requests(messages) -> None:
    sent_reply_to = {m["h"].get("In-Reply-To"): m["epoch"] for m in messages
                     if m["role"] == "sent" and m["h"].get("Auto-Submitted") is None}
    requests = [m for m in messages if m["role"] == "inbox" and m["h"].get("In-Reply-To") is None
                and not m["h"].get("List-Id") and not parseaddr(m["h"].get("From"))[1].endswith("val-de-vigie.fr")
                and m["h"].get("Auto-Submitted") is None]
    answered_late = [m for m in requests if m["h"].get("Message-ID") in sent_reply_to
                     and sent_reply_to[m["h"].get("Message-ID")] - m["epoch"] > 8 * 86400]
    never = [m for m in requests if m["h"].get("Message-ID") not in sent_reply_to
             and m["epoch"] < dt.datetime(2026, 11, 13, tzinfo=PARIS).timestamp()]
    assert answered_late and never


def test_calendar_edge_cases(messages) -> None:
    inbox = [m for m in messages if m["role"] == "inbox"]
    days = {(m["mailbox"], _local(m["epoch"]).date()) for m in inbox}
    for mailbox in ("etat-civil", "urbanisme", "ccas", "enfance"):
        assert (mailbox, dt.date(2026, 11, 9)) in days  # the business day before the pont and 11 Nov
    assert any(_local(m["epoch"]).weekday() == 4 and _local(m["epoch"]).hour >= 19 for m in inbox)  # Friday evening
    assert any(_local(m["epoch"]).weekday() == 5 for m in inbox)  # a Saturday email
    assert any(_local(m["epoch"]).date() == dt.date(2026, 11, 11) for m in inbox)  # written on the holiday
    human_sent = [m for m in messages if m["role"] == "sent" and m["h"].get("Auto-Submitted") is None]
    assert any(_local(m["epoch"]).weekday() == 5 for m in human_sent)  # an answer on a Saturday
    assert any(_local(m["epoch"]).hour >= 18 for m in human_sent)  # and some in the evening
    # One sender clock two hours late: Date header well before the delivery time.
    skews = [m["epoch"] - parsedate_to_datetime(m["h"]["Date"]).timestamp() for m in inbox]
    assert sum(s >= 3600 for s in skews) == 1


def test_recent_unread_messages_sit_in_new(messages) -> None:
    new = [m for m in messages if m["sub"] == "new"]
    assert new and all(m["role"] == "inbox" and _local(m["epoch"]).date() == dt.date(2026, 11, 27) for m in new)


def test_no_message_after_the_range(messages) -> None:
    assert max(m["epoch"] for m in messages) < dt.datetime(2026, 11, 28, tzinfo=PARIS).timestamp()
    assert min(m["epoch"] for m in messages) >= dt.datetime(2026, 10, 31, tzinfo=PARIS).timestamp()


def test_maildir_layout(demo) -> None:
    cfg, _ = demo
    root = Path(cfg.path(cfg.sources_of("maildir")[0].path))
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["ccas", "enfance", "etat-civil", "urbanisme"]
    assert (root / "etat-civil" / ".Sent" / "maildirfolder").is_file()
