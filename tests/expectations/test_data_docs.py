"""Data Docs built by two real nights of checks: offline, severity-aware, readable commitments.

Night Sunday 15 Nov 2026 closes the ISO week 9-15 Nov. Its landed queue_log holds one unknown
event (a warning) and its marts two breached email periods (warnings): État civil's week at
8/10 and Urbanisme's day at 2/3, both against 90 %; the phone commitment is met (18/20 >= 85 %).
Night Monday 16 Nov lands a message in folder 'drafts' (blocking): the positive control that a
blocking failure still reads "Failed".
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from h5_builders import create_warehouse, indicator, land, make_config
from headless_chromium import require_chromium

from expectations.commitment_findings import finding, percent, period_words
from expectations.data_docs_offline import STATIC, site_root
from expectations.run import BlockingChecksFailed, run_checks

SUNDAY = dt.date(2026, 11, 15)
MONDAY = dt.date(2026, 11, 16)
AS_OF = dt.datetime(2026, 11, 15, 23, 0, tzinfo=dt.UTC)
NBSP = "\u00a0"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# A float written with more than 3 decimals, not part of an identifier such as a run time
# (20261207T041916.589676Z).
RAW_FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d{4,}(?![\w.])")


def _ts(day: dt.date, h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, h, m, tzinfo=dt.UTC)


def _message(day: dt.date, folder_role: str) -> dict:
    return {"mailbox": "ec", "service_code": "ETAT_CIVIL", "folder_role": folder_role,
            "source_position": "ec/cur/1", "message_key": "m1", "references_keys": [],
            "to_keys": ["t1"], "from_is_internal": False, "received_at": _ts(day, 9),
            "is_auto_submitted": False}


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Data Docs folder after the nights of 15 Nov (warnings only) and 16 Nov (blocking)."""
    cfg = make_config(tmp_path_factory.mktemp("docs"))
    land(cfg, "pbx", SUNDAY, {"queue_log_events": [
        {"source_file": "queue_log", "source_line": 1, "event_at": _ts(SUNDAY, 8), "callid": "1.1",
         "queue_name": "etat-civil", "event": "ENTERQUEUE"},
        {"source_file": "queue_log", "source_line": 2, "event_at": _ts(SUNDAY, 8, 1), "callid": "1.1",
         "queue_name": "etat-civil", "event": "MYCUSTOMEVENT"},
    ]})
    land(cfg, "mail", SUNDAY, {"email_messages": [_message(SUNDAY, "inbox")]})
    land(cfg, "glpi", SUNDAY, {})
    end = MONDAY  # period_end is exclusive: these periods close with the night of 15 Nov
    create_warehouse(cfg, {"requests": [], "commitment_evaluations": [], "service_indicators": [
        indicator("email_response_5bd", "ETAT_CIVIL", "week", dt.date(2026, 11, 9), end, 8, 10, 0.9, 3, as_of=AS_OF),
        indicator("email_response_5bd", "URBANISME", "day", SUNDAY, end, 2, 3, 0.9, 3, as_of=AS_OF),
        indicator("email_response_5bd", "ETAT_CIVIL", "day", SUNDAY, end, 1, 2, 0.9, 3, as_of=AS_OF),
        indicator("phone_pickup_rate", "ETAT_CIVIL", "day", SUNDAY, end, 18, 20, 0.85, 20,
                  channel="phone", as_of=AS_OF, target=(None, None)),
    ]})
    sunday = run_checks(cfg, SUNDAY)
    assert sunday.success and len(sunday.warnings) == 2 and sunday.blocking == []

    land(cfg, "pbx", MONDAY, {})
    land(cfg, "mail", MONDAY, {"email_messages": [_message(MONDAY, "drafts")]})
    land(cfg, "glpi", MONDAY, {})
    with pytest.raises(BlockingChecksFailed):
        run_checks(cfg, MONDAY)
    return cfg.path(cfg.outputs.data_docs)


