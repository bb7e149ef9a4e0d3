"""Parse the header block of one email message into a typed record (source-agnostic).

Bytes in, :class:`MessageHeaders` out: the Maildir reader passes the bytes up to the first blank
line of a file; the IMAP and mbox readers (issue 5) will pass ``BODY.PEEK[HEADER]`` or the lines
after a ``From `` separator. Nothing here knows where the bytes came from.

Why so defensive: the mailboxes of a collectivité receive whatever the world sends. Every oddity
seen in the field is handled by a documented rule (DECISIONLOG.md) and
recorded in :attr:`MessageHeaders.rules` so that the batch metadata can count it; only a message
whose headers cannot be used at all raises :class:`HeaderParseError`, whose text is a reason fit
for ``rejects.parquet`` (it never quotes a header value: those hold names and addresses).

Rules, in short:
- raw 8-bit header bytes (no encoded word): UTF-8 when the line is valid UTF-8, else
  Windows-1252 (the usual culprit of French mail clients);
- encoded words in an unknown charset or broken base64 decode to U+FFFD, never raise;
- no ``Message-ID``: a synthetic id derived from a SHA-256 of the header block (stable for the
  same message in any folder, on any rerun); several: the first (topmost) one is kept;
- ``Date`` missing or unparsable: ``date_header_at`` is None; a date without a zone
  (``-0000``) is read as UTC;
- ``References``: deduplicated, then capped to :data:`REFERENCES_CAP` ids (the first, i.e. the
  thread root, plus the last ones, i.e. the nearest ancestors);
- no usable ``From`` address: rejected (no sender, nothing to measure).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import Parser
from email.utils import getaddresses

# Ids kept from a References header: the root plus the (REFERENCES_CAP - 1) nearest ancestors.
REFERENCES_CAP = 50
# A header block larger than this is not an email we can trust (readers stop reading there).
MAX_HEADER_BYTES = 1024 * 1024
# Per-field bounds (characters, after unfolding): what the stdlib's header parser is given.
# Its structured parsers are superlinear on hostile text (an 80 KB From without '@' took
# seconds); beyond these sizes a field is read by linear rules only (DECISIONLOG.md, Part 5,
# "Bounds per message"). A To of 50 recipients is about 2,000 characters; beyond, the linear
# search finds the same addresses unless a display name or comment holds one.
MAX_ADDRESS_FIELD_CHARS = 2 * 1024
MAX_SUBJECT_CHARS = 2_000
MAX_DATE_CHARS = 256

AUTO_REASONS = (
    "bounce", "spam", "auto-submitted", "x-autoreply", "x-autorespond", "precedence", "list",
)  # fmt: skip
# Verdict headers of the mail server's filter: SpamAssassin (X-Spam-Flag: YES, X-Spam-Status:
# Yes, score=...), rspamd and others (X-Spam: Yes). A message the filter let through unmarked,
# or marked "No", is read as written by a person.
_SPAM_VERDICTS = ("X-Spam-Flag", "X-Spam-Status", "X-Spam")
_PRECEDENCE_AUTO = {"bulk", "junk", "list", "auto_reply"}
_BOUNCE_LOCAL_PARTS = {"mailer-daemon", "postmaster"}
_NEGATIVE_FLAG = {"no", "false", "0", "off"}
# Headers one of which any real message has; a file with none of them is not an email.
_KNOWN_HEADERS = {
    "from", "to", "cc", "date", "subject", "message-id", "received", "return-path",
    "delivered-to", "mime-version", "sender", "reply-to",
}

_ID_TOKEN = re.compile(r"<([^<>]*)>")
_WS = re.compile(r"\s+")
_ADDR_SPEC = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+$")
# Runs of the characters an addr-spec found by search may hold (see search_addresses).
_ADDR_RUN = re.compile(r"[^@\s<>\"(),;:\[\]]+")
_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_COMMENT = re.compile(r"\([^()]*\)")
# The null address: "<>", "MAILER DAEMON <>", "<>" with spaces inside the brackets.
_NULL_PATH = re.compile(r"^[^<>@]*<\s*>\s*$")

# Reply / forward prefixes in the languages a French collectivité receives: RE, TR (transfert),
# Réf, Fwd, FW, AW (German Antwort), WG (Weitergeleitet), SV (Nordic), RIF / R (Italian) are
# too ambiguous without a colon, so a colon (half- or full-width) is required. An optional
# counter ("RE[2]:", "Re^3:", "RE (2) :") and spaces before the colon ("RE :") are accepted.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|r[ée]f|r[ée]p|tr|fwd?|aw|wg|sv|antw|rif)\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*:"
    r"|\[[^\[\]]*\])\s*",
    re.IGNORECASE,
)


class HeaderParseError(ValueError):
    """The header block cannot be used; ``str(exc)`` is a reject reason without personal data."""


@dataclass(frozen=True)
class MessageHeaders:
    """What Vigie keeps of a message's headers, still in clear: pseudonymise before landing."""

    message_id: str  # without angle brackets; synthetic when the header is missing
    in_reply_to: str | None
    references: tuple[str, ...]  # oldest first, capped to REFERENCES_CAP
    from_address: str  # lower-cased addr-spec; "" for a null sender (From: <>)
    to_addresses: tuple[str, ...]  # To then Cc, lower-cased, deduplicated
    date_header_at: dt.datetime | None  # aware, UTC
    subject: str | None  # normalised (prefixes and tags stripped, spaces collapsed, casefolded)
    auto_reason: str | None  # one of AUTO_REASONS, or None for a message written by a person
    rules: tuple[str, ...] = ()  # defensive rules applied, e.g. 'message_id:missing'
    # GLPI ticket this message continues (a reply to a GLPI notification), as GLPI's mail
    # collector finds it: a GLPI Message-ID in In-Reply-To/References, else "[... #0000101]" in
    # the subject. A ticket number, not an identity: landed in clear.
    glpi_ticket_id: int | None = None

    @property
    def is_auto_submitted(self) -> bool:
        return self.auto_reason is not None


