"""The file sources of the campaign: clean files in each source's real shape, how a variant is
written, and how its outcome is read back through the real connector.

An *outcome* maps a unit's position (``(file, n)``: line n, message n, row n) to what the
connector did with it: ``("landed", values)`` or ``("rejected", reason)``; a position absent
from the map was neither (a blank line, a record outside every night read). Telephony sources
are read night after night over their whole span (with saved positions, as in production), so
a rejected line is found whichever night its neighbours place it in.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.email import maildir as maildir_connector
from connectors.email import mbox as mbox_connector
from connectors.email.mbox_split import _is_separator
from connectors.pseudonymise import Pseudonymiser
from connectors.registers import request_register, satisfaction_survey
from connectors.telephony import asterisk_cdr_csv, asterisk_queue_log
from tests.connectors.conftest import QUEUES, minimal_config
from tests.fuzz.mutations import Mutated, Units, mutate_lines, render_lines
from vigie.config import parse_config
from vigie.intervals import night_for_day

PSEUDO = Pseudonymiser(b"issue-17-fuzz-key-0123456789abcdef")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
Outcome = dict[tuple[str, int], tuple[str, Any]]
TELEPHONY_DAYS = [dt.date(2026, 10, d) for d in range(23, 29)]  # data lie on 24-27 Oct
EMAIL_DAYS = [dt.date(2026, 11, d) for d in range(12, 19)]


class DuplicateOutcome(AssertionError):
    """One position landed or rejected twice (by two nights, or twice in one)."""


@dataclass
class FileSource:
    """One fuzzed source: its clean units and how to write and read a variant."""

    name: str
    clean: Callable[[], Units]
    write: Callable[[Path, Mutated], dict[tuple[str, int], int | None]]
    read: Callable[[Path], Outcome]
    mutate: Callable[[random.Random, Units], Mutated] = field(default=mutate_lines)


def _add(out: Outcome, key: tuple[str, int], value: tuple[str, Any]) -> None:
    if value[0] == "rejected" and not (isinstance(value[1], str) and value[1].strip()):
        raise AssertionError(f"{key}: a reject without a reason")
    if key in out:
        raise DuplicateOutcome(f"{key} has two outcomes: {out[key]} and {value}")
    out[key] = value


def _write_file(path: Path, m: Mutated, data: bytes) -> None:
    """The variant's bytes at ``path``; a directory there for the "directory" variant."""
    if m.applied == ("directory",):
        path.mkdir()
    else:
        path.write_bytes(data)


def _line_origins(name: str, origins: list[int | None]) -> dict[tuple[str, int], int | None]:
    return {(name, i + 1): o for i, o in enumerate(origins)}


# -- queue_log -----------------------------------------------------------------------------
def queue_log_lines() -> Units:
    """Three days of calls (ENTERQUEUE, CONNECT, COMPLETECALLER; some ABANDON), agent events
    and the malformed lines of the field (short line, epoch with a letter)."""
    rnd = random.Random(1)
    t0 = int(dt.datetime(2026, 10, 24, 6, tzinfo=dt.UTC).timestamp())
    out: list[bytes] = []
    queues = sorted(QUEUES)
    for i in range(90):
        t = t0 + i * 2880  # every 48 minutes over 3 days
        uid, q = f"{t}.{i}", queues[i % len(queues)]
        out.append(f"{t}|{uid}|{q}|NONE|ENTERQUEUE||06{rnd.randrange(10**8):08d}|1|".encode())
        if i % 4 == 3:
            out.append(f"{t + 20}|{uid}|{q}|NONE|ABANDON|1|1|20".encode())
        else:
            out.append(f"{t + 9}|{uid}|{q}|SIP/100{i % 3}|CONNECT|9|{uid}9|3".encode())
            out.append(f"{t + 99}|{uid}|{q}|SIP/100{i % 3}|COMPLETECALLER|9|90|1".encode())
        if i % 15 == 0:
            out.append(f"{t + 100}|NONE|{q}|SIP/1001|PAUSE|Formation|".encode())
        if i % 29 == 0:
            out.append(f"{t + 101}|x".encode())
    return out


def _queue_log_write(d: Path, m: Mutated) -> dict[tuple[str, int], int | None]:
    data, origins = render_lines(m)
    _write_file(d / "queue_log", m, data)
    return _line_origins("queue_log", origins)


