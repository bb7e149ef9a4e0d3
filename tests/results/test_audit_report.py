"""The year's record for audits (issue 15 item 2), from a small real run (audit_site.py): what the
history keeps, then the report read back and compared with the warehouse, before and after the
retention purge (vigie/history.py, vigie.results.audit_report)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from audit_site import NIGHT, audit_config, land_months
from h5_builders import land
from headless_chromium import DevTools, require_chromium

from vigie.config import VigieConfig
from vigie.history import record_history
from vigie.publish import publish_snapshot
from vigie.results.audit_report import write_audit_report
from vigie.results.wording import month_name
from vigie.retention import purge_landed_batches
from vigie.transform import run_transform


def _read(cfg: VigieConfig, sql: str) -> list[tuple]:
    con = duckdb.connect(str(cfg.path(cfg.outputs.warehouse)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> VigieConfig:
    cfg = audit_config(tmp_path_factory.mktemp("audit"))
    land_months(cfg)
    run_transform(cfg, NIGHT)
    publish_snapshot(cfg, NIGHT)  # the record reads the published history, as a night leaves it
    return cfg


HISTORY_TABLES = ("history.service_indicators", "history.exclusion_reasons", "history.commitment_versions")


def test_history_keeps_exclusion_reasons_recoveries_and_versions(site: VigieConfig) -> None:
    months = _read(site, "select exclusion_reason, period_start, requests from history.exclusion_reasons "
                         "where period_grain = 'month' order by all")
    assert months == [("auto_reply", dt.date(2026, 1, 1), 1), ("bounce", dt.date(2026, 3, 1), 1),
                      ("spam", dt.date(2026, 1, 1), 1)]
    # the reasons of every final cell add up to its requests_excluded row
    assert _read(site, """
        select i.period_grain, i.period_start, i.numerator, coalesce(sum(e.requests), 0)
        from history.service_indicators as i
        left join history.exclusion_reasons as e using (period_grain, period_start, service_code, channel)
        where i.indicator = 'requests_excluded' group by all
        having i.numerator <> coalesce(sum(e.requests), 0)""") == []
    # the alert rules' recovery: March (4/5 = 80 % under version 2) after February's breach
    assert _read(site, "select period_grain, period_start, numerator, denominator, threshold "
                       "from history.service_indicators where is_recovery") == [
        ("month", dt.date(2026, 3, 1), 4, 5, 0.8)]
    assert _read(site, "select commitment_version, threshold, valid_to, first_recorded_on "
                       "from history.commitment_versions order by all") == [
        (dt.date(2000, 1, 1), 0.9, dt.date(2026, 3, 1), NIGHT), (dt.date(2026, 3, 1), 0.8, None, NIGHT)]
    # the history step of a rerun writes the same tables
    before = {t: _read(site, f"select * from {t} order by all") for t in HISTORY_TABLES}
    record_history(site, NIGHT)
    assert {t: _read(site, f"select * from {t} order by all") for t in HISTORY_TABLES} == before


def _pdf_text(pdf: Path) -> str:
    """The PDF's text as one line: words separated by single spaces (no-break spaces too)."""
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


