"""Wazo call-logd ``GET /1.0/cdr`` -> ``cdr_legs`` (one row per Wazo CDR started in the night).

API (source-formats.md §3): ``from``/``until`` (ISO 8601) bound the CDRs' ``start``;
``from_id`` returns only CDRs with a greater id, which pages through a night without the
drift of ``offset`` when CDRs are added meanwhile: each page asks ``order=id, direction=asc,
limit=page_size, from_id=<last id seen>`` until a page is shorter than ``page_size``. The token
goes in the ``X-Auth-Token`` header; it is the password of the Airflow connection
``connection_id`` (host, port and path prefix from the same connection:
``https://:TOKEN@wazo.mairie.lan:443/api/call-logd``; no path = ``api/call-logd``).

Mapping to the CDR contract (one Wazo CDR is one whole call, not a leg):
``uniqueid = linkedid = 'wazo-<id>'``, ``start_at``/``answer_at``/``end_at`` as given (UTC),
``duration = end - start`` in whole seconds, ``billsec`` = Wazo's ``duration`` (talk time,
end - answer, not the whole call), ``disposition = 'ANSWERED'`` when ``answered`` else
``'NO ANSWER'``, ``dcontext`` = ``call_direction`` (inbound/internal/outbound),
``src_key``/``dst_key`` from ``source_extension``/``destination_extension`` (phone
normalisation). Names (``source_name``, ``destination_name``) are never read.

Who answered (DECISIONLOG.md Part 3 §3b): a Wazo CDR has no Asterisk ``dstchannel``, and the
CDR-only call model counts a call answered only when a leg towards an agent channel (matching
the source's ``agent_channel_pattern``) was answered. The connector therefore lands a
synthetic ``dstchannel = 'wazo/user/<extension>'`` when the CDR's destination is a Wazo user
(``destination_user_uuid`` set; call-logd fills the ``destination_*`` fields with the line that
answered), the extension being ``destination_internal_extension`` (else
``destination_extension``) with digit runs of 6+ masked exactly as Asterisk channel names are
(``mask_digit_runs``): an internal extension stays readable, a number that could be a
citizen's never lands. A destination that is no user (voice menu, voicemail, group or queue
nobody answered, outbound number) lands no ``dstchannel``: even ``answered`` by a voice menu,
such a call is not answered by an agent. The user's uuid itself is never landed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pyarrow as pa

from connectors.extract import SourceUnavailable
from connectors.landing import ExtractResult, Reject
from connectors.landing_schemas import TS
from connectors.pseudonymise import Pseudonymiser, mask_digit_runs
from connectors.telephony.asterisk_cdr_csv import TABLE
from vigie.config import VigieConfig, WazoCdrSource
from vigie.intervals import NightInterval

log = logging.getLogger(__name__)
DEFAULT_PREFIX = "api/call-logd"
AGENT_CHANNEL_PREFIX = "wazo/user/"  # agent_channel_pattern '^wazo/user/' matches every user


def agent_channel(item: dict[str, Any]) -> str | None:
    """Synthetic ``dstchannel`` of a CDR whose destination is a Wazo user, else None.

    Why synthetic: the CDR-only model's one rule for "answered by an agent" is a leg whose
    ``dstchannel`` matches ``agent_channel_pattern``; landing Wazo's user destination in that
    shape lets Wazo sites use the same rule instead of a second one. Masked like an Asterisk
    channel (runs of 6+ digits -> X), so no citizen number can leave the connector.
    """
    if not item.get("destination_user_uuid"):
        return None
    extension = item.get("destination_internal_extension") or item.get("destination_extension")
    extension = str(extension).strip() if extension not in (None, "") else ""
    return AGENT_CHANNEL_PREFIX + (mask_digit_runs(extension) or "unknown")


def base_url(source: WazoCdrSource) -> tuple[str, str]:
    """(``.../1.0/cdr`` URL, token) from the source's Airflow connection."""
    from vigie.secrets import get_connection

    conn = get_connection(source.connection_id)
    if not conn.host or not conn.password:
        raise SourceUnavailable(
            f"source {source.id!r}: connection {source.connection_id!r} needs a host and the "
            f"call-logd token as its password (https://:TOKEN@wazo.example:443/api/call-logd)"
        )
    scheme = "http" if (conn.conn_type or "").lower() == "http" else "https"
    port = f":{conn.port}" if conn.port else ""
    prefix = (conn.schema or DEFAULT_PREFIX).strip("/")
    return f"{scheme}://{conn.host}{port}/{prefix}/1.0/cdr", conn.password