def _queue_log_read(d: Path) -> Outcome:
    cfg = minimal_config(
        d, [{"id": "ql", "type": "asterisk_queue_log", "path": "queue_log*", "queues": QUEUES}]
    )
    out: Outcome = {}
    for day in TELEPHONY_DAYS:
        night = night_for_day(day, "Europe/Paris")
        result = asterisk_queue_log.read_interval(cfg, cfg.sources[0], night, PSEUDO)
        table = result.tables["queue_log_events"]
        for row in table.to_pylist():
            line = row.pop("source_line")
            _add(out, (row.pop("source_file"), line), ("landed", tuple(row.items())))
        for r in result.rejects:
            _add(out, (r.source_file, _number(r.source_position)), ("rejected", r.reason))
    return out


def _number(position: str) -> int:
    m = re.fullmatch(r"(?:line|message|row) (\d+)", position)
    if m is None:
        raise AssertionError(f"a reject without a position: {position!r}")
    return int(m.group(1))


# -- Master.csv (cdr_csv 16/17/18/21 columns, cdr_custom) ----------------------------------
CUSTOM_MAPPING = (
    "clid src dst dcontext channel dstchannel lastapp lastdata start answer end duration "
    "billsec disposition amaflags accountcode uniqueid userfield sequence"
).split()


def cdr_lines(width: int) -> Units:
    """Three days of legs in a layout of ``width`` columns (19: cdr_custom's default mapping,
    every field quoted), with the oddities of the field: an empty answer, a Latin-1 name, a
    quote doubled inside a name, a bad start date."""
    out: list[bytes] = []
    t0 = dt.datetime(2026, 10, 24, 5, 0)
    for i in range(80):
        start = t0 + dt.timedelta(minutes=53 * i)
        ts = start.strftime("%Y-%m-%d %H:%M:%S")
        end = (start + dt.timedelta(seconds=70)).strftime("%Y-%m-%d %H:%M:%S")
        answered = i % 5 != 0
        ans = (start + dt.timedelta(seconds=10)).strftime("%Y-%m-%d %H:%M:%S") if answered else ""
        num = f"06{(i * 7919) % 10**8:08d}"
        name = ('""Jean ""JD"" Dupont""' if i % 7 == 0 else f"Appelant {i}")
        uid = f"{int(start.replace(tzinfo=dt.UTC).timestamp())}.{i}"
        disp = "ANSWERED" if answered else "NO ANSWER"
        billsec = "60" if answered else "0"
        if width == 19:
            fields = [f'"{name} <{num}>"', f'"{num}"', '"3001"', '"from-external"',
                      f'"SIP/trunk-{i:08x}"', '"SIP/1001-0000abcd"', '"Dial"', '"SIP/1001,30"',
                      f'"{ts}"', f'"{ans}"', f'"{end}"', '"70"', f'"{billsec}"', f'"{disp}"',
                      '"DOCUMENTATION"', '""', f'"{uid}"', '""', f'"{i}"']  # fmt: skip
        else:
            fields = ['""', f'"{num}"', '"3001"', '"from-trunk"', f'"{name} <{num}>"',
                      f'"SIP/trunk-{i:08x}"', '"SIP/1001-0000abcd"', '"Queue"',
                      '"etat-civil,t,,,300"', f'"{ts}"', f'"{ans}"' if ans else "", f'"{end}"',
                      "70", billsec, f'"{disp}"', '"DOCUMENTATION"']  # fmt: skip
            extra = [f'"{uid}"', '"vip"' if i % 9 == 0 else '""', '""', f'"{uid}"', str(i)]
            fields += extra[: width - 16]
        line = ",".join(fields).encode("utf-8")
        if i % 11 == 0:
            line = line.replace(b"Appelant", "Fran\u00e7ois".encode("latin-1"))
        if i == 40:
            line = line.replace(ts.encode(), b"2026-13-45 99:00:00", 1)
        out.append(line)
    return out


def _cdr_write(d: Path, m: Mutated) -> dict[tuple[str, int], int | None]:
    data, origins = render_lines(m)
    _write_file(d / "Master.csv", m, data)
    return _line_origins("Master.csv", origins)


