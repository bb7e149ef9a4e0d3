"""What a person reads: every digest and notice template in French and English with counts 0, 1
and 2 checked against a few grammar rules; the charts' grain, span, alt text and layout; and
headless Chromium screenshots (desktop 1280 px, phone 400 px) of a digest from the real render
pipeline, checked for the chart's width.

The screenshots land in the test's tmp directory; set VIGIE_KEEP_SCREENSHOTS=<dir> to keep a
copy as digest-phone.png and digest-desktop.png (README's docs/img/digest-phone.png was made
that way).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import os
import re
import shutil
import string
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from h5_builders import make_config
from headless_chromium import DevTools, require_chromium

from vigie.alerts.chart import WINDOWS, chart_grains, figure, grain_chart, section_charts
from vigie.alerts.collect import BREACH, INCOMPLETE, RECOVERED, Alert, TrendPoint
from vigie.alerts.digest import Digest, group_digests, render_digest
from vigie.alerts.render import UNITS, WORDS, Phrase, Texts, plural

DAY = dt.date(2026, 11, 16)  # Monday; the last final week is 9-15 Nov
PARIS = ZoneInfo("Europe/Paris")
D = dt.date


# --- grammar rules -------------------------------------------------------------------------

def _pairs(lang: str) -> list[tuple[str, str]]:
    """(singular, plural) of every counted phrase of the templates, and of a few words counted
    inside templates ({n:autre|autres}); a phrase that does not change is left out."""
    pairs = [v for v in WORDS[lang].values() if isinstance(v, tuple)] + list(UNITS[lang].values())
    pairs += {"fr": [("ligne", "lignes"), ("autre", "autres"), ("point", "points"),
                     ("échec", "échecs"), ("demande", "demandes"), ("jour", "jours"),
                     ("dernier", "derniers"), ("dernière", "dernières")],
              "en": [("row", "rows"), ("point", "points"), ("failure", "failures"),
                     ("request", "requests"), ("day", "days")]}[lang]
    return [(one, many) for one, many in pairs if one != many]


ENGLISH_IN_FRENCH = re.compile(
    r"\b(rows?|no data|below|median|weekday|the|of|and|threshold|incomplete|missing|failed|"
    r"week|weeks|day|days|month|months|request|requests|answered|received|due)\b", re.IGNORECASE
)
NUMBER = r"(?<![\d,./:\w-])(\d+(?:[,.]\d+)?)"


def grammar_problems(text: str, lang: str) -> list[str]:
    """The rules every text a person reads must follow; an empty list when it does."""
    judged: dict[int, str] = {}  # position of the count -> problem ('' when it agrees)
    for one, many in sorted(_pairs(lang), key=lambda pair: -len(pair[1])):  # longest phrase first
        forms = "|".join(re.escape(f) for f in sorted((one, many), key=len, reverse=True))
        for m in re.finditer(NUMBER + f" ({forms})" + r"(?!\w)", text):
            if m.start() in judged:
                continue
            number, word = m.group(1), m.group(2)
            value = float(number.replace(",", "."))
            singular = value < 2 if lang == "fr" else value == 1
            judged[m.start()] = (
                f"singular count with a plural word: {number} {word}" if singular and word == many
                else f"plural count with a singular word: {number} {word}" if not singular and word == one
                else "")
    problems = [judged[k] for k in sorted(judged) if judged[k]]
    if "(s)" in text:
        problems.append("'(s)' instead of an agreed word")
    if lang == "fr":
        if "répondue" in text:
            problems.append("'répondue le' (a request is answered, not 'répondue')")
        prose = re.sub(r"\S*(?:/|--|\w-\w)\S*", " ", text.replace("Data Docs", ""))  # paths, commands
        english = ENGLISH_IN_FRENCH.findall(prose)
        if english:
            problems.append(f"English in French text: {sorted(set(english))}")
    return problems


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("fr", "mail — 12 lignes pour une médiane de 39", []),
    ("fr", "1 lignes, 1 demandes en retard, 2 demande", [
        "singular count with a plural word: 1 lignes", "singular count with a plural word: 1 demandes en retard",
        "plural count with a singular word: 2 demande"]),
    ("fr", "0,5 point ; 28,5 points ; 1,5 jour ouvré", []),
    ("fr", "reçue le 03/11/2026, répondue le 12/11/2026", ["'répondue le' (a request is answered, not 'répondue')"]),
    ("fr", "mail 2026-11-25: 12 rows, below 50 % of the weekday median",
     ["English in French text: ['below', 'median', 'of', 'rows', 'the', 'weekday']"]),
    ("fr", "3 échec(s) bloquant(s)", ["plural count with a singular word: 3 échec", "'(s)' instead of an agreed word"]),
    ("en", "0 requests overdue, 1 row, 2 rows, 1.5 points", []),
    ("en", "1 rows", ["singular count with a plural word: 1 rows"]),
])
def test_the_grammar_rules_catch_what_they_name(lang, text, expected) -> None:
    assert grammar_problems(text, lang) == expected


# --- every template with counts 0, 1 and 2 ---------------------------------------------------

def _cfg(tmp_path: Path, lang: str = "fr"):
    return make_config(tmp_path, alerts={"language": lang, "from_address": "vigie@test.fr", "max_age_days": 35})


def _utc(d: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(hour), tzinfo=dt.UTC)


def _breach(n: int, value: float, grain: str = "week", kind: str = BREACH) -> Alert:
    start = {"day": D(2026, 11, 16), "week": D(2026, 11, 9), "month": D(2026, 10, 1)}[grain]
    end = {"day": D(2026, 11, 17), "week": D(2026, 11, 16), "month": D(2026, 11, 1)}[grain]
    return Alert(key=f"{kind}-{grain}-{n}-{value}", kind=kind, commitment_id="email_response_5bd",
                 service_code="ETAT_CIVIL", channel="email", period=f"{grain}:{start}",
                 period_grain=grain, period_start=start, period_end=end, numerator=n,
                 denominator=max(n, 1) if kind == RECOVERED else n + 2, value=value, threshold=0.9)


def _item(kind: str, n: int, i: int = 0) -> Alert:
    """An item whose elapsed time and target are n (0, 1, 2 business days)."""
    return Alert(key=f"{kind}-{n}-{i}", kind=kind, commitment_id="email_response_5bd",
                 service_code="ETAT_CIVIL", channel="email", period="2026-11-09",
                 request_ref=f"MEL-{n}{i:03d}", received_at=_utc(D(2026, 11, 2)),
                 deadline_at=_utc(D(2026, 11, 9), 22), responded_at=_utc(D(2026, 11, 12)) if kind == "missed" else None,
                 elapsed_value=float(n), elapsed_unit="business_days", target_value=float(n),
                 target_unit="business_days")


def _incomplete(rows: int, median: float | None, i: int = 0) -> Alert:
    day = D(2026, 11, 12) + dt.timedelta(days=i)
    return Alert(key=f"inc-{rows}-{median}-{i}", kind=INCOMPLETE, commitment_id="data_quality",
                 service_code="mail", channel="maildir", period=f"day:{day}", period_grain="day",
                 period_start=day, period_end=day + dt.timedelta(days=1), row_count=rows,
                 baseline_median=median, is_missing=rows == 0)


def _digest(alerts: list[Alert]) -> Digest:
    codes = tuple(sorted({a.service_code for a in alerts if a.kind != INCOMPLETE}))
    return Digest(digest_id="0" * 24, to=(), cc=(), service_codes=codes, alerts=tuple(alerts))


def counted_templates(lang: str, n: int) -> list[str]:
    """Every template of WORDS that counts with {name:singular|plural}, formatted with n."""
    out = []
    for template in WORDS[lang].values():
        if isinstance(template, str):
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            for name in re.findall(r"\{(\w+):[^{}|]*\|[^{}]*\}", template):
                out.append(Phrase(template, lang).format(**{**{f: "X" for f in fields}, name: n}))
    return out


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("n", [0, 1, 2])
def test_every_line_template_agrees_with_counts_0_1_2(lang, n) -> None:
    texts = Texts(lang, PARIS)
    label = "Courriels : réponse sous 5 jours ouvrés"
    lines = [
        texts.line(_breach(n, 0.9 - n / 100), label),  # a gap of n points
        texts.line(_breach(n, 0.95, kind=RECOVERED), label),
        texts.line(_item("overdue", n), label),
        texts.line(_item("missed", n), label),
        texts.w("more").format(n=n),
        texts.w("checks_intro").format(night="16/11/2026", n=n, docs="var/data_docs/index.html"),
        *(plural(kind, n, lang) for kind, forms in WORDS[lang].items() if isinstance(forms, tuple)),
        *(texts.quantity(n, unit) for unit in UNITS[lang]),
        *counted_templates(lang, n),
    ]
    assert [(line, grammar_problems(line, lang)) for line in lines] == [(line, []) for line in lines]


def test_counts_read_as_written_in_french() -> None:
    texts = Texts("fr", PARIS)
    label = "Courriels"
    assert texts.line(_breach(1, 0.89), label).endswith("pour un seuil de 90 %, soit 1 point en dessous.")
    assert texts.line(_breach(2, 0.88), label).endswith("pour un seuil de 90 %, soit 2 points en dessous.")
    missed = texts.line(_item("missed", 1), label)
    assert "réponse le 12/11/2026" in missed and "1 jour ouvré pour un objectif de 1 jour ouvré" in missed
    assert texts.w("more").format(n=1) == "… et 1 autre."
    assert texts.w("more").format(n=2) == "… et 2 autres."
    assert texts.w("checks_intro").format(night="16/11/2026", n=1, docs="d").startswith(
        "Les contrôles de la nuit du 16/11/2026 ont trouvé 1 échec bloquant ;")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("n", [1, 2])
def test_whole_digests_and_notices_read_right_with_1_and_2_of_everything(lang, n, tmp_path: Path) -> None:
    """Subject, text and HTML of a real digest (every section, n rows each) and of the data
    team's checks notice (n failures): no grammar problem anywhere."""
    from vigie.alerts.data_team import render_notice

    cfg = _cfg(tmp_path, lang)
    alerts = [
        *[_breach(10 + i, 0.6, grain) for i, grain in enumerate(["day", "week", "month"][: n + 1])],
        *[_item("overdue", 2, i) for i in range(n)],
        *[_item("missed", 1, i) for i in range(n)],
        *[_incomplete(1 + i, 40.0, i) for i in range(n)],
    ]
    weeks = {"email_response_5bd": [TrendPoint(D(2026, 11, 9) - dt.timedelta(weeks=k), 0.9, 0.9)
                                    for k in range(n)]}
    digests = group_digests(cfg, alerts)  # the head's digest, and the data team's notice
    assert len(digests) == 2
    rendered = [render_digest(cfg, DAY, d, {"ETAT_CIVIL": weeks}, now=_utc(DAY)) for d in digests]
    failure = SimpleNamespace(suite="landing.email_messages", batch="mail.email_messages",
                              expectation="expect_column_values_to_be_in_set", column="folder_role",
                              observed="['drafts']")
    _, notice_subject, notice_text = render_notice(cfg, DAY, [failure] * n, "var/data_docs/index.html",
                                                   "1" * 24, now=_utc(DAY))
    texts = [(f"{r.subject}: {part}", text) for r in rendered
             for part, text in [("subject", r.subject), ("text", r.text), ("html", html.unescape(
                 re.sub(r"<[^>]+>", " ", r.html)))]]
    texts += [("notice subject", notice_subject), ("notice", notice_text)]
    for name, text in texts:
        assert (name, grammar_problems(text, lang)) == (name, [])
    assert not [r.subject for r in rendered if re.search(r"== .+ ==\n\s*(== |--)", r.text)]  # no empty section
    notice = next(r.text for r in rendered if "mail" in r.text)
    assert ("moyenne de 40 ce jour" if lang == "fr" else "mean of 40 ") in notice  # not '40,0'
    assert ("1 ligne reçue" if lang == "fr" else "1 row landed") in notice