class _Assets(HTMLParser):
    """Every <link href>, <script src> and <img src> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"link": "href", "script": "src", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def _pages(docs: Path) -> list[Path]:
    return sorted(docs.rglob("*.html"))


def _page(docs: Path, section: str, suite: str, night: dt.date, batch: str) -> Path:
    found = list((docs / section / Path(*suite.split("."))).glob(f"night-{night}/*/{batch}.html"))
    assert len(found) == 1, found
    return found[0]


def _text(page: Path) -> str:
    """The page's visible text: no styles, scripts nor tags; entities as characters."""
    import html

    text = re.sub(r"<(style|script)\b.*?</\1>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def test_every_page_loads_local_assets_only_and_they_exist(docs: Path) -> None:
    pages = _pages(docs)
    # index + 15 suites + 2 nights x 17 results
    assert len(pages) == 1 + 15 + 34
    referenced: set[Path] = set()
    for page in pages:
        parser = _Assets()
        parser.feed(page.read_text(encoding="utf-8"))
        assert len(parser.urls) == 14, page  # 7 stylesheets, 5 scripts, favicon, logo
        for url in parser.urls:
            assert not re.match(r"^(https?:)?//", url), f"{page}: {url}"
            target = (page.parent / url).resolve()
            assert target.is_file(), f"{page}: {url} -> {target} is missing"
            referenced.add(target)
        text = page.read_text(encoding="utf-8")
        assert "vegaEmbed" not in text, f"{page} draws a chart: vendor Vega (static/vendor/README.md)"
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), page
    assert {p.relative_to(docs.resolve()).as_posix() for p in referenced} == {
        "static/vendor/bootstrap-table/bootstrap-table.min.css",
        "static/vendor/bootstrap/bootstrap.min.css",
        "static/vendor/bootstrap-table/bootstrap-table-filter-control.min.css",
        "static/vendor/bootstrap-datepicker/bootstrap-datepicker.min.css",
        "static/vendor/bootstrap-dark/bootstrap-prefers-dark.min.css",
        "static/vendor/fontawesome/css/fontawesome.min.css",
        "static/vendor/fontawesome/css/solid.min.css",
        "static/vendor/jquery/jquery.min.js",
        "static/vendor/bootstrap/bootstrap.bundle.min.js",
        "static/vendor/bootstrap-table/bootstrap-table.min.js",
        "static/vendor/bootstrap-table/bootstrap-table-filter-control.min.js",
        "static/vendor/bootstrap-datepicker/bootstrap-datepicker.min.js",
        "static/images/favicon.ico",
        "static/images/short-logo.png",
    }


def test_vendored_stylesheets_reach_only_shipped_files(docs: Path) -> None:
    """Fonts referenced by the vendored CSS are in the site too (or inline data: URLs)."""
    checked = 0
    for css in sorted((docs / "static" / "vendor").rglob("*.css")):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(encoding="utf-8")):
            if url.startswith("data:"):
                continue
            assert not re.match(r"^(https?:)?//", url), f"{css}: {url}"
            assert (css.parent / url.split("?")[0].split("#")[0]).resolve().is_file(), f"{css}: {url}"
            checked += 1
    assert checked == 2  # solid.min.css: fa-solid-900.woff2 and .ttf


def test_every_vendored_library_has_its_licence_and_is_listed() -> None:
    vendor = STATIC / "vendor"
    readme = (vendor / "README.md").read_text(encoding="utf-8")
    folders = sorted(p.name for p in vendor.iterdir() if p.is_dir())
    assert folders == ["bootstrap", "bootstrap-dark", "bootstrap-datepicker", "bootstrap-table",
                       "fontawesome", "jquery"]
    for name in folders:
        assert list((vendor / name).glob("LICENSE*")), f"{name} has no licence file"
        assert f"| `{name}/` |" in readme


def test_site_root_matches_where_gx_writes_pages() -> None:
    assert site_root("SiteIndexPageRenderer", None) == ""
    assert site_root("ExpectationSuitePageRenderer", "commitments") == "../"
    assert site_root("ExpectationSuitePageRenderer", "landing.email_messages") == "../../"
    assert site_root("ValidationResultsPageRenderer", "commitments") == "../../../../"
    assert site_root("ValidationResultsPageRenderer", "landing.email_messages") == "../../../../../"


def test_a_failed_warning_reads_warning_and_a_failed_blocking_check_reads_failed(docs: Path) -> None:
    commitments = _text(_page(docs, "validations", "commitments", SUNDAY,
                              "vigie-marts.service_indicators.final_tonight"))
    assert re.search(r"Status:\s+Warning", commitments)
    assert not re.search(r"Status:\s+Failed", commitments)
    queue_log = _page(docs, "validations", "landing.queue_log_events", SUNDAY, "vigie-pbx.queue_log_events")
    html = queue_log.read_text(encoding="utf-8")
    assert re.search(r"Status:\s+Warning", _text(queue_log))
    # one warning row (the unknown event), its status cell the amber triangle, no red cross
    assert html.count('class="fas fa-exclamation-triangle vigie-warning-icon"') == 2  # header, row
    assert "fa-times" not in html
    drafts = _page(docs, "validations", "landing.email_messages", MONDAY, "vigie-mail.email_messages")
    text = _text(drafts)
    assert re.search(r"Status:\s+Failed", text) and "Warning" not in text
    assert "fa-times text-danger" in drafts.read_text(encoding="utf-8")
    # The index's status column (and its filter) says which: 2 warnings, 1 failure, 31 successes.
    index = (docs / "index.html").read_text(encoding="utf-8")
    statuses = re.findall(r"'_validation_success_text': '(\w+)'", index)
    assert sorted(set(statuses)) == ["Failed", "Success", "Warning"]
    assert (statuses.count("Warning"), statuses.count("Failed"), statuses.count("Success")) == (2, 1, 31)


