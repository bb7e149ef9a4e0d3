"""Demo GLPI: a SQLite file with GLPI's tables, tickets of every request type and their history.

Each ticket is simulated as a time line (opening, prise en compte, follow-ups public and
private, tasks, pending periods, solution, automatic closure, satisfaction survey); whatever
falls after the end of the range is cut, so the last tickets are still open at the end, as
in a real instance read at night. ``date_mod`` is the last change kept. Timestamps are naive,
in the source's configured zone. Volumes and edge cases: DECISIONLOG.md.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from connectors.ticketing.glpi_schema import create_glpi_indexes
from vigie.config import GlpiSqlSource, VigieConfig
from vigie.demo.calendar_helpers import DemoCalendar, days_between
from vigie.demo.glpi_schema import build_metadata
from vigie.demo.identities import ascii_slug, person_name
from vigie.demo.output import claim_dir, remove_file, set_mtime

# New tickets on an ordinary weekday at scale 1, per service (about 25 a day in all).
TICKET_BASE = {"ETAT_CIVIL": 4, "URBANISME": 4, "CCAS": 4, "ACCUEIL": 4, "TECHNIQUE": 6, "ENFANCE": 3}
DEFAULT_TICKET_BASE = 4
DAY_FACTOR = (1.4, 1.0, 1.0, 1.0, 0.9, 0.3, 0.2)
REQUEST_TYPES = ((1, "Helpdesk"), (2, "E-Mail"), (3, "Phone"), (4, "Direct"), (5, "Written"), (6, "Other"))
TYPE_WEIGHTS = {1: 0.35, 2: 0.2, 3: 0.18, 4: 0.15, 5: 0.1, 6: 0.02}
# Business days from opening to the first public answer, and their shares.
RESPONSE_DELAYS = ((0, 0.34), (1, 0.28), (2, 0.14), (3, 0.08), (5, 0.06), (8, 0.05), (12, 0.05))
CATEGORY_NAMES = {
    "TECHNIQUE": "Voirie et espaces publics", "URBANISME": "Autorisations d'urbanisme",
    "ETAT_CIVIL": "Actes d'état civil", "CCAS": "Aide sociale", "ENFANCE": "Inscriptions scolaires",
    "ACCUEIL": "Renseignements",
}
TITLES = {
    "TECHNIQUE": ("Nid-de-poule rue des Écoles", "Lampadaire éteint", "Dépôt sauvage", "Arbre dangereux"),
    "URBANISME": ("Demande de certificat d'urbanisme", "Dépôt d'une déclaration préalable",
                  "Question sur une autorisation de travaux"),
    "ETAT_CIVIL": ("Demande de copie d'acte", "Rendez-vous titre d'identité", "Mention marginale"),
    "CCAS": ("Demande d'aide ponctuelle", "Dossier APA", "Demande de logement social"),
    "ENFANCE": ("Inscription périscolaire", "Réclamation facture cantine", "Transport scolaire"),
    "ACCUEIL": ("Demande de renseignement", "Objet trouvé", "Réservation de salle"),
}
SAT_SCORES = ((5, 0.38), (4, 0.3), (3, 0.14), (2, 0.08), (1, 0.05), (0, 0.05))


@dataclass
class _Ticket:
    service: str
    group: int | None
    category: int
    reqtype: int
    opened: int
    requester: int
    tech: int
    title: str
    deleted: bool = False
    events: list[tuple[int, str, dict]] = field(default_factory=list)  # (epoch, kind, data)
    id: int = 0


def _pick(rng: random.Random, pairs: tuple[tuple[int, float], ...]) -> int:
    return rng.choices([a for a, _ in pairs], [w for _, w in pairs])[0]


class _Clock:
    """Local-time helpers over the collectivité calendar for one service."""

    def __init__(self, cal: DemoCalendar, rng: random.Random) -> None:
        self.cal = cal
        self.rng = rng

    def day_of(self, epoch: int) -> dt.date:
        return dt.datetime.fromtimestamp(epoch, tz=self.cal.tz).date()

    def office_time(self, code: str, day: dt.date, not_before: int) -> int:
        ranges = self.cal.opening_ranges(code, day) or [(9 * 60, 12 * 60), (14 * 60, 17 * 60)]
        a, b = self.rng.choice(ranges)
        t = self.cal.epoch(day, self.rng.uniform(a, b - 1))
        return t if t > not_before else not_before + self.rng.randint(10 * 60, 90 * 60)

    def after_business_days(self, code: str, epoch: int, n: int) -> int:
        day = self.cal.add_business_days(code, self.day_of(epoch), n)
        return self.office_time(code, day, epoch)


def generate_glpi(cfg: VigieConfig, src: GlpiSqlSource, cal: DemoCalendar, start: dt.date, end: dt.date,
                  scale: float, seed: int) -> dict:
    """Write the GLPI SQLite file of ``src``; return counts."""
    assert src.path is not None
    path = cfg.path(src.path)
    claim_dir(path.parent)
    remove_file(path)
    rng = random.Random(f"{seed}:glpi")
    clock = _Clock(cal, rng)
    zone = zoneinfo.ZoneInfo(src.timezone)
    cutoff = cal.epoch(end + dt.timedelta(days=1), 0)
    days = days_between(start, end)

    def ts(epoch: int | None) -> str | None:
        if epoch is None:
            return None
        return dt.datetime.fromtimestamp(epoch, tz=zone).strftime("%Y-%m-%d %H:%M:%S")

    # -- reference rows ----------------------------------------------------------------
    created_at = ts(cal.epoch(start - dt.timedelta(days=400), 9 * 60))
    groups = dict(sorted(src.groups.items())) or {i + 1: s.code for i, s in enumerate(cfg.services)}
    group_of_service = {code: gid for gid, code in groups.items()}
    categories = _categories(cfg, src)
    cats_by_service: dict[str, list[int]] = {}
    for cid, (_n, _p, service) in categories.items():
        cats_by_service.setdefault(service or "", []).append(cid)
    users, techs, tech_name, citizen_ids = _people(cfg, rng, scale, created_at)
    people = _People(group_of_service, cats_by_service, techs, citizen_ids)

    # -- tickets -----------------------------------------------------------------------
    tickets = _daily_tickets(cfg, cal, rng, days, scale, people)
    tickets.extend(_scripted_tickets(cfg, src, cal, rng, days, end, people))
    tickets.sort(key=lambda t: (t.opened, t.service, t.reqtype))
    for i, t in enumerate(tickets, start=1):
        t.id = i
    if len(tickets) > 10:
        tickets[len(tickets) // 3].deleted = True  # one deleted ticket

    rows: dict[str, list[dict]] = {name: [] for name in (
        "glpi_tickets", "glpi_groups_tickets", "glpi_tickets_users", "glpi_itilfollowups", "glpi_tickettasks",
        "glpi_itilsolutions", "glpi_ticketsatisfactions", "glpi_logs")}
    status_count: Counter[int] = Counter()
    by_type: Counter[str] = Counter()
    for t in tickets:
        _simulate(t, rng, clock, cutoff)
        _emit(t, rows, ts, tech_name, cutoff, status_count)
        by_type[dict(REQUEST_TYPES)[t.reqtype]] += 1

    for name in ("glpi_itilfollowups", "glpi_tickettasks", "glpi_itilsolutions", "glpi_ticketsatisfactions",
                 "glpi_logs", "glpi_groups_tickets", "glpi_tickets_users"):
        key = {"glpi_itilfollowups": "date", "glpi_tickettasks": "date", "glpi_itilsolutions": "date_creation",
               "glpi_ticketsatisfactions": "date_begin", "glpi_logs": "date_mod"}.get(name)
        rows[name].sort(key=lambda r: ((r[key] or "") if key else "", r.get("tickets_id", r.get("items_id", 0))))
        for i, r in enumerate(rows[name], start=1):
            r["id"] = i

    md = build_metadata()
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        md.create_all(engine)
        with engine.begin() as con:
            con.execute(md.tables["glpi_requesttypes"].insert(), [
                dict(id=i, name=n, is_helpdesk_default=int(i == 1), is_followup_default=int(i == 1),
                     is_mail_default=int(i == 2), is_mailfollowup_default=int(i == 2), is_active=1,
                     is_ticketheader=1, is_itilfollowup=1, date_mod=created_at, date_creation=created_at)
                for i, n in REQUEST_TYPES])
            con.execute(md.tables["glpi_groups"].insert(), [
                dict(id=gid, name=cal.services[code].name, completename=cal.services[code].name, level=1,
                     date_mod=created_at, date_creation=created_at) for gid, code in groups.items()])
            con.execute(md.tables["glpi_itilcategories"].insert(), [
                dict(id=cid, name=name, itilcategories_id=parent, level=2 if parent else 1,
                     completename=f"{categories[parent][0]} > {name}" if parent else name,
                     groups_id=group_of_service.get(code or "", 0), date_mod=created_at, date_creation=created_at)
                for cid, (name, parent, code) in sorted(categories.items())])
            con.execute(md.tables["glpi_users"].insert(), users)
            for name, table_rows in rows.items():
                if table_rows:
                    con.execute(md.tables[name].insert(), table_rows)
            # GLPI 10's keys on what Vigie reads by, and on SQLite the expression indexes of
            # the connector's window (as a real GLPI is indexed: a night reads the night's rows),
            # then their statistics, as MariaDB keeps them by itself: without them SQLite's
            # planner prefers any equality key (itemtype = 'Ticket', is_deleted = 0,
            # id_search_option = 12: nearly every row) to the night's window on a date.
            create_glpi_indexes(con, md)
            con.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    set_mtime(path, cutoff - 1)
    return {"path": str(path), "tickets": len(tickets),
            "by_request_type": dict(sorted(by_type.items())),
            "by_status": {str(k): v for k, v in sorted(status_count.items())},
            "rows": {k: len(v) for k, v in rows.items()}}


@dataclass(frozen=True)
class _People:
    """Who a new ticket can be assigned to and come from, per service."""

    group_of_service: dict[str, int]
    cats_by_service: dict[str, list[int]]
    techs: dict[str, list[int]]
    citizen_ids: list[int]

    def ticket(self, rng: random.Random, code: str, reqtype: int, opened: int, *, grouped: bool = True) -> _Ticket:
        group = self.group_of_service.get(code) if grouped else None
        return _new_ticket(rng, code, group, self.cats_by_service, self.techs, self.citizen_ids, reqtype, opened)


def _categories(cfg: VigieConfig, src: GlpiSqlSource) -> dict[int, tuple[str, int, str | None]]:
    """id -> (name, parent, service): the configured categories, one per other service, and an
    unmapped sub-category of TECHNIQUE."""
    categories: dict[int, tuple[str, int, str | None]] = {}
    for cid, code in sorted(src.categories.items()):
        categories[cid] = (CATEGORY_NAMES.get(code, code.title()), 0, code)
    next_cat = max([*categories, 9]) + 1
    for code in [s.code for s in cfg.services]:
        if code not in {c[2] for c in categories.values()}:
            categories[next_cat] = (CATEGORY_NAMES.get(code, code.title()), 0, code)
            next_cat += 1
    tech_parent = next((cid for cid, c in categories.items() if c[2] == "TECHNIQUE"), None)
    if tech_parent is not None:  # a sub-category, not mapped in the configuration
        categories[next_cat] = ("Éclairage public", tech_parent, "TECHNIQUE")
    return categories


def _people(
    cfg: VigieConfig, rng: random.Random, scale: float, created_at: str | None
) -> tuple[list[dict], dict[str, list[int]], dict[int, str], list[int]]:
    """GLPI users: the admin, two agents per service, the citizens. Returns (user rows, agent ids
    per service, name per user id, citizen ids)."""
    users: list[dict] = [dict(id=2, name="glpi", realname=None, firstname=None, authtype=1, profiles_id=4,
                              is_active=1, date_creation=created_at, date_mod=created_at)]
    techs: dict[str, list[int]] = {}
    tech_name: dict[int, str] = {2: "glpi"}
    uid = 10
    for code in [s.code for s in cfg.services]:
        techs[code] = []
        for _ in range(2):
            first, last = person_name(rng)
            login = f"{ascii_slug(first)[0]}.{ascii_slug(last).replace('.', '-')}{uid}"
            users.append(dict(id=uid, name=login, realname=last, firstname=first, authtype=1, profiles_id=6,
                              is_active=1, date_creation=created_at, date_mod=created_at))
            techs[code].append(uid)
            tech_name[uid] = f"{first} {last}"
            uid += 1
    citizen_ids: list[int] = []
    n_citizens = max(60, int(700 * scale))
    for k in range(n_citizens):
        cid_ = 1000 + k
        first, last = person_name(rng)
        users.append(dict(id=cid_, name=f"usager{cid_:06d}", realname=last, firstname=first, authtype=1,
                          profiles_id=1, is_active=1, date_creation=created_at, date_mod=created_at))
        citizen_ids.append(cid_)
        tech_name[cid_] = f"{first} {last}"
    return users, techs, tech_name, citizen_ids


def _ticket_minute(rng: random.Random, cal: DemoCalendar, code: str, day: dt.date, reqtype: int,
                   closed: bool) -> tuple[int, float]:
    """(request type, minute of the day) of a new ticket: calls and visits in opening hours,
    letters when the mail room registers them, the rest mostly in the day."""
    ranges = cal.opening_ranges(code, day)
    if reqtype in (3, 4) and not ranges:
        reqtype = 1  # nobody takes a call or a visit on a closed day: online instead
    if reqtype == 5 and closed:
        reqtype = 2
    if reqtype in (3, 4):
        a, b = rng.choice(ranges)
        return reqtype, rng.uniform(a, b - 1)
    if reqtype == 5:
        return reqtype, rng.uniform(9 * 60, 11 * 60 + 30)  # the mail room registers letters
    return reqtype, rng.uniform(7 * 60, 23 * 60) if rng.random() < 0.85 else rng.uniform(0, 7 * 60)


def _daily_tickets(cfg: VigieConfig, cal: DemoCalendar, rng: random.Random, days: list[dt.date],
                   scale: float, people: _People) -> list[_Ticket]:
    """Every service's tickets of every day, by the weekday's volume and the request types' mix."""
    tickets: list[_Ticket] = []
    weights = list(TYPE_WEIGHTS.values())
    type_ids = list(TYPE_WEIGHTS)
    for code in [s.code for s in cfg.services]:
        base = TICKET_BASE.get(code, DEFAULT_TICKET_BASE)
        for day in days:
            closed = day.weekday() >= 5 or cal.is_closed_day(code, day)
            factor = DAY_FACTOR[day.weekday()] if not cal.is_closed_day(code, day) else 0.3
            n = round(base * factor * scale * rng.uniform(0.8, 1.2))
            for _ in range(n):
                reqtype, minute = _ticket_minute(rng, cal, code, day, rng.choices(type_ids, weights)[0], closed)
                tickets.append(people.ticket(rng, code, reqtype, cal.epoch(day, minute)))
    return tickets


