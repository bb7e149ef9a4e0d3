"""The vectorised CDR parser (Arrow) reads exactly what Python's ``csv`` reads, or declines.

connectors.telephony.asterisk_cdr_csv parses a night's lines with Arrow's CSV reader and falls
back to ``csv`` (the reference) for lines Arrow could read otherwise; these cases pin both."""

from __future__ import annotations

import pyarrow as pa

from connectors.telephony.asterisk_cdr_csv import _columns_fast, _records


def _both(lines: list[str], width: int):
    fast = _columns_fast(pa.array(lines, pa.string()), pa.array(range(1, len(lines) + 1)), width)
    ref = _records(lines, list(range(1, len(lines) + 1)))
    return fast, ref


def test_fast_path_matches_csv_on_quoted_fields_and_blank_records() -> None:
    lines = ['"a","b""x"" <06>",3', "", '"","",', "  ", 'x,"y, z",7']
    fast, ref = _both(lines, 3)
    assert fast is not None
    numbers, columns = fast
    rows = list(zip(*[c.to_pylist() for c in columns], strict=True))
    assert numbers.to_pylist() == [n for n, _ in ref] == [1, 5]
    assert rows == [tuple(f) for _, f in ref] == [("a", 'b"x" <06>', "3"), ("x", "y, z", "7")]


def test_fast_path_declines_what_only_csv_reads_right() -> None:
    assert _both(["x,y,z", "a,b"], 3)[0] is None  # another width: a reject with its count
    assert _both(['x,y,"z', "a,b,c"], 3)[0] is None  # a quote left open runs into line 2
    assert _both(['"a"b,c,d'], 3)[0] is None  # text after a closing quote
