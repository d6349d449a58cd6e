"""The printed edition's pages in the EPUB: which paragraph each PDF page of the same manuscript starts in.

The LaTeX side (``templates/latex/preamble/pagemap.tex_t`` and ``mark_paragraphs`` in
``sources/pandoc/convert.lua``) writes, for the N-th paragraph of the entry KEY, the physical page and
the folio where its first and its last line were shipped out, to ``<unit>.tex.pages`` beside the
unit's ``.tex``. Paragraphs are the AST's ``Para`` and ``Plain`` blocks in document order, leaving out
notes, tables and figures; ``paragraphs`` below counts the same blocks in the same order.

A page's marker goes before the paragraph the page starts in: the one that runs onto it from the
page before, else the first one that begins on it. Pages no paragraph touches (blank versos, title
and contents pages, a page holding only a table or a code block) and the middle pages of a paragraph
longer than a page get no marker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bookgen.latex.document import LatexDocument
from bookgen.press.figures import CopyrightFigures

PAGES_SUFFIX = ".tex.pages"  # \CurrentFile is "unit-ch-1.tex"
PARAGRAPHS = ("Para", "Plain")
NOT_IN_READING_ORDER = ("Note", "Table", "Figure")


@dataclass(frozen=True)
class PrintedPage:
    """A page of the PDF: ``physical`` counts from 1 at the first page, ``folio`` is what it prints (iii, 7)."""

    physical: int
    folio: str


@dataclass(frozen=True)
class ParagraphPages:
    """The pages of a paragraph's first and last line."""

    first: PrintedPage
    last: PrintedPage


@dataclass(frozen=True)
class PageMap:
    """What the typesetting run recorded: paragraph id ("KEY:N") → its pages; the PDF and its page count."""

    paragraphs: dict[str, ParagraphPages]
    pdf: Path
    pages: int
    figures: CopyrightFigures | None = None  # 印张 and 字数 as that PDF's 版权页 printed them


def paragraphs(blocks: Any) -> Iterator[dict]:
    """The paragraphs of an AST (block list) in the order convert.lua numbers them (1, 2, …)."""
    if isinstance(blocks, dict):
        kind = blocks.get("t")
        if kind in PARAGRAPHS:
            yield blocks
            return
        if kind in NOT_IN_READING_ORDER:
            return
        for value in blocks.values():
            yield from paragraphs(value)
    elif isinstance(blocks, list):
        for value in blocks:
            yield from paragraphs(value)


def _parse(text: str) -> dict[str, ParagraphPages]:
    starts: dict[str, PrintedPage] = {}
    result: dict[str, ParagraphPages] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[2].isdigit():
            continue  # a run stopped in the middle of a line
        edge, paragraph, physical, folio = parts
        page = PrintedPage(int(physical), folio)
        if edge == "s":
            starts[paragraph] = page
        elif paragraph in starts:
            result[paragraph] = ParagraphPages(starts[paragraph], page)
    return result


def read_page_map(work_dir: Path, document: LatexDocument, pdf: Path) -> PageMap | None:
    """The page map of ``pdf`` when it is current: every unit file in ``work_dir`` is the one ``document``
    renders now, each has its ``.tex.pages``, and ``pdf`` is at least as new as all of them. Else None
    (no PDF, an older PDF, a failed run): the EPUB then has no page list and claims none."""
    if not pdf.is_file():
        return None
    newest = 0.0
    paragraphs_pages: dict[str, ParagraphPages] = {}
    for stem, text in document.units.items():
        tex, pages = work_dir / f"{stem}.tex", work_dir / f"{stem}{PAGES_SUFFIX}"
        try:
            if tex.read_text(encoding="utf-8") != text:
                return None
            newest = max(newest, pages.stat().st_mtime)
            paragraphs_pages.update(_parse(pages.read_text(encoding="utf-8")))
        except OSError:
            return None
    if pdf.stat().st_mtime < newest:
        return None
    import pikepdf  # only builds that have a PDF to map open it

    with pikepdf.open(pdf) as opened:
        count = len(opened.pages)
    return PageMap(paragraphs_pages, pdf, count, CopyrightFigures.of_run(work_dir))


def page_breaks(order: list[str], page_map: PageMap) -> dict[str, list[PrintedPage]]:
    """Paragraph id → the pages whose marker goes before it, for paragraphs in reading order ``order``."""
    breaks: dict[str, list[PrintedPage]] = {}
    placed: set[int] = set()
    for paragraph in order:
        pages = page_map.paragraphs.get(paragraph)
        if pages is None:
            continue
        for page in (pages.first, pages.last):
            if page.physical not in placed:
                placed.add(page.physical)
                breaks.setdefault(paragraph, []).append(page)
    return breaks
