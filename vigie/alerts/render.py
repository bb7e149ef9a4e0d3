"""Words and layout of a digest, French by default (alerts.language: 'en' available).

Every data-derived string (service names, commitment labels, request references) reaches the
HTML through Jinja2 with autoescape on; the plain-text part uses the same prepared lines.
Requests appear by their short reference (GLPI-1234, MEL-9f8e7d6c), never by an identity:
the marts hold none.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from vigie.alerts.collect import BREACH, RECOVERED, Alert
from vigie.percent import percent_shown, points_below

if TYPE_CHECKING:
    import jinja2  # imported lazily at run time

MAX_ITEMS_PER_SECTION = 50

MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}  # fmt: skip

# (singular, plural) per unit. French takes the singular below 2 ("1,5 jour ouvré").
UNITS = {
    "fr": {"business_days": ("jour ouvré", "jours ouvrés"),
           "working_days": ("jour ouvrable", "jours ouvrables"),
           "calendar_days": ("jour calendaire", "jours calendaires"),
           "weeks": ("semaine", "semaines"),
           "business_minutes": ("minute ouvrée", "minutes ouvrées"),
           "business_hours": ("heure ouvrée", "heures ouvrées"),
           "seconds": ("seconde", "secondes")},
    "en": {"business_days": ("business day", "business days"),
           "working_days": ("working day", "working days"),
           "calendar_days": ("calendar day", "calendar days"),
           "weeks": ("week", "weeks"),
           "business_minutes": ("business minute", "business minutes"),
           "business_hours": ("business hour", "business hours"),
           "seconds": ("second", "seconds")},
}  # fmt: skip

WORDS = {
    "fr": {
        "breach": ("engagement manqué", "engagements manqués"),
        "overdue": ("demande en retard", "demandes en retard"),
        "missed": ("réponse hors délai", "réponses hors délai"),
        "hello": "Bonjour,",
        "intro": "Voici ce que Vigie a relevé pour la journée du {night} (situation au {as_of}).",
        "sec_breach": "Engagements non tenus",
        "sec_overdue": "Demandes sans réponse, délai dépassé",
        "sec_missed": "Réponses données hors délai",
        "breach_line": "{label} — {period} : {rate} ({num} sur {den}) pour un seuil de {threshold}, soit {gap:point|points} en dessous.",
        "overdue_line": "{ref} ({label}) — reçue le {received}, échéance le {deadline} : sans réponse après {elapsed} pour un objectif de {target} (+{over}).",
        "missed_line": "{ref} ({label}) — reçue le {received}, réponse le {responded} : {elapsed} pour un objectif de {target} (+{over}).",
        "recovered": ("retour dans l'engagement", "retours dans l'engagement"),
        "incomplete": ("journée de données incomplète", "journées de données incomplètes"),
        "checks": ("contrôle bloquant en échec", "contrôles bloquants en échec"),
        "sec_recovered": "De nouveau dans l'engagement",
        "sec_checks": "Contrôles bloquants en échec : ni publication ni alertes aux services pour cette nuit",
        "recovered_line": "{label} — {period} : {rate} ({num} sur {den}) pour un seuil de {threshold} : de nouveau dans l'engagement.",
        "checks_section": "Contrôles de données",
        "checks_intro": "Les contrôles de la nuit du {night} ont trouvé {n:échec bloquant|échecs bloquants} ; le détail est dans le rapport des contrôles (Data Docs) : {docs}",
        "more": "… et {n:autre|autres}.",
        "period_day": "journée du {d}",
        "period_week": "semaine du {a} au {b}",
        "period_month": "mois de {m} {y}",
        "chart_rate_one": "Taux de respect de l'engagement",
        "chart_rate_many": "Taux de respect des engagements",
        "chart_by_day": "par jour",
        "chart_by_week": "par semaine",
        "chart_by_month": "par mois",
        "chart_last_day": "{n} derniers jours",
        "chart_last_week": "{n} dernières semaines",
        "chart_last_month": "{n} derniers mois",
        "chart_since": "depuis le {d}",
        "chart_since_month": "depuis {m}",
        "chart_no_request": "aucune demande",
        "threshold": "seuil",
        "incomplete_point": "données incomplètes",
        "footer": "Message automatique de Vigie : ne pas répondre. Les demandes sont désignées par leur référence, jamais par l'identité des usagers. Seules les nouveautés sont signalées : une alerte n'est jamais envoyée deux fois.",
        "date": "{d:%d/%m/%Y}",
        # issue 11 item 4: requests findable, one line of what is expected (findable refs below)
        "withheld": ("engagement manqué retenu", "engagements manqués retenus"),
        "expected": "Ce qui est attendu de vous : traiter les demandes listées (répondre, ou clore dans l'outil ce qui a été réglé autrement) et, pour un engagement non tenu, en voir la cause avec votre équipe.",
        "earlier_items": "{n:autre demande de cette période, signalée|autres demandes de cette période, signalées} dans un message précédent.",
        "phone_figures": "Appels : chiffres de la période uniquement.",
        "at": "{d} à {t}",
        "ref_ticket": "ticket GLPI n° {n}",
        "ref_ticket_link": "ticket GLPI n° {n}, {url}",
        "ref_email": "{ref} de la boîte {mailbox}",
        "ref_register": "{ref}, {source}",
    },
    "en": {
        "breach": ("commitment missed", "commitments missed"),
        "overdue": ("request overdue", "requests overdue"),
        "missed": ("late reply", "late replies"),
        "hello": "Hello,",
        "intro": "Here is what Vigie found for {night} (as of {as_of}).",
        "sec_breach": "Commitments not kept",
        "sec_overdue": "Unanswered requests past their deadline",
        "sec_missed": "Replies given after the deadline",
        "breach_line": "{label} — {period}: {rate} ({num} of {den}) against a threshold of {threshold}, {gap:point|points} below.",
        "overdue_line": "{ref} ({label}) — received {received}, due {deadline}: no reply after {elapsed} for a target of {target} (+{over}).",
        "missed_line": "{ref} ({label}) — received {received}, answered {responded}: {elapsed} for a target of {target} (+{over}).",
        "recovered": ("commitment back on track", "commitments back on track"),
        "incomplete": ("day of incomplete data", "days of incomplete data"),
        "checks": ("blocking check failed", "blocking checks failed"),
        "sec_recovered": "Back within commitment",
        "sec_checks": "Blocking checks failed: nothing published nor alerted to services for this night",
        "recovered_line": "{label} — {period}: {rate} ({num} of {den}) against a threshold of {threshold}: back within commitment.",
        "checks_section": "Data checks",
        "checks_intro": "The checks of night {night} found {n:blocking failure|blocking failures}; details in the Data Docs: {docs}",
        "more": "… and {n} more.",
        "period_day": "day {d}",
        "period_week": "week {a} to {b}",
        "period_month": "{m} {y}",
        "chart_rate_one": "Compliance with the commitment",
        "chart_rate_many": "Compliance with the commitments",
        "chart_by_day": "by day",
        "chart_by_week": "by week",
        "chart_by_month": "by month",
        "chart_last_day": "last {n} days",
        "chart_last_week": "last {n} weeks",
        "chart_last_month": "last {n} months",
        "chart_since": "since {d}",
        "chart_since_month": "since {m}",
        "chart_no_request": "no request",
        "threshold": "threshold",
        "incomplete_point": "incomplete data",
        "footer": "Automatic message from Vigie: do not reply. Requests are named by their reference, never by a person's identity. Only new findings are reported: an alert is never sent twice.",
        "date": "{d:%Y-%m-%d}",
        "withheld": ("commitment miss held back", "commitment misses held back"),
        "expected": "What is expected of you: deal with the requests listed (answer them, or close in their tool what was settled otherwise) and, for a commitment not kept, look into its cause with your team.",
        "earlier_items": "{n:other request|other requests} of this period told in an earlier message.",
        "phone_figures": "Calls: period figures only.",
        "at": "{d} at {t}",
        "ref_ticket": "GLPI ticket #{n}",
        "ref_ticket_link": "GLPI ticket #{n}, {url}",
        "ref_email": "{ref} in mailbox {mailbox}",
        "ref_register": "{ref}, {source}",
    },
}


def _num(x: float, lang: str) -> str:
    text = f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"
    return text.replace(".", ",") if lang == "fr" else text


def number(x: float, lang: str) -> str:
    """'40', '5,5' / '5.5': one decimal at most, none when whole (a person writes 40, not 40,0)."""
    return _num(round(x, 1), lang)


def pct(x: float, lang: str, below: float | None = None) -> str:
    """'89,9 %' / '89.9%'; with ``below`` a breached rate never reads as its threshold."""
    value = percent_shown(x, below)
    return f"{_num(value, lang)} %" if lang == "fr" else f"{_num(value, lang)}%"


def is_singular(n: float, lang: str) -> bool:
    """French agrees in the singular below 2 ("0 demande", "1,5 jour"), English only for 1."""
    return abs(n) < 2 if lang == "fr" else abs(n) == 1


def plural(kind: str, n: float, lang: str) -> str:
    """'1 demande en retard', '2 demandes en retard': the count with its agreed words."""
    one, many = WORDS[lang][kind]
    return f"{_num(n, lang)} {one if is_singular(n, lang) else many}"


class _AgreeingFormatter(string.Formatter):
    """``{n:jour|jours}`` -> '1 jour', '2 jours' (French singular below 2, English at 1)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec and isinstance(value, int | float):
            one, many = format_spec.split("|", 1)
            return f"{_num(value, self.lang)} {one if is_singular(value, self.lang) else many}"
        return super().format_field(value, format_spec)


