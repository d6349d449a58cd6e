"""Stage 5b: package the EPUB 3 from the converted sections' pandoc ASTs.

The book is assembled as one pandoc document whose headings already carry bookgen's numbers
(第1章, 1.1, 附录A …), so the EPUB's headings and nav print exactly what the PDF prints.
"""

from __future__ import annotations

import copy
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any, Iterator

import yaml

from bookgen.errors import ToolError
from bookgen.fsutil import atomic_path, write_if_changed
from bookgen.latex.render import TRUNCATED_MARKER
from bookgen.model.book import Book, Node
from bookgen.sources.convert import Converted, abstract_text
from bookgen.sources.reading import Source
from bookgen.tools import (
    PANDOC_DATA_DIR,
    pandoc_api_version,
    pandoc_env,
    pandoc_path,
    template_dir,
)

Block = dict[str, Any]


# ---------------------------------------------------------------- pandoc AST helpers

def _attr(identifier: str = "", classes: list[str] | None = None) -> list:
    return [identifier, classes or [], []]


def text_inlines(text: str) -> list[dict]:
    inlines: list[dict] = []
    for word in text.split():
        if inlines:
            inlines.append({"t": "Space"})
        inlines.append({"t": "Str", "c": word})
    return inlines


def heading(level: int, node_id: str, number: str, title: str, kind: str) -> Block:
    inlines = text_inlines(title)
    if number:
        inlines = [{"t": "Span", "c": [_attr("", ["number"]), [{"t": "Str", "c": number}]]}, {"t": "Space"}] + inlines
    return {"t": "Header", "c": [level, _attr(node_id, [kind]), inlines]}


def note_block(css_class: str, text: str) -> Block:
    return {"t": "Div", "c": [_attr("", [css_class]), [{"t": "Para", "c": [{"t": "Str", "c": text}]}]]}


