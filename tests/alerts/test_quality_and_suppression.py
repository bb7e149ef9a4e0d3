"""Issue 7: incomplete data withheld and told to the data team, recovered notes, old periods,
hostile strings in both languages. Night D = Monday 16 Nov 2026 (tests/alerts/alerts_data.py).
"""

from __future__ import annotations

import datetime as dt
import email
import sys
from email import policy
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alerts_data import DAY, REQUESTER, build, make_config, night_marts
from alerts_rules import build_candidates
from h5_builders import create_warehouse, indicator

from vigie.alerts import run_alerts

d = dt.date


def _messages(cfg, day: dt.date = DAY) -> dict[str, email.message.EmailMessage]:
    out = {}
    for p in sorted((cfg.path("var/outbox") / day.isoformat()).glob("*.eml")):
        msg = email.message_from_bytes(p.read_bytes(), policy=policy.default)
        out[msg["To"].addresses[0].addr_spec] = msg
    return out


def _text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def _quality_marts() -> dict:
    """The night's marts with the mail source missing on Thu 12 Nov and low on Mon 16 Nov.

    The ETAT_CIVIL email week 9-15 Nov (breached, 8/13) contains 12 Nov: incomplete.
    """
    marts = night_marts()
    for row in marts["service_indicators"]:
        if (row["commitment_id"], row["period_grain"], row["period_start"]) == (
                "email_response_5bd", "week", d(2026, 11, 9)) and row["service_code"] == "ETAT_CIVIL":
            row["is_complete"] = False
            row["completeness_note"] = "mail 2026-11-12: no data"
    marts["int_source_day_completeness"] = [
        {"source_id": "mail", "source_type": "maildir", "local_date": d(2026, 11, 12), "row_count": 0,
         "baseline_median": 40.0, "baseline_days": 2, "is_missing": True, "is_low_volume": False,
         "is_complete": False, "completeness_note": "mail 2026-11-12: no data"},
        {"source_id": "mail", "source_type": "maildir", "local_date": d(2026, 11, 16), "row_count": 12,
         "baseline_median": 39.0, "baseline_days": 2, "is_missing": False, "is_low_volume": True,
         "is_complete": False, "completeness_note": "mail 2026-11-16: 12 rows, below 50 % of the weekday median 39.0"},
        # older than max_age_days (35): never told
        {"source_id": "pbx", "source_type": "asterisk_queue_log", "local_date": d(2026, 9, 1), "row_count": 0,
         "baseline_median": None, "baseline_days": 0, "is_missing": True, "is_low_volume": False,
         "is_complete": False, "completeness_note": "pbx 2026-09-01: no data"},
    ]
    marts["int_service_channel_day_gaps"] = [
        {"service_code": "ETAT_CIVIL", "channel": "email", "local_date": d(2026, 11, 12),
         "completeness_note": "mail 2026-11-12: no data"},
        {"service_code": "ETAT_CIVIL", "channel": "email", "local_date": d(2026, 11, 16),
         "completeness_note": "mail 2026-11-16: 12 rows, below 50 % of the weekday median 39.0"},
    ]
    return marts


def test_incomplete_period_holds_back_its_rate_never_its_items(tmp_path: Path, monkeypatch) -> None:
    """Issue 11 item 3: the week 9-15 Nov breach (8/13) lies on a gap day of mail (12 Nov) and
    is held back from Claire Martin and told to the data team with the cause and the commands;
    MEL-0001 (overdue) and MEL-0002 (late) are facts and reach her anyway."""
    monkeypatch.delenv("VIGIE_CONFIG", raising=False)  # the commands name <base_dir>/vigie.yml
    cfg = make_config(tmp_path)
    create_warehouse(cfg, _quality_marts())
    build_candidates(cfg, DAY)
    result = run_alerts(cfg, DAY)
    assert (result.withheld, result.withheld_told, result.breaches, result.overdue, result.missed,
            result.incomplete) == (1, 1, 1, 2, 1, 2)
    msgs = _messages(cfg)
    ec = msgs["c.martin@test.fr"]
    assert ec["Subject"] == "[Vigie] État civil : 1 engagement manqué, 1 demande en retard, 1 réponse hors délai"
    assert "semaine du 09/11/2026" not in _text(ec)
    assert "MEL-0001" in _text(ec) and "MEL-0002" in _text(ec)
    team = msgs["donnees@test.fr"]
    assert team["Subject"] == ("[Vigie] Enfance, Qualité des données : 1 demande en retard, "
                               "2 journées de données incomplètes, 1 engagement manqué retenu")
    text = _text(team).replace("\r\n", "\n")
    assert "== Qualité des données ==" in text
    assert ("  - mail — journée du 12/11/2026 : 0 ligne reçue pour une moyenne de 40 ce jour de semaine "
            "(probabilité inférieure à 0,01 %) : probablement une source en panne ou en retard.") in text
    assert ("  - Retenu pour Claire Martin (État civil) : Courriels : réponse sous 5 jours ouvrés — semaine du "
            "09/11/2026 au 15/11/2026 : 61,5 % (8 sur 13) pour un seuil de 90 %, soit 28,5 points en dessous. "
            "Cause : mail 2026-11-12: no data.") in text
    conf = tmp_path / "vigie.yml"
    assert (f"  - Si le 12/11/2026 était réellement calme pour mail : vigie confirm-day --config {conf} "
            f"--source mail --day 2026-11-12 && vigie run --config {conf} --from 2026-11-16 --to 2026-11-16") in text
    assert (f"  - Si la source mail a rattrapé son retard pour le 12/11/2026 : vigie run --config {conf} "
            f"--from 2026-11-12 --to 2026-11-12 && vigie run --config {conf} --from 2026-11-16 --to 2026-11-16") in text
    assert "pbx" not in text  # 1 Sep is older than alerts.max_age_days
    again = run_alerts(cfg, DAY)  # the hold is told once; the breach stays held
    assert (again.digests, again.withheld, again.withheld_told) == (0, 1, 0)


