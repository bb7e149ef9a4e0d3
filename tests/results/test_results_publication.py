"""`vigie results` from a small real run (tests/results/conftest.py): the page, the poster and
the CSV read back and compared with the marts of the published snapshot, exactly.

DECISIONLOG Part 9: which months count, small cells, wording, the indicator mapping.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from headless_chromium import DevTools, require_chromium

from vigie.cli import main
from vigie.config import load_config
from vigie.percent import percent_shown
from vigie.results.figures import ResultsUnavailable, load_period_figures, parse_period

NB = "\u00a0"
MIN = 5


@pytest.fixture(scope="module")
def published(results_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "2026"
    assert main(["results", "--config", str(results_site), "--period", "2026", "--out", str(out)]) == 0
    return out


def _snapshot(config: Path) -> duckdb.DuckDBPyConnection:
    cfg = load_config(config)
    return duckdb.connect(str(cfg.path(cfg.outputs.bi_snapshot)), read_only=True)


def _expected(config: Path) -> dict[tuple[str, str], tuple[int, int, float, int]]:
    """(service, commitment) -> (met, decided, threshold, min_volume of the last month) over the
    final months of 2026, straight from marts.compliance_rates."""
    con = _snapshot(config)
    try:
        rows = con.execute(
            """
            select service_code, commitment_id, sum(met_count), sum(decided_count),
                   arg_max(threshold, period_start), arg_max(min_volume, period_start)
            from marts.compliance_rates
            where period_grain = 'month' and is_final and year(period_start) = 2026
            group by all
            """
        ).fetchall()
    finally:
        con.close()
    return {(s, c): (int(m), int(d), float(t), int(v)) for s, c, m, d, t, v in rows}


def _pct(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0").replace(".", ",") + f"{NB}%"


class _Articles(HTMLParser):
    """Text of every <article id=...> and every SVG <title>/<desc>, as a reader gets them."""

    def __init__(self) -> None:
        super().__init__()
        self.articles: dict[str, str] = {}
        self.svgs: list[dict[str, str]] = []
        self._article: str | None = None
        self._svg_part: str | None = None
        self.lang = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "article":
            self._article = a["id"]
            self.articles[self._article] = ""
        if tag == "svg":
            self.svgs.append({"role": a.get("role") or "", "labelledby": a.get("aria-labelledby") or "",
                              "title": "", "desc": ""})
        if tag in ("title", "desc") and self.svgs and self._article:
            self._svg_part = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._article = None
        if tag in ("title", "desc"):
            self._svg_part = None

    def handle_data(self, data: str) -> None:
        if self._svg_part:
            self.svgs[-1][self._svg_part] += data
        elif self._article:
            self.articles[self._article] += data


def _squeeze(text: str) -> str:
    """Runs of ASCII white space as one space; no-break spaces kept (str.split would eat them)."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def _article_id(service: str, commitment: str) -> str:
    return f"{service}-{commitment}".lower().replace("_", "-")


def test_page_states_each_rate_of_the_marts_against_its_promise(published: Path, results_site: Path) -> None:
    parser = _Articles()
    parser.feed((published / "index.html").read_text(encoding="utf-8"))
    expected = _expected(results_site)
    assert parser.lang == "fr"
    assert len(expected) == 40 and set(parser.articles) == {_article_id(s, c) for s, c in expected}
    small = 0
    for (service, commitment), (met, decided, threshold, min_volume) in expected.items():
        text = _squeeze(parser.articles[_article_id(service, commitment)])
        promise = f"engagement{NB}: {_pct(threshold * 100)}"
        assert promise in text, (service, commitment, text)
        if decided < MIN:
            small += 1
            assert f"Moins de {MIN} " in text and " sur " not in text and "Trop peu de demandes" in text
            continue
        rate = _pct(percent_shown(met / decided, threshold))
        assert f"{rate} des " in text, (service, commitment, rate, text)
        assert f"{met} sur {decided}" in text
        if met / decided >= threshold:
            assert "✓ Engagement tenu" in text
        elif decided >= min_volume:  # the marts' breach rule
            assert "✗ Engagement non tenu" in text
        else:
            assert "Trop peu de demandes pour conclure" in text
    head = (published / "index.html").read_text(encoding="utf-8")
    kept = sum(1 for m, d, t, _ in expected.values() if d >= MIN and m / d >= t)
    missed = sum(1 for m, d, t, v in expected.values() if d >= MIN and m / d < t and d >= v)
    open_ = 40 - kept - missed
    assert (f"Sur 40 engagements mesurés, <strong>{kept} tenus</strong>, <strong>{missed} non tenus</strong>"
            + (f", {open_} sans conclusion (trop peu de demandes)." if open_ else ".")) in head
    assert small <= open_
    assert "Communauté de communes du Val de Vigie" in head
    assert "Période mesurée : de septembre à octobre 2026. Chiffres arrêtés au 3 novembre 2026." in head
    assert "Novembre 2026 : mois en cours, pas encore compté." in head
    assert "Septembre 2026 : mesures à partir du 14 septembre 2026." in head  # the site's first month


