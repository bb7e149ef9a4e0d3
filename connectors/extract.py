"""Extract one night of one source: the single entry point the DAG tasks and the CLI call.

``extract_source(cfg, source_id, day)`` finds the source in the configuration, builds the
night's local day [D 00:00, D+1 00:00) in the collectivité's zone (``vigie.intervals``), loads
the pseudonymisation key, asks the source type's connector (``connectors.connector.Connector``,
found through the registry vigie/source_types.py) for an :class:`ExtractResult` and lands it
atomically. Connector modules are imported lazily, by type, so that a site without GLPI never
imports its driver, and a DAG file importing this module stays cheap to parse.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from connectors.connector import AdvancesAfterLanding, load_connector
from connectors.landing import LandedBatch, land_batch
from connectors.landing_layout import landing_root
from connectors.pseudonymise import Pseudonymiser
from vigie.config import Source, VigieConfig
from vigie.intervals import night_for_day

log = logging.getLogger(__name__)


class SourceUnavailable(RuntimeError):
    """A source cannot be read (file missing, database down); the message says what to fix."""


def find_source(cfg: VigieConfig, source_id: str) -> Source:
    for source in cfg.sources:
        if source.id == source_id:
            return source
    raise KeyError(
        f"no source {source_id!r} in the configuration; configured sources: "
        f"{[s.id for s in cfg.sources]}"
    )


def extract_source(cfg: VigieConfig, source_id: str, day: dt.date) -> LandedBatch:
    """Read local day ``day`` of ``source_id``, pseudonymise, land; a rerun replaces the batch."""
    source = find_source(cfg, source_id)
    connector = load_connector(source.type)
    night = night_for_day(day, cfg.collectivite.timezone)
    pseudo = Pseudonymiser.from_config(cfg)
    started = time.perf_counter()
    try:
        result = connector.read_interval(cfg, source, night, pseudo)
    except SourceUnavailable:
        raise
    except OSError as exc:  # a connector that let a file/network error through
        raise SourceUnavailable(
            f"source {source_id!r} ({source.type}) cannot be read: {exc}; check its 'path' or "
            f"connection in the configuration and that the system is reachable"
        ) from exc
    read_s = time.perf_counter() - started
    batch = land_batch(landing_root(cfg), source.id, source.type, day, result)
    # Incremental connectors (IMAP) advance their read state only once the batch has landed,
    # so a run that fails before this line is retried from the same state.
    if isinstance(connector, AdvancesAfterLanding):
        connector.after_landing(cfg, source, day, result)
    log.info(
        "extracted %s (%s) day=%s [%s, %s) in %.2f s: %s rows, %d reject(s)",
        source.id,
        source.type,
        day,
        night.start.isoformat(),
        night.end.isoformat(),
        read_s,
        batch.row_counts,
        batch.reject_count,
    )
    return batch


def land_source_night(cfg: VigieConfig, source_id: str, day: dt.date) -> LandedBatch:
    """``extract_source``, and on failure the night's ``_FAILED.json`` marker, then re-raise.

    What every extract task does (the night is then built without the source, its days
    incomplete; a later landing replaces the marker). One function for the DAG task and the
    backfill mode of ``vigie run`` (vigie/runner.py)."""
    from connectors.landing_layout import record_failed_extract

    try:
        return extract_source(cfg, source_id, day)
    except Exception as exc:
        source = find_source(cfg, source_id)
        record_failed_extract(landing_root(cfg), source_id, source.type, day, f"{type(exc).__name__}: {exc}")
        raise
