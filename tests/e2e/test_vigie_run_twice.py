"""End to end: `vigie run` over a small generated range, twice.

The second run of the same nights must give identical marts and write no new alert file
(house rule: "a rerun, retry or backfill of the same interval gives the same tables and
sends no alert twice"). The range crosses the pont of 10 November and 11 November 2026.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import duckdb
import pytest
from e2e_site import site_config, vigie_cli

FIRST, LAST = "2026-11-06", "2026-11-13"
MARTS = ("requests", "commitment_evaluations", "service_indicators")

pytestmark = pytest.mark.slow


def _vigie(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = vigie_cli(*args, cwd=cwd)
    assert proc.returncode == 0, f"vigie {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return proc


def _marts_fingerprint(warehouse: Path) -> dict[str, tuple[int, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        out = {}
        for table in MARTS:
            rows = con.execute(f"select * from marts.{table} order by all").fetchall()
            out[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return out
    finally:
        con.close()


def _outbox(outbox: Path) -> dict[str, str]:
    return {str(p.relative_to(outbox)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(outbox.rglob("*.eml"))}


def _citizen_identities(sources: Path) -> set[str]:
    """Raw phone numbers and outside email addresses found in the demo's source files."""
    import re

    found: set[str] = set()
    for path in sources.rglob("*"):
        if not path.is_file() or path.suffix in (".sqlite", ".db"):
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        found.update(re.findall(r"(?<!\d)0[1-9]\d{8}(?!\d)", text))
        found.update(a.lower() for a in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)
                     if not a.lower().endswith("val-de-vigie.fr"))
    return found


def _assert_no_identity(outbox: Path, identities: set[str]) -> None:
    """Issue 7: no citizen identity in any digest, raw bytes or decoded parts."""
    import email
    from email import policy

    assert len(identities) > 50, "the demo sources must hold citizens' numbers and addresses"
    for path in outbox.rglob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        # headers and decoded text parts (not the PNG's base64: random digit runs in it could
        # match a 10-digit number by chance)
        parts = [f"{k}: {v}".lower() for k, v in msg.items()]
        parts += [p.get_content().lower() for p in msg.walk() if p.get_content_maintype() == "text"]
        leaked = {i for i in identities for text in parts if i in text}
        assert not leaked, f"{path.name} shows citizen identities: {sorted(leaked)[:5]}"


def test_run_twice_gives_identical_marts_and_no_new_alert(tmp_path: Path) -> None:
    config = site_config(tmp_path)
    _vigie("demo-data", "--config", str(config), "--from", "2026-10-26", "--to", LAST, cwd=tmp_path)
    first = _vigie("run", "--config", str(config), "--from", FIRST, "--to", LAST, cwd=tmp_path)
    assert "8 nights" in first.stdout

    var = tmp_path / "var"
    marts_1 = _marts_fingerprint(var / "warehouse" / "vigie.duckdb")
    outbox_1 = _outbox(var / "outbox")
    assert all(n > 0 for n, _ in marts_1.values()), marts_1
    assert outbox_1, "the demo range has misses: the first run must write digests"
    _assert_no_identity(var / "outbox", _citizen_identities(var / "demo_sources"))
    assert (var / "bi" / "vigie_bi.duckdb").exists()
    assert (var / "data_docs" / "index.html").exists()

    _vigie("run", "--config", str(config), "--from", FIRST, "--to", LAST, cwd=tmp_path)
    assert _marts_fingerprint(var / "warehouse" / "vigie.duckdb") == marts_1
    assert _outbox(var / "outbox") == outbox_1, "the second run must not write any new digest"

    # The BI snapshot holds the same marts and opens read-only while nobody writes.
    snap = duckdb.connect(str(var / "bi" / "vigie_bi.duckdb"), read_only=True)
    try:
        n = snap.execute("select count(*) from marts.requests").fetchone()[0]
    finally:
        snap.close()
    assert n == marts_1["requests"][0]