def test_pinned_figures_of_the_demo_run(published: Path) -> None:
    """A few figures of the run written out (the demo's sources are deterministic): État civil
    answered 46 of 58 emails within 5 jours ouvrés in September (from the 14th) and 131 of 162
    in October: 177 of 220 = 80.45 % for the year so far, under 90 %."""
    parser = _Articles()
    parser.feed((published / "index.html").read_text(encoding="utf-8"))
    email = _squeeze(parser.articles["etat-civil-marianne-email-response"])
    assert email.startswith(f"Courriels : réponse sous 5 jours ouvrés 80,5{NB}% des courriels ont reçu une "
                            f"réponse sous 5{NB}jours ouvrés{NB}; engagement{NB}: 90{NB}% ✗ Engagement non "
                            "tenu 177 sur 220 · Référentiel Marianne")
    descs = {s["labelledby"].split()[0]: _squeeze(s["desc"]) for s in parser.svgs}
    # Enfance: 3 letters acknowledged of 3 in September (a small month), 3 of 3 in October
    assert descs["enfance-spp-letter-acknowledgement-chart-t"] == (
        f"Taux mois par mois, engagement à 90{NB}%. Septembre 2026{NB}: moins de 5 courriers, taux non "
        f"publié{NB}; octobre 2026{NB}: moins de 5 courriers, taux non publié.")
    letters = _squeeze(parser.articles["enfance-spp-letter-acknowledgement"])
    assert f"100{NB}% des courriers ont reçu un accusé de réception sous 2{NB}semaines" in letters
    assert "✓ Engagement tenu 6 sur 6" in letters
    page = (published / "index.html").read_text(encoding="utf-8")
    assert "Sur 40 engagements mesurés, <strong>21 tenus</strong>, <strong>19 non tenus</strong>." in page
    with (published / "resultats.csv").open(encoding="utf-8", newline="") as f:
        values = {r["code_indicateur"]: r["valeur"] for r in csv.DictReader(f)}
    assert values == {"DEMO_TAUX_DECROCHE": "85.3", "DEMO_REPONSE_COURRIEL_5J": "81.8",
                      "DEMO_REPONSE_COURRIER_15J": "96.6", "DEMO_ACCUSE_RECEPTION_EN_LIGNE": "94.5",
                      "DEMO_SATISFACTION": "67.7"}


def test_every_chart_is_described_with_its_figures_and_small_months_are_not_shown(
        published: Path, results_site: Path) -> None:
    parser = _Articles()
    parser.feed((published / "index.html").read_text(encoding="utf-8"))
    assert len(parser.svgs) == 40  # one month-by-month chart per commitment (two months counted)
    for svg in parser.svgs:
        title_id, desc_id = svg["labelledby"].split()
        assert svg["role"] == "img" and title_id.endswith("-t") and desc_id == title_id[:-2] + "-d"
        assert svg["title"] and svg["desc"].startswith("Taux mois par mois, engagement à ")
    con = _snapshot(results_site)
    try:
        months = con.execute(
            """select service_code, commitment_id, period_start, met_count, decided_count, threshold
               from marts.compliance_rates where period_grain = 'month' and is_final
               order by period_start"""
        ).fetchall()
    finally:
        con.close()
    descs = {s["labelledby"].split()[0].removesuffix("-chart-t"): _squeeze(s["desc"]) for s in parser.svgs}
    names = {dt.date(2026, 9, 1): "Septembre 2026", dt.date(2026, 10, 1): "octobre 2026"}
    for service, commitment, month, met, decided, threshold in months:
        desc = descs[_article_id(service, commitment)]
        if decided == 0:
            assert f"{names[month]}{NB}: aucune demande échue" in desc
        elif decided < MIN:
            assert f"{names[month]}{NB}: moins de {MIN} " in desc and "taux non publié" in desc
        else:
            assert f"{names[month]}{NB}: {_pct(percent_shown(met / decided, threshold))}" in desc


