"""Extract one night of one source: the single entry point the DAG tasks and the CLI call.

``extract_source(cfg, source_id, day)`` finds the source in the configuration, builds the
night's local day [D 00:00, D+1 00:00) in the collectivité's zone (``vigie.intervals``), loads
the pseudonymisation key, asks the source type's module for an :class:`ExtractResult` and lands
it atomically. Connector modules are imported lazily, by type, so that a site without GLPI never
imports its driver, and a DAG file importing this module stays cheap to parse.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import time

from connectors.landing import LandedBatch, land_batch
from connectors.pseudonymise import Pseudonymiser
from vigie.config import Source, VigieConfig
from vigie.intervals import night_for_day

log = logging.getLogger(__name__)

CONNECTOR_MODULES: dict[str, str] = {
    "asterisk_queue_log": "connectors.telephony.asterisk_queue_log",
    "asterisk_queue_log_sql": "connectors.telephony.asterisk_queue_log_sql",
    "asterisk_cdr_sql": "connectors.telephony.asterisk_cdr_sql",
    "wazo_cdr": "connectors.telephony.wazo_cdr",
    "asterisk_cdr_csv": "connectors.telephony.asterisk_cdr_csv",
    "maildir": "connectors.email.maildir",
    "imap": "connectors.email.imap",
    "mbox": "connectors.email.mbox",
    "glpi_sql": "connectors.ticketing.glpi",
    "request_register": "connectors.registers.request_register",
    "satisfaction_survey": "connectors.registers.satisfaction_survey",
}


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
    if source.type not in CONNECTOR_MODULES:
        raise KeyError(f"source {source_id!r}: no connector for type {source.type!r}")
    night = night_for_day(day, cfg.collectivite.timezone)
    pseudo = Pseudonymiser.from_config(cfg)
    module = importlib.import_module(CONNECTOR_MODULES[source.type])
    started = time.perf_counter()
    try:
        result = module.read_interval(cfg, source, night, pseudo)
    except SourceUnavailable:
        raise
    except OSError as exc:  # a connector that let a file/network error through
        raise SourceUnavailable(
            f"source {source_id!r} ({source.type}) cannot be read: {exc}; check its 'path' or "
            f"connection in the configuration and that the system is reachable"
        ) from exc
    read_s = time.perf_counter() - started
    batch = land_batch(cfg.path(cfg.outputs.landing), source.id, source.type, day, result)
    # Incremental connectors (IMAP) advance their read state only once the batch has landed,
    # so a run that fails before this line is retried from the same state.
    after_landing = getattr(module, "after_landing", None)
    if after_landing is not None:
        after_landing(cfg, source, day, result)
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
