"""Demo telephony: an Asterisk ``queue_log`` (rotated) and an 18-column UTC ``Master.csv``.

One call model feeds both files so that they agree (CDR ``uniqueid`` = queue_log ``callid``).
Shapes follow Asterisk's own writers (source-formats.md §1-2): queue_log lines
``epoch|callid|queue|agent|event|data...`` with the data fields app_queue.c writes per event;
``Master.csv`` as cdr_csv.c writes it with ``usegmtime=yes``, ``loguniqueid=yes``,
``loguserfield=yes`` (strings quoted with inner quotes doubled, duration/billsec bare, an empty
answer bare). The volumes and shares are in DECISIONLOG.md.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.config import AsteriskCdrCsvSource, AsteriskQueueLogSource, VigieConfig
from vigie.demo.calendar_helpers import DemoCalendar, days_between
from vigie.demo.identities import CitizenPool
from vigie.demo.output import claim_dir, remove_file, set_mtime

# Calls on an ordinary weekday (Tuesday) at scale 1, per primary queue; ~150 a day in all.
QUEUE_BASE = {"accueil": 55, "etat-civil": 40, "ccas": 30, "urbanisme": 20}
DEFAULT_QUEUE_BASE = 25
WEEKDAY_FACTOR = (1.5, 1.0, 0.9, 0.95, 0.8, 0.3, 0.03)  # Monday peak; Sunday: a few stray calls
CLOSED_DAY_FACTOR = 0.06  # holidays, closures and days the service never opens: out-of-hours calls
AFTER_CLOSURE_FACTOR = 1.25  # the first business day after a closed weekday catches up
OUT_OF_HOURS_SHARE = 0.08
# Relative arrival density by local hour inside opening hours (the lunchtime dip).
HOUR_WEIGHT = {7: 0.6, 8: 0.9, 9: 1.3, 10: 1.4, 11: 1.1, 12: 0.45, 13: 0.55, 14: 1.1, 15: 1.0,
               16: 0.8, 17: 0.5, 18: 0.4}
QUEUE_TIMEOUT = 300  # s, EXITWITHTIMEOUT of an ordinary queue
OVERFLOW_TIMEOUT = 60  # s, before a queue with an overflow queue hands the call over
SHORT_ABANDON_MAX = 4  # s, waits of the short abandons (threshold 5 s in the demo configuration)
FIRST_COUNTER = 4100


@dataclass
class _Plan:
    queue: str
    arrive: int
    in_hours: bool
    outcome: str  # answered, abandon, short, timeout, key, overflow, orphan
    caller: tuple[str, str, str, str]
    anonymous: bool = False
    seq: int = 0


@dataclass
class _Call:
    callid: str
    end: int
    rows: list[str] = field(default_factory=list)


def _fmt(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


def _q(value: str) -> str:
    """A cdr_csv string field: double-quoted, inner quotes doubled."""
    return '"' + value.replace('"', '""') + '"'


def _cdr_row(
    *, src: str, dst: str, dcontext: str, clid: str, channel: str, dstchannel: str, lastapp: str,
    lastdata: str, start: int, answer: int | None, end: int, disposition: str, uniqueid: str,
    userfield: str = "",
) -> str:
    """One Master.csv line of 18 columns (16 base + uniqueid + userfield)."""
    billsec = end - answer if answer is not None else 0
    return ",".join([
        _q(""), _q(src), _q(dst), _q(dcontext), _q(clid), _q(channel), _q(dstchannel), _q(lastapp),
        _q(lastdata), _q(_fmt(start)), _q(_fmt(answer)) if answer is not None else "", _q(_fmt(end)),
        str(end - start), str(billsec), _q(disposition), _q("DOCUMENTATION"), _q(uniqueid), _q(userfield),
    ])


class _Pbx:
    """Hands out channel uniqueids and channel-name suffixes the way one Asterisk process does."""

    def __init__(self) -> None:
        self.counter = FIRST_COUNTER

    def uniqueid(self, epoch: int) -> str:
        self.counter += 1
        return f"{epoch}.{self.counter}"

    def channel(self, tech_name: str) -> str:
        self.counter += 1
        return f"{tech_name}-{self.counter:08x}"


def _queues(cfg: VigieConfig, qsrc: AsteriskQueueLogSource | None) -> dict[str, str]:
    if qsrc is not None:
        return dict(qsrc.queues)
    return {s.code.lower().replace("_", "-"): s.code for s in cfg.services}


def _split_primary(queues: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """First queue of each service is where calls arrive; a later one is its overflow queue."""
    primary: list[str] = []
    overflow: dict[str, str] = {}
    first_of: dict[str, str] = {}
    for q, code in queues.items():
        if code in first_of:
            overflow.setdefault(first_of[code], q)
        else:
            first_of[code] = q
            primary.append(q)
    return primary, overflow


def _arrival_minute(rng: random.Random, ranges: list[tuple[int, int]], in_hours: bool) -> float:
    if in_hours:
        total = sum(b - a for a, b in ranges)
        while True:
            x = rng.random() * total
            for a, b in ranges:
                if x < b - a:
                    m = a + x
                    break
                x -= b - a
            if rng.random() * 1.4 < HOUR_WEIGHT.get(int(m // 60), 0.3):
                return m
    if not ranges:
        return rng.uniform(8 * 60, 18 * 60)
    gaps = [(7 * 60, ranges[0][0]), (ranges[-1][1], 19 * 60 + 30)]
    gaps += [(ranges[i][1], ranges[i + 1][0]) for i in range(len(ranges) - 1)]
    gaps = [(a, b) for a, b in gaps if b - a >= 5]
    a, b = rng.choice(gaps)
    return rng.uniform(a, b - 1)


def _outcome(rng: random.Random, in_hours: bool, has_overflow: bool) -> str:
    r = rng.random()
    if not in_hours:
        return "abandon" if r < 0.72 else "short" if r < 0.92 else "timeout"
    for name, p in (("answered", 0.77), ("abandon", 0.09), ("short", 0.05), ("timeout", 0.03),
                    ("key", 0.025)):
        if r < p:
            return name
        r -= p
    return "overflow" if has_overflow else "answered"


def _plan_calls(
    cal: DemoCalendar, queues: dict[str, str], primary: list[str], overflow: dict[str, str],
    days: list[dt.date], scale: float, rng: random.Random, pool: CitizenPool,
) -> list[_Plan]:
    plans: list[_Plan] = []
    for q in primary:
        code = queues[q]
        base = QUEUE_BASE.get(q, DEFAULT_QUEUE_BASE)
        for day in days:
            ranges = cal.opening_ranges(code, day)
            if ranges:
                factor = WEEKDAY_FACTOR[day.weekday()] if day.weekday() < 5 else 0.3
                prev = day - dt.timedelta(days=1)
                if day.weekday() < 5 and prev.weekday() < 5 and cal.is_closed_day(code, prev):
                    factor *= AFTER_CLOSURE_FACTOR
            else:
                factor = CLOSED_DAY_FACTOR if day.weekday() < 6 else WEEKDAY_FACTOR[6]
            n = round(base * factor * scale * rng.uniform(0.9, 1.1))
            if not ranges and day.weekday() < 5:
                n = max(n, 1)  # a closed weekday (holiday, pont) always gets a stray call
            for _ in range(n):
                in_hours = bool(ranges) and rng.random() >= OUT_OF_HOURS_SHARE
                minute = _arrival_minute(rng, ranges, in_hours)
                in_hours = cal.is_open_at(code, day, minute)
                plans.append(_Plan(
                    queue=q, arrive=cal.epoch(day, minute), in_hours=in_hours,
                    outcome=_outcome(rng, in_hours, q in overflow), caller=pool.pick(),
                    anonymous=rng.random() < 0.02,
                ))
    plans.sort(key=lambda p: (p.arrive, p.queue))
    for i, p in enumerate(plans):
        p.seq = i
    # Two calls lose their closing event (an Asterisk restart): orphans, scaled for benchmarks.
    in_hours_idx = [i for i, p in enumerate(plans) if p.in_hours and p.outcome == "answered"]
    for i in sorted(rng.sample(in_hours_idx, min(len(in_hours_idx), max(2, round(2 * scale))))):
        plans[i].outcome = "orphan"
    return plans


def _hold(rng: random.Random) -> int:
    """Mostly under 20 s, with a tail of long waits."""
    if rng.random() < 0.86:
        return max(1, min(40, int(rng.expovariate(1 / 8.0)) + 1))
    return rng.randint(25, 240)


def _talk(rng: random.Random) -> int:
    return max(15, min(1500, int(rng.expovariate(1 / 170.0)) + 15))


def generate_telephony(
    cfg: VigieConfig,
    qsrc: AsteriskQueueLogSource | None,
    csrc: AsteriskCdrCsvSource | None,
    cal: DemoCalendar,
    start: dt.date,
    end: dt.date,
    scale: float,
    seed: int,
) -> dict[str, dict]:
    """Write the queue_log files and/or Master.csv; return a summary per source id."""
    rng = random.Random(f"{seed}:telephony")
    pool = CitizenPool(random.Random(f"{seed}:telephony:people"), max(50, int(1500 * scale)))
    queues = _queues(cfg, qsrc)
    primary, overflow = _split_primary(queues)
    agents = {q: [f"PJSIP/{2101 + 100 * i + k}" for k in range(2 + QUEUE_BASE.get(q, DEFAULT_QUEUE_BASE) // 20)]
              for i, q in enumerate(queues)}
    extension = {q: str(7001 + i) for i, q in enumerate(queues)}
    days = days_between(start, end)
    plans = _plan_calls(cal, queues, primary, overflow, days, scale, rng, pool)

    pbx = _Pbx()
    qlog: list[tuple[int, int, str]] = []  # (epoch, order, line)
    order = 0

    def log(epoch: int, callid: str, queue: str, agent: str, event: str, *data: object) -> None:
        nonlocal order
        order += 1
        qlog.append((epoch, order, "|".join([str(epoch), callid, queue, agent, event, *map(str, data)])))

    # System and member events: Asterisk start, agents logging in, lunch pauses, logging out.
    first_epoch = cal.epoch(days[0], 6 * 60)
    log(first_epoch, "NONE", "NONE", "NONE", "QUEUESTART", "")
    _member_events(log, cal, queues, agents, days)

    calls: list[_Call] = []
    outcomes: Counter[str] = Counter()
    by_service: Counter[str] = Counter()
    transfers_left = max(1, round(6 * scale))
    for p in plans:
        created = p.arrive - rng.randint(3, 12)  # the IVR greeting before the queue
        callid = pbx.uniqueid(created)
        number = "anonymous" if p.anonymous else p.caller[2]
        first, last = p.caller[0], p.caller[1]
        clid = _caller_id(rng, p.anonymous, first, last, number)
        channel = pbx.channel("PJSIP/operateur")
        q = p.queue
        pos = rng.choice((1, 1, 1, 2, 2, 3))
        cdr: dict[str, Any] = dict(src=number, dst=extension[q], dcontext="from-pstn", clid=clid, channel=channel,
                   lastapp="Queue", start=created, uniqueid=callid)
        call = _Call(callid=callid, end=created)
        by_service[queues[q]] += 1
        outcomes["out_of_hours" if not p.in_hours else p.outcome] += 1
        t = p.arrive
        log(t, callid, q, "NONE", "ENTERQUEUE", "", number, pos)
        outcome = p.outcome
        if outcome == "overflow":
            log(t + OVERFLOW_TIMEOUT, callid, q, "NONE", "EXITWITHTIMEOUT", 1, pos, OVERFLOW_TIMEOUT)
            q = overflow[q]
            t += OVERFLOW_TIMEOUT
            pos = 1
            log(t, callid, q, "NONE", "ENTERQUEUE", "", number, pos)
            cdr["dst"] = extension[q]
            outcome = "answered" if rng.random() < 0.75 else "abandon"
        lastdata = f"{q},tT,,,{OVERFLOW_TIMEOUT if q in overflow else QUEUE_TIMEOUT}"
        if outcome == "orphan":
            continue  # no closing event, and no CDR: the PBX went down with the call
        if outcome == "answered":
            hold = _hold(rng)
            rna = rng.choice((1, 1, 2)) if rng.random() < 0.15 else 0
            hold = max(hold, 16 * rna + 2)
            ring_start = t
            for _ in range(rna):  # members who let it ring 15 s (milliseconds in RINGNOANSWER)
                missed = rng.choice(agents[q])
                ring_end = ring_start + 15
                log(ring_end, callid, q, missed, "RINGNOANSWER", 15000)
                call.rows.append(_cdr_row(**cdr, lastdata=lastdata, dstchannel=pbx.channel(missed),
                                          answer=None, end=ring_end, disposition="NO ANSWER"))
                ring_start = ring_end + 1
            agent = rng.choice(agents[q])
            ringtime = rng.randint(2, 9)
            connect = t + hold
            member_uid = pbx.uniqueid(connect - ringtime)
            log(connect, callid, q, agent, "CONNECT", hold, member_uid, ringtime)
            talk = _talk(rng)
            hangup = connect + talk
            dstchannel = pbx.channel(agent)
            if p.in_hours and transfers_left > 0 and rng.random() < 0.02:
                transfers_left -= 1
                target = "2205"
                log(hangup, callid, q, agent, "BLINDTRANSFER", target, "agents", hold, talk, pos)
                call.rows.append(_cdr_row(**cdr, lastdata=lastdata, dstchannel=dstchannel, answer=connect,
                                          end=hangup, disposition="ANSWERED"))
                busy_end = hangup + 4
                call.rows.append(_cdr_row(**{**cdr, "lastapp": "Dial", "start": hangup}, lastdata=f"PJSIP/{target},30",
                                          dstchannel=pbx.channel(f"PJSIP/{target}"), answer=None, end=busy_end,
                                          disposition="BUSY"))
                call.end = busy_end
                outcomes["blind_transfer"] += 1
            else:
                event = "COMPLETECALLER" if rng.random() < 0.5 else "COMPLETEAGENT"
                log(hangup, callid, q, agent, event, hold, talk, pos)
                call.rows.append(_cdr_row(**cdr, lastdata=lastdata, dstchannel=dstchannel, answer=connect,
                                          end=hangup, disposition="ANSWERED"))
                call.end = hangup
        else:
            if outcome == "abandon":
                wait = rng.randint(6, 200) if p.in_hours else rng.randint(6, 60)
                log(t + wait, callid, q, "NONE", "ABANDON", pos, pos, wait)
            elif outcome == "short":
                wait = rng.randint(1, SHORT_ABANDON_MAX)
                log(t + wait, callid, q, "NONE", "ABANDON", pos, pos, wait)
            elif outcome == "timeout":
                wait = QUEUE_TIMEOUT
                log(t + wait, callid, q, "NONE", "EXITWITHTIMEOUT", 1, pos, wait)
            else:  # key: the caller pressed 1 to leave a message / be called back
                wait = rng.randint(8, 90)
                log(t + wait, callid, q, "NONE", "EXITWITHKEY", rng.choice(("1", "0")), 1, pos, wait)
            hangup = t + wait + (rng.randint(20, 60) if outcome == "key" else 0)
            call.rows.append(_cdr_row(**cdr, lastdata=lastdata, dstchannel="", answer=None, end=hangup,
                                      disposition="NO ANSWER"))
            call.end = hangup
        calls.append(call)

    # Asterisk restarts after each orphan: a QUEUESTART a few minutes later.
    for p in plans:
        if p.outcome == "orphan":
            log(p.arrive + 240, "NONE", "NONE", "NONE", "QUEUESTART", "")

    calls.extend(_cdr_only_calls(cal, queues, primary, days, scale, rng, pool, pbx))
    result: dict[str, dict] = {}
    qlog.sort()
    if qsrc is not None:
        result[qsrc.id] = _write_queue_log(cfg, qsrc, qlog, plans, cal, days)
        result[qsrc.id].update(calls=len(plans), by_service=dict(sorted(by_service.items())),
                               outcomes=dict(sorted(outcomes.items())))
    if csrc is not None:
        result[csrc.id] = _write_master_csv(cfg, csrc, calls)
    return result


def _member_events(log: Callable[..., None], cal: DemoCalendar, queues: dict[str, str],
                   agents: dict[str, list[str]], days: list[dt.date]) -> None:
    """Agents logging in, pausing for lunch between two opening ranges, logging out."""
    for day in days:
        for q, code in queues.items():
            ranges = cal.opening_ranges(code, day)
            if not ranges:
                continue
            for k, agent in enumerate(agents[q]):
                log(cal.epoch(day, ranges[0][0] - 12 + k), "NONE", q, agent, "ADDMEMBER", "")
                for (_a1, b1), (a2, _b2) in zip(ranges, ranges[1:], strict=False):
                    log(cal.epoch(day, b1 + 1 + k), "NONE", q, agent, "PAUSE", "repas")
                    log(cal.epoch(day, a2 - 3 + k), "NONE", q, agent, "UNPAUSE", "")
                log(cal.epoch(day, ranges[-1][1] + 10 + k), "NONE", q, agent, "REMOVEMEMBER", "")


def _caller_id(rng: random.Random, anonymous: bool, first: str, last: str, number: str) -> str:
    """The CDR clid: withheld, a name from the operator's directory (35 %), or the number."""
    if anonymous:
        return '"Anonymous" <anonymous>'
    if rng.random() < 0.35:
        return f'"{first} {last.upper()}" <{number}>'
    return f'"{number}" <{number}>'


