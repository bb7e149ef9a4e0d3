"""A small real run shared by the results tests (session scope: built once, about a minute).

The demo collectivité from 14 September to 3 November 2026: its sources generated, landed day
by day by the real connectors, one real transform for night 2026-11-03 (dbt build, history)
and the BI snapshot published, as a night does. September starts on the 14th (a partial first
month), September and October are final, November is in progress.

The suite runs with ``--import-mode=importlib``, which does not put test directories on
sys.path: the shared builders are put there here: H5's (tests/expectations/h5_builders.py), the
audit report's small site (tests/results/audit_site.py), the e2e site builder (tests/e2e) and
headless Chromium (tests/alerts/headless_chromium.py).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
for _helpers in (_TESTS / "expectations", _TESTS / "results", _TESTS / "e2e", _TESTS / "alerts"):
    if str(_helpers) not in sys.path:
        sys.path.insert(0, str(_helpers))

os.environ.setdefault("DBT_LOG_LEVEL", "warn")  # one line per run, not per dbt node
FIRST_DAY, NIGHT = dt.date(2026, 9, 14), dt.date(2026, 11, 3)


@pytest.fixture(scope="session")
def results_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site's configuration file, after the run; its snapshot is published."""
    from e2e_site import site_config

    from connectors.extract import extract_source
    from vigie.config import load_config
    from vigie.demo import generate_demo_sources
    from vigie.publish import publish_snapshot
    from vigie.transform import run_transform

    root = tmp_path_factory.mktemp("results_site")
    config = site_config(root)
    cfg = load_config(config)
    generate_demo_sources(cfg, FIRST_DAY, NIGHT)
    day = FIRST_DAY
    while day <= NIGHT:
        for source in cfg.sources:
            extract_source(cfg, source.id, day)
        day += dt.timedelta(days=1)
    run_transform(cfg, NIGHT)
    publish_snapshot(cfg, NIGHT)
    return config
