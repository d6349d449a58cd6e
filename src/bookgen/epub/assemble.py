"""Stage 5b: package the EPUB 3 from the converted sections' pandoc ASTs.

The book is assembled as one pandoc document whose headings already carry bookgen's numbers
(第1章, 1.1, 附录A …), so the EPUB's headings and nav print exactly what the PDF prints. Two things
only the EPUB gets are added to that document here: the printed edition's page-break markers (when a
current PDF of the same manuscript exists, see ``pagemap``) and the CJK–Latin spacing fallback
(``autospace``). pandoc writes it in parts (``parts``); ``package.finish_epub`` completes the package.
"""

from __future__ import annotations

import concurrent.futures
import copy
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from bookgen.document import assemble_book
from bookgen.epub.accessibility import Contents, contents_of, declare
from bookgen.epub.package import Finish, finish_epub
from bookgen.epub.pagemap import PageMap, PrintedPage, page_breaks, paragraphs
from bookgen.epub.parts import (
    Packed,
    Settings,
    frame_blocks,
    frame_files,
    make_frame,
    make_parts,
    newest_change,
    package_date,
    package_manifest,
    resolve_links,
    split_parts,
    zip_package,
)
from bookgen.errors import BookgenError
from bookgen.fsutil import atomic_path, write_if_changed
from bookgen.model.book import Book
from bookgen.press.imprint import imprint
from bookgen.sources.convert import Converted, abstract_text
from bookgen.sources.reading import Source
from bookgen.tools import PANDOC_DATA_DIR, template_path

# ---------------------------------------------------------------- what only the EPUB's document gets

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003fffd"
_LATIN = "A-Za-z0-9"
_BOUNDARY = re.compile(f"(?<=[{_CJK}])(?=[{_LATIN}])|(?<=[{_LATIN}])(?=[{_CJK}])")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_TEXT = re.compile(f"[{_CJK}\u3000-\u303f\uff00-\uffef]")  # ideographs and full-width punctuation
_QUOTES = "“”‘’"
_LATIN_CHAR = re.compile(f"[{_LATIN}]")
AUTOSPACE = '<span class="autospace"></span>'


def _raw_html(text: str) -> dict:
    return {"t": "RawInline", "c": ["html", text]}


def page_marker(page: PrintedPage) -> dict:
    """The printed page's break marker: an empty span the page list links to, labelled with its folio."""
    return _raw_html(f'<span epub:type="pagebreak" role="doc-pagebreak" id="page-{page.physical}" aria-label="{page.folio}"></span>')


_INLINE_LISTS = {
    "Para": lambda c: c,
    "Plain": lambda c: c,
    "Header": lambda c: c[2],
    "Emph": lambda c: c,
    "Strong": lambda c: c,
    "Underline": lambda c: c,
    "Strikeout": lambda c: c,
    "Span": lambda c: c[1],
    "Link": lambda c: c[1],
}


def _edge(inline: dict, last: bool) -> str:
    """The first (or last) character an inline prints, for the spacing rule ('' when none or not text)."""
    kind: str = inline["t"]
    content: Any = inline.get("c")
    if kind in ("Str", "Code"):
        text = content if kind == "Str" else content[1]
        return (text[-1] if last else text[0]) if text else ""
    get = _INLINE_LISTS.get(kind)
    if get is None or kind == "Header" or (kind == "Span" and _REFERENCE in content[0][1]):
        return ""  # quotation marks, notes, math, spaces, references: nothing to space against
    children = get(content)
    return _edge(children[-1 if last else 0], last) if children else ""


def _spaced(inlines: list[dict]) -> list[dict]:
    """``inlines`` with an autospace span wherever a CJK character meets a Latin letter or digit, and
    each quotation mark that quotes Chinese in a ``cjk-quote`` span."""
    out: list[dict] = []
    for index, inline in enumerate(inlines):
        if out and _boundary(_edge(out[-1], True), _edge(inline, False)):
            out.append(_raw_html(AUTOSPACE))
        if inline["t"] != "Str":
            out.append(inline)
            continue
        before = _edge(inlines[index - 1], True) if index else ""
        after = _edge(inlines[index + 1], False) if index + 1 < len(inlines) else ""
        for piece_index, piece in enumerate(_BOUNDARY.split(inline["c"])):
            if piece_index:
                out.append(_raw_html(AUTOSPACE))
            out += _quotes(piece, before, after)
    return out


def _quotes(text: str, before: str, after: str) -> list[dict]:
    """Str pieces of ``text``, each “ ‘ followed by (” ’ preceded by) CJK text in a span of class
    ``cjk-quote``: the body face's quotation marks are proportional unless asked for full width
    (book.css), and the PDF sets them full-width. Quotes around Latin text stay as they are."""
    out: list[dict] = []
    start = 0
    for position, char in enumerate(text):
        if char not in _QUOTES:
            continue
        neighbour = (
            (text[position + 1] if position + 1 < len(text) else after) if char in "“‘" else (text[position - 1] if position else before)
        )
        if neighbour and _CJK_TEXT.match(neighbour):
            if position > start:
                out.append({"t": "Str", "c": text[start:position]})
            out.append({"t": "Span", "c": [["", ["cjk-quote"], []], [{"t": "Str", "c": char}]]})
            start = position + 1
    if start < len(text) or not out:
        out.append({"t": "Str", "c": text[start:]})
    return out