def _cdr_reader(width: int, zone: str) -> Callable[[Path], Outcome]:
    def read(d: Path) -> Outcome:
        src: dict[str, Any] = {"id": "cdr", "type": "asterisk_cdr_csv", "path": "Master.csv",
                               "timezone": zone}  # fmt: skip
        if width == 19:
            src["custom_columns"] = CUSTOM_MAPPING
        else:
            src["columns"] = "auto"
        cfg = minimal_config(d, [src])
        out: Outcome = {}
        for day in TELEPHONY_DAYS:
            night = night_for_day(day, "Europe/Paris")
            result = asterisk_cdr_csv.read_interval(cfg, cfg.sources[0], night, PSEUDO)
            table = result.tables["cdr_legs"]
            for row in table.to_pylist() if table is not None else []:
                line = row.pop("source_line")
                _add(out, (row.pop("source_file"), line), ("landed", tuple(row.items())))
            for r in result.rejects:
                _add(out, (r.source_file, _number(r.source_position)), ("rejected", r.reason))
        return out

    return read


# -- Maildir and mbox ------------------------------------------------------------------------
MAILDIR = FIXTURES / "email" / "maildir"


def _email_cfg(maildir: Path) -> Any:
    from tests.connectors.email.conftest import make_config

    return make_config(maildir)


def maildir_units() -> Units:
    """Every message file of the fixture tree, as ``relative path NUL bytes``."""
    out = []
    for p in sorted(MAILDIR.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            out.append(p.relative_to(MAILDIR).as_posix().encode() + b"\x00" + p.read_bytes())
    return out


def _message_ops(rnd: random.Random, body: bytes) -> tuple[str, bytes | None]:
    """One hostile change of a message's bytes (None: a directory in its place)."""
    op = rnd.choice(["truncate", "garbage", "endless_header", "bad_charset", "no_from",
                     "dup_message_id", "empty", "directory", "cut_headers", "nul"])  # fmt: skip
    if op == "truncate":
        return op, body[: rnd.randrange(max(1, len(body)))]
    if op == "garbage":
        return op, bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 2000)))
    if op == "endless_header":
        return op, b"X-Endless: " + b"e" * (1100 * 1024) + b"\n" + body
    if op == "bad_charset":
        return op, body.replace(b"Subject:", b"Subject: =?x-unknown?q?=FF=FE?= \xff\xfe", 1)
    if op == "no_from":
        return op, re.sub(rb"(?im)^From:.*\n", b"", body)
    if op == "dup_message_id":
        return op, re.sub(rb"(?im)^Message-ID:.*$", b"Message-ID: <dup@exemple.fr>", body)
    if op == "empty":
        return op, b""
    if op == "directory":
        return op, None
    if op == "cut_headers":  # no blank line: the whole file is one header block
        return op, body.replace(b"\r\n\r\n", b"\r\n").replace(b"\n\n", b"\n")
    return op, body[:20] + b"\x00" + body[20:]


def mutate_messages(rnd: random.Random, units: Units) -> Mutated:
    """1-3 messages changed, deleted or duplicated; the others untouched."""
    u, o = list(units), list(range(len(units)))
    applied = []
    for _ in range(rnd.randint(1, 3)):
        i = rnd.randrange(len(u))
        kind = rnd.random()
        if kind < 0.15:
            del u[i], o[i]
            applied.append("delete")
        elif kind < 0.3:
            u.insert(i + 1, u[i] + b"\x00copy")
            o.insert(i + 1, None)
            applied.append("duplicate")
        else:
            head, _, body = u[i].partition(b"\x00")
            op, new = _message_ops(rnd, body)
            u[i] = head + b"\x00" + (b"\x00DIR" if new is None else new)
            o[i] = None
            applied.append(op)
    return Mutated(u, o, tuple(applied))


def _maildir_write(d: Path, m: Mutated) -> dict[tuple[str, int], int | None]:
    root = d / "maildir"
    shutil.copytree(MAILDIR, root, ignore=lambda _d, names: [n for n in names if "," in n])
    origins: dict[tuple[str, int], int | None] = {}
    for unit, origin in zip(m.units, m.origins, strict=True):
        rel, _, body = unit.partition(b"\x00")
        path = root / rel.decode()
        if body.endswith(b"\x00copy"):  # a second delivery of the same bytes, its own name
            path = path.with_name(path.name.replace(".M", ".M9", 1))
            body = body[: -len(b"\x00copy")]
        if body == b"\x00DIR":
            path.mkdir(parents=True)
        else:
            path.write_bytes(body)
        origins[(path.relative_to(root).as_posix(), 0)] = origin
    return origins


