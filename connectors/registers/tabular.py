"""Read the CSV and XLSX exports that courrier registers and survey tools produce in France.

Why a reader of our own rather than ``pandas.read_csv``: the exports come from office tools
(Excel « CSV (séparateur : point-virgule) », LibreOffice, business software) and the rules that
decide the numbers must be explicit and tested:

- encoding: a UTF-8 byte-order mark means UTF-8; else strict UTF-8 when the bytes decode; else
  UTF-8 with U+FFFD for the bad bytes when most non-ASCII lines are UTF-8 (a few damaged
  lines); else Windows-1252 (Excel's « ANSI », a superset of Latin-1 for printable text: ``é``
  is 0xE9 in both, ``€`` and ``œ`` only exist in 1252). ``encoding`` in the source forces one;
- delimiter: ``;`` (French Excel), ``,`` or tab, whichever splits the header line most;
- line numbers: the physical line where a record starts (a quoted cell may span lines), so a
  reject says « line 12 » and a person finds it in a text editor; XLSX rows are sheet rows;
- French dates ``28/11/2026``, ``28/11/2026 14:05``, ``28/11/2026 14:05:30`` (and ISO dates),
  read as wall time in the source's zone; XLSX date cells arrive as datetimes;
- decimal commas ``4,5`` and thousands separated by (narrow no-break) spaces ``1 234,5``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.extract import SourceUnavailable

Encoding = str  # "auto", "utf-8", "latin-1", "cp1252"
_FR_DATE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2})[:hH](\d{2})(?::(\d{2}))?)?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
EXTRA = "\x00extra"  # key of a record's count of cells beyond the header (a reject)
BROKEN = "\x00broken"  # key of the reason a record could not be split into cells (a reject)
_SPACES = re.compile(r"[\s\u00a0\u202f]")


class TableLayoutError(SourceUnavailable):
    """The export's layout does not match the configuration (missing column, empty file)."""


@dataclass(frozen=True)
class Record:
    """One data row: its position for a human (``line 12`` / ``row 12``) and its cells by header."""

    position: str
    line: int
    cells: dict[str, Any]


@dataclass(frozen=True)
class TableFile:
    path: Path
    header: list[str]
    records: list[Record]
    encoding: str | None  # None for XLSX
    delimiter: str | None


def decode_bytes(data: bytes, encoding: Encoding = "auto") -> tuple[str, str]:
    """(text, encoding used): BOM -> UTF-8; else UTF-8 if valid; else Windows-1252."""
    if encoding != "auto":
        name = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        return data.decode(name), encoding
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        if _mostly_utf8(data):
            # A UTF-8 export with a few damaged lines: one bad byte must not turn every é of
            # the header into "Ã©" (the columns would vanish, every night). Bad bytes -> U+FFFD.
            return data.decode("utf-8", errors="replace"), "utf-8"
        # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in 1252: Latin-1 then.
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1"


def _mostly_utf8(data: bytes) -> bool:
    """True when, of the lines holding non-ASCII bytes, more decode as UTF-8 than not (a
    Windows-1252 export fails on nearly every such line: ``é`` is the lone byte 0xE9)."""
    good = bad = 0
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good > bad


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ";"


