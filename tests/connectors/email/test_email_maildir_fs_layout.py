"""Maildir in the "fs" layout (issue 13, item 5): ``<mailbox>/INBOX/{cur,new}`` and
``<mailbox>/Sent/{cur,new}`` as sibling Maildirs, as mbsync/isync and offlineimap write them
and Dovecot does with ``LAYOUT=fs``.

The fs tree is the committed Maildir++ fixture (tests/fixtures/email/maildir) moved into the fs
shape at test time (``<mb>/cur`` -> ``<mb>/INBOX/cur``, ``<mb>/.Sent`` -> ``<mb>/Sent``),
so both layouts hold the very same message files and must land the same rows.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from connectors.email.maildir import MaildirLayoutError, folder_dir, read_interval
from connectors.pseudonymise import Pseudonymiser
from vigie.intervals import night_for_day

from .conftest import MAILDIR, TEST_KEY, make_config

NIGHT = night_for_day(dt.date(2026, 11, 16), "Europe/Paris")


def _fs_tree(dest: Path) -> Path:
    """The fixture's two mailboxes in the fs layout (an mbsync 'SubFolders Verbatim' store)."""
    for mailbox in ("etat-civil", "urbanisme"):
        src, out = MAILDIR / mailbox, dest / mailbox
        for sub in ("cur", "new"):
            if (src / sub).is_dir():
                shutil.copytree(src / sub, out / "INBOX" / sub)
        (out / "INBOX" / "tmp").mkdir(parents=True, exist_ok=True)
        shutil.copytree(src / ".Sent", out / "Sent")
    return dest


def _rows(result) -> list[dict]:
    drop = {"source_position"}
    return [{k: v for k, v in r.items() if k not in drop} for r in result.tables["email_messages"].to_pylist()]


def test_the_fs_layout_lands_what_the_maildirpp_layout_lands(tmp_path: Path) -> None:
    pseudo = Pseudonymiser(TEST_KEY)
    fs_cfg = make_config(_fs_tree(tmp_path / "mbsync"), layout="fs")
    pp_cfg = make_config(MAILDIR)
    fs = read_interval(fs_cfg, fs_cfg.sources[0], NIGHT, pseudo)
    pp = read_interval(pp_cfg, pp_cfg.sources[0], NIGHT, pseudo)
    assert len(_rows(fs)) == 16
    assert _rows(fs) == _rows(pp)
    positions = [r["source_position"] for r in fs.tables["email_messages"].to_pylist()]
    assert {p.split("/")[1] for p in positions} == {"INBOX", "Sent"}
    assert [r.reason for r in fs.rejects] == [r.reason for r in pp.rejects]
    assert all(r.source_file.split("/")[1] in ("INBOX", "Sent") for r in fs.rejects)


def test_the_configured_layout_missing_says_which_one_is_there(tmp_path: Path) -> None:
    pseudo = Pseudonymiser(TEST_KEY)
    cfg = make_config(_fs_tree(tmp_path / "mbsync"))  # layout left at maildir++
    with pytest.raises(MaildirLayoutError) as caught:
        read_interval(cfg, cfg.sources[0], NIGHT, pseudo)
    root = tmp_path / "mbsync" / "etat-civil"
    assert str(caught.value) == (
        f"maildir source 'mairie_mail', mailbox 'etat-civil': inbox folder 'INBOX' expected at "
        f"{root} with cur/ and new/ (maildir++ layout: INBOX is the mailbox directory, any other "
        f"folder F is .F inside it); a Maildir is at {root / 'INBOX'} (fs layout): set "
        f"sources[mairie_mail].layout: fs"
    )
    pp_cfg = make_config(MAILDIR, layout="fs")
    with pytest.raises(MaildirLayoutError, match=r"\(maildir\+\+ layout\): set sources\[mairie_mail\]\.layout: maildir\+\+"):
        read_interval(pp_cfg, pp_cfg.sources[0], NIGHT, pseudo)


def test_fs_folder_paths() -> None:
    base = Path("/m/etat-civil")
    assert folder_dir(base, "INBOX", "fs") == base / "INBOX"
    assert folder_dir(base, "Sent", "fs") == base / "Sent"
    assert folder_dir(base, "Archives/2026", "fs") == base / "Archives" / "2026"
    assert folder_dir(base, "Sent") == base / ".Sent"  # maildir++ stays the default