class Phrase(str):
    """A template whose ``format`` agrees counts with their words, so that every caller's
    ``texts.w(key).format(n=3)`` writes '3 autres' and '1 autre' without knowing the rule."""

    lang: str

    def __new__(cls, text: str, lang: str) -> Phrase:
        obj = super().__new__(cls, text)
        obj.lang = lang
        return obj

    def format(self, *args: Any, **kwargs: Any) -> str:  # str.format with agreement
        return _AgreeingFormatter(self.lang).format(str(self), *args, **kwargs)


@dataclass(frozen=True)
class Texts:
    lang: str
    tz: ZoneInfo

    def w(self, key: str) -> str:
        """The template of ``key``; its ``.format`` agrees ``{n:demande|demandes}`` with n."""
        text = WORDS[self.lang][key]
        assert isinstance(text, str), f"{key!r} is a pair of words: use plural()"
        return Phrase(text, self.lang)

    def date(self, d: dt.date | dt.datetime) -> str:
        if isinstance(d, dt.datetime):
            d = d.astimezone(self.tz).date()
        return self.w("date").format(d=d)

    def period(self, a: Alert) -> str:
        start, end = a.period_start, a.period_end
        assert start is not None and end is not None
        if a.period_grain == "day":
            return self.w("period_day").format(d=self.date(start))
        if a.period_grain == "week":
            return self.w("period_week").format(a=self.date(start), b=self.date(end - dt.timedelta(days=1)))
        return self.w("period_month").format(m=MONTHS[self.lang][start.month - 1], y=start.year)

    def when(self, local: dt.datetime | None, instant: dt.datetime | None = None) -> str:
        """'12/11/2026 à 09:14': local wall-clock time to the minute (issue 11 item 4), from the
        mart's local column, else from the UTC instant; '?' when neither is known."""
        if local is None and instant is not None:
            local = instant.astimezone(self.tz).replace(tzinfo=None)
        if local is None:
            return "?"
        return self.w("at").format(d=self.date(local.date()), t=f"{local:%H:%M}")

    def deadline(self, local: dt.datetime | None, instant: dt.datetime | None = None) -> str:
        """A day-unit deadline (23:59:59 local) by its date alone; a deadline in business minutes
        or hours with its time."""
        if local is None and instant is not None:
            local = instant.astimezone(self.tz).replace(tzinfo=None)
        if local is None:
            return "?"
        return self.date(local.date()) if local.time() >= dt.time(23, 59) else self.when(local)

    def findable(self, a: Alert) -> str:
        """How the people who handle the request find it: a GLPI ticket by number (and link),
        an email by its mailbox, a register row by its id and register; else the reference."""
        ref = a.request_ref or "?"
        if a.ticket_number is not None:
            if a.ticket_url:
                return self.w("ref_ticket_link").format(n=a.ticket_number, url=a.ticket_url)
            return self.w("ref_ticket").format(n=a.ticket_number)
        if a.mailbox:
            return self.w("ref_email").format(ref=ref, mailbox=a.mailbox)
        if a.register_id and a.source_name:
            return self.w("ref_register").format(ref=a.register_id, source=a.source_name)
        return ref

    def quantity(self, value: float, unit: str | None) -> str:
        """'1 jour ouvré', '1,5 jour ouvré', '2 jours ouvrés' / '1 business day', '2 business days'."""
        forms = UNITS[self.lang].get(unit or "")
        if forms is None:
            return f"{_num(value, self.lang)} {unit or ''}".strip()
        return f"{_num(value, self.lang)} {forms[0] if is_singular(value, self.lang) else forms[1]}"

    def line(self, a: Alert, label: str) -> str:
        if a.kind == RECOVERED:
            return self.w("recovered_line").format(
                label=label, period=self.period(a), rate=pct(a.value or 0.0, self.lang),
                num=a.numerator, den=a.denominator, threshold=pct(a.threshold or 0.0, self.lang),
            )
        if a.kind == BREACH:
            threshold = a.threshold or 0.0
            value = a.value or 0.0
            return self.w("breach_line").format(
                label=label, period=self.period(a), rate=pct(value, self.lang, below=threshold),
                num=a.numerator, den=a.denominator, threshold=pct(threshold, self.lang),
                gap=points_below(value, threshold),
            )
        elapsed = a.elapsed_value if a.elapsed_value is not None else 0.0
        target = a.target_value
        over = elapsed - target if target is not None else None
        fields = {
            "ref": self.findable(a),
            "label": label,
            "received": self.when(a.received_local_at, a.received_at),
            "deadline": self.deadline(a.deadline_local_at, a.deadline_at),
            "responded": self.when(a.responded_local_at, a.responded_at),
            "elapsed": self.quantity(elapsed, a.elapsed_unit or a.target_unit),
            "target": self.quantity(target, a.target_unit) if target is not None else "?",
            "over": _num(over, self.lang) if over is not None else "?",
        }
        return self.w(f"{a.kind}_line").format(**fields)


HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ subject }}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; color: #222; max-width: 720px; overflow-wrap: break-word;">
<p>{{ hello }}</p>
<p>{{ intro }}</p>
{% for s in sections %}
<h2 style="font-size: 18px; border-bottom: 2px solid #1f4e79; color: #1f4e79;">{{ s.name }}</h2>
{% for block in s.blocks %}
<h3 style="font-size: 15px;">{{ block.title|urlize }}</h3>
<ul>
{% for line in block.lines %}<li>{{ line|urlize }}</li>
{% endfor %}</ul>
{% if block.more %}<p><em>{{ block.more }}</em></p>{% endif %}
{% endfor %}
{% for c in s.get("charts", ()) %}<p><img src="cid:{{ c.cid }}" alt="{{ c.alt }}" style="display: block; max-width: 100%; height: auto; border: 0;"></p>
{% endfor %}
{% endfor %}
<p style="font-size: 12px; color: #666;">{{ footer }}</p>
</body></html>
"""

TEXT_TEMPLATE = """{{ hello }}

{{ intro }}
{% for s in sections %}
== {{ s.name }} ==
{% for block in s.blocks %}
{{ block.title }}
{% for line in block.lines %}  - {{ line }}
{% endfor %}{% if block.more %}  {{ block.more }}
{% endif %}{% endfor %}{% for c in s.get("charts", ()) %}
{{ c.alt }}
{% endfor %}{% endfor %}
--
{{ footer }}
"""


@functools.cache
def _template(autoescape: bool) -> jinja2.Template:
    """The HTML (autoescaped) or text digest template, compiled once per process.

    WHY: compiling a template costs far more than rendering it, and a night renders one digest
    per service head (and the demo 28 nights in a row)."""
    import jinja2

    env = jinja2.Environment(
        autoescape=autoescape, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    return env.from_string(HTML_TEMPLATE if autoescape else TEXT_TEMPLATE)


# French puts a space before ':', ';', '%', '!', '?': unbreakable in HTML, so that a narrow
# screen never starts a line with '%' or ':' ("77" / "% (151 sur 196)").
_FRENCH_SPACE = re.compile(r" (?=[:;%!?])")


def render_html(context: dict) -> str:
    html = _template(True).render(**context)
    return _FRENCH_SPACE.sub("\u00a0", html) if context.get("lang") == "fr" else html


def render_text(context: dict) -> str:
    return _template(False).render(**context)
