"""Demo mailboxes: a Maildir++ tree per service mailbox, INBOX and Sent, RFC 5322 messages.

Each mailbox gets citizen threads (a request, sometimes a reminder, the service's reply early,
late or never), the service's automatic acknowledgement where the mailbox has one, citizens'
out-of-office replies, a bounce, a newsletter and messages from colleagues: everything the
email rules of domain.md §5 must tell apart. Delivery time is the leading epoch of the Maildir
file name (and the file's mtime); the Date header is the sender's clock (one is deliberately
wrong). Volumes and scripted edge cases: DECISIONLOG.md.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr
from functools import lru_cache
from pathlib import Path

from vigie.config import Mailbox, MaildirSource, VigieConfig
from vigie.demo.calendar_helpers import DemoCalendar, days_between
from vigie.demo.identities import CitizenPool, ascii_slug, person_name
from vigie.demo.output import reset_dir, set_mtime

# New citizen threads on an ordinary weekday at scale 1 (with replies, acknowledgements,
# reminders and the rest, about 40 messages a day over the four demo mailboxes).
THREAD_BASE = {"ETAT_CIVIL": 5, "URBANISME": 3, "CCAS": 3, "ENFANCE": 3}
DEFAULT_THREAD_BASE = 3
DAY_FACTOR = (1.4, 1.0, 1.0, 1.0, 0.9, 0.35, 0.25)
CLOSED_WEEKDAY_FACTOR = 0.6  # citizens write on holidays too
AUTO_ACK_SERVICES = {"ETAT_CIVIL", "CCAS"}  # the others: first mailbox of two (other configurations)
# Business days from receipt to the reply, and how often each happens.
REPLY_DELAYS = ((0, 0.27), (1, 0.32), (2, 0.15), (3, 0.08), (4, 0.04), (5, 0.02), (6, 0.03), (7, 0.03),
                (9, 0.02))
UNANSWERED_SHARE = 0.07
HOST = "mail.val-de-vigie.fr"

SUBJECTS = {
    "ETAT_CIVIL": ("Demande d'acte de naissance", "Copie intégrale d'acte de mariage",
                   "Rendez-vous carte d'identité", "Renouvellement de passeport",
                   "Déclaration de reconnaissance anticipée", "Livret de famille perdu",
                   "Attestation de changement de nom", "Extrait d'acte de décès"),
    "URBANISME": ("Déclaration préalable de travaux", "Permis de construire : pièces complémentaires",
                  "Certificat d'urbanisme", "Question sur le PLU", "Clôture en limite de propriété",
                  "Abri de jardin : autorisation ?"),
    "CCAS": ("Demande d'aide alimentaire", "Portage de repas à domicile", "Dossier d'aide sociale",
             "Téléassistance pour ma mère", "Rendez-vous avec une assistante sociale",
             "Colis de Noël des aînés"),
    "ENFANCE": ("Inscription à la cantine", "Inscription scolaire rentrée 2027",
                "Facture du périscolaire", "Centre de loisirs des vacances de Noël",
                "Dérogation de secteur scolaire", "Allergie alimentaire : PAI"),
}
GENERIC_SUBJECTS = ("Demande de renseignement", "Question sur un dossier", "Réclamation",
                    "Prise de rendez-vous")
OPENINGS = ("Bonjour,", "Madame, Monsieur,", "Bonjour Madame, Monsieur,")
REQUESTS = (
    "Je me permets de vous écrire au sujet de ma demande.\nPourriez-vous m'indiquer la marche à "
    "suivre et les pièces à fournir ?",
    "Je souhaiterais savoir où en est mon dossier, déposé il y a quelques semaines.",
    "Pouvez-vous me dire si un rendez-vous est possible la semaine prochaine ?",
    "Je vous joins les informations demandées et reste disponible pour tout complément.",
)
REMINDERS = ("Je me permets de vous relancer, n'ayant pas eu de retour à mon précédent message.",
             "Sans nouvelles de votre part, je renouvelle ma demande ci-dessous.")
REPLIES = (
    "Nous avons bien reçu votre demande. Vous trouverez les informations utiles ci-dessous ; "
    "n'hésitez pas à nous recontacter.",
    "Votre dossier est complet et sera traité dans les prochains jours.",
    "Il nous manque un justificatif de domicile de moins de trois mois pour donner suite.",
    "Un rendez-vous vous est proposé ; merci de nous confirmer votre disponibilité.",
)


@dataclass
class _Msg:
    folder: str  # "inbox" | "sent"
    epoch: int
    headers: list[tuple[str, str]]
    body: str
    kind: str  # request, reminder, reply, ack, auto_reply, bounce, newsletter, internal, follow_up


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.n = 0

    def message_id(self, domain: str) -> str:
        self.n += 1
        return f"<{self.rng.getrandbits(64):016x}.{self.n}@{domain}>"


@lru_cache(maxsize=8192)
def _subject(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


@lru_cache(maxsize=65536)
def _addr(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8")


def _bare(addr_header: str) -> str:
    """The addr-spec of a formatted address ('Name <a@b>' -> 'a@b')."""
    return addr_header.rsplit("<", 1)[-1].rstrip(">") if "<" in addr_header else addr_header


def _msgid_domain(address: str) -> str:
    domain = address.rsplit("@", 1)[1]
    return {"gmail.com": "mail.gmail.com", "orange.fr": "smtp.orange.fr", "free.fr": "zimbra.free.fr"}.get(
        domain, domain
    )


class _MailboxWriter:
    """Builds the messages of one mailbox; ``render`` turns them into Maildir files."""

    def __init__(self, mbox: Mailbox, cal: DemoCalendar, rng: random.Random, ids: _Ids, pool: CitizenPool,
                 internal_domain: str, cutoff: int, auto_ack: bool) -> None:
        self.mbox = mbox
        self.cal = cal
        self.rng = rng
        self.ids = ids
        self.pool = pool
        self.cutoff = cutoff
        self.auto_ack = auto_ack
        self.internal_domain = internal_domain
        self.address = mbox.address or f"{mbox.name}@{internal_domain}"
        self.display = f"{cal.services[mbox.service].name} - Mairie"
        self.msgs: list[_Msg] = []
        self.stats: Counter[str] = Counter()

    # -- building blocks ---------------------------------------------------------------
    def _date(self, epoch: int, skew: int = 0) -> str:
        when = dt.datetime.fromtimestamp(epoch - skew, tz=self.cal.tz)
        return format_datetime(when)

    def add(self, folder: str, epoch: int, kind: str, *, from_: str, to: str, subject: str, body: str,
            msgid: str, in_reply_to: str | None = None, references: list[str] | None = None,
            extra: list[tuple[str, str]] | None = None, date_skew: int | None = None) -> bool:
        if epoch >= self.cutoff:
            return False
        skew = self.rng.randint(2, 40) if date_skew is None else date_skew
        headers = []
        if folder == "inbox":  # what the receiving server adds: the trustworthy receipt time
            headers += [("Return-Path", f"<{_bare(from_)}>"), ("Delivered-To", self.address),
                        ("Received", f"from {_msgid_domain(_bare(from_))} by {HOST} (Postfix) with ESMTPS; "
                                     f"{self._date(epoch, 0)}")]
        headers += [("Message-ID", msgid), ("Date", self._date(epoch, skew)), ("From", from_), ("To", to),
                   ("Subject", _subject(subject))]
        if in_reply_to:
            headers.append(("In-Reply-To", in_reply_to))
        if references:
            headers.append(("References", " ".join(references)))
        headers += [("MIME-Version", "1.0"), ("Content-Type", 'text/plain; charset="utf-8"'),
                    ("Content-Transfer-Encoding", "8bit")]
        headers += extra or []
        self.msgs.append(_Msg(folder, epoch, headers, body, kind))
        self.stats[f"{folder}:{kind}"] += 1
        return True

    def _reply_epoch(self, received: int, day0: dt.date, n_days: int) -> int:
        """A moment of the n-th business day after receipt, in opening hours mostly."""
        code = self.mbox.service
        day = self.cal.add_business_days(code, day0, n_days)
        ranges = self.cal.opening_ranges(code, day) or [(9 * 60, 12 * 60), (14 * 60, 17 * 60)]
        if self.rng.random() < 0.08:
            minute = self.rng.uniform(18 * 60, 20 * 60 + 30)  # an agent answering in the evening
        else:
            a, b = self.rng.choice(ranges)
            minute = self.rng.uniform(a, b - 1)
        epoch = self.cal.epoch(day, minute)
        if epoch <= received + 600:
            epoch = received + self.rng.randint(15 * 60, 150 * 60)
        return epoch

    def _drawn_reply(self, received: int, day0: dt.date, reply_days: int | None) -> int | None:
        """When the service answers a message received at ``received`` (None: never), drawn
        unless ``reply_days`` fixes the delay."""
        if reply_days is None:
            if self.rng.random() < UNANSWERED_SHARE:
                return None
            reply_days = self.rng.choices([d for d, _ in REPLY_DELAYS], [w for _, w in REPLY_DELAYS])[0]
        return self._reply_epoch(received, day0, reply_days or 0)

    # -- a citizen thread --------------------------------------------------------------
    def thread(self, received: int, *, reply_days: int | None = None, reply_at: int | None = None,
               unanswered: bool = False, reminder: bool | None = None, date_skew: int | None = None) -> None:
        rng = self.rng
        first, last, _phone, address = self.pool.pick()
        name = f"{first} {last}"
        subject = rng.choice(SUBJECTS.get(self.mbox.service, GENERIC_SUBJECTS))
        citizen = _addr(name, address)
        service = _addr(self.display, self.address)
        cid = self.ids.message_id(_msgid_domain(address))
        body = f"{rng.choice(OPENINGS)}\n\n{rng.choice(REQUESTS)}\n\nCordialement,\n{name}\n"
        if not self.add("inbox", received, "request", from_=citizen, to=self.address, subject=subject, body=body,
                        msgid=cid, date_skew=date_skew):
            return
        self.stats["threads"] += 1
        day0 = dt.datetime.fromtimestamp(received, tz=self.cal.tz).date()
        if self.auto_ack:
            self.add("sent", received + rng.randint(20, 90), "ack", from_=service, to=citizen,
                     subject=f"Accusé de réception : {subject}",
                     body="Bonjour,\n\nNous accusons réception de votre message, qui sera traité dans "
                          "les meilleurs délais.\n\nCeci est un message automatique, merci de ne pas y répondre.\n",
                     msgid=self.ids.message_id(self.internal_domain), in_reply_to=cid, references=[cid],
                     extra=[("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")])
        if reply_at is None and not unanswered:
            reply_at = self._drawn_reply(received, day0, reply_days)
            unanswered = reply_at is None
        if reminder is None:
            late = unanswered or (reply_at is not None and reply_at - received > 5 * 86400)
            reminder = rng.random() < (0.5 if late else 0.06)
        last_id, refs = cid, [cid]
        if reminder:
            horizon = (reply_at if reply_at is not None else received + 9 * 86400) - received
            when = received + int(horizon * rng.uniform(0.4, 0.85))
            rid = self.ids.message_id(_msgid_domain(address))
            if self.add("inbox", when, "reminder", from_=citizen, to=self.address, subject=f"RE : {subject}",
                        body=f"{rng.choice(OPENINGS)}\n\n{rng.choice(REMINDERS)}\n\n{name}\n",
                        msgid=rid, in_reply_to=cid, references=[cid]):
                last_id, refs = rid, [cid, rid]
        if reply_at is None:
            self.stats["unanswered"] += 1
            return
        sid = self.ids.message_id(self.internal_domain)
        agent_first, agent_last = person_name(rng)
        if not self.add("sent", reply_at, "reply", from_=service, to=citizen, subject=f"RE : {subject}",
                        body=f"Bonjour {name},\n\n{rng.choice(REPLIES)}\n\nBien cordialement,\n"
                             f"{agent_first} {agent_last}\n{self.display}\n",
                        msgid=sid, in_reply_to=last_id, references=refs):
            self.stats["pending_at_end"] += 1
            return
        self.stats["answered"] += 1
        if reply_at - received > 7 * 86400:
            self.stats["answered_after_7_days"] += 1
        r = rng.random()
        if r < 0.04:  # the citizen is away: an out-of-office answer to the service's reply
            self.add("inbox", reply_at + rng.randint(5, 90), "auto_reply", from_=citizen, to=self.address,
                     subject=f"Absence du bureau : RE : {subject}",
                     body="Bonjour,\n\nJe suis absent(e) jusqu'au 30 novembre inclus et lirai votre message "
                          "à mon retour.\n",
                     msgid=self.ids.message_id(_msgid_domain(address)), in_reply_to=sid,
                     references=[*refs, sid], extra=[("Auto-Submitted", "auto-replied")])
        elif r < 0.14:  # the citizen answers back: a new request in the same thread
            follow = reply_at + rng.randint(3 * 3600, 3 * 86400)
            fid = self.ids.message_id(_msgid_domain(address))
            if self.add("inbox", follow, "follow_up", from_=citizen, to=self.address,
                        subject=f"RE : RE : {subject}",
                        body=f"Bonjour,\n\nMerci pour votre réponse. J'ai encore une question.\n\n{name}\n",
                        msgid=fid, in_reply_to=sid, references=[*refs, sid]) and rng.random() < 0.7:
                fday = dt.datetime.fromtimestamp(follow, tz=self.cal.tz).date()
                self.add("sent", self._reply_epoch(follow, fday, rng.choice((0, 1, 1, 2))), "reply",
                         from_=service, to=citizen, subject=f"RE : RE : {subject}",
                         body="Bonjour,\n\nVoici la précision demandée.\n\nBien cordialement,\n",
                         msgid=self.ids.message_id(self.internal_domain), in_reply_to=fid,
                         references=[*refs, sid, fid])

    # -- other traffic -----------------------------------------------------------------
    def internal(self, received: int) -> None:
        first, last = person_name(self.rng)
        addr = f"{ascii_slug(first)}.{ascii_slug(last)}@{self.internal_domain}"
        mid = self.ids.message_id(self.internal_domain)
        subject = self.rng.choice(("Dossier transmis par l'accueil", "Réunion de service jeudi",
                                   "Point sur les demandes en attente", "Congés de fin d'année"))
        if self.add("inbox", received, "internal", from_=_addr(f"{first} {last}", addr), to=self.address,
                    subject=subject, body=f"Bonjour,\n\nPour information.\n\n{first}\n", msgid=mid) \
                and self.rng.random() < 0.6:
            self.add("sent", received + self.rng.randint(600, 20000), "reply",
                     from_=_addr(self.display, self.address), to=addr, subject=f"RE : {subject}",
                     body="Merci, bien noté.\n", msgid=self.ids.message_id(self.internal_domain),
                     in_reply_to=mid, references=[mid])

    def newsletter(self, received: int) -> None:
        self.add("inbox", received, "newsletter",
                 from_=_addr("La lettre des territoires", "lettre@info-territoires.example"), to=self.address,
                 subject="La lettre des territoires : l'actualité de la semaine",
                 body="Au sommaire cette semaine : finances locales, urbanisme, action sociale.\n",
                 msgid=self.ids.message_id("info-territoires.example"),
                 extra=[("List-Id", "La lettre des territoires <lettre.info-territoires.example>"),
                        ("List-Unsubscribe", "<mailto:desinscription@info-territoires.example>"),
                        ("Precedence", "bulk")])

    def bounce(self, after: int) -> None:
        """A reply to a mistyped address, and the MAILER-DAEMON report that comes back."""
        first, last = person_name(self.rng)
        wrong = f"{ascii_slug(first)}.{ascii_slug(last)}.{self.rng.randrange(1000, 10000)}@ornage.fr"
        sid = self.ids.message_id(self.internal_domain)
        if self.add("sent", after, "reply", from_=_addr(self.display, self.address), to=wrong,
                    subject="RE : Votre demande", body="Bonjour,\n\nVoici la réponse à votre demande.\n",
                    msgid=sid):
            self.add("inbox", after + self.rng.randint(3, 30), "bounce",
                     from_=_addr("Mail Delivery System", f"MAILER-DAEMON@{HOST}"), to=self.address,
                     subject="Undelivered Mail Returned to Sender",
                     body=f"This is the mail system at host {HOST}.\n\nI'm sorry to have to inform you that "
                          f"your message could not be delivered to one or more recipients.\n\n<{wrong}>: "
                          "Host or domain name not found.\n",
                     msgid=self.ids.message_id(HOST), in_reply_to=sid,
                     extra=[("Auto-Submitted", "auto-replied")])

    # -- files -------------------------------------------------------------------------
    def render(self, root: Path, last_day_evening: int) -> dict[str, int]:
        inbox_name = self.mbox.inbox
        folders = {"inbox": root if inbox_name.upper() == "INBOX" else root / f".{inbox_name}",
                   "sent": root / f".{self.mbox.sent}"}
        for f in folders.values():
            for sub in ("cur", "new", "tmp"):
                (f / sub).mkdir(parents=True, exist_ok=True)
            if f != root:  # Maildir++ marks subfolders with an empty 'maildirfolder' file
                (f / "maildirfolder").touch()
                set_mtime(f / "maildirfolder", min((m.epoch for m in self.msgs), default=0))
        counts: Counter[str] = Counter()
        for q, m in enumerate(sorted(self.msgs, key=lambda m: (m.epoch, m.folder, m.headers[0][1])), start=1):
            head = "".join(f"{k}: {v}\n" for k, v in m.headers)
            data = (head + "\n" + m.body).encode("utf-8")
            usec = self.rng.randrange(1_000_000)
            base = f"{m.epoch}.M{usec}P{4000 + q % 3000}Q{q}.{HOST},S={len(data)}"
            unread = m.folder == "inbox" and m.epoch >= last_day_evening
            path = folders[m.folder] / ("new" if unread else "cur") / (base if unread else base + ":2,S")
            path.write_bytes(data)
            set_mtime(path, m.epoch)
            counts[m.folder] += 1
        return dict(counts)


def _received_epoch(rng: random.Random, cal: DemoCalendar, code: str, day: dt.date) -> int:
    if day.weekday() < 5 and not cal.is_closed_day(code, day):
        r = rng.random()
        minute = (rng.uniform(8 * 60, 18 * 60) if r < 0.75 else rng.uniform(18 * 60, 23 * 60 + 50)
                  if r < 0.95 else rng.uniform(5, 8 * 60))
    else:
        minute = rng.uniform(8 * 60, 22 * 60)
    return cal.epoch(day, minute)


def generate_email(cfg: VigieConfig, src: MaildirSource, cal: DemoCalendar, start: dt.date, end: dt.date,
                   scale: float, seed: int) -> dict:
    """Write every mailbox of ``src``; return counts per mailbox and folder."""
    root = cfg.path(src.path)
    reset_dir(root)
    internal_domain = (cfg.collectivite.internal_email_domains or ["mairie.example"])[0]
    cutoff = cal.epoch(end + dt.timedelta(days=1), 0)
    last_evening = cal.epoch(end, 18 * 60)
    days = days_between(start, end)
    ids = _Ids(random.Random(f"{seed}:email:ids"))
    pool = CitizenPool(random.Random(f"{seed}:email:people"), max(50, int(800 * scale)))
    summary: dict[str, dict] = {}
    closed_blocks = _closed_weekday_blocks(cal, days)
    fridays = [d for d in days if d.weekday() == 4 and d not in cal.holidays]
    saturdays = [d for d in days if d.weekday() == 5]
    for i, mbox in enumerate(src.mailboxes):
        rng = random.Random(f"{seed}:email:{mbox.name}")
        code = mbox.service
        auto_ack = code in AUTO_ACK_SERVICES if any(m.service in AUTO_ACK_SERVICES for m in src.mailboxes) \
            else i % 2 == 0
        w = _MailboxWriter(mbox, cal, rng, ids, pool, internal_domain, cutoff, auto_ack)
        base = THREAD_BASE.get(code, DEFAULT_THREAD_BASE)
        for day in days:
            factor = DAY_FACTOR[day.weekday()]
            if day.weekday() < 5 and cal.is_closed_day(code, day):
                factor = CLOSED_WEEKDAY_FACTOR
            n = round(base * factor * scale * rng.uniform(0.8, 1.2))
            for _ in range(n):
                w.thread(_received_epoch(rng, cal, code, day))
            if rng.random() < 0.4 * scale:
                w.internal(_received_epoch(rng, cal, code, day) if day.weekday() < 5 else cal.epoch(day, 600))
            if day.weekday() == 1:
                w.newsletter(cal.epoch(day, 7 * 60 + 2))
        # Scripted edge cases (DECISIONLOG.md), independent of the scale.
        for before, _block in closed_blocks:  # a request the business day before each closure
            w.thread(cal.epoch(before, 16 * 60 + 20 + i), reply_days=2)
        if i == 0 and fridays:
            fri = fridays[0]
            w.thread(cal.epoch(fri, 19 * 60 + 42), reply_days=1)  # Friday evening -> Monday
            sat = fri + dt.timedelta(days=1)
            w.thread(cal.epoch(fri, 15 * 60 + 10), reply_at=cal.epoch(sat, 10 * 60 + 12))  # answered Saturday
            w.thread(cal.epoch(fri, 11 * 60 + 5), reply_days=1, date_skew=2 * 3600)  # sender clock 2 h late
        if i == 1 % len(src.mailboxes) and saturdays:
            w.thread(cal.epoch(saturdays[0], 10 * 60 + 30), reply_days=1)  # Saturday -> Monday + 1
        if i == 0:
            for k in range(max(1, round(scale))):
                bday = days[min(len(days) - 1, 3 + 7 * k)]
                w.bounce(cal.epoch(bday, 14 * 60 + 5))
        mroot = root / mbox.path
        files = w.render(mroot, last_evening)
        summary[mbox.name] = {"service": code, "folders": files,
                              **{k: v for k, v in sorted(w.stats.items())}}
    return {"path": str(root), "mailboxes": summary,
            "messages": sum(sum(m["folders"].values()) for m in summary.values())}


def _closed_weekday_blocks(cal: DemoCalendar, days: list[dt.date]) -> list[tuple[dt.date, list[dt.date]]]:
    """(business day before, [closed weekdays]) for each run of collectivité-wide closed weekdays."""
    blocks: list[tuple[dt.date, list[dt.date]]] = []
    run: list[dt.date] = []
    for d in days:
        closed = d.weekday() < 5 and (d in cal.holidays or d in cal.closures[None])
        if closed:
            run.append(d)
        elif run and d.weekday() < 5:
            before = run[0] - dt.timedelta(days=1)
            while before.weekday() >= 5 or before in cal.holidays or before in cal.closures[None]:
                before -= dt.timedelta(days=1)
            if before >= days[0]:
                blocks.append((before, run))
            run = []
    return blocks
