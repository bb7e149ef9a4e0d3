"""Issue 17 for courrier registers: a record csv refuses is one reject, lines are counted as
``sed -n`` counts them, and a few damaged lines do not turn a UTF-8 export into mojibake."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.registers.tabular import TableLayoutError
from tests.connectors.registers.test_registers import read_register

HEADER = (
    "N° enregistrement;Date d'arrivée;Expéditeur;Service;Canal;Nature;Date accusé;"
    "Date de réponse;Date de clôture"
)


def _row(i: int, sender: str = "Jeanne Dupont") -> str:
    return f"C-{i};0{i}/11/2026;{sender};État civil;Courrier;Demande;;;"


def _positions(result) -> tuple[list[int], list[tuple[str, str]]]:
    rows = result.tables["register_requests"].to_pylist()
    return [r["source_line"] for r in rows], [(r.source_position, r.reason) for r in result.rejects]


def test_cell_over_128_kib_is_one_reject_and_the_next_record_lands(tmp_path: Path) -> None:
    lines = [HEADER, _row(1), _row(2, "x" * (200 * 1024)), _row(3)]
    (tmp_path / "c.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    assert _positions(read_register(tmp_path, "c.csv")) == (
        [2, 4],
        [("line 3", "the record cannot be split into cells (field larger than field limit "
          "(131072))")],
    )  # fmt: skip


def test_register_lines_after_a_bare_cr_are_those_of_sed(tmp_path: Path) -> None:
    # Line 3 holds a bare CR inside a quoted cell (legal) and line 4 one in an unquoted cell.
    lines = [HEADER, _row(1), _row(2, '"Jeanne\rDupont"'), _row(3, "Jean\rDupont"), _row(4)]
    (tmp_path / "c.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    assert _positions(read_register(tmp_path, "c.csv")) == (
        [2, 3, 5],
        [("line 4", "the record cannot be split into cells (new-line character seen in "
          "unquoted field - do you need to open the file in universal-newline mode?)")],
    )  # fmt: skip


def test_utf8_export_with_one_binary_line_keeps_its_header(tmp_path: Path) -> None:
    lines = [HEADER.encode(), _row(1, "Léa Roux").encode(), b"\xff\xfe\x00garbage;;",
             _row(2, "Zoé").encode()]  # fmt: skip
    (tmp_path / "c.csv").write_bytes(b"\n".join(lines) + b"\n")
    result = read_register(tmp_path, "c.csv")  # before: read as Windows-1252, no column found
    assert _positions(result) == (
        [2, 4], [("line 3", "no receipt date (column \"Date d'arrivée\" is empty)")]
    )
    names = [r["requester_key"] is not None for r in result.tables["register_requests"].to_pylist()]
    assert names == [True, True]


def test_broken_xlsx_is_the_clean_failure_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "registre.xlsx").write_bytes(b"PK\x03\x04 cut in transfer")
    with pytest.raises(TableLayoutError, match=r"registre.xlsx: cannot be read as an XLSX"):
        read_register(tmp_path, "registre.xlsx")