def _boundary(before: str, after: str) -> bool:
    return bool(
        before
        and after
        and ((_CJK_CHAR.match(before) and _LATIN_CHAR.match(after)) or (_LATIN_CHAR.match(before) and _CJK_CHAR.match(after)))
    )


_UNSPACED = ("Code", "CodeBlock", "Math", "RawInline", "RawBlock")
_LABELS = {"number", "caption-label", "cjk-quote"}  # 第1章, 图1.1: printed without glue, as in the PDF
_REFERENCE = "xref"  # 如图1.2所示: a reference prints tight inside and at its ends, as the PDF's link does


def autospace(value: Any) -> None:
    """The CJK–Latin spacing fallback, in place: readers without CSS ``text-autospace`` get a quarter em
    from an empty span's margin (book.css) where the PDF has xeCJK's glue. Code, math, raw markup and
    the labels bookgen prints (第1章, 图1.1) are left alone."""
    if isinstance(value, list):
        for child in value:
            autospace(child)
        return
    if not isinstance(value, dict):
        return
    kind: str = value.get("t", "")
    if kind in _UNSPACED or (kind == "Span" and (_LABELS | {_REFERENCE}) & set(value["c"][0][1])):
        return
    get = _INLINE_LISTS.get(kind)
    if get is not None:
        inlines = get(value["c"])
        inlines[:] = _spaced(inlines)
    for child in value.values():
        autospace(child)


def with_page_breaks(book: Book, converted: dict[str, Converted], page_map: PageMap) -> tuple[dict[str, Converted], int]:
    """Copies of the converted sections with the printed pages' markers at the paragraphs they start in;
    and the number of markers."""
    order: list[str] = []
    blocks_by_id: dict[str, dict] = {}
    copies: dict[str, Converted] = {}
    for node in book.nodes():
        if node.id not in converted:
            continue
        section = converted[node.id]
        copies[node.id] = replace(section, ast=copy.deepcopy(section.ast))
        for number, block in enumerate(paragraphs(copies[node.id].ast["blocks"]), 1):
            order.append(f"{node.id}:{number}")
            blocks_by_id[order[-1]] = block
    breaks = page_breaks(order, page_map)
    for paragraph, pages in breaks.items():
        blocks_by_id[paragraph]["c"][:0] = [page_marker(page) for page in pages]
    return {**converted, **copies}, sum(len(pages) for pages in breaks.values())


# ---------------------------------------------------------------- metadata and packaging


def epub_metadata(book: Book, converted: dict[str, Converted]) -> dict:
    """pandoc's metadata for the book: titles (a main and a subtitle entry), creators, language … ."""
    meta = book.metadata
    titles = [{"type": "main", "text": meta.title}] + ([{"type": "subtitle", "text": meta.subtitle}] if meta.subtitle else [])
    data: dict[str, Any] = {
        "title": titles,
        "lang": meta.language,
        "identifier": [{"scheme": "ISBN-13" if meta.isbn else "UUID", "text": meta.identifier()}],
        "toc-title": "目录",
    }
    if meta.authors:
        data["creator"] = [{"role": "author", "text": author} for author in meta.authors]
    if meta.keywords:
        data["subject"] = list(meta.keywords)
    for key in ("publisher", "rights", "date"):
        if getattr(meta, key):
            data[key] = getattr(meta, key)
    abstract = abstract_text(book, converted)
    if abstract:
        data["description"] = abstract
    return data


@dataclass(frozen=True)
class EpubAssembly:
    """The assembled book: pandoc's blocks (numbered, resolved, with page markers), its metadata file
    in the work directory, the chapter level, what it contains, and the printed pages it marks
    (``page_breaks`` markers of ``page_map``'s PDF)."""

    work_dir: Path
    blocks: list[dict]
    metadata: Path
    chapter_level: int  # the heading level of chapters (2 when the book has parts): pandoc splits files there
    contents: Contents
    page_map: PageMap | None = None
    page_breaks: int = 0


