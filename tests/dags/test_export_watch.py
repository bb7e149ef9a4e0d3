"""Dropped exports: the event trigger fires once per drop, never for the files already there."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from vigie.export_watch import ExportFilesChanged, read_state


async def _first_event(trigger: ExportFilesChanged, timeout: float) -> object | None:
    async def first() -> object:
        async for event in trigger.run():
            return event
        return None

    try:
        return await asyncio.wait_for(first(), timeout)
    except TimeoutError:
        return None


def test_trigger_fires_once_per_drop_and_survives_a_restart(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "registre-2026-11.csv").write_text("a;b\n", encoding="utf-8")
    state = tmp_path / "landing" / "courrier" / "_watch.json"
    make = lambda: ExportFilesChanged(str(drop / "*.csv"), str(state), poll_seconds=0.05)  # noqa: E731

    # first start: the file already there is recorded, not fired on (the 02:00 run reads it)
    assert asyncio.run(_first_event(make(), 0.3)) is None
    assert [Path(f[0]).name for f in read_state(str(state))] == ["registre-2026-11.csv"]

    # a new export is dropped: one event naming the files, and the state follows
    new = drop / "registre-2026-12.csv"
    new.write_text("a;b\n1;2\n", encoding="utf-8")
    event = asyncio.run(_first_event(make(), 2.0))
    assert event is not None
    assert [Path(f).name for f in event.payload["files"]] == [
        "registre-2026-11.csv", "registre-2026-12.csv"]

    # a restarted triggerer does not fire again for the same drop
    assert asyncio.run(_first_event(make(), 0.3)) is None

    # the same file rewritten (new size and time) is a new drop
    new.write_text("a;b\n1;2\n3;4\n", encoding="utf-8")
    os.utime(new, ns=(new.stat().st_atime_ns, new.stat().st_mtime_ns + 10**9))
    assert asyncio.run(_first_event(make(), 2.0)) is not None


def test_trigger_serializes_to_its_import_path() -> None:
    path, kwargs = ExportFilesChanged("/x/*.csv", "/s.json", 12.0).serialize()
    assert path == "vigie.export_watch.ExportFilesChanged"
    assert kwargs == {"pattern": "/x/*.csv", "state_path": "/s.json", "poll_seconds": 12.0}