def _maildir_read(d: Path) -> Outcome:
    cfg = _email_cfg(d / "maildir")
    out: Outcome = {}
    for day in EMAIL_DAYS:
        night = night_for_day(day, "Europe/Paris")
        result = maildir_connector.read_interval(cfg, cfg.sources[0], night, PSEUDO)
        for row in result.tables["email_messages"].to_pylist():
            _add(out, (row.pop("source_position"), 0), ("landed", tuple(row.items())))
        for r in result.rejects:
            if not r.source_position.startswith("message ") or not r.reason:
                raise AssertionError(f"a reject without position or reason: {r}")
            _add(out, (r.source_file, 0), ("rejected", r.reason))
    return out


def mbox_units() -> Units:
    """The fixture's État civil inbox as mbox messages (separator line = delivery time)."""
    out = []
    folder = MAILDIR / "etat-civil"
    for sub in ("cur", "new"):
        for f in sorted(p for p in (folder / sub).iterdir() if not p.name.startswith(".")):
            epoch = int(re.match(r"^(\d+)", f.name).group(1))
            when = dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%a %b %d %H:%M:%S %Y")
            body = re.sub(rb"(?m)^(>*From )", rb">\1", f.read_bytes().replace(b"\r\n", b"\n"))
            out.append(b"x\x00" + f"From MAILER-DAEMON {when}\n".encode() + body.rstrip(b"\n"))
    return out


def _mbox_write(d: Path, m: Mutated) -> dict[tuple[str, int], int | None]:
    chunks = []
    for unit in m.units:
        body = unit.partition(b"\x00")[2]
        if body == b"\x00DIR":  # no directory inside a file: an empty message instead
            body = b""
        body = body.removesuffix(b"\x00copy")
        if not _is_separator(body.split(b"\n", 1)[0]):
            # The mutation broke the separator: the bytes would join the previous message's
            # body, so the variant keeps the message apart with a separator of its own.
            body = b"From MAILER-DAEMON Mon Nov 16 12:00:00 2026\n" + body
        # Body lines that would read as separators are quoted, as a writer does.
        head, sep, rest = body.partition(b"\n")
        rest = re.sub(rb"(?m)^(>*From )", rb">\1", rest)
        chunks.append(head + sep + rest + b"\n\n")
    (d / "in.mbox").write_bytes(b"".join(chunks))
    (d / "sent.mbox").write_bytes(b"")
    return {("in.mbox", i + 1): o for i, o in enumerate(m.origins)}


def _mbox_read(d: Path) -> Outcome:
    data = _email_cfg(MAILDIR).model_dump(mode="json", exclude_none=True)
    data["sources"] = [{
        "id": "mb", "type": "mbox", "path": str(d), "mailboxes": [
            {"name": "etat-civil", "service": "ETAT_CIVIL", "inbox": "in.mbox",
             "sent": "sent.mbox", "address": "etat-civil@val-de-vigie.fr"}]}]  # fmt: skip
    cfg = parse_config(data)
    out: Outcome = {}
    for day in EMAIL_DAYS:
        night = night_for_day(day, "Europe/Paris")
        result = mbox_connector.read_interval(cfg, cfg.sources[0], night, PSEUDO)
        for row in result.tables["email_messages"].to_pylist():
            n = _number(row.pop("source_position"))
            _add(out, ("in.mbox", n), ("landed", tuple(row.items())))
        for r in result.rejects:
            _add(out, (r.source_file, _number(r.source_position)), ("rejected", r.reason))
    return out


# -- registers and surveys (CSV, XLSX) -------------------------------------------------------
REGISTER_COLUMNS = {
    "request_id": "N° enregistrement", "received_at": "Date d'arrivée", "requester": "Expéditeur",
    "service": "Service", "channel": "Canal", "category": "Nature",
    "acknowledged_at": "Date accusé", "first_response_at": "Date de réponse",
    "resolved_at": "Date de clôture",
}  # fmt: skip
REGISTER_HEADER = [*REGISTER_COLUMNS.values(), "Objet"]
NIGHT_DAY = dt.date(2026, 11, 30)


