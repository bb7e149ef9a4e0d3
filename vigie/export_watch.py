"""Event-driven landing of dropped exports: an Airflow 3 event trigger run by the triggerer.

A courrier register or a survey export is written by another system (a clerk's spreadsheet
saved to a share, a survey tool's nightly export) at any hour. ``ExportFilesChanged`` polls the
source's ``path`` (a file or a glob) every ``poll_seconds`` and fires once when the set of
matching files (name, size, modification time) differs from the one last processed and has
stayed the same for one more poll (a file still being copied does not fire). The signature it
fired on is saved in ``state_path`` (``<landing>/<source>/_watch.json``) before the event, so a
restarted triggerer does not fire twice for the same drop, and the first start only records
the files already there (the 02:00 run reads them).

Latency: between one and two ``poll_seconds`` (``schedule.export_poll_seconds``, default 30 s),
plus the scheduler's loop (a few seconds), then the extract and the night's rebuild.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

Signature = list[list[Any]]


def files_signature(pattern: str) -> Signature:
    """(path, size, mtime_ns) of every regular file matching ``pattern``, sorted."""
    out = []
    for name in sorted(glob.glob(pattern)):
        try:
            st = os.stat(name)
        except OSError:
            continue
        if os.path.isfile(name):
            out.append([name, st.st_size, st.st_mtime_ns])
    return out


def read_state(state_path: str) -> Signature | None:
    try:
        return json.loads(Path(state_path).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return None


def write_state(state_path: str, signature: Signature) -> None:
    from connectors.landing_layout import write_json_atomic

    write_json_atomic(Path(state_path), {"files": signature})


class ExportFilesChanged(BaseEventTrigger):
    """Fires once when the files matching ``pattern`` changed since the last processed drop."""

    def __init__(self, pattern: str, state_path: str, poll_seconds: float = 30.0) -> None:
        super().__init__()
        self.pattern = pattern
        self.state_path = state_path
        self.poll_seconds = poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "vigie.export_watch.ExportFilesChanged",
            {"pattern": self.pattern, "state_path": self.state_path,
             "poll_seconds": self.poll_seconds},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        seen = read_state(self.state_path)
        if seen is None:  # first start: what is there now is read by the nightly run
            seen = files_signature(self.pattern)
            write_state(self.state_path, seen)
        previous = None
        while True:
            current = files_signature(self.pattern)
            if current and current != seen and current == previous:
                write_state(self.state_path, current)
                self.log.info("export changed: %s", [f[0] for f in current])
                yield TriggerEvent({"pattern": self.pattern, "files": [f[0] for f in current]})
                return
            previous = current
            await asyncio.sleep(self.poll_seconds)