def _scripted_tickets(cfg: VigieConfig, src: GlpiSqlSource, cal: DemoCalendar, rng: random.Random,
                      days: list[dt.date], end: dt.date, people: _People) -> list[_Ticket]:
    """Scripted edge cases (independent of the scale): tickets on the business day before each
    collectivité-wide closure, a Friday-evening ticket answered on Saturday, a ticket without a
    group."""
    scripted: list[_Ticket] = []
    for day in days:  # the business day before each collectivité-wide closure
        nxt = day + dt.timedelta(days=1)
        if day.weekday() < 5 and not cal.is_closed_day("", day) and nxt <= end and nxt.weekday() < 5 \
                and (nxt in cal.holidays or nxt in cal.closures[None]):
            for code in ("URBANISME", "TECHNIQUE"):
                if code in people.techs:
                    t = people.ticket(rng, code, 1, cal.epoch(day, 16 * 60 + 40))
                    t.events.append((-1, "plan", {"response_days": 2}))
                    scripted.append(t)
    saturday_code = next((s.code for s in cfg.services if cal.services[s.code].opening_hours[0].saturday), None)
    fridays = [d for d in days if d.weekday() == 4 and not cal.is_closed_day("", d) and d + dt.timedelta(1) <= end]
    if saturday_code and fridays:
        t = people.ticket(rng, saturday_code, 1, cal.epoch(fridays[0], 17 * 60 + 50))
        t.events.append((-1, "plan", {"respond_at": cal.epoch(fridays[0] + dt.timedelta(1), 10 * 60 + 30)}))
        scripted.append(t)
    fallback_code = next((code for code in src.categories.values()), None)
    if fallback_code:  # no group: the service comes from the category mapping
        t = people.ticket(rng, fallback_code, 1, cal.epoch(days[2], 10 * 60 + 15), grouped=False)
        t.category = next(cid for cid, code in sorted(src.categories.items()) if code == fallback_code)
        scripted.append(t)
    return scripted