def test_commitments_page_names_service_period_rate_and_threshold(docs: Path) -> None:
    page = _page(docs, "validations", "commitments", SUNDAY, "vigie-marts.service_indicators.final_tonight")
    text = _text(page)
    assert (f"État civil — semaine du 9 novembre 2026 : 80{NBSP}% (8 sur 10) pour un seuil de 90{NBSP}%"
            in text)
    assert (f"Urbanisme — journée du 15 novembre 2026 : 66,7{NBSP}% (2 sur 3) pour un seuil de 90{NBSP}%"
            in text)
    assert f"Courriels : réponse sous 5 jours ouvrés — seuil 90{NBSP}%, volume minimal 3" in text
    assert re.search(r"Data asset:\s+marts\.service_indicators\.final_tonight", text)
    assert RAW_FLOAT.findall(text) == []
    assert "-0.2" not in text and "0.666" not in text and "margin" not in text
    # Monday closes no period: both commitments had no row to check (GX wrote "NaN% null").
    monday = _text(_page(docs, "validations", "commitments", MONDAY,
                         "vigie-marts.service_indicators.final_tonight"))
    assert monday.count("no rows to check") == 2 and "NaN" not in monday
    suite = _text(docs / "expectations" / "commitments.html")
    assert f"Téléphone : taux de décroché d'au moins 85 % — seuil 85{NBSP}%, volume minimal 20" in suite


def test_percent_is_rounded_and_never_shows_a_breach_at_its_threshold() -> None:
    assert percent(0.8) == f"80{NBSP}%"
    assert percent(2 / 3) == f"66,7{NBSP}%"
    assert percent(0.855) == f"85,5{NBSP}%"
    assert percent(1.0) == f"100{NBSP}%"
    # 2699/3000 = 89.966...%: "90 %" would read as met; a breached rate is rounded down.
    assert percent(2699 / 3000) == f"90{NBSP}%"
    assert percent(2699 / 3000, below=0.9) == f"89,9{NBSP}%"
    assert percent(0.89, below=0.9) == f"89{NBSP}%"
    assert period_words("day", dt.date(2026, 12, 1)) == "journée du 1er décembre 2026"
    assert period_words("month", dt.date(2026, 11, 1)) == "mois de novembre 2026"
    assert finding("Accueil", "week", dt.date(2026, 11, 2), 8, 10, 0.8, 0.9) == (
        f"Accueil — semaine du 2 novembre 2026 : 80{NBSP}% (8 sur 10) pour un seuil de 90{NBSP}%")
    with pytest.raises(ValueError, match="unknown period grain 'year'"):
        period_words("year", dt.date(2026, 1, 1))


def test_a_site_from_before_offline_assets_is_rendered_whole_once(tmp_path: Path) -> None:
    """Pages written by a Vigie that linked CDNs are re-rendered when the vendored assets
    arrive, so the index never links to a page that needs the internet."""
    mail = [{"id": "mail", "type": "maildir", "path": "x/maildir",
             "mailboxes": [{"name": "ec", "path": "ec", "service": "ETAT_CIVIL"}]}]
    cfg = make_config(tmp_path, sources=mail)
    land(cfg, "mail", SUNDAY, {"email_messages": [_message(SUNDAY, "inbox")]})
    create_warehouse(cfg)
    run_checks(cfg, SUNDAY)
    docs = cfg.path(cfg.outputs.data_docs)
    old = _page(docs, "validations", "landing.email_messages", SUNDAY, "vigie-mail.email_messages")
    old.write_text('<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>')
    shutil.rmtree(docs / "static" / "vendor")

    land(cfg, "mail", MONDAY, {"email_messages": [_message(MONDAY, "inbox")]})
    run_checks(cfg, MONDAY)
    assert "code.jquery.com" not in old.read_text(encoding="utf-8")
    assert "static/vendor/jquery/jquery.min.js" in old.read_text(encoding="utf-8")
    assert (docs / "static" / "vendor" / "jquery" / "jquery.min.js").is_file()


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    """Headless Chromium with every host name unresolvable: no page can reach a network."""
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--virtual-time-budget=5000", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_index_renders_offline_in_chromium(docs: Path, tmp_path: Path) -> None:
    """Without any network the index's results table is built (bootstrap-table ran) and drawn."""
    require_chromium()
    index = docs / "index.html"
    dom = _chromium("--window-size=1280,900", "--dump-dom", index.as_uri(), profile=tmp_path / "p1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    rows = re.findall(r'<tr[^>]*data-href="validations/[^"]*" data-index="\d+"', dom.stdout)
    assert len(rows) == 10  # bootstrap-table's first page of the 34 results
    assert re.search(r"<td[^>]*>\s*night-2026-11-16\s*</td>", dom.stdout)
    assert "bootstrap-table" in dom.stdout and "fixed-table-container" in dom.stdout

    shot = tmp_path / "index.png"
    run = _chromium("--window-size=1280,900", f"--screenshot={shot}", index.as_uri(), profile=tmp_path / "p2")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as img:
        rgb = img.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20) or []
        # a blank page has one colour; the styled table with its icons has hundreds
        assert len(colours) > 100
        # Bootstrap's table borders (#dee2e6) and the green success icon (#28a745) are drawn:
        # both come from the vendored CSS and Font Awesome's font.
        present = {c for _, c in colours}
        assert (222, 226, 230) in present
        assert any(g > 150 and r < 80 and b < 100 for r, g, b in present)
