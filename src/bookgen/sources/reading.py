"""Stage 2: read the Markdown of every outline entry that names a file.

A missing or blank file is a section not yet written: it still appears in the book, with its
heading and a placeholder, and the build counts it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bookgen.errors import Location, ManuscriptError
from bookgen.model.book import Book, EntryKind, Node

MAX_SECTION_BYTES = 2 * 1024 * 1024  # pandoc's input is bounded: a long real section is ~100 KB
ABSTRACT_ID = "_abstract"  # no outline id starts with '_' (model.outline): the abstract's file cannot collide


@dataclass(frozen=True)
class Source:
    """The text of one outline entry's file (empty when unwritten)."""

    node: Node
    path: Path  # absolute
    text: str
    written: bool

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def truncated(self) -> bool:
        return self.node.status == "truncated"


def source_nodes(book: Book) -> list[Node]:
    """The nodes whose Markdown is read and converted: the outline's files in reading order, then the
    abstract's file (book.yaml ``abstract: front/摘要.md``) as a node of its own (id ABSTRACT_ID, at the
    ``abstract:`` line) when no outline entry names it."""
    nodes = book.files()
    abstract = book.metadata.abstract
    if abstract.endswith(".md") and all(node.file != abstract for node in nodes):
        line = book.location(("abstract",)).line or 0
        nodes.append(Node(EntryKind.FRONT, "摘要", ABSTRACT_ID, abstract, "final", "", line))
    return nodes


def read_sources(book: Book) -> dict[str, Source]:
    """Sources by node id, for every node that names a file (and the abstract's file: see source_nodes)."""
    return {node.id: read_source(book, node) for node in source_nodes(book)}


def read_source(book: Book, node: Node) -> Source:
    assert node.file is not None
    path = book.root / node.file
    display = book.display(node.file)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Source(node, path, "", False)
    except IsADirectoryError:
        raise ManuscriptError(f"'{node.file}' is a directory, not a Markdown file", Location(display)) from None
    if len(data) > MAX_SECTION_BYTES:
        raise ManuscriptError(
            f"section file is {len(data) / (1024 * 1024):.1f} MB; split it into sections (limit {MAX_SECTION_BYTES // (1024 * 1024)} MB)",
            Location(display),
        )
    text = decode_markdown(data, display)
    return Source(node, path, text, bool(text.strip()))


def decode_markdown(data: bytes, display: Path | str) -> str:
    """UTF-8 (with or without BOM), newlines normalised. GBK and binary data are reported, not mangled."""
    if b"\x00" in data:
        raise ManuscriptError("binary data, not Markdown text (it contains NUL bytes)", Location(display))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            data.decode("gb18030")
            hint = "it looks GBK/GB18030-encoded: save it as UTF-8 (e.g. iconv -f GB18030 -t UTF-8)"
        except UnicodeDecodeError:
            hint = "save it as UTF-8"
        raise ManuscriptError(f"not UTF-8 text (byte 0x{data[exc.start]:02x}); {hint}", Location(display, line)) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
