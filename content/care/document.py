"""The report as a printable PDF, and the template both the PDF and the admin's page use.

The PDF is the same HTML as the page (one template, `templates/report_body.html`), laid out
for A4 and made by WeasyPrint: the charts stay vector graphics, the text stays text, and
there is no second layout to keep in step with the page. WeasyPrint is pure Python over
Pango (from the system's packages), so it installs on a Raspberry Pi without a compiler.
It fetches nothing: the charts are inlined, and any other address is refused.
"""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Callable

from content.care import charts
from content.care.report import SESSION_END_WORDS, Report

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _environment():
    import jinja2
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(default=True, default_for_string=True))


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def template_values(report: Report, chart_src: Callable[[str], str]) -> dict:
    return {"report": report, "chart_src": chart_src, "session_words": SESSION_END_WORDS}


def html(report: Report) -> str:
    """The standalone document, charts inlined."""
    drawn: dict[str, str] = {}

    def chart_src(name: str) -> str:
        if name not in drawn:
            drawn[name] = data_uri(charts.draw(name, report))
        return drawn[name]

    template = _environment().get_template("report_document.html")
    return template.render(**template_values(report, chart_src))


def _fetcher():
    """Only the inlined charts: a title or a note can never make the PDF fetch anything."""
    from weasyprint.urls import URLFetcher
    return URLFetcher(allowed_protocols=("data",), fail_on_errors=True)


def pdf(report: Report) -> bytes:
    import weasyprint
    return weasyprint.HTML(string=html(report), url_fetcher=_fetcher()).write_pdf()
