"""A small site whose history holds four months of one commitment (issue 15, the year's record).

One mailbox of État civil, `email_response_5bd` (5 jours ouvrés) in two versions: threshold 90 %
until 28 February 2026, 80 % from 1 March. Real landed batches, the real transform (dbt build,
then the history step), one night on 30 April 2026 that makes January to April final:

| month    | requests (replied in time) | rate        | note |
| -------- | -------------------------- | ----------- | ---- |
| January  | 6 (6)                      | 6/6 = 100 % | + 1 automatic reply, 1 spam excluded |
| February | 6 (3; 3 never answered)    | 3/6 = 50 %  | breached (< 90 %, 6 >= 3) |
| March    | 5 (4; 1 never answered)    | 4/5 = 80 %  | version 2 (80 %): back within commitment; + 1 bounce excluded |
| April    | 2 (2)                      | 2/2         | fewer than 5: "moins de 5"; extract of Fri 10 April failed: incomplete |
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from h5_builders import land, make_config

from vigie.config import Retention, VigieConfig

NIGHT = dt.date(2026, 4, 30)
FAILED_DAY = dt.date(2026, 4, 10)  # a Friday: nothing landed
MAIL = {"id": "mail", "type": "maildir", "path": "x/maildir", "name": "Messagerie de l'état civil",
        "mailboxes": [{"name": "ec", "path": "ec", "service": "ETAT_CIVIL"}]}
LABEL = "Courriels : réponse sous 5 jours ouvrés"
COMMITMENTS = [
    {"id": "email_response_5bd", "label": LABEL, "channel": "email",
     "target": {"value": 5, "unit": "business_days"}, "threshold": 0.9, "min_volume": 3,
     "valid_to": "2026-03-01"},
    {"id": "email_response_5bd", "label": LABEL, "channel": "email",
     "target": {"value": 5, "unit": "business_days"}, "threshold": 0.8, "min_volume": 3,
     "valid_from": "2026-03-01"},
]

# (receipt day, answered the next day?) per citizen request; receipts at 09:00 UTC
REQUESTS = {
    dt.date(2026, 1, 6): [True, True], dt.date(2026, 1, 7): [True, True], dt.date(2026, 1, 8): [True, True],
    dt.date(2026, 2, 3): [True, False], dt.date(2026, 2, 4): [True, False], dt.date(2026, 2, 5): [True, False],
    dt.date(2026, 3, 3): [True, True], dt.date(2026, 3, 4): [True, True], dt.date(2026, 3, 5): [False],
    dt.date(2026, 4, 7): [True], dt.date(2026, 4, 8): [True],
}
# messages excluded from the commitments: (day, is_auto_submitted, auto_reason)
EXCLUDED = [(dt.date(2026, 1, 7), None), (dt.date(2026, 1, 8), "spam"), (dt.date(2026, 3, 4), "bounce")]


def _message(at: dt.datetime, key: str, *, folder: str = "inbox", reply_to: str | None = None,
             auto: bool = False, reason: str | None = None) -> dict:
    return {"mailbox": "ec", "service_code": "ETAT_CIVIL", "folder_role": folder,
            "source_position": f"ec/{folder}/{key}", "message_key": key, "in_reply_to_key": reply_to,
            "references_keys": [reply_to] if reply_to else [], "from_key": f"f{key}",
            "to_keys": ["t1"], "from_is_internal": folder == "sent", "received_at": at,
            "date_header_at": at, "subject_key": f"s{reply_to or key}", "is_auto_submitted": auto,
            "auto_reason": reason}


def audit_config(tmp: Path, landed_days: int | None = None) -> VigieConfig:
    cfg = make_config(tmp, sources=[MAIL], commitments=COMMITMENTS)
    return cfg.model_copy(update={"retention": Retention(landed_days=landed_days)})


def land_months(cfg: VigieConfig) -> None:
    """The batches of January to April 2026 and the failed extract of 9 April."""
    batches: dict[dt.date, list[dict]] = {}
    for day, answered in REQUESTS.items():
        for i, replied in enumerate(answered):
            key = f"m{day:%m%d}{i}"
            at = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
            batches.setdefault(day, []).append(_message(at, key))
            if replied:
                nxt = day + dt.timedelta(days=1)
                batches.setdefault(nxt, []).append(
                    _message(at + dt.timedelta(days=1), f"r{key}", folder="sent", reply_to=key))
    for n, (day, reason) in enumerate(EXCLUDED):
        at = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
        batches.setdefault(day, []).append(_message(at, f"x{n}", auto=True, reason=reason))
    for day, rows in sorted(batches.items()):
        land(cfg, "mail", day, {"email_messages": rows})
    failed = cfg.path(cfg.outputs.landing) / "mail" / f"day={FAILED_DAY.isoformat()}"
    failed.mkdir(parents=True, exist_ok=True)
    (failed / "_FAILED.json").write_text(json.dumps({
        "source_id": "mail", "day": FAILED_DAY.isoformat(), "error": "IMAP timeout after 60 s",
        "failed_at": "2026-04-11T03:05:00+00:00"}))
