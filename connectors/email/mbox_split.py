"""Split an mbox file into messages the way mail readers do, mboxo and mboxrd alike.

Why not ``mailbox.mbox`` as is: it starts a new message at every line beginning with
``From ``. Writers quote such body lines (``>From``: mboxo quotes ``From ``, mboxrd also
``>From``), but files in the field hold unquoted ones ("From the 1st of September the town
hall...") written by tools that did not quote, and each one split a message in two, the second
half being rejected. Here, as in Python's ``mailbox`` for the first line of the file, a message
starts at the file's first line; any later ``From `` line starts one only when it reads as a
separator: ``From <sender> <asctime date>`` where the date (``Sun Aug  7 11:40:37 2022``,
optionally with a zone between time and year) may be followed by more text (``... 2022 extra
info``, ``... 2022 remote from mx1``), as Postfix, procmail, mutt and Thunderbird write them.

mboxo and mboxrd differ only in how body lines are quoted; only header blocks are read here
(the body never leaves the connector), so one reader serves both kinds, and unquoting
(:func:`unquote_mboxrd`) is only needed by whoever reads a body.

Memory: the file is read line by line (an over-long line in 64 KiB pieces) and only each
message's header block is kept, up to just past ``MAX_HEADER_BYTES``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from connectors.email.headers import MAX_HEADER_BYTES

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# weekday month day hh:mm[:ss] [zone] year: the asctime date of a separator line
_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+(?P<mon>" + "|".join(_MONTHS) + r")\s+(?P<day>\d{1,2})"
    r"\s+(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?"
    r"(?:\s+(?P<zone>[A-Za-z]{1,5}|[+-]\d{4}))?\s+(?P<year>\d{4})\b"
)
_MBOXRD_QUOTED = re.compile(rb"(?m)^>(>*From )")
# Bounds: a line is read in pieces of at most this many bytes, and a header block is kept up to
# just past headers.MAX_HEADER_BYTES (the parser rejects it as too large): an endless line or
# header costs its bytes' reading, never their memory.
_PIECE_BYTES = 64 * 1024


class NotAnMboxFile(ValueError):
    """The file holds text but its first line is no ``From `` line."""


@dataclass(frozen=True)
class MboxMessage:
    """One message: its ordinal (1-based), its separator line's text after ``From `` and its
    header block (bytes up to the first blank line, separator excluded)."""

    number: int
    separator: str
    header: bytes


def separator_time(text: str) -> dt.datetime | None:
    """The instant of a separator's date, UTC (``'MAILER-DAEMON Sun Aug  7 11:40:37 2022 extra
    info'`` -> 2022-08-07 11:40:37Z); None without a readable date. A numeric zone
    (``+0200``) is applied; a zone name, or none, means UTC (the delivery agents' convention)."""
    m = _DATE.search(text)
    if m is None:
        return None
    try:
        when = dt.datetime(
            int(m["year"]), _MONTHS.index(m["mon"]) + 1, int(m["day"]),
            int(m["h"]), int(m["m"]), int(m["s"] or 0), tzinfo=dt.UTC,
        )  # fmt: skip
    except ValueError:
        return None
    zone = m["zone"] or ""
    if zone[:1] in "+-" and zone:
        sign = 1 if zone[0] == "+" else -1
        when -= sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return when


def _is_separator(line: bytes) -> bool:
    """A ``From `` line that carries a sender and an asctime date after it."""
    text = line[5:].decode("latin-1")
    parts = text.split(None, 1)
    return len(parts) == 2 and _DATE.search(parts[1]) is not None


def split_mbox(path: Path) -> Iterator[MboxMessage]:
    """The messages of one mbox file, in file order. Raises :class:`NotAnMboxFile` when the
    file holds text but does not start with a ``From `` line."""
    number = 0
    separator = ""
    header: list[bytes] = []
    header_size = 0
    in_header = False
    continued = False  # the previous piece did not end a line: this one is no line start
    with path.open("rb") as fh:
        for line in iter(lambda: fh.readline(_PIECE_BYTES), b""):
            piece_of_line, continued = continued, not line.endswith(b"\n")
            if piece_of_line:  # the rest of an over-long line: header bytes or body, never a start
                if in_header and header_size <= MAX_HEADER_BYTES:
                    header.append(line)
                    header_size += len(line)
                continue
            starts = line.startswith(b"From ")
            if starts and (number == 0 or _is_separator(line)):
                if number:
                    yield MboxMessage(number, separator, _block(header))
                number += 1
                separator = line[5:].rstrip(b"\r\n").decode("utf-8", errors="replace")
                header, header_size, in_header = [], 0, True
                continue
            if number == 0:
                if line.strip():
                    raise NotAnMboxFile("not an mbox file: the first line does not start with 'From '")
                continue
            if in_header:
                if line in (b"\n", b"\r\n"):
                    in_header = False
                elif header_size <= MAX_HEADER_BYTES:  # past it: rejected as too large anyway
                    header.append(line)
                    header_size += len(line)
    if number:
        yield MboxMessage(number, separator, _block(header))


def _block(lines: list[bytes]) -> bytes:
    """Header lines joined, without the line end of the last one (as headers.header_block
    cuts a whole message), so a synthetic Message-ID hashes the same bytes as from Maildir."""
    block = b"".join(lines)
    if block.endswith(b"\r\n"):
        return block[:-2]
    return block[:-1] if block.endswith(b"\n") else block


def unquote_mboxrd(body: bytes) -> bytes:
    """mboxrd body lines back to what was sent: one ``>`` less before ``From `` (``>From`` ->
    ``From``, ``>>From`` -> ``>From``). Not for mboxo, whose quoting cannot be undone."""
    return _MBOXRD_QUOTED.sub(rb"\1", body)