@pytest.fixture(scope="module")
def report(site: VigieConfig, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("rapport")
    pdf = write_audit_report(site, 2026, out)
    assert pdf == out / "rapport.pdf" and (out / "rapport.html").is_file()
    return out, _pdf_text(pdf)


def _pct(num: int, den: int) -> str:
    assert num * 100 % den == 0  # whole percentages in this site
    return f"{num * 100 // den} %"


def test_report_months_breaches_volumes_and_exclusions_are_the_warehouse_s(site: VigieConfig, report) -> None:
    _, text = report
    months = _read(site, "select period_start, numerator, denominator, threshold, is_breached, is_complete "
                         "from history.service_indicators where indicator = 'compliance_rate' "
                         "and period_grain = 'month' order by period_start")
    assert len(months) == 4
    for start, num, den, threshold, breached, complete in months:
        verdict = "manquement" if breached else "dans l'engagement"
        data = "complètes" if complete else "incomplètes"
        if den >= 5:
            line = f"{month_name(start)} {den} {num} {_pct(num, den)} {_pct(int(threshold * 10), 10)} {verdict} {data}"
        else:  # publication.min_requests: no rate, no count that gives it
            line = f"{month_name(start)} moins de 5 — moins de 5 {_pct(int(threshold * 10), 10)} non jugé"
        assert line in text, line
    assert "février 2026 6 3 50 % 90 % manquement complètes" in text
    assert "avril 2026 moins de 5 — moins de 5 80 % non jugé (moins de 3 demandes) incomplètes" in text
    assert "mai 2026 aucune donnée enregistrée juin 2026" in text
    # the year in brief: months kept (January, March), breached (February), unjudged and incomplete (April)
    assert "État civil — Courriels : réponse sous 5 jours ouvrés 2 1 1 1 " in text

    # every final breach at the paged grains (week, month), and the recovery that ended it
    breaches = _read(site, "select period_grain, period_start, numerator, denominator from history.service_indicators "
                           "where is_breached and is_final and period_grain in ('week', 'month') order by all")
    assert breaches == [("month", dt.date(2026, 2, 1), 3, 6), ("week", dt.date(2026, 2, 9), 3, 6)]
    assert "Manquement, mois de février 2026 : 50 % (3 sur 6). De nouveau dans l'engagement : mois de mars 2026, " \
           "80 % (4 sur 5) pour un seuil de 80 %." in text
    assert "Manquement, semaine du 09/02/2026 au 15/02/2026 : 50 % (3 sur 6). Pas de retour constaté : " \
           "aucune demande jugée la période suivante." in text

    # volumes and exclusion reasons per month, then the year's totals
    volumes = _read(site, """
        select r.period_start, r.numerator, e.numerator from history.service_indicators as r
        join history.service_indicators as e using (period_grain, period_start, service_code, channel)
        where r.indicator = 'requests_received' and e.indicator = 'requests_excluded' and r.period_grain = 'month'
        order by 1""")
    assert volumes == [(dt.date(2026, 1, 1), 8, 2), (dt.date(2026, 2, 1), 6, 0), (dt.date(2026, 3, 1), 6, 1),
                       (dt.date(2026, 4, 1), 2, 0)]
    for start, received, excluded in volumes:
        assert f"{month_name(start)} {received} {excluded} " in text
    assert "janvier 2026 8 2 réponse automatique : 1, courriel indésirable : 1" in text
    assert "mars 2026 6 1 avis de non-remise : 1" in text
    assert "En 2026 : 22 demandes reçues, dont 3 exclues (réponse automatique : 1 ; avis de non-remise : 1 ; " \
           "courriel indésirable : 1)." in text

    # the versions in force and what changed; the month marked incomplete and why
    assert "depuis l'origine au 28 février 2026 5 jours ouvrés 90 % 3" in text
    assert "du 1er mars 2026 5 jours ouvrés 80 % 3" in text and "seuil : 90 % → 80 %" in text
    assert "État civil — Courriels, avril 2026 : Messagerie de l'état civil : extraction du 10/04/2026 en échec " \
           "(IMAP timeout after 60 s)" in text
    assert "arrêté à la nuit du 30 avril 2026" in text


def test_only_aggregates_leave(site: VigieConfig, report) -> None:
    out, text = report
    html = (out / "rapport.html").read_text(encoding="utf-8")
    refs = [r[0] for r in _read(site, "select request_ref from marts.requests union all "
                                      "select requester_key from marts.requests")]
    assert refs and not [r for r in refs if r in html or r in text]


def test_the_report_is_the_same_after_the_retention_purge(site: VigieConfig, report,
                                                          tmp_path: Path) -> None:
    before, text = report
    # 1 September 2026 lands (nothing in it); with a 90-day retention the purge of its night
    # deletes every batch before 3 June (here run first, so that the night's build no longer
    # sees January to April: the state of the next night), and the history freezes the periods
    # starting before 4 July
    cfg = site.model_copy(update={"retention": site.retention.model_copy(update={"landed_days": 90})})
    land(cfg, "mail", dt.date(2026, 9, 1))
    assert purge_landed_batches(cfg, dt.date(2026, 9, 1))
    run_transform(cfg, dt.date(2026, 9, 1))
    publish_snapshot(cfg, dt.date(2026, 9, 1))
    landing = cfg.path(cfg.outputs.landing) / "mail"
    assert sorted(p.name for p in landing.iterdir() if p.name.startswith("day=")) == ["day=2026-09-01"]
    assert _read(cfg, "select count(*) from marts.service_indicators where period_start < date '2026-05-01'") == [(0,)]

    pdf = write_audit_report(cfg, 2026, tmp_path / "after")
    assert _pdf_text(pdf) == text
    assert (tmp_path / "after" / "rapport.html").read_text() == (before / "rapport.html").read_text()
    keep = os.environ.get("VIGIE_KEEP_SCREENSHOTS")
    if keep:
        shutil.copy(pdf, Path(keep) / "rapport.pdf")


@pytest.mark.parametrize("width", [1280, 400])
def test_rapport_html_fits_desktop_and_phone_screens(report, width: int, tmp_path: Path) -> None:
    """rapport.html in headless Chromium: nothing wider than the screen (wide tables scroll
    inside their own box), the screenshot kept with VIGIE_KEEP_SCREENSHOTS to be looked at."""
    require_chromium()
    out, _ = report
    browser = DevTools(tmp_path / "profile")
    try:
        m = browser.open((out / "rapport.html").as_uri(), width, 900)
        shot = tmp_path / f"rapport-{width}.png"
        browser.screenshot(shot)
    finally:
        browser.close()
    assert m["viewport"] == width and m["scroll"] <= width
    keep = os.environ.get("VIGIE_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / f"rapport-{'phone' if width < 600 else 'desktop'}.png")


def test_the_demo_site_s_record_has_every_commitment_and_breach_of_its_history(results_site: Path,
                                                                               tmp_path: Path) -> None:
    """The demo collectivité (tests/results/conftest.py, September to 3 November 2026): every
    service and commitment of the history has its section, every breached month its counts."""
    from vigie.config import load_config

    cfg = load_config(results_site)
    text = _pdf_text(write_audit_report(cfg, 2026, tmp_path))
    names = {s.code: s.name for s in cfg.services}
    labels = dict(_read(cfg, "select commitment_id, label from history.commitment_versions"))
    cells = _read(cfg, "select distinct service_code, commitment_id from history.service_indicators "
                       "where indicator = 'compliance_rate' and period_grain = 'month'")
    assert len(cells) > 20
    for service, commitment in cells:
        assert f"{names[service]} — {labels[commitment]} Engagement {commitment}," in text, (service, commitment)
    breached = _read(cfg, "select numerator, denominator from history.service_indicators "
                          "where is_breached and period_grain = 'month' and denominator >= 5")
    assert breached
    for num, den in breached:
        assert f"({num} sur {den})" in text
