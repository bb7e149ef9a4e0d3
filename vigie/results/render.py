"""Templates and the PDF renderer shared by the public page, the poster and the audit report.

Jinja2 renders every document from ``vigie/results/templates/`` (autoescaped HTML); WeasyPrint
turns HTML with print CSS into PDF (no hand-built PDF). WeasyPrint is imported only when a PDF
is written (it loads Pango through cffi, about a second).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import jinja2

from vigie.results import wording

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment() -> jinja2.Environment:
    """The Jinja environment: templates of vigie/results/templates, autoescape, French filters
    (``pct``, ``long_date``, ``month_name``, ``short_month``, ``number``)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "svg", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        pct=wording.pct,
        long_date=wording.long_date,
        month_name=wording.month_name,
        short_month=wording.short_month,
        number=lambda x: wording.number(x, "fr"),
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def write_text_atomic(path: Path, text: str) -> Path:
    """Write through a temporary file in the same directory, then rename: a reader (a web
    server serving the folder) never sees half a page."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def html_to_pdf(html: str, out: Path, base_url: Path | None = None) -> Path:
    """Render ``html`` (with its print CSS, ``@page`` rules included) to the PDF ``out``.

    ``base_url`` resolves relative links and images; the documents here are self-contained,
    so it defaults to the templates directory. Written atomically.
    """
    from weasyprint import HTML

    pdf = HTML(string=html, base_url=str(base_url or TEMPLATES)).write_pdf()
    return write_bytes_atomic(out, pdf)
