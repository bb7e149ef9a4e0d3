"""Issue 17: every file connector survives seeded hostile variants of its source (CI share).

30 variants per source (queue_log, Master.csv in its 16/17/18/21-column layouts, cdr_custom,
Maildir, mbox, courrier register CSV and XLSX, survey CSV): truncated, duplicated, deleted and
swapped lines, random and binary bytes, 1 MB lines, bare CRs, NULs, lines cut inside a quote,
CRLF, a BOM, empty and garbage files, a file cut mid-line; for email: cut or endless headers,
bad charsets, missing From, duplicate Message-IDs, garbage files, a directory in place of a
message. Asserted for each: no exception but the documented clean failure (SourceUnavailable),
every untouched line/message/row has its clean outcome under its own position, every reject
has a reason and a position, no position has two outcomes. ``make fuzz`` runs 300 per source
and reports timings (a benchmark: nothing here is timed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.campaign import QUOTE_SPANNING_SOURCES, run_source
from tests.fuzz.sources import SOURCES

VARIANTS = 30
SEED = 2026


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_hostile_variants_cost_only_what_they_touch(name: str, tmp_path: Path) -> None:
    report = run_source(SOURCES[name], VARIANTS, SEED, tmp_path)
    assert report.variants == VARIANTS
    assert report.crashes == []
    assert report.lost == []
    # The campaign checks something: most variants are read, not refused as unusable.
    assert report.clean_failures <= VARIANTS // 3, report.clean_failures
    if name not in QUOTE_SPANNING_SOURCES:
        assert report.exempt == 0
