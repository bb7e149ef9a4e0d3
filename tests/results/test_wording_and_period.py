"""The words and the period rules of the published results (vigie/results/wording.py,
figures.parse_period, config ``publication``; DECISIONLOG Part 9)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from vigie.config import ConfigError, parse_config
from vigie.results import wording
from vigie.results.figures import parse_period

NB = "\u00a0"
PROJECT = Path(__file__).resolve().parents[2]


def test_a_period_is_a_year_or_a_month() -> None:
    y = parse_period("2026")
    assert (y.kind, y.start, y.end, len(y.months())) == ("year", dt.date(2026, 1, 1), dt.date(2027, 1, 1), 12)
    m = parse_period("2026-12")
    assert (m.kind, m.start, m.end, m.months()) == ("month", dt.date(2026, 12, 1), dt.date(2027, 1, 1),
                                                     [dt.date(2026, 12, 1)])
    for bad in ("26", "2026-13", "2026-1", "2026-10-01", "last year"):
        with pytest.raises(ValueError, match="expected a year"):
            parse_period(bad)


def test_a_miss_never_reads_as_the_promise() -> None:
    assert wording.rate_pct(1699, 2000, 0.85) == f"84,9{NB}%"  # 84.95 %: not 85 % (vigie/percent.py)
    assert wording.rate_pct(1699, 2000) == f"85{NB}%"
    assert wording.rate_pct(17, 20, 0.85) == f"85{NB}%"
    assert wording.rate_pct(2, 3) == f"66,7{NB}%"
    assert wording.rate_pct(5, 5) == f"100{NB}%"
    assert wording.kept(1699, 2000, 5, 0.85) is False
    assert wording.kept(17, 20, 5, 0.85) is True
    assert wording.kept(4, 4, 5, 0.85) is None  # small cell: nothing said
    assert wording.kept(10, 12, 5, 0.9, min_volume=20) is None  # under the threshold, under min_volume
    assert wording.kept(12, 12, 5, 0.9, min_volume=20) is True
    assert wording.kept(10, 20, 5, 0.9, min_volume=20) is False


def test_sentences_in_plain_french() -> None:
    assert wording.result_sentence(92, 100, 5, "email", "first_response", "5 jours ouvrés", 0.9) == (
        f"92{NB}% des courriels ont reçu une réponse sous 5{NB}jours ouvrés{NB}; engagement{NB}: 90{NB}%")
    assert wording.result_sentence(850, 1000, 5, "phone", "first_response", None, 0.85) == (
        f"85{NB}% des appels ont été décrochés{NB}; engagement{NB}: 85{NB}%")
    assert wording.result_sentence(61, 100, 5, "phone", "first_response", "20 secondes", 0.8).startswith(
        f"61{NB}% des appels ont été décrochés en moins de 20{NB}secondes")
    assert wording.result_sentence(9, 10, 5, "online", "acknowledgement", "1 semaine", 0.9).startswith(
        f"90{NB}% des demandes en ligne ont reçu un accusé de réception sous 1{NB}semaine")
    assert wording.result_sentence(3, 4, 5, "letter", "first_response", "15 jours ouvrés", 0.9) == (
        f"Moins de 5 courriers sur la période{NB}: taux non publié{NB}; engagement{NB}: 90{NB}% "
        f"des courriers ont reçu une réponse sous 15{NB}jours ouvrés")
    assert wording.months_span([dt.date(2026, 9, 1), dt.date(2026, 10, 1)]) == "de septembre à octobre 2026"
    assert wording.long_date(dt.date(2026, 11, 1)) == "1er novembre 2026"


def _demo() -> dict:
    return yaml.safe_load((PROJECT / "config" / "vigie.yml").read_text(encoding="utf-8"))


def test_publication_section_is_checked() -> None:
    base = _demo()
    cfg = parse_config(base)
    assert cfg.publication.min_requests == 5
    bad = base | {"publication": {"indicators": [{"code": "X", "commitment": "nope"}]}}
    with pytest.raises(ConfigError, match=r"publication.*unknown commitment 'nope'"):
        parse_config(bad)
    both = base | {"publication": {"indicators": [{"code": "X", "commitment": "marianne_email_response",
                                                   "satisfaction": True}]}}
    with pytest.raises(ConfigError, match="either 'commitment"):
        parse_config(both)
    wrong_service = base | {"publication": {"structures": [
        {"code": "S1", "postal_code": "69001", "town": "Lyon", "services": ["NOPE"]}]}}
    with pytest.raises(ConfigError, match="unknown service code 'NOPE'"):
        parse_config(wrong_service)
    with pytest.raises(ConfigError, match="postal_code"):
        parse_config(base | {"publication": {"structures": [{"code": "S1", "postal_code": "691", "town": "L"}]}})
    with pytest.raises(ConfigError, match="min_requests"):
        parse_config(base | {"publication": {"min_requests": 0}})


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colours_reach_wcag_aa() -> None:
    """Every text colour of the page and poster against its background: 4.5:1 at least (WCAG
    AA for body text); the pairs are those the stylesheets declare."""
    templates = PROJECT / "vigie" / "results" / "templates"
    css = (templates / "_style.css").read_text(encoding="utf-8") + (templates / "resultats.html").read_text(
        encoding="utf-8")
    pairs = [("#1b1b1b", "#ffffff"), ("#4a4a4a", "#ffffff"), ("#1e6b35", "#e3f1e7"), ("#8f200b", "#fbe6e1"),
             ("#4a4a4a", "#eeeeee"), ("#1f4e79", "#ffffff"), ("#ffffff", "#1f4e79"), ("#ffffff", "#b3541e"),
             ("#1b1b1b", "#f2f6fa")]
    for text, background in pairs:
        assert text in css and background in css, (text, background)
        assert _contrast(text, background) >= 4.5, (text, background, _contrast(text, background))