def _write_master_csv(cfg: VigieConfig, csrc: AsteriskCdrCsvSource, calls: list[_Call]) -> dict:
    """Master.csv with every call's rows, in the order Asterisk writes them (by call end)."""
    calls.sort(key=lambda c: (c.end, c.callid))
    path = cfg.path(csrc.path)
    claim_dir(path.parent)
    remove_file(path)
    with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fh:
        for c in calls:
            for row in c.rows:
                fh.write(row + "\n")
    if calls:
        set_mtime(path, calls[-1].end)
    dispositions = Counter(row.rsplit(",", 4)[1].strip('"') for c in calls for row in c.rows)
    return {"path": str(path), "rows": sum(len(c.rows) for c in calls),
            "dispositions": dict(sorted(dispositions.items()))}


def _cdr_only_calls(
    cal: DemoCalendar, queues: dict[str, str], primary: list[str], days: list[dt.date], scale: float,
    rng: random.Random, pool: CitizenPool, pbx: _Pbx,
) -> list[_Call]:
    """Calls that never reach a queue: the closed-message voice menu and busy direct lines.

    The first voice-menu call is the ``NO ANSWER`` row with ``billsec > 0`` (the menu answered
    the channel, no agent did); the others are ``ANSWERED`` by the menu alone.
    """
    out: list[_Call] = []
    accueil = queues[primary[0]]
    first_ivr = True
    for day in days:
        ranges = cal.opening_ranges(accueil, day)
        n_ivr = round((6 if not ranges else 2) * scale * rng.uniform(0.8, 1.2))
        for _ in range(n_ivr):
            minute = rng.uniform(12 * 60 + 5, 13 * 60 + 25) if ranges else rng.uniform(8 * 60, 18 * 60)
            created = cal.epoch(day, minute)
            number = pool.pick()[2]
            uid = pbx.uniqueid(created)
            answer = created + 1
            end = answer + rng.randint(12, 45)
            row = _cdr_row(src=number, dst="s", dcontext="ivr-fermeture", clid=f'"{number}" <{number}>',
                           channel=pbx.channel("PJSIP/operateur"), dstchannel="", lastapp="Playback",
                           lastdata="custom/mairie-fermee", start=created, answer=answer, end=end,
                           disposition="NO ANSWER" if first_ivr else "ANSWERED", uniqueid=uid)
            first_ivr = False
            out.append(_Call(callid=uid, end=end, rows=[row]))
        if ranges and day.weekday() < 5 and rng.random() < 0.5 * min(scale, 4):
            minute = rng.uniform(ranges[0][0] + 10, ranges[0][1] - 10)
            created = cal.epoch(day, minute)
            number = pool.pick()[2]
            uid = pbx.uniqueid(created)
            ext = "2310"
            row = _cdr_row(src=number, dst=ext, dcontext="from-pstn", clid=f'"{number}" <{number}>',
                           channel=pbx.channel("PJSIP/operateur"), dstchannel=pbx.channel(f"PJSIP/{ext}"),
                           lastapp="Dial", lastdata=f"PJSIP/{ext},30", start=created, answer=None,
                           end=created + 3, disposition="BUSY", uniqueid=uid)
            out.append(_Call(callid=uid, end=created + 3, rows=[row]))
    return out