def test_poster_prints_the_same_figures(published: Path, results_site: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(str(published / "affiche.pdf"))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)  # A4
    text = reader.pages[0].extract_text().replace(NB, " ")
    expected = _expected(results_site)
    figures: Counter[str] = Counter()
    for met, decided, threshold, _ in expected.values():
        figures[_pct(threshold * 100).replace(NB, " ")] += 1
        if decided >= MIN:
            figures[_pct(percent_shown(met / decided, threshold)).replace(NB, " ")] += 1
    cfg = load_config(results_site)
    for sat in load_period_figures(cfg, parse_period("2026")).satisfaction:
        if sat.answered >= MIN:
            figures[_pct(percent_shown(sat.satisfied / sat.answered)).replace(NB, " ")] += 1
    printed = Counter(m.group(0) for m in re.finditer(r"(?<![\d,])\d{1,3}(?:,\d)? %", text))
    assert printed == figures
    for name in ("État civil", "Urbanisme", "Accueil général", "Enfance et scolaire"):
        assert name in text
    assert "Chiffres arrêtés au 3 novembre 2026" in text


def test_csv_follows_its_table_schema_and_pools_each_structure(published: Path, results_site: Path) -> None:
    from frictionless import Resource, Schema

    from vigie.results.opendata import COLUMNS, table_schema

    report = Resource(path="resultats.csv", basepath=str(published),
                      schema=Schema.from_descriptor(table_schema())).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    with (published / "resultats.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS
    expected = _expected(results_site)
    cfg = load_config(results_site)
    by_code = {r["code_indicateur"]: r for r in rows}
    assert list(by_code) == [i.code for i in cfg.publication.indicators]
    for ind in cfg.publication.indicators:
        row = by_code[ind.code]
        assert (row["code_structure"], row["code_postal"], row["commune"], row["frequence"],
                row["date_mise_a_jour"], row["periode"]) == (
            "DEMO-VAL-DE-VIGIE", "00000", "Vigie", "annuelle", "2026-11-03", "2026")
        assert row["nom_structure"] == "Communauté de communes du Val de Vigie"
        assert row["commentaire"] == "mois comptés : de septembre à octobre 2026"
        if ind.commitment:
            cells = [v for (_, c), v in expected.items() if c == ind.commitment]
            met, decided = sum(v[0] for v in cells), sum(v[1] for v in cells)
            assert row["valeur"] == f"{percent_shown(met / decided, cells[0][2]):.1f}"
    con = _snapshot(results_site)
    try:
        answered, satisfied = con.execute(
            "select sum(surveys_answered), sum(satisfied_answers) from marts.satisfaction_indicators "
            "where period_grain = 'month' and is_final and year(period_start) = 2026").fetchone()
    finally:
        con.close()
    assert by_code["DEMO_SATISFACTION"]["valeur"] == f"{100 * satisfied / answered:.1f}"


def test_only_aggregates_leave(published: Path, results_site: Path) -> None:
    """No request reference (TEL-, MEL-, GLPI-) and no citizen key in anything published."""
    from pypdf import PdfReader

    con = _snapshot(results_site)
    try:
        keys = {r[0] for r in con.execute("select distinct requester_key from marts.requests "
                                          "where requester_key is not null").fetchall()}
    finally:
        con.close()
    assert len(keys) > 100
    texts = {name: (published / name).read_text(encoding="utf-8") for name in ("index.html", "resultats.csv")}
    texts["affiche.pdf"] = PdfReader(str(published / "affiche.pdf")).pages[0].extract_text()
    for name, text in texts.items():
        assert not re.search(r"\b(?:TEL|MEL|GLPI|REG)-\w", text), name
        found = set(re.findall(r"[0-9a-f]{64}", text))
        assert not found & keys, name


def test_a_small_cell_reads_moins_de_5_in_every_output(results_site: Path, tmp_path: Path) -> None:
    """With min_requests raised to 100, the letters (a dozen a month) are small cells:
    no rate on the page, the poster or in the CSV."""
    import yaml

    data = yaml.safe_load(results_site.read_text(encoding="utf-8"))
    data["publication"]["min_requests"] = 100
    config = results_site.with_name("site-min100.yml")
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["results", "--config", str(config), "--period", "2026-10", "--out", str(out)]) == 0
    parser = _Articles()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    letters = _squeeze(parser.articles["etat-civil-marianne-letter-response"])
    assert letters.startswith("Courriers : réponse sous 15 jours ouvrés Moins de 100 courriers sur la période")
    assert "taux non publié" in letters and " sur 1" not in letters
    assert not parser.svgs  # a month: no month-by-month chart
    with (out / "resultats.csv").open(encoding="utf-8", newline="") as f:
        rows = {r["code_indicateur"]: r for r in csv.DictReader(f)}
    assert rows["DEMO_REPONSE_COURRIER_15J"]["valeur"] == ""
    assert rows["DEMO_REPONSE_COURRIER_15J"]["commentaire"] == "moins de 100 demandes : valeur non publiée"
    assert rows["DEMO_REPONSE_COURRIER_15J"]["frequence"] == "mensuelle"
    assert rows["DEMO_REPONSE_COURRIER_15J"]["periode"] == "2026-10"
    assert rows["DEMO_TAUX_DECROCHE"]["valeur"] != ""  # thousands of calls