def test_default_grains_week_and_month(tmp_path: Path) -> None:
    """Issue 11 item 5: by default heads are paged for weeks and months (the phone day 16 Nov
    breach stays in the marts, not in a digest); items are not grain-bound."""
    from h5_builders import make_config as h5_config

    cfg = h5_config(tmp_path)
    assert cfg.alerts.breach_grains == ["week", "month"]
    build(cfg)
    result = run_alerts(cfg, DAY)
    assert (result.new_alerts, result.breaches, result.overdue, result.missed) == (4, 1, 2, 1)


def test_recovered_note_once_after_a_sent_breach(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    build(cfg)
    assert run_alerts(cfg, DAY).breaches == 2  # the week 9-15 Nov breach is told on the 16th
    nxt = d(2026, 11, 23)
    as_of = dt.datetime(2026, 11, 23, 23, tzinfo=dt.UTC)
    marts = night_marts(nxt)
    marts["commitment_evaluations"] = []
    marts["service_indicators"] = [
        r for r in marts["service_indicators"] if not (r["period_grain"] == "week" and r["period_start"] == d(2026, 11, 16))
    ]
    marts["service_indicators"] += [
        # the week after the breach: 12/13 = 92.3 % >= 90 %, complete, final tonight (Sunday 22 closes it)
        indicator("email_response_5bd", "ETAT_CIVIL", "week", d(2026, 11, 16), d(2026, 11, 23), 12, 13, 0.9, 3, as_of=as_of),
        # URBANISME had no breach before: back above threshold is nothing new
        indicator("email_response_5bd", "URBANISME", "week", d(2026, 11, 16), d(2026, 11, 23), 5, 5, 0.9, 3, as_of=as_of),
    ]
    create_warehouse(cfg, marts)
    build_candidates(cfg, nxt)
    result = run_alerts(cfg, nxt)
    assert (result.digests, result.recovered, result.breaches) == (1, 1, 0)
    ec = _messages(cfg, nxt)["c.martin@test.fr"]
    assert ec["Subject"] == "[Vigie] État civil : 1 retour dans l'engagement"
    assert ("Courriels : réponse sous 5 jours ouvrés — semaine du 16/11/2026 au 22/11/2026 : 92,3 % (12 sur 13) "
            "pour un seuil de 90 % : de nouveau dans l'engagement.") in _text(ec)
    assert "== De nouveau dans l'engagement" not in _text(ec) and "De nouveau dans l'engagement" in _text(ec)
    assert run_alerts(cfg, nxt).digests == 0  # once


def test_old_periods_only_when_asked(tmp_path: Path, monkeypatch) -> None:
    cfg = make_config(tmp_path)
    build(cfg)
    monkeypatch.delenv("VIGIE_SEND_OLD_ALERTS", raising=False)
    assert run_alerts(cfg, DAY).new_alerts == 5
    monkeypatch.setenv("VIGIE_SEND_OLD_ALERTS", "1")
    old = run_alerts(cfg, DAY)
    # MEL-0005 (due 1 Sep, 76 days) and the September month breach (last day 30 Sep, 47 days)
    assert (old.new_alerts, old.breaches, old.overdue, old.digests) == (2, 1, 1, 1)
    msgs = [email.message_from_bytes(Path(p).read_bytes(), policy=policy.default) for p in old.outbox_files]
    text = _text(msgs[0])
    assert "MEL-0005" in text and "mois de septembre 2026" in text
    assert run_alerts(cfg, DAY).new_alerts == 0  # asked or not, never twice


def test_max_age_zero_keeps_only_what_ended_on_the_night(tmp_path: Path) -> None:
    """The age is counted inclusively: a period whose last day is the night is 0 days old."""
    cfg = make_config(tmp_path, alerts={"language": "fr", "from_address": "vigie@test.fr", "max_age_days": 0})
    build(cfg)
    result = run_alerts(cfg, DAY)
    # max_age_days 0: only what ended on the night itself (the phone day 16 Nov breach)
    assert (result.new_alerts, result.breaches) == (1, 1)


def test_breach_grains_choose_which_periods_page_heads(tmp_path: Path) -> None:
    """alerts.breach_grains [week, month]: the week 9-15 Nov breach is told, the phone day 16 Nov
    breach is not (the marts keep it); overdue and late items are not grain-bound."""
    cfg = make_config(tmp_path, alerts={"language": "fr", "from_address": "vigie@test.fr",
                                        "breach_grains": ["week", "month"]})
    build(cfg)
    result = run_alerts(cfg, DAY)
    assert (result.new_alerts, result.breaches) == (4, 1)
    text = "\n".join(_text(m) for m in _messages(cfg).values())
    assert "semaine du 09/11/2026 au 15/11/2026" in text and "journée du 16/11/2026 :" not in text


@pytest.mark.parametrize(("lang", "subject"), [
    ("fr", "[Vigie] <script>alert(1)</script> & Co : 2 engagements manqués, 2 demandes en retard, 1 réponse hors délai"),
    ("en", "[Vigie] <script>alert(1)</script> & Co: 2 commitments missed, 2 requests overdue, 1 late reply"),
])
def test_hostile_strings_escaped_in_both_languages(lang, subject, tmp_path: Path) -> None:
    hours = {"monday": ["08:30-12:00"]}
    cfg = make_config(
        tmp_path,
        alerts={"language": lang, "from_address": "vigie@test.fr"},
        services=[
            {"code": "ETAT_CIVIL", "name": "<script>alert(1)</script> & Co",
             "head": {"name": "Claire <Martin> & fils", "email": "c.martin@test.fr"},
             "deputies": [{"name": "Paul Girard", "email": "p.girard@test.fr"}], "opening_hours": [hours]},
            {"code": "URBANISME", "name": "Urbanisme", "head": {"name": "K B", "email": "k.benali@test.fr"},
             "opening_hours": [hours]},
            {"code": "ENFANCE", "name": "Enfance", "opening_hours": [hours]},
        ],
        commitments=[
            {"id": "email_response_5bd", "label": "Courriels <img src=x onerror=alert(2)> & délais",
             "channel": "email", "target": {"value": 5, "unit": "business_days"}, "threshold": 0.9, "min_volume": 3},
            {"id": "phone_pickup_rate", "label": "Téléphone", "channel": "phone", "threshold": 0.85, "min_volume": 20},
        ],
    )
    from alerts_data import evaluation

    build(cfg, extra_evaluations=[evaluation("<script>x</script>&1", "ETAT_CIVIL", "overdue", d(2026, 11, 2), d(2026, 11, 9), 9)])
    run_alerts(cfg, DAY)
    msg = _messages(cfg)["c.martin@test.fr"]
    assert msg["Subject"] == subject  # a header is text, not markup
    assert msg["To"].addresses[0].display_name == "Claire <Martin> & fils"
    html = msg.get_body(("html",)).get_content()
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html  # title and section heading
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co") == 2
    assert "Courriels &lt;img src=x onerror=alert(2)&gt; &amp; délais" in html
    assert "&lt;script&gt;x&lt;/script&gt;&amp;1" in html
    text = _text(msg)
    assert "== <script>alert(1)</script> & Co ==" in text  # plain text stays as written
    image = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    raw = b"".join(p.read_bytes() for p in (cfg.path("var/outbox") / DAY.isoformat()).glob("*.eml"))
    assert REQUESTER.encode() not in raw


def test_alert_log_keeps_incomplete_notices_by_source(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    create_warehouse(cfg, _quality_marts())
    build_candidates(cfg, DAY)
    run_alerts(cfg, DAY)
    con = duckdb.connect(str(cfg.path("var/warehouse/vigie.duckdb")), read_only=True)
    try:
        rows = con.execute(
            "select kind, commitment_id, service_code, period from alerts.alert_log "
            "where kind = 'incomplete' order by period").fetchall()
    finally:
        con.close()
    assert rows == [("incomplete", "data_quality", "mail", "day:2026-11-12"),
                    ("incomplete", "data_quality", "mail", "day:2026-11-16")]


def test_chart_draws_incomplete_weeks_hollow_and_stays_repeatable() -> None:
    from zoneinfo import ZoneInfo

    from vigie.alerts.chart import grain_chart
    from vigie.alerts.collect import TrendPoint
    from vigie.alerts.render import Texts

    texts = Texts("fr", ZoneInfo("Europe/Paris"))
    weeks = [d(2026, 8, 24) + dt.timedelta(weeks=i) for i in range(12)]
    full = {"c": [TrendPoint(w, 0.95 - 0.01 * i, 0.9) for i, w in enumerate(weeks)]}
    gap = {"c": [TrendPoint(w, p.value, 0.9, i != 10) for i, (w, p) in enumerate(zip(weeks, full["c"], strict=True))]}
    a = grain_chart(full, "week", {"c": "Courriels"}, texts, DAY)
    b = grain_chart(gap, "week", {"c": "Courriels"}, texts, DAY)
    assert a is not None and b is not None and a.png.startswith(b"\x89PNG")
    assert a.png != b.png
    assert "2 nov. 85 % (données incomplètes)" in b.alt and "(données incomplètes)" not in a.alt
    again = grain_chart(gap, "week", {"c": "Courriels"}, texts, DAY)
    assert again is not None and b.png == again.png