def _new_ticket(rng: random.Random, code: str, group: int | None, cats: dict[str, list[int]],
                techs: dict[str, list[int]], citizens: list[int], reqtype: int, opened: int) -> _Ticket:
    options = cats.get(code, [])
    category = rng.choice(options) if options and rng.random() < 0.8 else 0
    return _Ticket(service=code, group=group, category=category, reqtype=reqtype, opened=opened,
                   requester=rng.choice(citizens), tech=rng.choice(techs[code]),
                   title=rng.choice(TITLES.get(code, ("Demande",))))


def _taken_into_account(t: _Ticket, rng: random.Random, clock: _Clock, plan: dict) -> int | None:
    """Prise en compte: at once for calls and visits (the agent types it), else office hours;
    None when nobody has looked at the ticket yet."""
    if t.reqtype in (3, 4):
        take: int | None = t.opened + rng.randint(60, 900)
    elif rng.random() < 0.06:
        take = None  # nobody has looked at it yet
    else:
        take = clock.after_business_days(t.service, t.opened, _pick(rng, ((0, 0.55), (1, 0.3), (2, 0.15))))
    if "respond_at" in plan:
        take = min(take or plan["respond_at"], plan["respond_at"])
    return take


def _first_response(t: _Ticket, rng: random.Random, clock: _Clock, plan: dict, take: int) -> int:
    """When the first answer is written: as planned for scripted tickets, soon after the call
    or visit for half of those, else after a drawn number of business days."""
    if "respond_at" in plan:
        return plan["respond_at"]
    if "response_days" in plan:
        return clock.after_business_days(t.service, t.opened, plan["response_days"])
    if t.reqtype in (3, 4) and rng.random() < 0.5:
        return take + rng.randint(60, 600)
    return clock.after_business_days(t.service, t.opened, _pick(rng, RESPONSE_DELAYS))