# --- charts ------------------------------------------------------------------------------------

LAST_WEEK = D(2026, 11, 9)


def _weeks(values: list[float | None], last: dt.date = LAST_WEEK, threshold: float = 0.9) -> list[TrendPoint]:
    return [TrendPoint(last - dt.timedelta(weeks=len(values) - 1 - i), v, threshold)
            for i, v in enumerate(values)]


def test_short_history_says_since_and_the_alt_text_states_the_figures() -> None:
    texts = Texts("fr", PARIS)
    chart = grain_chart({"email_response_5bd": _weeks([0.8, 0.95])}, "week", {"email_response_5bd": "Courriels"},
                        texts, DAY)
    assert chart is not None and chart.grain == "week"
    assert chart.title == "Taux de respect de l'engagement par semaine, depuis le 2 novembre 2026"
    assert chart.alt == ("Taux de respect de l'engagement par semaine, depuis le 2 novembre 2026. "
                         "Courriels — 2 nov. 80 %, 9 nov. 95 % ; seuil 90 %.")
    full = grain_chart({"c": _weeks([0.9] * 12)}, "week", {"c": "Courriels"}, texts, DAY)
    assert full is not None and full.title == "Taux de respect de l'engagement par semaine, 12 dernières semaines"
    en = grain_chart({"c": _weeks([0.8, None, 0.95])}, "week", {"c": "Email"}, Texts("en", PARIS), DAY)
    assert en is not None and en.alt == ("Compliance with the commitment by week, since October 26, 2026. "
                                         "Email — Oct 26 80%, Nov 2 no request, Nov 9 95%; threshold 90%.")


