"""Render the static apps' pages from ``templates/pages/``: each folder there (``site/``, and
the officers' console's when it has one) becomes the folder of that name at the top of the
repository, one page per template whose name does not start with ``_``. Shared by every app:
``_frame.html`` (head, skip link, header, footer, scripts) and ``_forms.html`` (error summary
and form fields). ``make`` runs this; the rendered pages are committed, and a unit test fails
when one differs from its template's rendering.

    python -m tools.build_pages            # render every app's pages
    python -m tools.build_pages --check    # list pages that differ from their rendering; exit 1
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional

import jinja2

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates" / "pages"


def apps(templates: Path = TEMPLATES) -> List[str]:
    """Each folder of ``templates`` is an app, rendered into the repository folder of its name."""
    return sorted(p.name for p in templates.iterdir() if p.is_dir() and not p.name.startswith("_"))


def _environment(templates: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails the build, not the page
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_pages(templates: Path = TEMPLATES, repo: Path = REPO) -> Dict[Path, str]:
    """Every page's path (under ``repo``) and its rendered HTML, in a fixed order."""
    environment = _environment(templates)
    pages = {}
    for app in apps(templates):
        for source in sorted((templates / app).glob("*.html")):
            if source.name.startswith("_"):
                continue
            template = environment.get_template(f"{app}/{source.name}")
            pages[repo / app / source.name] = template.render(app=app, page=source.name)
    return pages


def stale_pages(templates: Path = TEMPLATES, repo: Path = REPO) -> List[Path]:
    """Pages missing or different from their rendering."""
    return [path for path, html in render_pages(templates, repo).items()
            if not path.is_file() or path.read_text(encoding="utf-8") != html]


def write_pages(templates: Path = TEMPLATES, repo: Path = REPO) -> List[Path]:
    written = []
    for path, html in render_pages(templates, repo).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written even when unchanged, so make sees the page newer than its templates.
        path.write_text(html, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report pages that differ from their rendering")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_pages()
        for path in stale:
            print(f"{path.relative_to(REPO)} differs from its rendering: run make pages", file=sys.stderr)
        return 1 if stale else 0
    for path in write_pages():
        print(f"rendered {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
