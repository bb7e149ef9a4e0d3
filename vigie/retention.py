"""Retention of landed batches (domain.md §6: raw landed files are purged after a retention).

``retention.landed_days`` (None: keep everything) bounds how long the pseudonymised batches
``<landing>/<source_id>/day=D/`` stay on disk. The marts are rebuilt every night from what is
landed, so a purged period leaves the marts; its final indicators stay in the warehouse table
``history.service_indicators`` (with exclusions and commitment versions, vigie/history.py),
which dbt never rebuilds and this module never purges. This module is the policy (which nights
purge, up to which day); the deletions themselves follow the landing layout
(connectors/landing_layout.py, ``delete_batches_before``).

Rules (DECISIONLOG Part 6, "Retention"):

- a batch of day D is deleted when D < night - landed_days (local dates), for every source
  directory (``_empty`` placeholders, hidden work directories and the sources' state files such
  as ``_state.json`` are never touched);
- only a night on or after the newest landed night purges: a backfill or a rerun of an older
  night must not delete batches that the later nights (re)built from, nor the ones it is
  about to rebuild;
- the purge runs after the night's dbt build and history step succeeded, never after a failure;
- each batch goes atomically: renamed to a hidden ``.purge-*`` name (out of the staging models'
  ``day=*`` glob), then deleted; a leftover of a crash is deleted by the next purge.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from connectors.landing_layout import (
    delete_batches_before,
    landing_root,
    newest_landed_day,
    remove_purge_leftovers,
)
from vigie.config import VigieConfig

log = logging.getLogger(__name__)

# Periods starting less than this before the oldest kept batch day are no longer rewritten in
# history.service_indicators: a request landed in a purged batch may still count in a later
# period through its deadline (counted_on; the presets' longest target, 15 business days, stays
# within a month), so such a period rebuilt after the purge could be missing evaluations.
HISTORY_FREEZE_MARGIN = dt.timedelta(days=31)


def newest_landed_night(cfg: VigieConfig) -> dt.date | None:
    """The latest ``day=`` of any real source's landed batch (None: nothing landed)."""
    return newest_landed_day(landing_root(cfg))


def purge_cutoff(cfg: VigieConfig, day: dt.date) -> dt.date | None:
    """First batch day kept after night ``day``'s purge, or None when nothing is purged
    (no retention configured, or ``day`` is older than the newest landed night: a backfill)."""
    keep = cfg.retention.landed_days
    if keep is None:
        return None
    newest = newest_landed_night(cfg)
    if newest is not None and day < newest:
        return None
    return day - dt.timedelta(days=keep)


def history_frozen_before(cfg: VigieConfig, day: dt.date) -> dt.date | None:
    """Periods starting before this date are no longer rewritten in the indicator history.

    Relative to the newest of ``day`` and the newest landed night, because purges only ever
    happen relative to that night: a backfill of an older night may already miss batches that
    a later night purged. None without a retention (nothing is ever purged).
    """
    keep = cfg.retention.landed_days
    if keep is None:
        return None
    newest = max(day, newest_landed_night(cfg) or day)
    return newest - dt.timedelta(days=keep) + HISTORY_FREEZE_MARGIN


def purge_landed_batches(cfg: VigieConfig, day: dt.date) -> list[Path]:
    """Delete the batches older than the retention for night ``day``; return their paths."""
    root = landing_root(cfg)
    cutoff = purge_cutoff(cfg, day)
    if cutoff is None:
        remove_purge_leftovers(root)
        if cfg.retention.landed_days is not None:
            log.info("night %s is older than the newest landed night: no purge (backfill)", day)
        return []
    removed = delete_batches_before(root, cutoff)
    if removed:
        log.info(
            "night %s: purged %d landed batch(es) before %s (retention %d days): %s",
            day, len(removed), cutoff, cfg.retention.landed_days,
            ", ".join(f"{p.parent.name}/{p.name}" for p in removed),
        )
    return removed