def _simulate(t: _Ticket, rng: random.Random, clock: _Clock, cutoff: int) -> None:
    """Lay out the ticket's events in time (some fall after the cutoff and are dropped later)."""
    plan = next((d for e, k, d in t.events if k == "plan"), {})
    t.events = []
    code = t.service
    ev = t.events.append
    take = _taken_into_account(t, rng, clock, plan)
    if take is None:
        return
    ev((take, "status", {"new": 2, "by": t.tech}))
    if rng.random() < 0.12:  # the requester adds something before any answer
        ev((t.opened + rng.randint(3600, 2 * 86400), "followup", {"by": t.requester, "private": 0}))
    respond = max(_first_response(t, rng, clock, plan, take), take + 30)
    if rng.random() < 0.3:
        note = max(t.opened + 60, respond - rng.randint(600, 7200))
        ev((note, "followup", {"by": t.tech, "private": 1}))  # internal note
    if rng.random() < 0.25:
        ev((respond + rng.randint(600, 86400), "task", {"by": t.tech, "private": int(rng.random() < 0.8)}))
    r = rng.random() if not plan else 0.5  # scripted tickets: a public answer at the planned time
    now = respond
    if r < 0.12:  # waiting for the citizen: pending, then back (or still pending at the end)
        ev((respond, "followup", {"by": t.tech, "private": 0}))
        ev((respond + 1, "status", {"new": 4, "by": t.tech}))
        back = respond + rng.randint(1, 8) * 86400 + rng.randint(0, 36000)
        if rng.random() < 0.75:
            ev((back, "followup", {"by": t.requester, "private": 0}))
            ev((back + 1, "status", {"new": 2, "by": t.requester}))
            now = back
        else:
            return
    elif r < 0.75:
        ev((respond, "followup", {"by": t.tech, "private": 0}))
    else:
        pass  # the solution itself is the first answer
    if rng.random() < 0.1 and r < 0.75:
        return  # answered but never solved within the demo
    solve = clock.after_business_days(code, now, _pick(rng, ((0, 0.4), (1, 0.25), (3, 0.2), (7, 0.15))))
    solve = max(solve, now + 60)
    ev((solve, "solution", {"by": t.tech}))
    ev((solve, "status", {"new": 5, "by": t.tech}))
    close = solve + 7 * 86400  # GLPI's automatic closure of solved tickets after 7 days
    ev((close, "status", {"new": 6, "by": 0}))
    if rng.random() < 0.6:  # satisfaction survey sent at closure
        answered = close + rng.randint(600, 4 * 86400) if rng.random() < 0.55 else None
        ev((close, "survey", {"answered": answered, "score": _pick(rng, SAT_SCORES)}))