def header_block(data: bytes) -> bytes:
    """The header part of a raw message: everything before the first blank line."""
    m = BLANK_LINE.search(data)
    return data[: m.start()] if m else data


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


def _decode_block(block: bytes, rules: list[str]) -> str:
    """Header bytes to text, line by line (a message may mix UTF-8 and Windows-1252 lines)."""
    if block.isascii():
        return block.decode("ascii")
    rules.append("header:raw-8bit")
    return "".join(_decode_line(line) for line in block.splitlines(keepends=True))


def _clean(text: str) -> str:
    """Lone surrogates (undecodable bytes) to U+FFFD so that the text can be encoded and keyed."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _raw_values(msg: EmailMessage, name: str) -> list[str]:
    """Unfolded raw values of every occurrence of a header (before any policy decoding)."""
    lname = name.lower()
    return [
        _WS.sub(" ", _clean(v)).strip() for k, v in msg.raw_items() if k.lower() == lname
    ]


def _decoded(msg: EmailMessage, name: str, rules: list[str]) -> str | None:
    """The first occurrence of a header, encoded words decoded; None when absent."""
    raw = _raw_values(msg, name)
    if not raw:
        return None
    if len(raw[0]) > MAX_SUBJECT_CHARS:  # bounded: cut, and read as written (no decoding)
        rules.append(f"{name.lower()}:long-cut")
        return raw[0][:MAX_SUBJECT_CHARS].strip()
    try:
        value = msg[name]
        text = str(value) if value is not None else raw[0]
    except Exception:  # the stdlib parser raises odd errors on odd input
        rules.append(f"{name.lower()}:raw-fallback")
        text = raw[0]
    return _WS.sub(" ", _clean(text)).strip()


def _ids(value: str) -> list[str]:
    """Message ids of a header value, without brackets or inner whitespace."""
    out = []
    for token in _ID_TOKEN.findall(value):
        token = _WS.sub("", token)
        if token:
            out.append(token)
    return out


def _bare_id(value: str) -> str | None:
    """An id written without angle brackets (``Message-ID: abc@host``): kept if it has an @."""
    token = value.strip().split(" ")[0] if value.strip() else ""
    return token if "@" in token else None


def _message_id(msg: EmailMessage, block: bytes, rules: list[str]) -> str:
    candidates: list[str] = []
    values = _raw_values(msg, "Message-ID")
    for value in values:
        ids = _ids(value) or ([b] if (b := _bare_id(value)) else [])
        candidates.extend(ids[:1])
    if len(values) > 1:
        rules.append("message_id:several")
    if candidates:
        return candidates[0]
    rules.append("message_id:missing")
    digest = hashlib.sha256(block).hexdigest()
    return f"vigie-missing-id.{digest}@vigie.invalid"


def _in_reply_to(msg: EmailMessage) -> str | None:
    for value in _raw_values(msg, "In-Reply-To"):
        ids = _ids(value)
        if ids:
            return ids[0]
        bare = _bare_id(value)
        if bare:
            return bare
    return None


def _references(msg: EmailMessage, rules: list[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    refs: list[str] = []
    for value in _raw_values(msg, "References"):
        for token in _ids(value):
            if token not in seen:
                seen.add(token)
                refs.append(token)
    if len(refs) > REFERENCES_CAP:
        rules.append("references:capped")
        refs = refs[:1] + refs[-(REFERENCES_CAP - 1) :]
    return tuple(refs)


def _valid_addr(addr: str) -> str | None:
    addr = _clean(addr).strip().lower()
    return addr if _ADDR_SPEC.match(addr) else None


# A plain address list: parts separated by commas, each ``addr`` or ``display <addr>`` with
# no quote, comment, group, route or escape anywhere. For these the stdlib policy parser (about
# 1 ms per header, most of the parse time) returns exactly the bracketed or bare addr-spec, so
# it is skipped; anything else still goes through it.
_PLAIN_PART = re.compile(
    r"^\s*(?:[^\"<>,;:@\\()\[\]]*<([^<>\s\"(),;:\[\]\\@]+@[^<>\s\"(),;:\[\]\\@]+)>"
    r"|([^<>\s\"(),;:\[\]\\@]+@[^<>\s\"(),;:\[\]\\@]+))\s*$"
)


def _plain_addresses(raws: list[str]) -> list[str] | None:
    """Addr-specs of plain address lists (see _PLAIN_PART), or None when any part is not plain."""
    found: list[str] = []
    for raw in raws:
        if any(c in raw for c in '"()\\;:[]'):
            return None
        for part in raw.split(","):
            m = _PLAIN_PART.match(part)
            if m is None:
                return None
            found.append(m.group(1) or m.group(2))
    return found


def search_addresses(text: str) -> list[str]:
    """Every ``local@domain.tld`` in ``text``: a run of address characters, an ``@``, and a run
    holding a dot with a character on each side (what the regex
    ``R+@R+\\.R+`` finds, R excluding ``@``, spaces and ``<>"(),;:[]``), in one pass.

    Why not that regex: on a run without ``@`` it retries from every character, quadratic
    (80 KB took 19 s); here each run is visited once, so the cost is linear in the text."""
    found: list[str] = []
    prev: re.Match[str] | None = None
    used = -1  # end of the run consumed as the right part of the previous address
    for run in _ADDR_RUN.finditer(text):
        if (
            prev is not None
            and prev.start() >= used
            and prev.end() + 1 == run.start()
            and text[prev.end()] == "@"
            and "." in run.group()[1:-1]
        ):
            found.append(f"{prev.group()}@{run.group()}")
            used = run.end()
        prev = run
    return found


def _addresses(msg: EmailMessage, name: str, rules: list[str]) -> list[str]:
    """Addr-specs of every occurrence of an address header, lower-cased, in order."""
    out: list[str] = []
    raws = _raw_values(msg, name)
    if not raws:
        return out
    if sum(len(r) for r in raws) > MAX_ADDRESS_FIELD_CHARS:
        # Too long for the stdlib parser's bounded cost: the linear search alone.
        rules.append(f"{name.lower()}:long-linear-search")
        for raw in raws:
            for a in search_addresses(raw):
                v = _valid_addr(a)
                if v is not None and v not in out:
                    out.append(v)
        return out
    plain = _plain_addresses(raws)
    if plain is not None:
        for a in plain:
            v = _valid_addr(a)
            if v is not None and v not in out:
                out.append(v)
        if len(out) == len(set(a.lower() for a in plain)):
            return out
        out = []  # something odd in a part: let the full parser and its fallbacks decide
    try:
        headers = msg.get_all(name) or []
        parsed = [a.addr_spec for h in headers for a in h.addresses]
    except Exception:  # fall back to the lenient legacy parser
        rules.append(f"{name.lower()}:legacy-parser")
        parsed = [a for _, a in getaddresses(raws)]
    good = [v for a in parsed if (v := _valid_addr(a))]
    if len(good) < len(parsed) or not parsed:
        # Something did not parse: search the raw text for addr-specs as a last resort.
        found = [v for raw in raws for a in search_addresses(raw) if (v := _valid_addr(a))]
        extra = [a for a in found if a not in good]
        if extra:
            rules.append(f"{name.lower()}:regex-fallback")
            good.extend(extra)
    for a in good:
        if a not in out:
            out.append(a)
    return out


def _date(msg: EmailMessage, rules: list[str]) -> dt.datetime | None:
    raws = _raw_values(msg, "Date")
    if not raws:
        rules.append("date:missing")
        return None
    if len(raws[0]) > MAX_DATE_CHARS:
        rules.append("date:unparsable")
        return None
    try:
        value = msg["Date"].datetime
    except Exception:
        value = None
    if value is None:
        rules.append("date:unparsable")
        return None
    if value.tzinfo is None:
        rules.append("date:no-zone-utc")
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        rules.append("date:unparsable")
        return None


def normalise_subject(subject: str | None) -> str | None:
    """Subject reduced to what a reply keeps: ``'TR : RE: [Ticket#123] Acte  de Naissance'`` ->
    ``'acte de naissance'``. None (or empty after stripping) means no subject to match on."""
    if subject is None:
        return None
    # Caseless form first (NFKC, casefold, NFKC again: Unicode's NFKC_Casefold recipe), so that
    # the result is already a fixed point: normalising it again changes nothing.
    s = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", subject).casefold())
    s = _WS.sub(" ", s).strip()
    while True:
        stripped = _PREFIX.sub("", s, count=1)
        if stripped == s:
            break
        s = stripped
    return s.strip() or None


def _flag(msg: EmailMessage, name: str) -> str | None:
    """Lower-cased value of a flag header with comments removed, None when absent or empty."""
    values = _raw_values(msg, name)
    if not values:
        return None
    value = _COMMENT.sub("", values[0]).strip().strip(";").strip().lower()
    return value or None


def classify_auto(msg: EmailMessage, from_address: str | None) -> str | None:
    """Why a message was not written by a person (domain.md §5 Email), or None.

    First match wins, most specific first: bounce, spam (the server filter's verdict: a
    ``yes`` first word in X-Spam-Flag, X-Spam-Status or X-Spam), Auto-Submitted (RFC 3834,
    anything but 'no'), X-Autoreply, X-Autorespond, Precedence bulk|junk|list|auto_reply, list
    headers. Spam before the auto-reply markers: junk mail often forges them, and the reason
    the data team reads should be the filter's. X-Auto-Response-Suppress is deliberately
    ignored: Outlook puts it on ordinary messages.
    """
    if not from_address or from_address.split("@", 1)[0] in _BOUNCE_LOCAL_PARTS:
        return "bounce"  # a null sender (From: <>) or the mail system's own mailbox
    if _is_delivery_report(msg):
        return "bounce"
    for header in _SPAM_VERDICTS:
        verdict = _flag(msg, header)
        if verdict is not None and verdict.replace(",", " ").split()[0] == "yes":
            return "spam"
    auto = _flag(msg, "Auto-Submitted")
    if auto is not None and auto != "no":
        return "auto-submitted"
    for header, reason in (("X-Autoreply", "x-autoreply"), ("X-Autorespond", "x-autorespond")):
        value = _flag(msg, header)
        if value is not None and value not in _NEGATIVE_FLAG:
            return reason
    precedence = _flag(msg, "Precedence")
    if precedence in _PRECEDENCE_AUTO:
        return "precedence"
    if _raw_values(msg, "List-Id") or _raw_values(msg, "List-Unsubscribe"):
        return "list"
    if _is_null_path(_raw_values(msg, "Return-Path")):
        # SMTP's null reverse path: only the mail system sends it (delivery reports, and
        # replies that must never be answered); with no other marker it is a bounce.
        return "bounce"
    return None


def _is_null_path(values: list[str]) -> bool:
    """A header holding the null address ``<>`` (with an optional display name or comment)."""
    return any(_NULL_PATH.match(_COMMENT.sub("", v)) for v in values)


def _is_delivery_report(msg: EmailMessage) -> bool:
    """RFC 3462/6522 delivery report: ``multipart/report; report-type=delivery-status``."""
    values = _raw_values(msg, "Content-Type")
    if not values:
        return False
    value = values[0].lower().replace(" ", "").replace('"', "")
    return value.startswith("multipart/report") and "report-type=delivery-status" in value


# GLPI's MailCollector (getItemFromHeaders, then the subject): its notifications' Message-IDs
# are "GLPI-Ticket-101.<time>.<rand>@host" (older) or "GLPI_<instance uuid>-Ticket-101..."; a
# subject tag "[GLPI #0000101] ..." matches its subject pattern \[.+#(\d+)\] (greedy, as PCRE).
# Both are searched in linear time (a backtracking search of the first on "GLPI_aGLPI_a..." or of
# the second on "[[[[..." was quadratic): "-Ticket-<digits>" first, then a bounded look back
# (an instance id is a few dozen characters); the subject's tag by its last "#<digits>]".
_GLPI_TICKET = re.compile(r"-Ticket-(\d+)", re.IGNORECASE)
_GLPI_PREFIX = re.compile(r"GLPI(?:_[a-z0-9]+)?\Z", re.IGNORECASE)
_GLPI_LOOKBACK = 80
_GLPI_SUBJECT_TAG = re.compile(r"#(\d+)\]")


def _glpi_message_id_ticket(value: str) -> int | None:
    """The ticket of the first ``GLPI[_<instance>]-Ticket-<n>`` in ``value`` (linear)."""
    for m in _GLPI_TICKET.finditer(value):
        if _GLPI_PREFIX.search(value, max(0, m.start() - _GLPI_LOOKBACK), m.start()):
            return int(m.group(1))
    return None


def _glpi_subject_ticket(subject: str) -> int | None:
    """What PCRE's greedy ``\\[.+#(\\d+)\\]`` captures: the last ``#<n>]`` at least two characters
    after the first ``[``."""
    first = subject.find("[")
    if first < 0:
        return None
    last = None
    for m in _GLPI_SUBJECT_TAG.finditer(subject, first + 2):
        last = m
    return int(last.group(1)) if last else None


def glpi_ticket_id(msg: EmailMessage, subject: str | None) -> int | None:
    """The GLPI ticket a message continues, found the way GLPI's mail collector links a reply:
    In-Reply-To, then References, then the subject; None when nothing names one."""
    for name in ("In-Reply-To", "References"):
        for value in _raw_values(msg, name):
            ticket = _glpi_message_id_ticket(value)
            if ticket is not None:
                return ticket
    return _glpi_subject_ticket(subject or "")


def _looks_like_headers(block: bytes) -> bool:
    first = block.lstrip(b"\r\n").split(b"\n", 1)[0]
    return bool(_HEADER_LINE.match(first)) or first.startswith(b"From ")


def parse_headers(data: bytes) -> MessageHeaders:
    """Parse a header block (or a whole message: the body is ignored).

    Raises :class:`HeaderParseError` only when the bytes are not an email's headers at all or
    carry no sender address.
    """
    block = header_block(data)
    if len(block) > MAX_HEADER_BYTES:
        raise HeaderParseError(f"header block larger than {MAX_HEADER_BYTES} bytes")
    if b"\x00" in block:
        raise HeaderParseError("not an email message: NUL bytes in the header block")
    if not block.strip() or not _looks_like_headers(block):
        raise HeaderParseError("not an email message: no header field on the first line")
    rules: list[str] = []
    text = _decode_block(block, rules)
    # An mbox "From " separator line is not a header: drop it.
    if text.startswith("From "):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    msg = Parser(policy=policy.default).parsestr(text + "\n\n", headersonly=True)
    names = {k.lower() for k in msg.keys()}
    if not names & _KNOWN_HEADERS:
        raise HeaderParseError("not an email message: none of From, To, Date, Subject, Message-ID")
    null_sender = _is_null_path(_raw_values(msg, "From")) or (
        not _raw_values(msg, "From") and _is_null_path(_raw_values(msg, "Return-Path"))
    )
    if not _raw_values(msg, "From") and not null_sender:
        raise HeaderParseError("no From header")
    senders = _addresses(msg, "From", rules)
    if not senders and null_sender:
        # "From: MAILER DAEMON <>" (or no From with "Return-Path: <>"): a mail-system message;
        # it lands, without a sender key, and is excluded as a bounce (classify_auto).
        rules.append("from:null-sender")
        senders = [""]
    if not senders:
        raise HeaderParseError("From header holds no usable address")
    if len(senders) > 1:
        rules.append("from:several-first-kept")
    to = _addresses(msg, "To", rules)
    for a in _addresses(msg, "Cc", rules):
        if a not in to:
            to.append(a)
    subject = _decoded(msg, "Subject", rules)
    return MessageHeaders(
        glpi_ticket_id=glpi_ticket_id(msg, subject),
        message_id=_message_id(msg, block, rules),
        in_reply_to=_in_reply_to(msg),
        references=_references(msg, rules),
        from_address=senders[0],
        to_addresses=tuple(to),
        date_header_at=_date(msg, rules),
        subject=normalise_subject(subject),
        auto_reason=classify_auto(msg, senders[0]),
        rules=tuple(rules),
    )


def count_rules(parsed: Iterable[MessageHeaders]) -> dict[str, int]:
    """How many messages each defensive rule touched (for the batch metadata)."""
    counts: dict[str, int] = {}
    for p in parsed:
        for r in p.rules:
            counts[r] = counts.get(r, 0) + 1
    return dict(sorted(counts.items()))
