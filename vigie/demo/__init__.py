"""The demo collectivité: realistic, deterministic sources in their real formats.

``vigie demo-data`` calls the two functions below. Same configuration, range, scale and seed
give byte-identical files (seeded generators, no wall-clock time, sorted output, file times
derived from the data). Decisions: DECISIONLOG.md.
"""

from __future__ import annotations

import datetime as dt

from vigie.config import VigieConfig
from vigie.demo.calendar_helpers import DemoCalendar, default_demo_range

__all__ = ["default_demo_range", "generate_demo_sources"]

DEFAULT_SEED = 20261128


def generate_demo_sources(
    cfg: VigieConfig, start: dt.date, end: dt.date, scale: float = 1.0, seed: int = DEFAULT_SEED
) -> dict:
    """Write every enabled source of ``cfg`` for the local days ``start``..``end`` (inclusive).

    Each source goes to its configured path (``cfg.path(source.path)``); the generator removes
    and rewrites its own output and refuses to touch a directory it did not write. Returns a
    summary: per source id, the files written and counts (per service, outcome, folder...).
    """
    from vigie.demo.email import generate_email
    from vigie.demo.glpi import generate_glpi
    from vigie.demo.telephony import generate_telephony

    if end < start:
        raise ValueError(f"the demo range ends ({end}) before it starts ({start})")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    cal = DemoCalendar.from_config(cfg, start, end)
    summary: dict = {"range": f"{start.isoformat()}..{end.isoformat()}", "scale": scale, "seed": seed}
    qlogs = cfg.sources_of("asterisk_queue_log")
    cdrs = cfg.sources_of("asterisk_cdr_csv")
    if qlogs or cdrs:
        summary.update(generate_telephony(cfg, qlogs[0] if qlogs else None, cdrs[0] if cdrs else None,
                                          cal, start, end, scale, seed))
        for extra in qlogs[1:] + cdrs[1:]:
            summary[extra.id] = {"skipped": "the demo writes one PBX (the first queue_log and CDR sources)"}
    for src in cfg.sources_of("maildir"):
        summary[src.id] = generate_email(cfg, src, cal, start, end, scale, seed)
    for src in cfg.sources_of("glpi_sql"):
        if src.path is None:
            summary[src.id] = {"skipped": "a GLPI database reached through a connection is not demo output"}
            continue
        summary[src.id] = generate_glpi(cfg, src, cal, start, end, scale, seed)
    return summary
