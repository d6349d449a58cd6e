"""The web edition's pages: the assembled book document (``bookgen.document``) cut into pages.

The EPUB is written from the same document, so every page shows the titles, numbers, captions and
placeholders the EPUB and the PDF show. Cutting happens at the headings ``assemble_book`` made for
the outline's entries: chapters, part pages, the 附录 group, appendices, front and back matter
(and sections, with ``html.split: section``). The outline (sidebar, contents) is read from the
document's headings down to the EPUB nav's depth, so it lists exactly the EPUB nav's entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bookgen.document import BookDocument
from bookgen.model.book import Book
from bookgen.sources.ast import Block, walk_blocks

APPENDIX_GROUP = "appendices"  # the id assemble_book gives the 附录 heading
SPECIAL_PAGES = ("index", "copyright", "contents", "search")  # pages made from templates, not from the document
MEDIA_DIR = "media"  # images are copied under this folder of the site

# Where each element type keeps its Attr ([id, classes, attributes]) in pandoc's JSON.
_ATTR_AT = {"Header": 1, "Div": 0, "Span": 0, "CodeBlock": 0, "Code": 0, "Figure": 0, "Table": 0, "Image": 0, "Link": 0}


@dataclass
class Page:
    """One page of the site: ``name`` is its file stem (``ch-1`` → ``ch-1.html``), ``title`` its
    numbered heading (第1章 标题), ``blocks`` its part of the book document, first heading at level 1."""

    name: str
    title: str
    kind: str  # front | part | chapter | section | appendix-group | appendix | appendix-section | back
    blocks: list[Block]
    digest: str = ""  # of the blocks as pandoc will read them: the fragment cache's key

    @property
    def file(self) -> str:
        return f"{self.name}.html"


@dataclass(frozen=True)
class OutlineEntry:
    """A line of the sidebar and the contents: the numbered title, where it links, on which page it is."""

    title: str
    href: str
    page: str
    children: tuple[OutlineEntry, ...] = ()

    def walk(self) -> Iterator[OutlineEntry]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Site:
    """The pages in reading order, the outline, and the manuscript images the pages show."""

    pages: list[Page]
    outline: tuple[OutlineEntry, ...]
    images: set[str] = field(default_factory=set)  # manuscript-relative paths

    def page(self, name: str) -> Page:
        return next(page for page in self.pages if page.name == name)


def stringify(value: Any) -> str:
    """The text of inlines or blocks (like pandoc.utils.stringify): notes dropped, spaces and breaks as
    one space, code and math as written; blocks run together (a paragraph break adds nothing)."""
    if isinstance(value, list):
        return "".join(stringify(item) for item in value)
    if not isinstance(value, dict):
        return ""
    kind = value.get("t")
    if kind == "Str":
        return value["c"]
    if kind in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if kind in ("Code", "Math", "RawInline", "CodeBlock", "RawBlock"):
        return value["c"][1]
    if kind == "Note":
        return ""
    if kind in ("Span", "Link", "Image"):
        return stringify(value["c"][1])
    if kind == "Quoted":
        return stringify(value["c"][1])
    if kind == "Cite":
        return stringify(value["c"][1])
    return stringify(value.get("c"))


def element_id(element: dict) -> str:
    """The element's identifier, '' when it has none (or cannot have one)."""
    at = _ATTR_AT.get(element["t"])
    if at is None:
        return ""
    attr = element["c"][at] if at < len(element["c"]) else None
    return attr[0] if isinstance(attr, list) and attr and isinstance(attr[0], str) else ""


def _page_names(book: Book, split: str) -> dict[str, str]:
    """Heading id → page name for the headings that open a page."""
    kinds = {"front", "part", "chapter", "appendix", "back"} | ({"section", "appendix-section"} if split == "section" else set())
    names = {node.id: node.id for node in book.nodes() if node.kind in kinds}
    if book.appendices:
        names[APPENDIX_GROUP] = APPENDIX_GROUP
    return {node_id: f"{name}-page" if name in SPECIAL_PAGES else name for node_id, name in names.items()}


def split_pages(book: Book, document: BookDocument) -> Site:
    """Cut ``document`` into pages at the outline's headings; resolve links and images for the site.

    The document's blocks are changed in place (it is the HTML builder's own copy): each page's
    headings are raised so that its first is level 1; ``#id`` links to another page become
    ``page.html#id``; images point into ``media/``.
    """
    opening = _page_names(book, book.html.split) | {page: page for page in document.pages}
    nodes = {node.id: node for node in book.nodes()}
    pages: list[Page] = []
    for block in document.blocks:
        if block["t"] == "Header" and block["c"][1][0] in opening:
            node_id = block["c"][1][0]
            node = nodes.get(node_id)
            pages.append(
                Page(opening[node_id], node.heading if node else stringify(block["c"][2]), node.kind if node else "appendix-group", [])
            )
        pages[-1].blocks.append(block)
    max_level = document.chapter_level + book.layout.toc_depth - 1  # the EPUB nav's depth
    headings = [
        (block["c"][0], block["c"][1][0], stringify(block["c"][2]), page)
        for page in pages
        for block in page.blocks
        if block["t"] == "Header" and block["c"][0] <= max_level
    ]
    page_of: dict[str, str] = {}
    images: set[str] = set()
    for page in pages:
        for element in walk_blocks(page.blocks):
            if element_id(element):
                page_of.setdefault(element_id(element), page.name)
    for page in pages:
        shift = page.blocks[0]["c"][0] - 1
        for element in walk_blocks(page.blocks):
            if element["t"] == "Header":
                element["c"][0] = max(1, min(6, element["c"][0] - shift))
            elif element["t"] == "Link":
                target = element["c"][2]
                if target[0].startswith("#") and page_of.get(target[0][1:], page.name) != page.name:
                    target[0] = f"{page_of[target[0][1:]]}.html{target[0]}"
            elif element["t"] == "Image":
                target = element["c"][2]
                if "://" not in target[0]:
                    images.add(target[0])
                    target[0] = f"{MEDIA_DIR}/{quote(target[0])}"
        page.digest = hashlib.sha256(json.dumps(page.blocks, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()
    return Site(pages, _outline(headings), images)


def _outline(headings: list[tuple[int, str, str, Page]]) -> tuple[OutlineEntry, ...]:
    """Nest (level, id, text, page) headings into a tree; a page's first heading links to the page itself."""
    root: list[tuple[int, OutlineEntry, list]] = []
    stack: list[tuple[int, list]] = [(0, root)]
    for level, node_id, text, page in headings:
        while stack[-1][0] >= level:
            stack.pop()
        first = page.blocks[0]["c"][1][0] == node_id
        children: list = []
        stack[-1][1].append((level, OutlineEntry(text, page.file if first else f"{page.file}#{node_id}", page.name), children))
        stack.append((level, children))

    def freeze(items: list) -> tuple[OutlineEntry, ...]:
        return tuple(OutlineEntry(entry.title, entry.href, entry.page, freeze(children)) for _, entry, children in items)

    return freeze(root)
