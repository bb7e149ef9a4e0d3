"""Where the demo writes, and the guard that keeps it from wiping anything it did not write.

The generator removes and rewrites its own output. A configuration pointed by mistake at a real
Maildir or a real Asterisk log directory must not lose data, so a directory is only cleared
when it is absent, empty, or carries the marker file the generator leaves in it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MARKER = ".vigie-demo"
_MARKER_TEXT = "Written by `vigie demo-data`: this directory is removed and rewritten on each run.\n"


class DemoOutputError(RuntimeError):
    """The demo refuses to overwrite a directory it did not create."""


def claim_dir(path: Path) -> None:
    """Create ``path`` (and its marker) if needed; refuse a non-empty directory without marker."""
    if path.exists():
        if not path.is_dir():
            raise DemoOutputError(f"{path} exists and is not a directory; point the demo source elsewhere")
        if any(path.iterdir()) and not (path / MARKER).exists():
            raise DemoOutputError(
                f"{path} holds files that `vigie demo-data` did not write (no {MARKER} marker); "
                "refusing to overwrite them: point the demo configuration at an empty directory"
            )
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")


def reset_dir(path: Path) -> None:
    """Remove a directory the demo owns and recreate it empty (with its marker)."""
    claim_dir(path)
    shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")


def remove_file(path: Path) -> None:
    """Remove one output file of the demo (its directory must have been claimed)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def set_mtime(path: Path, epoch: int) -> None:
    """Deterministic modification time (connectors fall back on it; reruns must not differ)."""
    os.utime(path, (epoch, epoch))