def _emit(t: _Ticket, rows: dict[str, list[dict]], ts: Callable[[int | None], str | None],
          names: dict[int, str], cutoff: int,
          status_count: Counter[int]) -> None:
    events = sorted((e for e in t.events if e[0] < cutoff), key=lambda e: e[0])
    status, last, last_by = 1, t.opened, t.requester
    take = solve = close = begin_wait = None
    waiting = 0
    logs = rows["glpi_logs"]
    logs.append(dict(itemtype="Ticket", items_id=t.id, itemtype_link="", linked_action=20,
                     user_name=f"{names[t.requester]} ({t.requester})", date_mod=ts(t.opened),
                     id_search_option=0, old_value="", new_value=""))
    for epoch, kind, d in events:
        by = d.get("by", 0)
        if kind == "status":
            new = d["new"]
            logs.append(dict(itemtype="Ticket", items_id=t.id, itemtype_link="", linked_action=0,
                             user_name="cron_closeticket" if by == 0 else f"{names[by]} ({by})",
                             date_mod=ts(epoch), id_search_option=12, old_value=str(status), new_value=str(new)))
            if new == 2 and take is None:
                take = epoch
            if new == 4:
                begin_wait = epoch
            if status == 4 and new != 4 and begin_wait is not None:
                waiting += epoch - begin_wait
                begin_wait = None
            if new == 5:
                solve = epoch
            if new == 6:
                close = epoch
            status = new
        elif kind == "followup":
            rows["glpi_itilfollowups"].append(dict(
                itemtype="Ticket", items_id=t.id, date=ts(epoch), users_id=by, users_id_editor=0,
                content="<p>Suite à votre demande, voici les éléments.</p>" if by != t.requester
                else "<p>Je complète ma demande.</p>", is_private=d["private"],
                requesttypes_id=1 if by == t.requester else t.reqtype if t.reqtype != 5 else 6,
                date_mod=ts(epoch), date_creation=ts(epoch), timeline_position=1 if by == t.requester else 4))
        elif kind == "task":
            rows["glpi_tickettasks"].append(dict(
                uuid=f"{t.id:08x}-demo-{len(rows['glpi_tickettasks']):06d}", tickets_id=t.id, date=ts(epoch),
                users_id=by, users_id_editor=0, content="<p>Intervention planifiée.</p>",
                is_private=d["private"], actiontime=1800, state=2, users_id_tech=by,
                groups_id_tech=t.group or 0, date_mod=ts(epoch), date_creation=ts(epoch), timeline_position=4))
        elif kind == "solution":
            rows["glpi_itilsolutions"].append(dict(
                itemtype="Ticket", items_id=t.id, solutiontypes_id=0, content="<p>Demande traitée.</p>",
                date_creation=ts(epoch), date_mod=ts(epoch), users_id=by, user_name=names[by], status=3,
                date_approval=None))
        elif kind == "survey":
            answered = d["answered"] if d["answered"] is not None and d["answered"] < cutoff else None
            rows["glpi_ticketsatisfactions"].append(dict(
                tickets_id=t.id, type=1, date_begin=ts(epoch), date_answered=ts(answered),
                satisfaction=d["score"] if answered else None,
                comment="Merci pour votre réactivité." if answered and d["score"] >= 4 else None))
            if answered:
                epoch = answered
        last, last_by = max(last, epoch), by
    status_count[status] += 1
    rows["glpi_tickets"].append(dict(
        id=t.id, entities_id=0, name=t.title, date=ts(t.opened), closedate=ts(close), solvedate=ts(solve),
        takeintoaccountdate=ts(take), date_mod=ts(last), users_id_lastupdater=last_by, status=status,
        users_id_recipient=t.requester if t.reqtype in (1, 2) else t.tech, requesttypes_id=t.reqtype,
        content="<p>Bonjour, je vous sollicite au sujet de ma demande.</p>", urgency=3, impact=3, priority=3,
        itilcategories_id=t.category, type=2, begin_waiting_date=ts(begin_wait) if status == 4 else None,
        waiting_duration=waiting, close_delay_stat=(close - t.opened) if close else 0,
        solve_delay_stat=(solve - t.opened - waiting) if solve else 0,
        takeintoaccount_delay_stat=(take - t.opened) if take else 0, is_deleted=int(t.deleted),
        date_creation=ts(t.opened)))
    rows["glpi_tickets_users"].append(dict(tickets_id=t.id, users_id=t.requester, type=1, use_notification=1))
    if take is not None:
        rows["glpi_tickets_users"].append(dict(tickets_id=t.id, users_id=t.tech, type=2, use_notification=1))
    if t.group is not None:
        rows["glpi_groups_tickets"].append(dict(tickets_id=t.id, groups_id=t.group, type=2))
