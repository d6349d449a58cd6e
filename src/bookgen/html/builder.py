"""The web edition's builder: ``build/html/``, a static site with relative links only.

prepare   assemble the book (the EPUB's document), cut it into pages, the outline, the layout data
outdated  the pages whose key changed since the site in the work directory was written: a page's
          key is its blocks' digest plus the digest of what every page shows (titles, numbering,
          metadata, templates), so an edit re-writes its own page, a retitling every page
write     pandoc for the outdated pages' fragments (cached), Jinja for their layout, assets and
          images, the search data (search.json) when the text changed; a manifest of the keys
verify    crawl the site: every relative link and anchor resolves
report    copy what changed into ``build/html/`` (the previous site stays until then) with the
          book's PDF and EPUB beside the pages when they are built
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from bookgen.document import assemble_book
from bookgen.errors import BookgenError
from bookgen.fsutil import write_atomic, write_if_changed
from bookgen.html.crawl import crawl
from bookgen.html.pages import MEDIA_DIR, Site, split_pages
from bookgen.html.render import (
    Link,
    SiteContext,
    convert_fragments,
    render_page,
    site_context,
)
from bookgen.html.search import SEARCH_DATA, search_data
from bookgen.pipeline.builder import BuildContext, Builder, Outdated
from bookgen.pipeline.options import Format, Profile
from bookgen.pipeline.results import OutputReport
from bookgen.sources.convert import abstract_text
from bookgen.tools import template_dir
from bookgen.wording import counted

MANIFEST = "manifest.json"
DOWNLOADS = (("screen", "PDF 版"), ("epub", "EPUB 版"))  # output_path names and their labels on the home page


def downloads(context: BuildContext) -> tuple[Link, ...]:
    """The PDF and EPUB the home page offers: those this build makes, or an earlier one left."""
    made = {
        "screen": Format.PDF in context.options.formats and context.options.profile is Profile.SCREEN,
        "epub": Format.EPUB in context.options.formats,
    }
    links = []
    for name, label in DOWNLOADS:
        path = context.output_path(name)
        if made[name] or path.is_file():
            links.append(Link(f"{label}（{path.name}）", path.name))
    return tuple(links)


def publish_downloads(context: BuildContext) -> None:
    """Copy the built PDF and EPUB into ``build/html/`` (when changed), so the published folder holds them."""
    site = context.output_path("html")
    if not site.is_dir():
        return
    for name, _ in DOWNLOADS:
        source = context.output_path(name)
        target = site / source.name
        if source.is_file() and (not target.is_file() or source.stat().st_mtime_ns != target.stat().st_mtime_ns):
            shutil.copy2(source, target)


def sync_tree(source: Path, target: Path) -> int:
    """Make ``target`` hold ``source``'s files: copy those whose bytes differ, delete those ``source``
    lacks (the book's PDF and EPUB copies excepted). Returns how many files were copied."""
    copied = 0
    wanted = set()
    for path in source.rglob("*"):
        if path.is_dir():
            continue
        relative = path.relative_to(source)
        wanted.add(relative)
        destination = target / relative
        data = path.read_bytes()
        if not destination.is_file() or destination.stat().st_size != len(data) or destination.read_bytes() != data:
            write_atomic(destination, data)
            copied += 1
    for path in sorted(target.rglob("*"), reverse=True):
        relative = path.relative_to(target)
        if path.is_file() and relative not in wanted and path.suffix not in (".pdf", ".epub"):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return copied


class HtmlBuilder(Builder):
    """``build/html/``: home, 版权信息, 目录, a page per chapter-like entry (or section), search."""

    name = "html"

    def __init__(self, context: BuildContext):
        super().__init__(context)
        self.work_dir = context.work / "html"
        self.site_dir = self.work_dir / "site"
        self.site: Site | None = None
        self.layout: SiteContext | None = None
        self.keys: dict[str, str] = {}
        self.written: list[str] = []

    def prepare(self) -> None:
        begun = time.monotonic()
        self.context.progress("assembling the web edition")
        book = self.context.book
        self.site = split_pages(book, assemble_book(book, self.context.sources, self.context.converted))
        self.layout = site_context(book, self.site, downloads(self.context))
        templates = hashlib.sha256()
        for path in sorted((template_dir() / "html").glob("*.html")):
            templates.update(path.read_bytes())
        common = hashlib.sha256(f"{self.layout.digest()}\0{templates.hexdigest()}".encode()).hexdigest()
        abstract = abstract_text(book, self.context.converted)
        self.keys = {page.file: hashlib.sha256(f"{common}\0{page.digest}".encode()).hexdigest() for page in self.site.pages}
        self.keys.update(
            {
                "index.html": hashlib.sha256(f"{common}\0{abstract}".encode()).hexdigest(),
                "copyright.html": common,
                "contents.html": common,
                "search.html": common,
            }
        )
        self.timed("html", begun)

    def outdated(self) -> Outdated:
        try:
            recorded = json.loads((self.work_dir / MANIFEST).read_text(encoding="utf-8"))["pages"]
        except (OSError, ValueError, KeyError):
            recorded = {}
        stale = tuple(file for file, key in self.keys.items() if recorded.get(file) != key or not (self.site_dir / file).is_file())
        if len(stale) == len(self.keys):
            return Outdated(None, "every page")
        return Outdated(stale, f"{len(stale)} of {len(self.keys)} pages")

    def write(self, outdated: Outdated) -> Path:
        assert self.site is not None and self.layout is not None, "prepare() runs before write()"
        begun = time.monotonic()
        files = set(self.keys) if outdated.whole else set(outdated.units or ())
        pages = [page for page in self.site.pages if page.file in files]
        if files:
            self.context.progress(f"writing {len(files)} web pages")
        fragments, _ = convert_fragments(pages, self.work_dir / "fragments")
        self.written = [file for file in sorted(files) if write_if_changed(self.site_dir / file, self._render(file, fragments))]
        for stale in {path.name for path in self.site_dir.glob("*.html")} - set(self.keys):
            (self.site_dir / stale).unlink()
        self._copy_assets()
        if write_if_changed(self.site_dir / SEARCH_DATA, search_data(self.site)):
            self.written.append(SEARCH_DATA)
        write_atomic(self.work_dir / MANIFEST, json.dumps({"pages": self.keys}, ensure_ascii=False, indent=1))
        self.timed("html", begun)
        return self.site_dir

    def _render(self, file: str, fragments: dict[str, str]) -> str:
        """One page's HTML: a template page (home, copyright, contents, search) or a page of the book."""
        assert self.site is not None and self.layout is not None
        layout, book = self.layout, self.context.book
        if file == "index.html":
            abstract = [line for line in abstract_text(book, self.context.converted).splitlines() if line.strip()]
            first = layout.order[3] if len(layout.order) > 3 else None
            return render_page(layout, "home.html", file, book.metadata.title, abstract=abstract, first=first)
        if file in ("copyright.html", "contents.html", "search.html"):
            title = {"copyright.html": "版权信息", "contents.html": "目录", "search.html": "搜索"}[file]
            return render_page(layout, file, file, title)
        page = self.site.page(file.removesuffix(".html"))
        own = next((entry for top in self.site.outline for entry in top.walk() if entry.href == page.file), None)
        children = [child for child in own.children if child.page != page.name] if own else []
        return render_page(layout, "page.html", file, page.title, content=fragments[page.name], kind=page.kind, children=children)

    def _copy_assets(self) -> None:
        """The stylesheet and scripts (templates/html/assets/) and the images the pages show."""
        for path in (template_dir() / "html" / "assets").iterdir():
            target = self.site_dir / "assets" / path.name
            data = path.read_bytes()
            if not target.is_file() or target.read_bytes() != data:
                write_atomic(target, data)
        assert self.site is not None
        for image in sorted(self.site.images):
            source, target = self.context.book.root / image, self.site_dir / MEDIA_DIR / image
            if source.is_file() and (not target.is_file() or source.stat().st_mtime_ns != target.stat().st_mtime_ns):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)

    def verify(self, made: Path) -> None:
        begun = time.monotonic()
        assert self.layout is not None
        problems = crawl(made, frozenset(link.href for link in self.layout.downloads))
        self.timed("verify-html", begun)
        if problems:
            raise BookgenError(
                f"the web edition has {len(problems)} broken links; build/html/ is left as it was", detail="\n".join(problems[:20])
            )

    def report(self, made: Path) -> OutputReport:
        target = self.context.output_path("html")
        copied = sync_tree(made, target)
        publish_downloads(self.context)
        size = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
        assert self.site is not None
        pages = len(self.keys)
        detail = f"{counted(pages, 'page')}, {counted(len(self.written), 'file')} rewritten, {copied} updated"
        return OutputReport(target / "index.html", size, detail=detail)
