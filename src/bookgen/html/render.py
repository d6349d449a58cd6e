"""The web edition's HTML: pandoc writes each page's blocks as a fragment, Jinja puts it in the layout.

Fragments are cached in the work directory under the digest of the page's blocks (and of the
conversion script and pandoc), so an edit converts only the page it changes. Layout, sidebar and
assets live in ``templates/html/`` (Jinja, HTML-escaped by default).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from bookgen import __version__
from bookgen.fsutil import write_atomic
from bookgen.html.pages import OutlineEntry, Page, Site
from bookgen.model.book import Book
from bookgen.tools import (
    pandoc_api_version,
    pandoc_env,
    pandoc_identity,
    pandoc_path,
    run_tool,
    template_dir,
)

LUA_SCRIPT = Path(__file__).resolve().parent / "fragments.lua"


@functools.cache
def conversion_salt() -> str:
    """What every fragment depends on besides its blocks: bookgen, pandoc and the conversion script."""
    return f"{__version__}\0{pandoc_identity()}\0{LUA_SCRIPT.read_text(encoding='utf-8')}"


def fragment_key(page: Page) -> str:
    """The fragment cache's key of a page: its blocks' digest salted with the conversion's inputs."""
    return hashlib.sha256(f"{conversion_salt()}\0{page.digest}".encode()).hexdigest()


def convert_fragments(pages: list[Page], cache_dir: Path) -> tuple[dict[str, str], int]:
    """HTML fragments by page name, from ``cache_dir`` where possible; the others in one pandoc run.

    Returns (fragments, how many pandoc converted). Raises ToolError when pandoc fails.
    """
    fragments: dict[str, str] = {}
    missing: list[Page] = []
    for page in pages:
        try:
            fragments[page.name] = (cache_dir / f"{fragment_key(page)}.html").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            missing.append(page)
    if missing:
        api = pandoc_api_version()
        request = {
            "pages": {
                page.name: json.dumps({"pandoc-api-version": api, "meta": {}, "blocks": page.blocks}, ensure_ascii=False)
                for page in missing
            }
        }
        proc = run_tool(
            [pandoc_path(), "lua", str(LUA_SCRIPT)],
            f"the web edition's {len(missing)} pages",
            input=json.dumps(request, ensure_ascii=False).encode("utf-8"),
            env=pandoc_env(),
            text=False,
        )
        reply = json.loads(proc.stdout)
        for page in missing:
            fragments[page.name] = reply[page.name]
            write_atomic(cache_dir / f"{fragment_key(page)}.html", reply[page.name])
    return fragments, len(missing)


@functools.cache
def html_environment() -> jinja2.Environment:
    """Jinja over templates/html/, escaping HTML; kept for the process (``bookgen serve`` renders often)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir() / "html")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class Link:
    """A link the layout shows: text and relative href."""

    title: str
    href: str


@dataclass(frozen=True)
class SiteContext:
    """What every page's layout needs: the book's metadata, the outline, the reading order, downloads."""

    book: Book
    outline: tuple[OutlineEntry, ...]
    order: tuple[Link, ...]  # home, copyright, contents, then the content pages
    downloads: tuple[Link, ...]  # PDF / EPUB of the same book, copied into the site

    def digest(self) -> str:
        """Changes when anything every page shows changes (titles, numbering, order, metadata, downloads)."""
        data = {
            "meta": repr(self.book.metadata),
            "outline": repr(self.outline),
            "order": repr(self.order),
            "downloads": repr(self.downloads),
            "split": self.book.html.split,
        }
        return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def site_context(book: Book, site: Site, downloads: tuple[Link, ...]) -> SiteContext:
    """The shared layout data of ``site``."""
    order = (
        Link(book.metadata.title, "index.html"),
        Link("版权信息", "copyright.html"),
        Link("目录", "contents.html"),
        *(Link(page.title, page.file) for page in site.pages),
    )
    return SiteContext(book, site.outline, order, downloads)


def render_page(context: SiteContext, template: str, file: str, title: str, **values: Any) -> str:
    """One page of the site as HTML: ``template`` from templates/html/, ``file`` its name (for the
    sidebar's highlight and the prev/next links), ``title`` for <title>."""
    hrefs = [link.href for link in context.order]
    position = hrefs.index(file) if file in hrefs else None
    previous = context.order[position - 1] if position else None
    following = context.order[position + 1] if position is not None and position + 1 < len(hrefs) else None
    page = file.removesuffix(".html")

    def holds_current(entry: OutlineEntry) -> bool:  # the sidebar opens the branches that hold this page
        return any(inner.page == page for inner in entry.walk())

    return (
        html_environment()
        .get_template(template)
        .render(
            book=context.book.metadata,
            outline=context.outline,
            file=file,
            title=title,
            previous=previous,
            next=following,
            downloads=context.downloads,
            holds_current=holds_current,
            **values,
        )
    )