def assemble_epub(
    book: Book, sources: dict[str, Source], converted: dict[str, Converted], work_dir: Path, page_map: PageMap | None = None
) -> EpubAssembly:
    """Assemble the book as one pandoc document (JSON AST) and write its EPUB metadata into ``work_dir``; with
    ``page_map`` (a current PDF's), the printed pages' markers go into the document."""
    work_dir.mkdir(parents=True, exist_ok=True)
    breaks = 0
    if page_map is not None:
        converted, breaks = with_page_breaks(book, converted, page_map)
    assembled = assemble_book(book, sources, converted)
    contents = contents_of(assembled.blocks)
    blocks = assembled.blocks  # spaced (``autospace``) part by part, when a part is written
    if not blocks or blocks[0]["t"] != "Header" or blocks[0]["c"][0] != 1:
        # pandoc would open such a book with a level-1 heading of the title; written in parts, say so here
        blocks = [{"t": "Header", "c": [1, ["book-title", ["unnumbered"], []], [{"t": "Str", "c": book.metadata.title}]]}, *blocks]
    assembly = EpubAssembly(
        work_dir,
        blocks,
        work_dir / "metadata.yaml",
        assembled.chapter_level,
        contents,
        page_map if breaks else None,
        breaks,
    )
    write_if_changed(assembly.metadata, yaml.safe_dump(epub_metadata(book, converted), allow_unicode=True, sort_keys=True))
    return assembly


@dataclass(frozen=True)
class EpubWrite:
    """What ``write_epub`` did: the package in the work directory, the content documents pandoc wrote
    (the rest came from the parts' store), whether the frame (nav, OPF) was written again, and its date."""

    path: Path
    written: list[str]
    parts: int
    frame_written: bool
    epoch: int

    @property
    def cold(self) -> bool:
        """Every part and the frame were written: nothing of an earlier build was reused."""
        return self.frame_written and len(self.written) == self.parts


def epub_epoch(book: Book, epoch: int | None) -> int:
    """The EPUB's date (dcterms:modified, zip entries): the build date when there is one (reproducible
    builds), else the time of the manuscript's newest file, so the same manuscript gives the same bytes."""
    return epoch if epoch is not None else newest_change(book.root)


def write_epub(
    book: Book, assembly: EpubAssembly, epoch: int | None = None, jobs: int = 1, cancel: threading.Event | None = None
) -> EpubWrite:
    """The package from its parts (``parts``): the content documents whose inputs changed are written
    by pandoc, the rest come from the store; the frame (nav, OPF, title pages) is written when titles
    or metadata changed; ``package.finish_epub`` completes it as ``book.epub`` in the work directory
    (title and copyright pages, landmarks, page list, notes, accessibility metadata).

    With ``epoch`` (seconds since 1970) its dates are that time, else the manuscript's newest change.
    Raises ToolError when pandoc fails.
    """
    chapter_level, work_dir = assembly.chapter_level, assembly.work_dir
    date = epub_epoch(book, epoch)
    toc_depth = chapter_level + book.layout.toc_depth - 1
    pieces = resolve_links(split_parts(assembly.blocks, chapter_level))
    frame = copy.deepcopy(frame_blocks([piece.blocks for piece in pieces], toc_depth))
    autospace(frame)
    stylesheet = template_path(book.root, "epub/book.css")  # the manuscript's own stylesheet, if it has one
    options = [
        f"--css={stylesheet}",
        f"--split-level={chapter_level}",
        f"--toc-depth={toc_depth}",
        f"--resource-path={book.root}",
        "--mathml",
        f"--data-dir={PANDOC_DATA_DIR}",
    ]
    cover = book.root / book.metadata.cover if book.metadata.cover else None
    settings = Settings(stylesheet, book.root, book.metadata.language, book.layout.footnote_style)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:  # the frame beside the parts
        frame_job = pool.submit(make_frame, frame, assembly.metadata, options, work_dir, settings.key(), cover)
        run = make_parts(pieces, chapter_level, settings, work_dir / "parts", jobs, autospace, cancel)
        frame_path, frame_written = frame_job.result()
    order, data = frame_files(frame_path)
    root = PurePosixPath(next(name for name in data if name.endswith(".opf"))).parent
    files = sorted(name for name in data if re.fullmatch(rf"{root}/text/ch\d+\.xhtml", name))
    if len(files) != len(run.parts):
        raise BookgenError(f"pandoc wrote {len(files)} files for the {len(run.parts)} parts of the EPUB: bookgen cuts the book differently")
    documents = {}
    packed: dict[str, bytes | Packed] = {}
    for part in run.parts:
        relative = f"text/{part.name}"
        if f"{root}/{relative}" not in data:
            raise BookgenError(f"the EPUB's frame has no {relative}: its files and the book's parts differ")
        packed[f"{root}/{relative}"] = part.packed
        documents[relative] = part.document
        for media_name, media in part.media.items():
            data[f"{root}/media/{media_name}"] = media
    order += sorted(name for name in data if name.startswith(f"{root}/media/image-"))  # the parts' images, once each
    opf_name = f"{root}/content.opf"
    data[opf_name] = package_date(package_manifest(data[opf_name], run.parts), date)
    first_body = next(iter(book.body), None)
    finish = Finish(
        declare(book, assembly.contents, assembly.page_breaks),
        imprint(book, assembly.page_map.figures if assembly.page_map else None),
        first_body.id if first_body else "",
    )
    order = finish_epub(data, order, book, finish, documents)
    made = work_dir / "book.epub"
    with atomic_path(made) as tmp:
        zip_package(tmp, order, {**data, **packed}, date)
    return EpubWrite(made, run.written, len(run.parts), frame_written, date)
