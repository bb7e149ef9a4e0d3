"""One demo generation per test session (scale 1, the default range of 2026-11-28), shared."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from vigie.config import VigieConfig, load_config
from vigie.demo import default_demo_range, generate_demo_sources

PROJECT_DIR = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 28)


def demo_config(root: Path) -> VigieConfig:
    """The demo configuration with its relative paths resolved under ``root/config``."""
    cfg = load_config(PROJECT_DIR / "config" / "vigie.yml")
    (root / "config").mkdir(parents=True, exist_ok=True)
    return cfg.model_copy(update={"base_dir": root / "config"})


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[VigieConfig, dict]:
    root = tmp_path_factory.mktemp("demo")
    cfg = demo_config(root)
    start, end = default_demo_range(cfg, TODAY)
    return cfg, generate_demo_sources(cfg, start, end)


@pytest.fixture
def make_demo_config():
    """Build a demo configuration rooted in a given directory (fresh output locations)."""
    return demo_config
