"""The static apps' pages come from one set of templates (``tools/build_pages.py``): every page
renders, the same way twice, and the committed ``site/`` pages are their rendering; the parts
every page shares are written once in the sources."""
from __future__ import annotations

import re

from tools.build_pages import REPO, TEMPLATES, apps, render_pages, stale_pages


def test_every_page_renders_and_the_build_is_deterministic():
    # Given the page templates; When they are rendered twice
    first, second = render_pages(), render_pages()
    # Then every non-partial template of every app gives a page, byte for byte the same twice
    sources = {REPO / app / t.name for app in apps() for t in (TEMPLATES / app).glob("*.html")
               if not t.name.startswith("_")}
    assert set(first) == sources and {REPO / "site" / "index.html", REPO / "site" / "manage.html"} <= sources
    assert first == second
    for path, html in first.items():
        assert html.startswith("<!DOCTYPE html>\n") and html.endswith("</html>\n"), path
        assert html.count('<a class="skip-link" href="#main">') == 1, path


def test_committed_pages_are_their_rendering():
    # A page edited by hand in site/ (or a template edited without `make pages`) fails here.
    assert [p.relative_to(REPO).as_posix() for p in stale_pages()] == []


def test_no_page_is_in_site_without_a_template():
    assert {p.name for p in (REPO / "site").glob("*.html")} == {
        p.name for p in (TEMPLATES / "site").glob("*.html") if not p.name.startswith("_")}


def _sources() -> dict:
    return {p.relative_to(TEMPLATES).as_posix(): p.read_text(encoding="utf-8") for p in TEMPLATES.rglob("*.html")}


def test_shared_parts_are_written_once_in_the_sources():
    # Given every template; Then each shared part's markup appears in exactly one of them
    once = {
        'class="site-footer"': "_frame.html",
        'class="skip-link"': "_frame.html",
        "<h2>There is a problem</h2>": "_forms.html",
        'class="error-message"': "_forms.html",
        'aria-label="Footer"': "site/_layout.html",
        'class="tagline"': "site/_layout.html",
        'id="location-map"': "site/_fields.html",
        'autocomplete="address-line1"': "site/_fields.html",
        "Officers may call you if your cameras": "site/_fields.html",
    }
    sources = _sources()
    for markup, home in once.items():
        holders = [name for name, text in sources.items() if markup in text]
        assert holders == [home], (markup, holders)
        assert sum(text.count(markup) for text in sources.values()) == 1, markup


def test_the_rendered_pages_still_repeat_the_shared_parts():
    # The rendering, not the sources, carries one footer and one error slot per field.
    pages = render_pages()
    index = pages[REPO / "site" / "index.html"]
    assert all(html.count('<footer class="site-footer">') == 1 for html in pages.values())
    assert index.count('<fieldset class="form-group" data-field="address" data-label="Address">') == 1
    ids = re.findall(r'id="([a-z0-9-]+)-error" data-error', index)
    assert len(ids) == len(set(ids)) >= 10


def test_the_footer_marks_the_current_page():
    pages = render_pages()
    assert '<a href="privacy.html" aria-current="page">' in pages[REPO / "site" / "privacy.html"]
    assert '<a href="manage.html" aria-current="page">' in pages[REPO / "site" / "manage.html"]
    assert 'aria-current="page"' not in pages[REPO / "site" / "index.html"]


def test_a_second_app_uses_the_same_frame_and_fields(tmp_path):
    # Given a console beside the site, with its own name and navigation, using the shared macros
    templates = tmp_path / "pages"
    (templates / "console").mkdir(parents=True)
    for shared in ("_frame.html", "_forms.html"):
        (templates / shared).write_text((TEMPLATES / shared).read_text())
    (templates / "console" / "_layout.html").write_text(
        '{% extends "_frame.html" %}{% set app_name = "Sightline for officers" %}{% set home = "index.html" %}'
        '{% block header_detail %}<nav aria-label="Console"><a href="cases.html">Cases</a></nav>\n{% endblock %}')
    (templates / "console" / "index.html").write_text(
        '{% extends "console/_layout.html" %}{% import "_forms.html" as forms %}'
        '{% set title = "Search" %}{% set referrer = "no-referrer" %}{% set stylesheets = [] %}'
        '{% set scripts = ["js/search.js"] %}{% block main %}'
        '{{ forms.error_summary("search-errors") }}\n'
        '{{ forms.input("case-ref", "Case reference", hint="As it is in the crime system.") }}\n'
        '{{ forms.choices("reason", "Why are you searching?", [("witness", "Witness appeal"), ("suspect", "Suspect seen")]) }}\n'
        '{% endblock %}')
    # When it is rendered
    (page,) = render_pages(templates, tmp_path).values()
    # Then it has the shared frame with its own name, and the shared fields
    assert "<title>Search – Sightline for officers</title>" in page
    assert '<a class="brand" href="index.html">Sightline for officers</a>' in page
    assert '<nav aria-label="Console">' in page and '<a class="skip-link" href="#main">' in page
    assert '<div class="form-group" data-field="case_ref" data-label="Case reference">' in page
    assert '<input type="text" id="case-ref" name="case_ref" aria-describedby="case-ref-hint">' in page
    assert '<input type="radio" id="reason-witness" name="reason" value="witness">' in page
    assert "<h2>There is a problem</h2>" in page