def read_csv_file(path: Path, encoding: Encoding = "auto", delimiter: str | None = None) -> TableFile:
    try:
        text, used = decode_bytes(path.read_bytes(), encoding)
    except OSError as exc:
        raise TableLayoutError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise TableLayoutError(
            f"{path}: byte {exc.start} is not {encoding} text; fix the source's encoding "
            f"(or 'auto')"
        ) from None
    first_line = text.split("\n", 1)[0]
    delim = delimiter or sniff_delimiter(first_line)
    # Lines end at LF only (DECISIONLOG.md, Part 4, "What a line is"): a bare CR is no line end,
    # so "line 12" is what ``sed -n 12p`` shows; csv still reads a quoted cell across lines.
    pieces = text.split("\n")
    lines = [p + "\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    reader = csv.reader(lines, delimiter=delim)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise TableLayoutError(f"{path}: empty file (no header line)") from None
    except csv.Error as exc:
        raise TableLayoutError(f"{path}: the header line cannot be split into cells ({exc})") from None
    records: list[Record] = []
    previous_end = reader.line_num
    while True:
        # A record csv refuses (a cell over csv's 128 KiB limit) is a reject, not the file's
        # failure: csv starts the next record on the next line.
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            start = previous_end + 1
            previous_end = reader.line_num
            reason = f"the record cannot be split into cells ({exc})"
            records.append(Record(f"line {start}", start, {BROKEN: reason}))
            continue
        start = previous_end + 1
        previous_end = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank line (Excel leaves ';;;;' lines at the end)
        padded = cells + [""] * (len(header) - len(cells))
        row: dict[str, Any] = dict(zip(header, padded, strict=False))
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            row[EXTRA] = len(cells) - len(header)
        records.append(Record(f"line {start}", start, row))
    return TableFile(path, header, records, used, delim)


def read_xlsx_file(path: Path, sheet: str | None = None) -> TableFile:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike
        raise TableLayoutError(
            f"{path}: cannot be read as an XLSX workbook ({type(exc).__name__}); export it "
            f"again from the register"
        ) from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise TableLayoutError(
                f"{path}: no sheet named {sheet!r} (sheets: {workbook.sheetnames})"
            )
        ws = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise TableLayoutError(f"{path}: empty sheet (no header row)")
        header = [("" if h is None else str(h)).strip() for h in header_row]
        records: list[Record] = []
        for index, values in enumerate(rows, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            records.append(Record(f"row {index}", index, dict(zip(header, values, strict=False))))
    except TableLayoutError:
        raise
    except Exception as exc:  # a sheet whose XML breaks while it is read
        raise TableLayoutError(
            f"{path}: the workbook's sheet cannot be read ({type(exc).__name__}); export it "
            f"again from the register"
        ) from None
    finally:
        workbook.close()
    return TableFile(path, header, records, None, None)


def read_table_file(
    path: Path, encoding: Encoding = "auto", delimiter: str | None = None, sheet: str | None = None
) -> TableFile:
    """A CSV (any other suffix) or XLSX (``.xlsx``/``.xlsm``) export, header + data records."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx_file(path, sheet)
    return read_csv_file(path, encoding, delimiter)


def require_columns(table: TableFile, wanted: dict[str, str], source_id: str) -> None:
    """Fail loudly, naming the configuration key, when a mapped header is absent."""
    missing = {key: name for key, name in wanted.items() if name not in table.header}
    if missing:
        listed = ", ".join(f"columns.{k} = {v!r}" for k, v in sorted(missing.items()))
        raise TableLayoutError(
            f"source {source_id!r}: {table.path.name} has no column {listed}; its header is "
            f"{table.header}; fix the mapping under sources[{source_id}].columns"
        )


# -- values --------------------------------------------------------------------------------
def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_instant(value: Any, tz: zoneinfo.ZoneInfo, *, end_of_day: bool = False) -> dt.datetime:
    """A French (or ISO) date or date-time, wall time in ``tz``, as an aware UTC instant.

    A date without a time is the start of that local day, or its last second with
    ``end_of_day`` (a response dated « 28/11/2026 » happened some time that day: its last
    second is never before a receipt of the same day, and it is still within night 28/11).
    Raises ValueError with a reason that does not quote the value.
    """
    date_only = False
    if isinstance(value, dt.datetime):
        # An XLSX date cell arrives as a datetime at 00:00:00: read it as a date (a time of
        # exactly midnight is not something a register records).
        moment, date_only = value, value.tzinfo is None and value.time() == dt.time(0)
    elif isinstance(value, dt.date):
        moment, date_only = dt.datetime.combine(value, dt.time(0)), True
    elif isinstance(value, str):
        text = value.strip()
        m = _FR_DATE.match(text)
        if m:
            day, month, year, hh, mm, ss = m.groups()
            try:
                moment = dt.datetime(
                    int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0)
                )
            except ValueError:
                raise ValueError("not a valid calendar date") from None
            date_only = hh is None
        elif _ISO_DATE.match(text):
            moment = dt.datetime.fromisoformat(text)
            date_only = len(text) == 10
        else:
            raise ValueError("not a date (expected JJ/MM/AAAA or JJ/MM/AAAA HH:MM)")
    else:
        raise ValueError(f"not a date ({type(value).__name__} cell)")
    if date_only and end_of_day:
        moment = moment.replace(hour=23, minute=59, second=59)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(dt.UTC)


def parse_decimal(value: Any) -> float:
    """``4,5`` -> 4.5, ``1 234,5`` -> 1234.5, numbers as they are; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError("not a number")
    text = _SPACES.sub("", value)
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise ValueError("not a number") from None


def cell_text(value: Any) -> str | None:
    """A cell as trimmed text (XLSX numbers such as 2026412.0 lose their '.0'); blank -> None."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def iter_records(tables: list[TableFile]) -> Iterator[tuple[TableFile, Record]]:
    for table in tables:
        for record in table.records:
            yield table, record