def _parse(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # call-logd always sends an offset; a naive one is UTC
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def fetch_night(source: WazoCdrSource, night: NightInterval) -> tuple[list[dict[str, Any]], int]:
    """Every CDR whose start is in the night, paged by ``from_id``; returns (items, pages)."""
    url, token = base_url(source)
    context = None if source.verify_tls else ssl._create_unverified_context()
    items: list[dict[str, Any]] = []
    last_id: int | None = None
    pages = 0
    while True:
        params = {
            "from": night.start_utc.isoformat(),
            "until": night.end_utc.isoformat(),
            "order": "id",
            "direction": "asc",
            "limit": str(source.page_size),
        }
        if last_id is not None:
            params["from_id"] = str(last_id)
        request = urllib.request.Request(
            f"{url}?{urllib.parse.urlencode(params)}",
            headers={"X-Auth-Token": token, "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(
                request, timeout=source.timeout_seconds, context=context
            ) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            hint = (
                " (token expired or lacking call-logd.cdr.read?)" if exc.code in (401, 403) else ""
            )
            raise SourceUnavailable(
                f"source {source.id!r}: {url} answered HTTP {exc.code}{hint}"
            ) from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise SourceUnavailable(f"source {source.id!r}: cannot read {url}: {exc}") from None
        pages += 1
        page = body.get("items", []) if isinstance(body, dict) else []
        items.extend(page)
        if len(page) < source.page_size:
            return items, pages
        next_id = max(int(i["id"]) for i in page)
        if last_id is not None and next_id <= last_id:  # a server ignoring from_id: stop, loudly
            raise SourceUnavailable(
                f"source {source.id!r}: {url} returned the same page twice; does this call-logd "
                f"support from_id (Wazo >= 21.x)?"
            )
        last_id = next_id


def read_interval(
    cfg: VigieConfig, source: WazoCdrSource, night: NightInterval, pseudo: Pseudonymiser
) -> ExtractResult:
    items, pages = fetch_night(source, night)
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "id",
            "src",
            "dst",
            "dir",
            "dstchannel",
            "start",
            "answer",
            "end",
            "duration",
            "billsec",
            "disp",
        )
    }
    rejects: list[Reject] = []
    seen: set[int] = set()
    for item in sorted(items, key=lambda i: int(i.get("id", 0))):
        cdr_id = int(item.get("id", 0))
        if cdr_id in seen:  # overlapping pages never double a call
            continue
        seen.add(cdr_id)
        try:
            start, answer, end = (_parse(item.get(k)) for k in ("start", "answer", "end"))
        except ValueError:
            rejects.append(
                Reject(
                    TABLE,
                    "call-logd /1.0/cdr",
                    f"id {cdr_id}",
                    "start, answer or end is not ISO 8601",
                )
            )
            continue
        if start is None or not (night.start_utc <= start < night.end_utc):
            continue
        rows["id"].append(cdr_id)
        rows["src"].append(item.get("source_extension") or None)
        rows["dst"].append(item.get("destination_extension") or None)
        rows["dir"].append(item.get("call_direction"))
        rows["dstchannel"].append(agent_channel(item))
        rows["start"].append(start)
        rows["answer"].append(answer)
        rows["end"].append(end)
        rows["duration"].append(int((end - start).total_seconds()) if end else None)
        talk = item.get("duration")
        rows["billsec"].append(None if talk is None else int(talk))
        rows["disp"].append("ANSWERED" if item.get("answered") else "NO ANSWER")
    s = pa.string()
    n = len(rows["id"])
    uid = pa.array([f"wazo-{i}" for i in rows["id"]], s)
    legs = pa.table(
        {
            "source_file": pa.array(["call-logd /1.0/cdr"] * n, s),
            "source_line": pa.array(rows["id"], pa.int64()),
            "accountcode": pa.nulls(n, s),
            "src_key": pseudo.phone_array(pa.array(rows["src"], s)),
            "dst_key": pseudo.phone_array(pa.array(rows["dst"], s)),
            "dcontext": pa.array(rows["dir"], s),
            "channel": pa.nulls(n, s),
            "dstchannel": pa.array(rows["dstchannel"], s),
            "lastapp": pa.nulls(n, s),
            "start_at": pa.array(rows["start"], TS),
            "answer_at": pa.array(rows["answer"], TS),
            "end_at": pa.array(rows["end"], TS),
            "duration": pa.array(rows["duration"], pa.int64()),
            "billsec": pa.array(rows["billsec"], pa.int64()),
            "disposition": pa.array(rows["disp"], s),
            "amaflags": pa.nulls(n, s),
            "uniqueid": uid,
            "linkedid": uid,
            "sequence": pa.nulls(n, pa.int64()),
        }
    )
    log.info("%s: %d CDR(s) in %s over %d page(s)", source.id, n, night.day, pages)
    meta = {"pages": pages, "items_read": len(items), "legs": n}
    return ExtractResult(tables={TABLE: legs}, rejects=rejects, meta=meta)
