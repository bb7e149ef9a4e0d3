"""cdr_custom Master.csv read through a configured column list (tests/fixtures/asterisk/cdr_custom).

Night 2026-10-25 in Europe/Paris; the file is in UTC; cdr_custom's default 19-column mapping.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from connectors.extract import SourceUnavailable, extract_source
from tests.connectors.conftest import minimal_config
from vigie.config import ConfigError, parse_config

DAY = dt.date(2026, 10, 25)
DEFAULT_MAPPING = (
    "clid src dst dcontext channel dstchannel lastapp lastdata start answer end duration "
    "billsec disposition amaflags accountcode uniqueid userfield sequence"
).split()


def _cfg(
    tmp_path: Path,
    asterisk_dir: Path,
    columns: list[str],
    path: str = "asterisk/cdr_custom/Master.csv",
):
    src = {
        "id": "pbx_cdr_custom",
        "type": "asterisk_cdr_csv",
        "path": path,
        "timezone": "UTC",
        "custom_columns": columns,
    }
    return minimal_config(tmp_path, [src])


def test_default_mapping_lands_legs_and_rejects(tmp_path, asterisk_dir):
    batch = extract_source(_cfg(tmp_path, asterisk_dir, DEFAULT_MAPPING), "pbx_cdr_custom", DAY)
    assert batch.row_counts == {"cdr_legs": 2} and batch.reject_count == 1
    rows = pq.read_table(batch.path / "cdr_legs.parquet").to_pylist()
    assert [r["source_line"] for r in rows] == [2, 3]
    first, second = rows
    assert first["start_at"] == dt.datetime(2026, 10, 25, 8, 0, tzinfo=dt.UTC)
    assert (first["duration"], first["billsec"], first["disposition"]) == (125, 120, "ANSWERED")
    assert first["uniqueid"] == "1792915200.3" and first["linkedid"] is None
    # An empty answer written "" is null; the latin-1 caller name (clid) is dropped, no crash.
    assert second["answer_at"] is None and second["disposition"] == "NO ANSWER"
    assert second["channel"] == "Local/XXXXXXXXXX@from-internal-0000000b;1"
    assert second["src_key"] is not None and "0612345678" not in str(second)
    rejects = pq.read_table(batch.path / "rejects.parquet").to_pylist()
    assert [(r["source_position"], r["reason"]) for r in rejects] == [
        ("line 4", "start (column 9) is not a 'YYYY-MM-DD HH:MM:SS' timestamp")
    ]


def test_a_reduced_mapping_with_skipped_columns(tmp_path, asterisk_dir):
    (asterisk_dir / "mini.csv").write_text(
        '"x","0601020304","2026-10-25 10:00:00","2026-10-25 10:00:09","ANSWERED","1792922400.1"\n'
        '"y","0602030405","2026-10-25 11:00:00","","NO ANSWER","1792926000.2"\n'
    )
    cols = ["-", "src", "start", "answer", "disposition", "linkedid"]
    batch = extract_source(
        _cfg(tmp_path, asterisk_dir, cols, "asterisk/mini.csv"), "pbx_cdr_custom", DAY
    )
    rows = pq.read_table(batch.path / "cdr_legs.parquet").to_pylist()
    assert [(r["linkedid"], r["disposition"], r["duration"]) for r in rows] == [
        ("1792922400.1", "ANSWERED", None),
        ("1792926000.2", "NO ANSWER", None),
    ]
    assert rows[0]["answer_at"] == dt.datetime(2026, 10, 25, 10, 0, 9, tzinfo=dt.UTC)


def test_a_mapping_of_another_width_fails_naming_both_counts(tmp_path, asterisk_dir):
    with pytest.raises(
        SourceUnavailable, match="has 19 columns per record, but custom_columns lists 18"
    ):
        extract_source(_cfg(tmp_path, asterisk_dir, DEFAULT_MAPPING[:-1]), "pbx_cdr_custom", DAY)


def test_unknown_column_names_are_configuration_errors(tmp_path):
    data = {
        "collectivite": {
            "name": "c",
            "timezone": "Europe/Paris",
            "data_team": {"name": "d", "email": "d@x.fr"},
        },
        "services": [{"code": "A", "name": "A"}],
        "sources": [
            {"id": "c", "type": "asterisk_cdr_csv", "path": "x", "custom_columns": ["strat"]}
        ],
    }
    with pytest.raises(ConfigError, match="unknown CDR column"):
        parse_config(data)
    # The file's zone is never guessed (cdr.conf usegmtime): a source without it is refused,
    # and the message says what to write.
    with pytest.raises(ConfigError, match=r"sources\[0:c\]\.timezone: required key is missing: .*'UTC' when cdr.conf has usegmtime=yes"):
        parse_config(data)
