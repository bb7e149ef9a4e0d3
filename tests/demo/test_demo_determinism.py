"""Same arguments => byte-identical files (and file times); scale 2 => about twice the volume."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from vigie.demo import generate_demo_sources
from vigie.demo.output import DemoOutputError

START, END = dt.date(2026, 11, 2), dt.date(2026, 11, 15)  # two weeks: holiday and pont inside


def _tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """relative path -> (sha256, mtime) of every file under root/var/demo_sources."""
    base = root / "var" / "demo_sources"
    return {
        str(p.relative_to(base)): (hashlib.sha256(p.read_bytes()).hexdigest(), int(p.stat().st_mtime))
        for p in sorted(base.rglob("*")) if p.is_file() and p.name != ".vigie-demo"
    }


def test_two_runs_give_identical_bytes_and_mtimes(tmp_path: Path, make_demo_config) -> None:
    a = make_demo_config(tmp_path / "a")
    b = make_demo_config(tmp_path / "b")
    sa = generate_demo_sources(a, START, END, seed=7)
    sb = generate_demo_sources(b, START, END, seed=7)
    da, db = _tree_digest(tmp_path / "a"), _tree_digest(tmp_path / "b")
    assert da == db
    assert len(da) > 400  # queue_log x2, Master.csv, glpi.sqlite and the Maildir files
    strip = lambda s: {k: v for k, v in s.items() if not isinstance(v, dict) or "path" not in v}  # noqa: E731
    assert strip(sa) == strip(sb)
    # A rerun in place removes and rewrites: still the same bytes, no stray files.
    generate_demo_sources(a, START, END, seed=7)
    assert _tree_digest(tmp_path / "a") == da
    # Another seed gives other data.
    generate_demo_sources(b, START, END, seed=8)
    assert _tree_digest(tmp_path / "b") != da


def test_scale_two_gives_about_twice_the_volume(tmp_path: Path, make_demo_config) -> None:
    one = generate_demo_sources(make_demo_config(tmp_path / "one"), START, END, scale=1.0)
    two = generate_demo_sources(make_demo_config(tmp_path / "two"), START, END, scale=2.0)
    pairs = {
        "calls": (one["pbx_queue_log"]["calls"], two["pbx_queue_log"]["calls"]),
        "cdr rows": (one["pbx_cdr"]["rows"], two["pbx_cdr"]["rows"]),
        "messages": (one["mairie_mail"]["messages"], two["mairie_mail"]["messages"]),
        "tickets": (one["glpi"]["tickets"], two["glpi"]["tickets"]),
    }
    for what, (n1, n2) in pairs.items():
        assert 1.8 <= n2 / n1 <= 2.2, f"{what}: {n1} -> {n2}"


def test_refuses_to_overwrite_a_directory_it_did_not_write(tmp_path: Path, make_demo_config) -> None:
    cfg = make_demo_config(tmp_path)
    maildir = tmp_path / "var" / "demo_sources" / "maildir"
    (maildir / "someone").mkdir(parents=True)
    (maildir / "someone" / "precious").write_text("real mail")
    with pytest.raises(DemoOutputError, match="did not write"):
        generate_demo_sources(cfg, START, END)
    assert (maildir / "someone" / "precious").read_text() == "real mail"
