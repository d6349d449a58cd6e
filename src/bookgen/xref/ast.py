"""The EPUB (and HTML) side: each section's pandoc AST with its references and numbers filled in.

An xref Span gets Links to ``#anchor`` with the printed forms (pandoc's EPUB writer turns ``#anchor``
into ``chNNN.xhtml#anchor``), a labelled equation its number at the right margin, a listing its
代码1.1 above the code; a figure's anchor moves onto a Span inside it (pandoc's EPUB writer does not
rewrite links to figure ids). With ``crossref.lists``, every numbered figure or table gets an anchor
and 图目录/表目录 are made from them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from bookgen.model.book import Book
from bookgen.sources.ast import walk_blocks
from bookgen.sources.convert import Converted
from bookgen.sources.reading import Source
from bookgen.xref.places import require_resolvable
from bookgen.xref.table import LabelTable, Numbered, collect_labels

Block = dict[str, Any]
CAPTION_SPACE = "\u3000"  # between 图1.1 and the caption, as bookgen.document writes it
LIST_TYPES = {"figures": "figure", "tables": "table"}  # crossref.lists → refs.lua's object type


def _str(text: str) -> dict:
    return {"t": "Str", "c": text}


def _span(classes: list[str], inlines: list[dict], identifier: str = "") -> dict:
    return {"t": "Span", "c": [[identifier, classes, []], inlines]}


def _link(anchor: str, text: str) -> dict:
    return {"t": "Link", "c": [["", ["xref"], []], [_str(text)], ["#" + anchor, ""]]}


@dataclass
class _Lists:
    """The entries of 图目录 and 表目录: (object type, printed number, anchor, caption inlines)."""

    entries: list[tuple[str, str, str, list[dict]]] = field(default_factory=list)


def _caption_inlines(element: dict) -> list[dict]:
    """A copy of a figure's or table's caption text, its links made plain (a list entry is a link itself)."""
    blocks = element["c"][1][1]
    inlines = copy.deepcopy(blocks[0]["c"]) if blocks and blocks[0]["t"] in ("Plain", "Para") else []
    for inline in walk_blocks(inlines):
        if inline["t"] == "Link":
            inline["t"], inline["c"] = "Span", [inline["c"][0], inline["c"][1]]
    return inlines


class _Resolver:
    def __init__(self, table: LabelTable, lists: tuple[str, ...]):
        self.table = table
        self.listed = {LIST_TYPES[name] for name in lists}
        self.lists = _Lists()

    def section(self, node_id: str, blocks: list[dict]) -> None:
        numbers = self.table.numbered.get(node_id, {})
        seen: dict[str, int] = {}

        def next_number(kind: str) -> Numbered | None:
            index = seen.get(kind, 0)
            seen[kind] = index + 1
            sequence = numbers.get(kind, [])
            return sequence[index] if index < len(sequence) else None

        listed: list[tuple[str, Numbered, dict]] = []
        for element in list(walk_blocks(blocks)):
            kind = element["t"]
            if kind == "Span":
                classes = element["c"][0][1]
                if "xref" in classes:
                    self.reference(element)
                elif "equation" in classes:
                    number = next_number("equation")
                    if number:
                        element["c"][1].append(_span(["equation-number"], [_str(number.form.number)]))
            elif kind == "Div" and "listing" in element["c"][0][1]:
                number = next_number("listing")
                caption = element["c"][1][0]
                if number and caption["t"] in ("Plain", "Para"):
                    caption["c"][:0] = [_span(["caption-label"], [_str(number.form.text)]), _str(CAPTION_SPACE)]
                    caption["t"] = "Para"
                    element["c"][1][0] = {"t": "Div", "c": [["", ["listing-caption"], []], [caption]]}
            elif kind in ("Figure", "Table"):
                number = next_number(kind.lower())
                if number and kind.lower() in self.listed:
                    listed.append((kind.lower(), number, element))
                self.anchor(element, kind.lower(), number)
        # After the walk: the captions' own references are resolved by now.
        self.lists.entries += [(kind, number.form.text, number.anchor, _caption_inlines(element)) for kind, number, element in listed]

    def reference(self, span: dict) -> None:
        attributes = dict(span["c"][0][2])
        inlines = []
        for item in self.table.group(attributes["ref"].split(), attributes["form"] == "bare"):
            if isinstance(item, str):
                inlines.append(_str(item))
            else:
                target, form = item
                inlines.append(_link(target.label, form.text))
        span["c"][1] = inlines
        span["c"][0][2] = []  # "form" would be an HTML attribute

    def anchor(self, element: dict, kind: str, number: Numbered | None) -> None:
        """Put a figure's or table's anchor where pandoc's EPUB writer finds it."""
        if number is None or not (number.labelled or kind in self.listed):
            return
        if kind == "table":
            element["c"][0][0] = number.anchor
            return
        element["c"][0][0] = ""
        content = element["c"][2]
        if content and content[0]["t"] in ("Plain", "Para"):
            content[0]["c"].insert(0, _span([], [], number.anchor))
        else:
            content.insert(0, {"t": "Plain", "c": [_span([], [], number.anchor)]})


@dataclass(frozen=True)
class ResolvedSections:
    """The sections as the EPUB prints them, and the blocks of 图目录/表目录 (empty without crossref.lists)."""

    converted: dict[str, Converted]
    lists: list[Block]


def resolve_sections(book: Book, sources: dict[str, Source], converted: dict[str, Converted]) -> ResolvedSections:
    """Each section's AST resolved from the book's label table (a copy: ``converted`` is shared with the
    other builders); raises ManuscriptError at a reference to an unknown label (file:line:col)."""
    table = collect_labels(book, converted)
    require_resolvable(book, {node_id: source.text for node_id, source in sources.items()}, table)
    resolver = _Resolver(table, book.crossref.lists)
    out = {}
    for node_id, section in converted.items():
        xref = section.xref
        if not (xref.get("references") or xref.get("targets")):
            out[node_id] = section
            continue
        ast = copy.deepcopy(section.ast)
        resolver.section(node_id, ast["blocks"])
        out[node_id] = replace(section, ast=ast)
    return ResolvedSections(out, _list_blocks(book, resolver.lists))


def _list_blocks(book: Book, lists: _Lists) -> list[Block]:
    words = book.crossref
    blocks: list[Block] = []
    for name in book.crossref.lists:
        kind = LIST_TYPES[name]
        title = words.list_of_figures if kind == "figure" else words.list_of_tables
        lines = [
            {"t": "Para", "c": [{"t": "Link", "c": [["", [], []], [_str(number), _str(CAPTION_SPACE), *caption], ["#" + anchor, ""]]}]}
            for entry_kind, number, anchor, caption in lists.entries
            if entry_kind == kind
        ]
        blocks.append({"t": "Header", "c": [1, [f"bookgen-list-of-{name}", ["front"], []], [_str(title)]]})
        blocks.append({"t": "Div", "c": [["", [f"{kind}-list"], []], lines]})
    return blocks


def insert_after_front(blocks: list[Block], extra: list[Block]) -> list[Block]:
    """``blocks`` (the assembled book) with ``extra`` after the front matter, where the PDF has its contents."""
    if not extra:
        return blocks
    at = next(
        (i for i, block in enumerate(blocks) if block["t"] == "Header" and block["c"][0] == 1 and "front" not in block["c"][1][1]),
        len(blocks),
    )
    return blocks[:at] + extra + blocks[at:]
