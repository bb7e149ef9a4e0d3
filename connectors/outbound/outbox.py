"""Write digests as .eml files when no SMTP connection is configured.

``<outbox>/<night>/<digest_id>.eml``: the digest id is a hash of the digest's alert keys, so a
rerun of the same night builds the same name and finds the file already there: nothing new is
written. Files appear atomically (temp file in the same directory, then ``os.replace``): a mail
pickup job or a person opening the folder never sees half a message.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from email import policy
from email.message import EmailMessage
from pathlib import Path


def outbox_path(outbox: Path, night: dt.date, digest_id: str) -> Path:
    return outbox / night.isoformat() / f"{digest_id}.eml"


def write_eml(outbox: Path, night: dt.date, digest_id: str, message: EmailMessage) -> tuple[Path, bool]:
    """(path, written): written is False when this digest was already in the outbox."""
    path = outbox_path(outbox, night, digest_id)
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    data = message.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{digest_id}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path, True
