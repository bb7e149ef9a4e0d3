"""mbox reader: the committed Maildir fixture written as mbox files gives the Maildir rows."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from connectors.email import mbox
from connectors.email.maildir import read_interval as read_maildir
from connectors.pseudonymise import Pseudonymiser
from tests.connectors.email.conftest import MAILDIR, TEST_KEY, make_config
from vigie.config import parse_config
from vigie.intervals import night_for_day

DAY = dt.date(2026, 11, 16)


def _write_mbox(path: Path, folder: Path, extra: bytes = b"") -> None:
    out = bytearray(extra)
    for sub in ("cur", "new"):
        files = sorted((folder / sub).iterdir()) if (folder / sub).is_dir() else []
        for f in (f for f in files if not f.name.startswith(".")):
            epoch = int(re.match(r"^(\d+)", f.name).group(1))
            when = dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%a %b %d %H:%M:%S %Y")
            body = f.read_bytes().replace(b"\r\n", b"\n")
            body = re.sub(rb"(?m)^(>*From )", rb">\1", body)
            out += f"From MAILER-DAEMON {when}\n".encode() + body.rstrip(b"\n") + b"\n\n"
    path.write_bytes(bytes(out))


def test_mbox_gives_the_maildir_rows(tmp_path: Path) -> None:
    ec, ur = MAILDIR / "etat-civil", MAILDIR / "urbanisme"
    _write_mbox(tmp_path / "ec-in.mbox", ec,
                extra=b"From nodate\nFrom: a@exemple.fr\nSubject: x\n\nbody\n\n")
    _write_mbox(tmp_path / "ec-sent.mbox", ec / ".Sent")
    _write_mbox(tmp_path / "ur-in.mbox", ur)
    _write_mbox(tmp_path / "ur-sent.mbox", ur / ".Sent")
    data = make_config(MAILDIR).model_dump(mode="json", exclude_none=True)
    data["sources"] = [{
        "id": "mairie_mbox", "type": "mbox", "path": str(tmp_path), "mailboxes": [
            {"name": "etat-civil", "service": "ETAT_CIVIL", "inbox": "ec-in.mbox",
             "sent": "ec-sent.mbox", "address": "etat-civil@val-de-vigie.fr"},
            {"name": "urbanisme", "service": "URBANISME", "inbox": "ur-in.mbox",
             "sent": "ur-sent.mbox", "address": "urbanisme@val-de-vigie.fr"}]}]
    cfg = parse_config(data)
    pseudo = Pseudonymiser(TEST_KEY)
    night = night_for_day(DAY, "Europe/Paris")
    got = mbox.read_interval(cfg, cfg.sources[0], night, pseudo)
    want = read_maildir(make_config(MAILDIR), make_config(MAILDIR).sources[0], night, pseudo)
    g, w = got.tables["email_messages"].to_pylist(), want.tables["email_messages"].to_pylist()
    assert len(g) == len(w) == 16
    # the message without a Message-ID gets a synthetic id hashed from its header block, whose
    # line endings the mbox export changed (CRLF -> LF): the only key that differs
    assert len({r["message_key"] for r in g} & {r["message_key"] for r in w}) == 15
    drop = {"source_id", "source_position", "message_key"}

    def key(r):
        return (r["mailbox"], r["folder_role"], r["received_at"], r["from_key"])

    assert sorted(({k: v for k, v in r.items() if k not in drop} for r in g), key=key) == sorted(
        ({k: v for k, v in r.items() if k not in drop} for r in w), key=key)
    assert [(r.source_file, r.source_position, r.reason) for r in got.rejects] == [
        ("ec-in.mbox", "message 1", "mbox separator line holds no date"),
        ("ec-in.mbox", "message 16", "not an email message: NUL bytes in the header block"),
    ]


def test_separator_time() -> None:
    assert mbox.separator_time("MAILER-DAEMON Mon Nov 16 09:15:00 2026") == dt.datetime(
        2026, 11, 16, 9, 15, tzinfo=dt.UTC)
    assert mbox.separator_time("nodate") is None