def walk_blocks(value: Any) -> Iterator[dict]:
    """Every AST element (dict with "t") inside ``value``, depth first."""
    if isinstance(value, dict):
        if "t" in value:
            yield value
        for child in value.values():
            yield from walk_blocks(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk_blocks(child)


# ---------------------------------------------------------------- assembling the book

class _Assembler:
    """Builds the document's block list in reading order, numbering what LaTeX numbers."""

    def __init__(self, book: Book, sources: dict[str, Source], converted: dict[str, Converted]):
        self.book = book
        self.sources = sources
        self.converted = converted
        self.blocks: list[Block] = []
        self.chapter_level = 2 if book.has_parts or book.appendices else 1

    def entry_text(self, node: Node, level: int, section_number: str, float_prefix: str, counters: dict[str, int]) -> None:
        """The node's own text (or its placeholder), headings shifted to sit below ``level``."""
        source = self.sources.get(node.id)
        if source is None or not source.written:
            if node.file is not None or not node.children:
                if node.kind != "part":
                    self.blocks.append(note_block("unwritten", f"「{self.book.layout.placeholder}」"))
            return
        body = copy.deepcopy(self.converted[node.id].ast["blocks"])
        # AST heading level 1 is LaTeX's \section: put it one below the enclosing chapter-like entry.
        offset = level - 1 if node.kind in ("section", "appendix-section") else level
        subsection = 0
        for element in walk_blocks(body):
            kind = element["t"]
            if kind == "Header":
                element["c"][0] += offset
                classes = element["c"][1][1]
                if section_number and element["c"][0] == level + 1 and "unnumbered" not in classes:
                    subsection += 1
                    element["c"][2][:0] = [
                        {"t": "Span", "c": [_attr("", ["number"]), [{"t": "Str", "c": f"{section_number}.{subsection}"}]]},
                        {"t": "Space"},
                    ]
            elif kind in ("Figure", "Table") and float_prefix:
                self._number_caption(element, float_prefix, counters)
        self.blocks.extend(body)
        if source.truncated:
            self.blocks.append(note_block("truncated", f"〔{TRUNCATED_MARKER}〕"))

    def _number_caption(self, element: dict, prefix: str, counters: dict[str, int]) -> None:
        """图1.1 / 表1.1 before a caption, as LaTeX numbers and labels them (uncaptioned ones stay unnumbered)."""
        caption_blocks = element["c"][1][1]
        if not caption_blocks:
            return
        name = "图" if element["t"] == "Figure" else "表"
        counters[name] = counters.get(name, 0) + 1
        label = {"t": "Span", "c": [_attr("", ["caption-label"]), [{"t": "Str", "c": self.book.layout.caption(name, f"{prefix}.{counters[name]}")}]]}
        first = caption_blocks[0]
        if first["t"] in ("Plain", "Para"):
            first["c"][:0] = [label, {"t": "Str", "c": "\u3000"}]

    def chapter(self, node: Node, level: int) -> None:
        self.blocks.append(heading(level, node.id, node.number, node.title, node.kind))
        prefix = node.counter
        counters: dict[str, int] = {}
        self.entry_text(node, level, "", prefix, counters)
        for section in node.children:
            self.blocks.append(heading(level + 1, section.id, section.number, section.title, section.kind))
            self.entry_text(section, level + 1, section.number, prefix, counters)

    def assemble(self) -> list[Block]:
        book = self.book
        for node in book.front:
            self.blocks.append(heading(1, node.id, "", node.title, "front"))
            self.entry_text(node, 1, "", "", {})
        for top in book.body:
            if top.kind == "part":
                self.blocks.append(heading(1, top.id, top.number, top.title, "part"))
                self.entry_text(top, 1, "", "", {})
                for chapter in top.children:
                    self.chapter(chapter, 2)
            else:
                self.chapter(top, self.chapter_level)
        if book.appendices:
            self.blocks.append(heading(1, "appendices", "", "附录", "appendix-group"))
            for node in book.appendices:
                self.chapter(node, 2)
        for node in book.back:
            self.blocks.append(heading(1, node.id, "", node.title, "back"))
            self.entry_text(node, 1, "", "", {})
        return self.blocks


# ---------------------------------------------------------------- metadata and packaging

def epub_metadata(book: Book, converted: dict[str, Converted]) -> dict:
    meta = book.metadata
    data: dict[str, Any] = {
        "title": meta.title,
        "lang": meta.language,
        "identifier": [{"scheme": "ISBN-13" if meta.isbn else "UUID", "text": meta.identifier()}],
        "toc-title": "目录",
    }
    if meta.subtitle:
        data["subtitle"] = meta.subtitle
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


def build_epub(book: Book, sources: dict[str, Source], converted: dict[str, Converted], work_dir: Path, output: Path,
               epoch: int | None = None) -> Path:
    """Write the EPUB to ``output`` (atomically). With ``epoch``, its dates and zip entry times are fixed."""
    work_dir.mkdir(parents=True, exist_ok=True)
    assembler = _Assembler(book, sources, converted)
    document = {
        "pandoc-api-version": pandoc_api_version(),
        "meta": {},
        "blocks": assembler.assemble(),
    }
    doc_path = work_dir / "book.json"
    meta_path = work_dir / "metadata.yaml"
    write_if_changed(doc_path, json.dumps(document, ensure_ascii=False))
    write_if_changed(meta_path, yaml.safe_dump(epub_metadata(book, converted), allow_unicode=True, sort_keys=True))
    toc_depth = assembler.chapter_level + book.layout.toc_depth - 1
    command = [
        pandoc_path(), "--from=json", "--to=epub3", str(doc_path),
        f"--metadata-file={meta_path}",
        f"--css={template_dir() / 'epub' / 'book.css'}",
        f"--split-level={assembler.chapter_level}",
        f"--toc-depth={toc_depth}",
        f"--resource-path={book.root}",
        "--mathml",
        f"--data-dir={PANDOC_DATA_DIR}",
    ]
    if book.metadata.cover:
        command.append(f"--epub-cover-image={book.root / book.metadata.cover}")
    raw = work_dir / "pandoc.epub"
    env = pandoc_env()
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    proc = subprocess.run(command + ["--output", str(raw)], capture_output=True, text=True, timeout=600, env=env)
    if proc.returncode != 0:
        said = proc.stderr.strip().splitlines()
        raise ToolError("pandoc could not write the EPUB: " + (said[0] if said else f"exit code {proc.returncode}"))
    with atomic_path(output) as tmp:
        localise_landmarks(raw, tmp)
    return output


# pandoc writes these nav landmark labels in English whatever the book's language.
LANDMARK_LABELS = {"Title Page": "书名页", "Cover": "封面", "Start of content": "正文", "Table of Contents": "目录"}


def localise_landmarks(source: Path, target: Path) -> None:
    """Copy the EPUB, with the nav's landmark labels in Chinese; entry order and times kept."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("nav.xhtml"):
                text = data.decode("utf-8")
                for english, chinese in LANDMARK_LABELS.items():
                    text = text.replace(f">{english}</a>", f">{chinese}</a>")
                data = text.encode("utf-8")
            zout.writestr(info, data, compress_type=info.compress_type)