def _rotation_epoch(plans: list[_Plan], cal: DemoCalendar, days: list[dt.date]) -> int | None:
    """An instant inside an answered call in the middle of the range: where logrotate cut."""
    mid = days[len(days) // 2]
    lo = cal.epoch(mid, 10 * 60)
    for p in plans:
        if p.arrive >= lo and p.outcome == "answered" and p.in_hours:
            return p.arrive + 1
    return None


def _write_queue_log(
    cfg: VigieConfig, qsrc: AsteriskQueueLogSource, qlog: list[tuple[int, int, str]], plans: list[_Plan],
    cal: DemoCalendar, days: list[dt.date],
) -> dict:
    pattern = cfg.path(qsrc.path)
    directory = pattern.parent
    claim_dir(directory)
    name = pattern.name
    is_glob = any(ch in name for ch in "*?[")
    base = name.split("*")[0].split("?")[0].split("[")[0].rstrip(".-_") if is_glob else name
    base = base or "queue_log"
    for old in sorted(directory.glob(name)) if is_glob else [pattern]:
        if old.is_file():
            remove_file(old)
    files: list[tuple[Path, list[tuple[int, int, str]]]] = []
    rot = _rotation_epoch(plans, cal, days) if is_glob else None
    if is_glob and not fnmatch.fnmatch(f"{base}.1", name):
        rot = None  # the glob would not pick a rotated file up: write one file only
    if rot is not None:
        cut = next(i for i, (e, _, _) in enumerate(qlog) if e >= rot)
        files.append((directory / f"{base}.1", qlog[:cut]))
        files.append((directory / base, qlog[cut:]))
    else:
        files.append((directory / base, qlog))
    written = {}
    for path, lines in files:
        with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fh:
            fh.writelines(line + "\n" for _, _, line in lines)
        if lines:
            set_mtime(path, lines[-1][0])
        written[path.name] = len(lines)
    return {"files": written, "rotated_at": rot}