def test_points_before_the_window_or_not_final_are_not_drawn() -> None:
    texts = Texts("fr", PARIS)
    points = _weeks([0.5] * 14) + [TrendPoint(D(2026, 11, 16), 0.1, 0.9)]  # 14 weeks + the running one
    chart = grain_chart({"c": points}, "week", {"c": "Courriels"}, texts, DAY)
    assert chart is not None and chart.alt.count("50 %") == WINDOWS["week"] and "10 %" not in chart.alt
    assert "24 août 50 %" in chart.alt and "17 août" not in chart.alt


def test_the_chart_grain_follows_the_text() -> None:
    texts = Texts("fr", PARIS)
    monthly = [TrendPoint(D(2026, 10, 1), 0.7, 0.9, grain="month"), TrendPoint(D(2026, 9, 1), 0.92, 0.9, grain="month")]
    series = {"c": _weeks([0.9, 0.85]) + monthly}
    assert chart_grains([_breach(8, 0.7, "month")]) == ["month"]
    assert chart_grains([_breach(8, 0.7, "week"), _breach(8, 0.7, "month")]) == ["week", "month"]
    assert chart_grains([_item("overdue", 1)]) == ["week"]
    charts = section_charts(series, ["month"], {"c": "Courriels"}, texts, DAY)
    assert [(c.grain, c.title) for c in charts] == [
        ("month", "Taux de respect de l'engagement par mois, depuis septembre 2026")]
    assert charts[0].alt.endswith("Courriels — sept. 2026 92 %, oct. 2026 70 % ; seuil 90 %.")
    # a digest with a monthly breach only carries the monthly chart, its alt in both parts
    cfg = make_config(Path("/nonexistent"))
    rendered = render_digest(cfg, DAY, _digest([_breach(7, 0.7, "month")]), {"ETAT_CIVIL": series}, now=_utc(DAY))
    assert [cid.split(".")[0] for cid in rendered.images] == ["chart-etat_civil-month"]
    assert "par mois, depuis septembre 2026" in rendered.text and "par semaine" not in rendered.text
    assert 'alt="Taux de respect de l&#39;engagement par mois' in rendered.html


