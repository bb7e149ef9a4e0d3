"""The landing layout has one home (connectors/landing_layout.py; issue 13, item 9).

dbt's readers glob the same paths the Python side writes: the tests hold the macro and the
markers model to ``DBT_BATCH_GLOB`` / ``DBT_MARKER_GLOB``, and pin what a night's listing and
retention's deletions see and leave alone.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from connectors import landing_layout as layout

DBT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_landing_scan_globs_the_batches_where_the_layout_puts_them() -> None:
    macro = (DBT / "macros" / "landing_scan.sql").read_text(encoding="utf-8")
    assert "{% macro landing_scan(table_name) -%}" in macro
    assert "from landed.{{ table_name }}" in macro
    # landed.<table> is the copy of every batch file the on-run-start hook finds (issue 16)
    sync = (DBT / "macros" / "sync_landing.sql").read_text(encoding="utf-8")
    root = """{{ var("landing_root") | replace("'", "''") }}"""
    assert layout.DBT_BATCH_GLOB.format(root=root, table="*") in sync
    assert f"'/{layout.EMPTY_SOURCE_DIR}/day={layout.EMPTY_DAY.isoformat()}'" in sync
    # the path the Python side writes matches the glob's shape
    batch = layout.batch_dir(Path("/l"), "pbx", dt.date(2026, 11, 3)) / "queue_log_events.parquet"
    assert str(batch) == layout.DBT_BATCH_GLOB.format(root="/l", table="queue_log_events").replace(
        "*/day=*", "pbx/day=2026-11-03")


def test_the_markers_model_reads_both_markers_where_the_layout_puts_them() -> None:
    model = (DBT / "models" / "intermediate" / "quality" / "int_source_day_markers.sql").read_text(encoding="utf-8")
    for marker in (layout.FAILED_FILE, layout.CONFIRMED_FILE):
        assert layout.DBT_MARKER_GLOB.format(root="{{ root }}", marker=marker) in model
    # placeholders (`_empty`, `_nights`) are not sources, as in is_source_dir
    assert "not starts_with(source_id, '_')" in model


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    return path


def test_listing_and_deletion_see_only_real_batches(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    old, kept = dt.date(2026, 8, 3), dt.date(2026, 11, 10)
    for source in ("mail", "pbx"):
        for day in (old, kept):
            _touch(layout.batch_dir(root, source, day) / "rows.parquet")
    layout.ensure_empty_landing_tables(root)
    state = _touch(layout.source_state_path(root, "pbx", layout.FILE_POSITIONS_FILE))
    watch = _touch(layout.source_state_path(root, "mail", layout.WATCH_FILE))
    _touch(root / "pbx" / ".day=2026-08-04.tmp-abc" / "rows.parquet")  # a landing under way
    _touch(root / "pbx" / f"{layout.PURGE_PREFIX}day=2026-08-01-dead" / "rows.parquet")  # a crash
    layout.record_night_built(root, old)

    listed = [(d, p.relative_to(root).as_posix()) for d, p in layout.landed_batch_dirs(root, kept)]
    assert listed == [(old, "mail/day=2026-08-03"), (kept, "mail/day=2026-11-10"),
                      (old, "pbx/day=2026-08-03"), (kept, "pbx/day=2026-11-10")]
    assert layout.landed_batch_dirs(root, old - dt.timedelta(days=1)) == []
    assert layout.newest_landed_day(root) == kept

    removed = layout.delete_batches_before(root, dt.date(2026, 8, 4))
    assert [p.relative_to(root).as_posix() for p in removed] == ["mail/day=2026-08-03", "pbx/day=2026-08-03"]
    left = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir())
    assert left == ["_empty", "_empty/day=1900-01-01", "_nights", "mail", "mail/day=2026-11-10",
                    "pbx", "pbx/.day=2026-08-04.tmp-abc", "pbx/day=2026-11-10"]
    assert state.is_file() and watch.is_file() and layout.night_built(root, old)


def test_markers_live_in_the_batch_directory(tmp_path: Path) -> None:
    root, day = tmp_path / "landing", dt.date(2026, 11, 3)
    failed = layout.record_failed_extract(root, "pbx", "asterisk_queue_log", day, "boom")
    assert failed == root / "pbx" / "day=2026-11-03" / "_FAILED.json"
    assert layout.failed_extract(root, "pbx", day)["error"] == "boom"
    confirmed = layout.write_marker(root, "pbx", day, layout.CONFIRMED_FILE, {"note": "tout est là"})
    assert json.loads(confirmed.read_text(encoding="utf-8")) == {"note": "tout est là"}
    assert "tout est là" in confirmed.read_text(encoding="utf-8")  # written as the data team typed it
    # a night whose batch landed gets no failure marker: its data stays the night's data
    _touch(layout.batch_dir(root, "mail", day) / layout.BATCH_FILE)
    assert layout.record_failed_extract(root, "mail", "maildir", day, "late failure") is None