def register_rows() -> list[list[str]]:
    rows = []
    for i in range(60):
        day = 1 + i % 28
        rows.append([
            f"C-2026-{i:03d}", f"{day:02d}/11/2026 {8 + i % 9:02d}:{i % 60:02d}",
            f"Habitant {i}", ["État civil", "Urbanisme"][i % 2], ["Courrier", "Courriel"][i % 2],
            ["Demande", "Réclamation"][i % 3 == 0], f"{min(day + 1, 28):02d}/11/2026" if i % 4 else "",
            f"{min(day + 3, 28):02d}/11/2026 10:30" if i % 3 else "", "", f"Objet n° {i}",
        ])  # fmt: skip
    return rows


def register_csv_lines() -> Units:
    lines = [";".join(REGISTER_HEADER).encode("cp1252")]
    lines += [";".join(r).encode("cp1252") for r in register_rows()]
    return lines


def _register_cfg(d: Path, path: str) -> Any:
    return parse_config({
        "collectivite": {"name": "Commune de test", "timezone": "Europe/Paris",
                         "data_team": {"name": "Données", "email": "donnees@val-de-vigie.fr"}},
        "services": [{"code": c, "name": c, "opening_hours": [{"monday": ["08:30-12:00"]}]}
                     for c in ("ETAT_CIVIL", "URBANISME")],
        "sources": [{
            "id": "courrier", "type": "request_register", "path": path,
            "columns": REGISTER_COLUMNS, "lookback_days": 400,
            "services": {"État civil": "ETAT_CIVIL", "Urbanisme": "URBANISME"},
            "channels": {"Courrier": "letter", "Courriel": "email"},
            "complaint_values": ["réclamation"]}],
    }).model_copy(update={"base_dir": d})  # fmt: skip


def _tabular_outcome(result: Any, table: str) -> Outcome:
    out: Outcome = {}
    for row in result.tables[table].to_pylist():
        n = row.pop("source_line")
        _add(out, (row.pop("source_file"), n), ("landed", tuple(row.items())))
    for r in result.rejects:
        _add(out, (r.source_file, _number(r.source_position)), ("rejected", r.reason))
    return out


def _register_csv_write(d: Path, m: Mutated) -> dict[tuple[str, int], int | None]:
    data, origins = render_lines(m)
    _write_file(d / "courrier.csv", m, data)
    return _line_origins("courrier.csv", origins)


def _register_csv_read(d: Path) -> Outcome:
    cfg = _register_cfg(d, "courrier.csv")
    night = night_for_day(NIGHT_DAY, "Europe/Paris")
    result = request_register.read_interval(cfg, cfg.sources[0], night, PSEUDO)
    return _tabular_outcome(result, "register_requests")


SURVEY_HEADER = ["Identifiant", "Envoyé le", "Répondu le", "Note (0-10)", "Référence", "Service"]


def survey_csv_lines() -> Units:
    lines = [";".join(SURVEY_HEADER).encode("utf-8")]
    for i in range(60):
        day = 1 + i % 27
        score = ["9", "7,5", "", "10", "0", "bien"][i % 6]
        answered = f"{day + 1:02d}/11/2026 18:00" if score else ""
        lines.append(f"S{i};{day:02d}/11/2026;{answered};{score};GLPI-{100 + i};État civil".encode())
    return lines


def _survey_write(d: Path, m: Mutated) -> dict[tuple[str, int], int | None]:
    data, origins = render_lines(m)
    _write_file(d / "enquete.csv", m, data)
    return _line_origins("enquete.csv", origins)