def test_equal_values_stay_visible_and_the_legend_sits_outside_the_plot() -> None:
    """Two commitments at the same value: the one drawn on top is smaller and of another
    shape; the legend's box does not meet the axes' box."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    texts = Texts("fr", PARIS)
    same = [0.9, 0.8, 0.9]
    fig = figure({"a": _weeks(same), "b": _weeks(same, threshold=0.85)},
                 [D(2026, 10, 26) + dt.timedelta(weeks=i) for i in range(3)], "week",
                 {"a": "Courriels", "b": "Téléphone"}, texts, "titre")
    ax = fig.axes[0]
    markers = [line for line in ax.lines if line.get_linestyle() == "None"]
    assert len(markers) == 2
    below, above = sorted(markers, key=lambda line: line.get_zorder())
    assert list(below.get_ydata()) == list(above.get_ydata()) == same
    assert above.get_markersize() < below.get_markersize() and above.get_marker() != below.get_marker()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    legend_box = fig.legends[0].get_window_extent(renderer)
    axes_box = ax.get_window_extent(renderer)
    assert legend_box.y1 <= axes_box.y0  # entirely below the plot area
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["Courriels", "Téléphone", "seuil 90 %", "seuil 85 %"]


def test_same_data_same_png() -> None:
    texts = Texts("fr", PARIS)
    series = {"c": _weeks([0.8, 0.95, None, 0.7])}
    a = grain_chart(series, "week", {"c": "Courriels"}, texts, DAY)
    b = grain_chart(series, "week", {"c": "Courriels"}, texts, DAY)
    assert a is not None and b is not None and a.png == b.png and a.png.startswith(b"\x89PNG")
    assert grain_chart({"c": _weeks([None, None])}, "week", {"c": "C"}, texts, DAY) is None


# --- headless Chromium screenshots -------------------------------------------------------------

def _late(kind: str, ref: str, received: dt.datetime, due: dt.date, elapsed: float, **where: object) -> Alert:
    """A late request of the email commitment as the marts give it, local times included."""
    responded = dt.datetime(2026, 11, 13, 16, 2) if kind == "missed" else None
    return Alert(key=ref, kind=kind, commitment_id="email_response_5bd", service_code="ETAT_CIVIL",
                 channel=str(where.pop("channel", "email")), period=due.isoformat(), request_ref=ref,
                 received_at=received.replace(tzinfo=PARIS), received_local_at=received,
                 deadline_at=dt.datetime.combine(due, dt.time(23, 59, 59), tzinfo=PARIS),
                 deadline_local_at=dt.datetime.combine(due, dt.time(23, 59, 59)),
                 responded_at=responded.replace(tzinfo=PARIS) if responded else None,
                 responded_local_at=responded, elapsed_value=elapsed, elapsed_unit="business_days",
                 target_value=5.0, target_unit="business_days", alert_on=due, **where)  # type: ignore[arg-type]


def example_digest(tmp_path: Path):
    """A small commune's digest for État civil on night 16 Nov 2026: the weekly email breach
    with the three late requests behind it (two emails by mailbox and receipt time, a GLPI
    ticket by number and link), the weekly phone breach; five weeks of history, one week
    lacking data, both commitments at 90 % on the same week."""
    cfg = _cfg(tmp_path)
    phone = Alert(key="p", kind=BREACH, commitment_id="phone_pickup_rate", service_code="ETAT_CIVIL",
                  channel="phone", period="week:2026-11-09", period_grain="week", period_start=D(2026, 11, 9),
                  period_end=D(2026, 11, 16), numerator=151, denominator=196, value=151 / 196, threshold=0.85,
                  alert_on=D(2026, 11, 15))
    mailbox = "etat-civil@mairie-exemple.fr"
    alerts = [
        replace(_breach(8, 8 / 13), denominator=13, alert_on=D(2026, 11, 15)), phone,
        _late("overdue", "MEL-3f2a9c1e", dt.datetime(2026, 11, 2, 9, 14), D(2026, 11, 9), 10, mailbox=mailbox),
        _late("missed", "MEL-81d07b55", dt.datetime(2026, 11, 3, 17, 48), D(2026, 11, 10), 8, mailbox=mailbox),
        _late("missed", "GLPI-1284", dt.datetime(2026, 11, 4, 11, 5), D(2026, 11, 12), 7, channel="online",
              ticket_number=1284, ticket_url="https://glpi.mairie-exemple.fr/front/ticket.form.php?id=1284"),
    ]
    email = _weeks([0.92, 0.9, 0.95, 0.87, 8 / 13])
    email[3] = TrendPoint(email[3].period_start, 0.87, 0.9, is_complete=False)
    calls = _weeks([0.88, 0.9, 0.86, 0.84, 151 / 196], threshold=0.85)
    trends = {"ETAT_CIVIL": {"email_response_5bd": email, "phone_pickup_rate": calls}}
    return render_digest(cfg, DAY, _digest(alerts), trends, now=_utc(DAY))


def _page(tmp_path: Path) -> Path:
    """The digest's HTML as a browser opens it: cid: images as files beside it."""
    rendered = example_digest(tmp_path)
    html = rendered.html
    for cid, png in rendered.images.items():
        name = cid.split("@")[0] + ".png"
        (tmp_path / name).write_bytes(png)
        html = html.replace(f"cid:{cid}", name)
    page = tmp_path / "digest.html"
    page.write_text(html, encoding="utf-8")
    return page


