"""Group the night's new alerts into one digest per recipient and build the MIME message.

Routing (domain.md §7): a service's alerts go to its head (To) with its deputies in Cc; a
service without a head goes to the collectivité's data team. A person heading several
services gets one digest with a section per service ("one digest per service head per run").

Message layout, readable in any client:
multipart/alternative
  text/plain                      the same lines as the HTML
  multipart/related
    text/html                     <img src="cid:..."> per service section
    image/png (inline, Content-ID) weekly compliance of the section's commitments
The Message-ID derives from the digest id (a hash of its alert keys): a digest delivered twice
after a crash carries the same Message-ID, which mail clients use to drop the duplicate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from vigie.alerts.chart import chart_grains, section_charts
from vigie.alerts.collect import (
    BREACH,
    INCOMPLETE,
    ITEM_KINDS,
    NOTICE_KINDS,
    RECOVERED,
    WITHHELD,
    Alert,
    TrendPoint,
    digest_id_for,
)
from vigie.alerts.data_team import notice_sections, notice_title
from vigie.alerts.render import MAX_ITEMS_PER_SECTION, Texts, plural, render_html, render_text
from vigie.config import Person, VigieConfig
from vigie.intervals import night_for_day

SECTION_ORDER = (BREACH, "overdue", "missed", RECOVERED, INCOMPLETE, WITHHELD)
GRAIN_ORDER = {"day": 0, "week": 1, "month": 2}


@dataclass(frozen=True)
class Digest:
    digest_id: str
    to: tuple[Person, ...]
    cc: tuple[Person, ...]
    service_codes: tuple[str, ...]
    alerts: tuple[Alert, ...]

    @property
    def recipients(self) -> str:
        to = ", ".join(p.email for p in self.to)
        cc = ", ".join(p.email for p in self.cc)
        return f"To: {to}" + (f"; Cc: {cc}" if cc else "")

    def count(self, kind: str) -> int:
        return sum(1 for a in self.alerts if a.kind == kind)


@dataclass
class Rendered:
    message: EmailMessage
    subject: str
    text: str
    html: str
    images: dict[str, bytes] = field(default_factory=dict)  # cid -> png


def route(cfg: VigieConfig, service_code: str) -> tuple[Person, list[Person]]:
    service = cfg.service(service_code)
    if service.head is None:
        return cfg.collectivite.data_team, []
    return service.head, list(service.deputies)


def group_digests(cfg: VigieConfig, alerts: list[Alert]) -> list[Digest]:
    """One digest per head address; services and alerts in a stable order. The data team's
    notice (incomplete source days, breaches held back) joins the data team's digest; its
    source ids are not service sections."""
    known = {s.code for s in cfg.services}
    by_head: dict[str, tuple[Person, list[Person], list[str], list[Alert]]] = {}
    for a in alerts:
        code = a.service_code if a.service_code in known and a.kind not in NOTICE_KINDS else None
        if code is None:  # data quality, or a service removed from the configuration: the data team
            head, deputies = cfg.collectivite.data_team, list[Person]()
        else:
            head, deputies = route(cfg, code)
        entry = by_head.setdefault(head.email.lower(), (head, [], [], []))
        for d in deputies:
            if d.email.lower() not in {x.email.lower() for x in entry[1]} and d.email.lower() != head.email.lower():
                entry[1].append(d)
        if a.kind not in NOTICE_KINDS and a.service_code not in entry[2]:
            entry[2].append(a.service_code)
        entry[3].append(a)
    digests = []
    for _, (head, deputies, codes, items) in sorted(by_head.items()):
        digests.append(
            Digest(
                digest_id=digest_id_for([a.key for a in items]),
                to=(head,),
                cc=tuple(deputies),
                service_codes=tuple(sorted(codes)),
                alerts=tuple(items),
            )
        )
    return digests


def subject_for(cfg: VigieConfig, digest: Digest, texts: Texts) -> str:
    names = ", ".join(_service_name(cfg, c) for c in digest.service_codes)
    if any(a.kind in NOTICE_KINDS for a in digest.alerts):
        names = ", ".join(x for x in (names, notice_title(texts.lang)) if x)
    parts = [plural(k, digest.count(k), texts.lang) for k in SECTION_ORDER if digest.count(k)]
    return f"[Vigie] {names} : {', '.join(parts)}" if texts.lang == "fr" else f"[Vigie] {names}: {', '.join(parts)}"


def _service_name(cfg: VigieConfig, code: str) -> str:
    try:
        return cfg.service(code).name
    except StopIteration:
        return code


def _capped(texts: Texts, lines: list[str]) -> tuple[list[str], str]:
    if len(lines) <= MAX_ITEMS_PER_SECTION:
        return lines, ""
    return lines[:MAX_ITEMS_PER_SECTION], texts.w("more").format(n=len(lines) - MAX_ITEMS_PER_SECTION)


def service_blocks(
    texts: Texts, labels: dict[str, str], alerts: list[Alert], earlier: dict[str, int]
) -> list[dict[str, Any]]:
    """A service section's blocks (issue 11 items 4 and 5): each breach with the late and
    overdue requests behind it, then the late requests of no breach, then the recoveries.

    A request appears once: under the finest breached period of this digest that holds its
    deadline (the week before the month), else in its own block; requests of the period told
    in an earlier digest are counted, not listed again (``earlier``: breach key -> count).
    Calls are period figures only: a phone breach lists no request."""
    used: set[str] = set()
    blocks: list[dict[str, Any]] = []
    breaches = sorted((a for a in alerts if a.kind == BREACH),
                      key=lambda a: (GRAIN_ORDER.get(a.period_grain or "", 3), a.commitment_id,
                                     a.period_start or dt.date.min))
    for b in breaches:
        label = labels.get(b.commitment_id, b.commitment_id)
        behind = [a for a in alerts if a.kind in ITEM_KINDS and a.key not in used
                  and a.commitment_id == b.commitment_id and a.alert_on is not None
                  and b.period_start is not None and b.period_end is not None
                  and b.period_start <= a.alert_on < b.period_end]
        used.update(a.key for a in behind)
        lines = [texts.line(a, label) for a in behind]
        if earlier.get(b.key):
            lines.append(texts.w("earlier_items").format(n=earlier[b.key]))
        if b.channel == "phone":
            lines.append(texts.w("phone_figures"))
        lines, more = _capped(texts, lines)
        blocks.append({"title": texts.line(b, label), "lines": lines, "more": more})
    for kind in ("overdue", "missed", RECOVERED):
        rows = [a for a in alerts if a.kind == kind and a.key not in used]
        if rows:
            lines, more = _capped(texts, [texts.line(a, labels.get(a.commitment_id, a.commitment_id))
                                          for a in rows])
            blocks.append({"title": texts.w(f"sec_{kind}"), "lines": lines, "more": more})
    return blocks


def render_digest(
    cfg: VigieConfig,
    day: dt.date,
    digest: Digest,
    trends: dict[str, dict[str, list[TrendPoint]]],
    *,
    now: dt.datetime | None = None,
    earlier: dict[str, int] | None = None,
) -> Rendered:
    """Subject, text, HTML (with inline charts) and the assembled EmailMessage."""
    texts = Texts(cfg.alerts.language, cfg.tz)
    labels = {c.id: c.label for c in cfg.all_commitments()}
    night = night_for_day(day, cfg.collectivite.timezone)
    domain = cfg.alerts.from_address.rpartition("@")[2] or "vigie.localhost"
    sections: list[dict[str, Any]] = []
    images: dict[str, bytes] = {}
    for code in digest.service_codes:
        mine = [a for a in digest.alerts if a.service_code == code and a.kind not in NOTICE_KINDS]
        blocks = service_blocks(texts, labels, mine, earlier or {})
        charts = []  # one per grain the section's rate lines talk about (vigie.alerts.chart)
        grains = chart_grains(a for a in digest.alerts if a.service_code == code)
        for chart in section_charts(trends.get(code, {}), grains, labels, texts, day):
            cid = f"chart-{code.lower()}-{chart.grain}.{digest.digest_id}@{domain}"
            images[cid] = chart.png
            charts.append({"cid": cid, "alt": chart.alt})
        sections.append({"name": _service_name(cfg, code), "blocks": blocks, "charts": charts})
    notice = [a for a in digest.alerts if a.kind in NOTICE_KINDS]
    if notice:  # the data team's notice: what was held back from whom, why, what to do
        sections.extend(notice_sections(cfg, texts, day, notice, labels))
    subject = subject_for(cfg, digest, texts)
    context = {
        "lang": texts.lang,
        "subject": subject,
        "hello": texts.w("hello"),
        "intro": " ".join([texts.w("intro").format(
            night=texts.date(day), as_of=f"{texts.date(night.end.date())} 00:00"
        )] + ([texts.w("expected")] if digest.service_codes else [])),
        "sections": sections,
        "footer": texts.w("footer"),
    }
    html = render_html(context)
    text = render_text(context)

    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = formataddr(("Vigie", cfg.alerts.from_address))
    msg["To"] = ", ".join(formataddr((p.name, p.email)) for p in digest.to)
    if digest.cc:
        msg["Cc"] = ", ".join(formataddr((p.name, p.email)) for p in digest.cc)
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = f"<{digest.digest_id}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer
    msg["X-Vigie-Night"] = day.isoformat()
    msg["X-Vigie-Digest"] = digest.digest_id
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    parts = msg.get_payload()
    assert isinstance(parts, list)  # multipart/alternative since add_alternative
    html_part = parts[1]
    assert isinstance(html_part, EmailMessage)
    for cid, png in images.items():
        html_part.add_related(png, "image", "png", cid=f"<{cid}>", disposition="inline",
                              filename=f"{cid.split('.', 1)[0]}.png")
    return Rendered(message=msg, subject=subject, text=text, html=html, images=images)
