"""Stage 5b: package the EPUB 3 from the converted sections' pandoc ASTs.

The book is assembled as one pandoc document whose headings already carry bookgen's numbers
(第1章, 1.1, 附录A …), so the EPUB's headings and nav print exactly what the PDF prints.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bookgen.fsutil import atomic_path, write_if_changed
from bookgen.model.book import Book
from bookgen.sources.assemble import assemble_book
from bookgen.sources.convert import Converted, abstract_text
from bookgen.sources.reading import Source
from bookgen.tools import (
    PANDOC_DATA_DIR,
    pandoc_api_version,
    pandoc_env,
    pandoc_path,
    run_tool,
    template_path,
)
from bookgen.xref.ast import insert_after_front

# ---------------------------------------------------------------- pandoc AST helpers











# ---------------------------------------------------------------- assembling the book



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


@dataclass(frozen=True)
class EpubAssembly:
    """The assembled book in the work directory: pandoc's JSON document, its metadata, the chapter level."""

    work_dir: Path
    document: Path
    metadata: Path
    chapter_level: int  # the heading level of chapters (2 when the book has parts): pandoc splits files there


def assemble_epub(book: Book, sources: dict[str, Source], converted: dict[str, Converted], work_dir: Path,
                  after_front: list[dict] | None = None) -> EpubAssembly:
    """Write the book as one pandoc document (JSON AST) and its EPUB metadata into ``work_dir``;
    ``after_front``: blocks placed after the front matter (图目录, 表目录)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    assembled = assemble_book(book, sources, converted)
    document = {
        "pandoc-api-version": pandoc_api_version(),
        "meta": {},
        "blocks": insert_after_front(assembled.blocks, after_front or []),
    }
    assembly = EpubAssembly(work_dir, work_dir / "book.json", work_dir / "metadata.yaml", assembled.chapter_level)
    write_if_changed(assembly.document, json.dumps(document, ensure_ascii=False))
    write_if_changed(assembly.metadata, yaml.safe_dump(epub_metadata(book, converted), allow_unicode=True, sort_keys=True))
    return assembly


def write_epub(book: Book, assembly: EpubAssembly, epoch: int | None = None) -> Path:
    """pandoc writes the assembled book as ``book.epub`` in its work directory, landmarks in Chinese.

    With ``epoch`` (seconds since 1970) its dates and zip entry times are fixed. Returns the file's
    path; raises ToolError when pandoc fails.
    """
    doc_path, meta_path, chapter_level, work_dir = assembly.document, assembly.metadata, assembly.chapter_level, assembly.work_dir
    toc_depth = chapter_level + book.layout.toc_depth - 1
    command = [
        pandoc_path(), "--from=json", "--to=epub3", str(doc_path),
        f"--metadata-file={meta_path}",
        f"--css={template_path(book.root, 'epub/book.css')}",  # the manuscript's own stylesheet, if it has one
        f"--split-level={chapter_level}",
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
    run_tool(command + ["--output", str(raw)], "the EPUB", timeout=600, env=env)
    made = work_dir / "book.epub"
    with atomic_path(made) as tmp:
        localise_landmarks(raw, tmp)
    return made


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