@pytest.mark.parametrize("width", [1280, 400])
def test_chromium_screenshot_keeps_the_chart_within_the_screen(width, tmp_path: Path) -> None:
    require_chromium()
    page = _page(tmp_path)
    browser = DevTools(tmp_path / "profile")
    try:
        m = browser.open(page.as_uri(), width, 900)
        shot = tmp_path / f"digest-{width}.png"
        browser.screenshot(shot)
    finally:
        browser.close()
    assert m["loaded"] is True and len(m["imgs"]) == 1
    assert m["viewport"] == width
    assert m["scroll"] <= width  # nothing wider than the screen: no sideways scrolling
    assert m["imgs"][0] == (560 if width == 1280 else width - 16)  # body margin: 8 px each side
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size[0] == width
    keep = os.environ.get("VIGIE_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / f"digest-{'phone' if width < 600 else 'desktop'}.png")


@pytest.mark.parametrize(("value", "fr", "en"), [
    # 897 answered in time out of 997: 89.97 %. Plain rounding would say "90 %, 0 points below".
    (897 / 997, "89,9 % (897 sur 997) pour un seuil de 90 %, soit 0,1 point en dessous.",
     "89.9% (897 of 997) against a threshold of 90%, 0.1 points below."),
    (0.8, "80 % (897 sur 997) pour un seuil de 90 %, soit 10 points en dessous.",
     "80% (897 of 997) against a threshold of 90%, 10 points below."),
    (0.8951, "89,5 % (897 sur 997) pour un seuil de 90 %, soit 0,5 point en dessous.",
     "89.5% (897 of 997) against a threshold of 90%, 0.5 points below."),
])
def test_a_breach_never_reads_as_its_threshold(value: float, fr: str, en: str) -> None:
    alert = dataclasses.replace(_breach(897, value), denominator=997)
    assert Texts("fr", PARIS).line(alert, "Courriels").endswith(fr)
    assert Texts("en", PARIS).line(alert, "Emails").endswith(en)
