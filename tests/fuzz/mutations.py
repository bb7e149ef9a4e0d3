"""Seeded mutations of a source's records that remember which records they left untouched.

A source is a list of *units* (the lines of a Master.csv or a queue_log, the messages of an
mbox, the rows of an export); a mutation returns new units and, for each, the index of the
clean unit it is an untouched copy of (None for a unit the mutation made or changed). The
campaign then asserts that every untouched unit has, under its new position, exactly the
outcome it had in the clean run.

Why line-level operators take and give bytes: the hostile cases of issue 17 are bytes (a bare
CR, a cut quote, a UTF-8 BOM, binary noise, a 1 MB line), and the connectors read bytes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

Units = list[bytes]
Origins = list[int | None]


@dataclass(frozen=True)
class Mutated:
    """The units after mutation, the origin of each, and the names of the operators applied."""

    units: Units
    origins: Origins
    applied: tuple[str, ...]
    crlf: bool = False  # line sources only: every LF written as CRLF (no unit touched)
    cut_at: int | None = None  # line sources only: the file cut after this many bytes


def _pick(rnd: random.Random, units: Units, first: int) -> int | None:
    return rnd.randrange(first, len(units)) if len(units) > first else None


def _noise(rnd: random.Random, size: int) -> bytes:
    return bytes(rnd.randrange(256) for _ in range(size))


# -- operators on lines (bytes without their LF) --------------------------------------------
def op_delete(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    if (i := _pick(rnd, u, first)) is not None:
        del u[i], o[i]


def op_duplicate(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    """The copy goes after its original (a register keeps the first of two equal ids)."""
    if (i := _pick(rnd, u, first)) is not None:
        j = rnd.randrange(i + 1, len(u) + 1)
        u.insert(j, u[i])
        o.insert(j, None)


def op_swap(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    i, j = _pick(rnd, u, first), _pick(rnd, u, first)
    if i is not None and j is not None and i != j:
        u[i], u[j] = u[j], u[i]
        o[i] = o[j] = None


def op_random_bytes(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    if (i := _pick(rnd, u, first)) is not None and u[i]:
        line = bytearray(u[i])
        for _ in range(rnd.randint(1, 4)):
            line[rnd.randrange(len(line))] = rnd.randrange(256)
        _replace(u, o, i, bytes(line))


def op_binary_line(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    j = rnd.randrange(first, len(u) + 1)
    _insert_text(u, o, j, _noise(rnd, rnd.randint(1, 300)))


def op_long_line(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    """A 1 MB line: a copy of a line whose last field is stretched."""
    if (i := _pick(rnd, u, first)) is not None:
        _replace(u, o, i, u[i] + b"x" * (1 << 20))


def op_bare_cr(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    if (i := _pick(rnd, u, first)) is not None and u[i]:
        k = rnd.randrange(len(u[i]))
        _replace(u, o, i, u[i][:k] + b"\r" + u[i][k:])


def op_cut_line(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    """A line cut short (inside a quoted field, often): a write interrupted, the rest lost."""
    if (i := _pick(rnd, u, first)) is not None and len(u[i]) > 1:
        _replace(u, o, i, u[i][: rnd.randrange(1, len(u[i]))])


def op_nul(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    if (i := _pick(rnd, u, first)) is not None and u[i]:
        k = rnd.randrange(len(u[i]))
        _replace(u, o, i, u[i][:k] + b"\x00" * rnd.randint(1, 8) + u[i][k:])


def op_blank(rnd: random.Random, u: Units, o: Origins, first: int) -> None:
    j = rnd.randrange(first, len(u) + 1)
    u.insert(j, rnd.choice([b"", b"   ", b"\t"]))
    o.insert(j, None)


def _replace(u: Units, o: Origins, i: int, text: bytes) -> None:
    """Line ``i`` becomes ``text``; an LF inside it makes several lines, all touched."""
    parts = text.split(b"\n")
    u[i : i + 1] = parts
    o[i : i + 1] = [None] * len(parts)


def _insert_text(u: Units, o: Origins, j: int, text: bytes) -> None:
    parts = text.split(b"\n")
    u[j:j] = parts
    o[j:j] = [None] * len(parts)


LINE_OPERATORS: dict[str, Callable[[random.Random, Units, Origins, int], None]] = {
    "delete": op_delete,
    "duplicate": op_duplicate,
    "swap": op_swap,
    "random_bytes": op_random_bytes,
    "binary_line": op_binary_line,
    "long_line": op_long_line,
    "bare_cr": op_bare_cr,
    "cut_line": op_cut_line,
    "nul": op_nul,
    "blank": op_blank,
}
# File-level variants: applied alone, to the whole file.
FILE_VARIANTS = ("empty", "truncated", "bom", "crlf", "garbage_file", "directory")


def mutate_lines(rnd: random.Random, lines: Units, first: int = 0) -> Mutated:
    """1-3 line operators (or, one time in six, one file-level variant). ``first``: lines
    before it are never touched (a register's header: another header is another layout)."""
    if rnd.randrange(6) == 0:
        return mutate_file(rnd, lines, rnd.choice(FILE_VARIANTS), first)
    u, o = list(lines), list(range(len(lines)))
    applied = []
    for _ in range(rnd.randint(1, 3)):
        name = rnd.choice(list(LINE_OPERATORS))
        LINE_OPERATORS[name](rnd, u, o, first)
        applied.append(name)
    return Mutated(u, o, tuple(applied))


def mutate_file(rnd: random.Random, lines: Units, variant: str, first: int = 0) -> Mutated:
    u, o = list(lines), list(range(len(lines)))
    if variant in ("empty", "directory"):  # a directory where the file should be: no units
        return Mutated([], [], (variant,))
    if variant == "truncated":  # cut at a random byte: the lines after it are gone, not lost
        size = sum(len(x) + 1 for x in u)
        return Mutated(u, o, ("truncated",), cut_at=rnd.randrange(size) if size else 0)
    if variant == "bom" and u and first == 0:
        return Mutated([b"\xef\xbb\xbf" + u[0], *u[1:]], [None, *o[1:]], ("bom",))
    if variant == "crlf":
        return Mutated(u, o, ("crlf",), crlf=True)
    if variant == "garbage_file":
        noise = _noise(rnd, rnd.randint(1, 4000)).split(b"\n")
        return Mutated(noise, [None] * len(noise), ("garbage_file",))
    return Mutated(u, o, ())


def render_lines(m: Mutated) -> tuple[bytes, Origins]:
    """The file's bytes, and the origin of each of its LF-terminated lines (after a cut, the
    cut line is touched and the lines after it do not exist)."""
    eol = b"\r\n" if m.crlf else b"\n"
    data = b"".join(x + eol for x in m.units)
    origins = list(m.origins)
    if m.cut_at is not None:
        data = data[: m.cut_at]
        kept = data.count(b"\n")
        partial = not data.endswith(b"\n") and bool(data)
        origins = origins[:kept] + ([None] if partial else [])
    return data, origins