def test_months_come_from_the_history_after_the_marts_lost_them(results_site: Path, tmp_path: Path) -> None:
    """A purged September is gone from the marts; history.service_indicators still holds it,
    and the year's figures do not change."""
    cfg = load_config(results_site)
    before = load_period_figures(cfg, parse_period("2026"))
    copy = tmp_path / "snapshot.duckdb"
    shutil.copy(cfg.path(cfg.outputs.bi_snapshot), copy)
    con = duckdb.connect(str(copy))
    con.execute("delete from marts.service_indicators where period_start < date '2026-10-01'")
    con.close()
    purged = cfg.model_copy(update={"outputs": cfg.outputs.model_copy(update={"bi_snapshot": str(copy)})})
    after = load_period_figures(purged, parse_period("2026"))
    assert after.counted_months == before.counted_months == [dt.date(2026, 9, 1), dt.date(2026, 10, 1)]
    assert [(c.service_code, c.commitment_id, c.met, c.decided) for c in after.commitments] == \
        [(c.service_code, c.commitment_id, c.met, c.decided) for c in before.commitments]
    assert {m.recorded_on for c in after.commitments for m in c.months} == {dt.date(2026, 11, 3)}


def test_a_period_with_no_month_over_is_refused(results_site: Path, tmp_path: Path) -> None:
    cfg = load_config(results_site)
    with pytest.raises(ResultsUnavailable, match="2026-11 has no month over yet"):
        load_period_figures(cfg, parse_period("2026-11"))
    assert main(["results", "--config", str(results_site), "--period", "2027", "--out", str(tmp_path)]) == 1
    assert main(["results", "--config", str(results_site), "--period", "2026-13", "--out", str(tmp_path)]) == 2
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("width", [1280, 390])
def test_chromium_shows_the_page_without_sideways_scrolling(published: Path, width: int, tmp_path: Path) -> None:
    require_chromium()
    browser = DevTools(tmp_path / "profile")
    try:
        m = browser.open((published / "index.html").as_uri(), width, 900)
        shot = tmp_path / f"results-{width}.png"
        browser.screenshot(shot)
    finally:
        browser.close()
    assert m["viewport"] == width
    assert m["scroll"] <= width  # nothing wider than the screen
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size[0] == width