def _survey_read(d: Path) -> Outcome:
    cfg = parse_config({
        "collectivite": {"name": "Commune de test", "timezone": "Europe/Paris",
                         "data_team": {"name": "Données", "email": "donnees@val-de-vigie.fr"}},
        "services": [{"code": "ETAT_CIVIL", "name": "É", "opening_hours": [{"monday": ["08:30-12:00"]}]}],
        "sources": [{
            "id": "enquete", "type": "satisfaction_survey", "path": "enquete.csv",
            "columns": {"response_id": "Identifiant", "sent_at": "Envoyé le",
                        "answered_at": "Répondu le", "score": "Note (0-10)",
                        "request_ref": "Référence", "service": "Service"},
            "services": {"État civil": "ETAT_CIVIL"}, "default_channel": "online"}],
    }).model_copy(update={"base_dir": d})  # fmt: skip
    night = night_for_day(NIGHT_DAY, "Europe/Paris")
    result = satisfaction_survey.read_interval(cfg, cfg.sources[0], night, PSEUDO)
    return _tabular_outcome(result, "survey_responses")


def register_xlsx_units() -> Units:
    """Rows as tab-joined text (the header is row 1, never mutated); cells are written back as
    text, dates as datetimes when they read as JJ/MM/AAAA."""
    return [b"\t".join(c.encode() for c in REGISTER_HEADER)] + [
        b"\t".join(c.encode() for c in r) for r in register_rows()
    ]


def mutate_rows(rnd: random.Random, units: Units) -> Mutated:
    """Sheet rows: cells garbled, emptied, stretched to 40,000 characters; rows deleted,
    duplicated after themselves, swapped, blank rows inserted; the header never."""
    m = mutate_lines(rnd, units, first=1)
    if "truncated" in m.applied or "empty" in m.applied or "crlf" in m.applied:
        return m
    return Mutated([u.replace(b"\r", b" ") for u in m.units], m.origins, m.applied)


def _cell(text: str) -> Any:
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text)
    if m:
        try:
            return dt.datetime(int(m[3]), int(m[2]), int(m[1]))
        except ValueError:
            return text
    return text or None


_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _register_xlsx_write(d: Path, m: Mutated) -> dict[tuple[str, int], int | None]:
    from openpyxl import Workbook

    path = d / "registre.xlsx"
    if m.applied == ("directory",):
        path.mkdir()
        return {}
    if m.applied == ("empty",):
        path.write_bytes(b"")
        return {}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Registre")
    for unit in m.units:
        text = unit.decode("utf-8", errors="replace")
        ws.append([_cell(_XLSX_ILLEGAL.sub("?", c)[:32000]) for c in text.split("\t")])
    wb.save(path)
    if m.cut_at is not None:  # a workbook cut short in transfer: no longer a zip
        path.write_bytes(path.read_bytes()[: m.cut_at % max(1, path.stat().st_size)])
        return {}
    return {("registre.xlsx", i + 1): o for i, o in enumerate(m.origins)}


def _register_xlsx_read(d: Path) -> Outcome:
    cfg = _register_cfg(d, "registre.xlsx")
    night = night_for_day(NIGHT_DAY, "Europe/Paris")
    result = request_register.read_interval(cfg, cfg.sources[0], night, PSEUDO)
    return _tabular_outcome(result, "register_requests")


def _register_mutate(rnd: random.Random, units: Units) -> Mutated:
    return mutate_lines(rnd, units, first=1)


SOURCES: dict[str, FileSource] = {
    "queue_log": FileSource("queue_log", queue_log_lines, _queue_log_write, _queue_log_read),
    **{
        f"master_csv_{w}": FileSource(
            f"master_csv_{w}", lambda w=w: cdr_lines(w), _cdr_write,
            _cdr_reader(w, "Europe/Paris" if w == 21 else "UTC"),
        )
        for w in (16, 17, 18, 21)
    },
    "cdr_custom": FileSource("cdr_custom", lambda: cdr_lines(19), _cdr_write, _cdr_reader(19, "UTC")),
    "maildir": FileSource("maildir", maildir_units, _maildir_write, _maildir_read, mutate_messages),
    "mbox": FileSource("mbox", mbox_units, _mbox_write, _mbox_read, mutate_messages),
    "register_csv": FileSource(
        "register_csv", register_csv_lines, _register_csv_write, _register_csv_read,
        _register_mutate,
    ),
    "survey_csv": FileSource(
        "survey_csv", survey_csv_lines, _survey_write, _survey_read, _register_mutate
    ),
    "register_xlsx": FileSource(
        "register_xlsx", register_xlsx_units, _register_xlsx_write, _register_xlsx_read,
        mutate_rows,
    ),
}  # fmt: skip
