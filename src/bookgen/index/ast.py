"""The EPUB and web edition side of the index and the glossary (from ``bookgen.document.assemble_book``).

The same entries as the PDF's 索引, in the same order (bookgen.index.table), each locator a link to the
mark's own anchor (index.lua keeps it as the id of a Span around the marked text): numbered 1, 2, 3 …
per entry (index.locators: number) or labelled with the number of the section it is in (section: each
section once, as print merges repeated pages).
Glossary terms in the text become links to their entry (``#gl-…``) with the definition as the link's
title and the entry's heading as its data-heading (the web edition's book.js shows both in a popover on
hover, keyboard focus and tap), the first use in a chapter in bold.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from bookgen.index.glossary import Glossary, definitions, load_glossary
from bookgen.index.table import Entry, IndexTable, collect_index, entry_levels, group_title, reference_text
from bookgen.model.book import Book, Node
from bookgen.sources.ast import Block, attr, text_inlines, walk_blocks
from bookgen.sources.convert import READER, Converted

INDEX_ID = "bookgen-index"
GLOSSARY_ID = "bookgen-glossary"
APPENDIX_GROUP = "appendices"  # the id bookgen.document gives the 附录 heading


def _str(text: str) -> Block:
    return {"t": "Str", "c": text}


def _div(classes: list[str], blocks: list[Block], identifier: str = "") -> Block:
    return {"t": "Div", "c": [attr(identifier, classes), blocks]}


def _link(
    target: str, inlines: list[Block], title: str = "", classes: list[str] | None = None, data: dict[str, str] | None = None
) -> Block:
    attributes = attr("", classes or [])
    attributes[2] = [[f"data-{key}", value] for key, value in (data or {}).items()]
    return {"t": "Link", "c": [attributes, inlines, ["#" + target, title]]}


@dataclass
class IndexBlocks:
    """What the index and the glossary add to the assembled book: the sections with their terms linked,
    the glossary's and the index's blocks, the ids of the headings that open pages of their own."""

    converted: dict[str, Converted]
    glossary: list[Block] = field(default_factory=list)
    index: list[Block] = field(default_factory=list)
    glossary_in_appendices: bool = False
    pages: tuple[str, ...] = ()

    def place(self, blocks: list[Block], has_appendices: bool) -> list[Block]:
        """``blocks`` (the assembled book) with the glossary after the appendices (as the last one) or
        first in the back matter, and the index after it, before the outline's back matter."""
        backs = [i for i, block in enumerate(blocks) if block["t"] == "Header" and block["c"][0] == 1 and "back" in block["c"][1][1]]
        at = backs[0] if backs else len(blocks)
        # the index after the 参考文献 (house style: 附录 → 参考文献 → 索引 → 致谢/后记)
        index_at = next((i for i in backs if "bibliography" not in blocks[i]["c"][1][1]), len(blocks))
        glossary = self.glossary
        if glossary and self.glossary_in_appendices and not has_appendices:
            glossary = [{"t": "Header", "c": [1, attr(APPENDIX_GROUP, ["appendix-group"]), [_str("附录")]]}, *glossary]
        return blocks[:at] + glossary + blocks[at:index_at] + self.index + blocks[index_at:]


def _term_links(blocks: list[Block], node_id: str, table: IndexTable, glossary: Glossary, tips: dict[str, str], book: Book) -> None:
    uses = table.terms.get(node_id, ())
    for element in walk_blocks(blocks):
        if element["t"] != "Span" or "term" not in element["c"][0][1]:
            continue
        attributes = dict(element["c"][0][2])
        use = uses[int(attributes["n"]) - 1]
        term = glossary.find(use.key)
        element["c"][0][2] = []
        if term is None:
            continue
        inlines = element["c"][1]
        if use.first and book.glossary.bold_first:
            inlines = [{"t": "Strong", "c": inlines}]
        element["c"][1] = [
            _link(
                term.anchor, inlines, tips.get(term.key, term.heading), ["term"], {"heading": term.heading, "glossary": book.glossary.title}
            )
        ]


def _section(node: Node) -> str:
    return node.number or node.title


def _locators(book: Book, entry: Entry) -> list[Block]:
    """The entry's locators as links: 1, 2, 3 … (index.locators: number), or the numbers of the sections
    its marks are in (section), each section once, a range over sections as 1.2–1.3."""
    out: list[Block] = []
    seen: set[str] = set()
    for number, locator in enumerate(entry.locators, 1):
        if book.index.locators == "number":
            links = [_link(locator.first.id, [_str(str(number))], classes=["locator"])]
        else:
            first = _section(locator.first.node)
            last = _section(locator.last.node) if locator.last else first
            if first == last and first in seen:
                continue  # the same section again: printed once, as a page is in print
            seen.update((first, last))
            links = [_link(locator.first.id, [_str(first)], classes=["locator"])]
            if last != first and locator.last is not None:
                links += [_str("–"), _link(locator.last.id, [_str(last)], classes=["locator"])]
        out += [_str("，" if out else "\u2003"), *links]
    return out


def _entry_block(book: Book, table: IndexTable, entry: Entry) -> Block:
    inlines: list[Block] = [*text_inlines(entry.text), *_locators(book, entry)]
    for word, targets in ((book.index.see, entry.see), (book.index.see_also, entry.see_also)):
        if targets:
            inlines.append(_str("\u2003" + word))
            for n, named in enumerate(targets):
                found = table.entries.get(entry_levels(named))
                text = text_inlines(reference_text(named))
                inlines += ([_str("、")] if n else []) + ([_link(found.anchor, text, classes=["see"])] if found else text)
    return _div(["index-entry", f"level-{entry.depth}"], [{"t": "Para", "c": inlines}], entry.anchor)


def _index_blocks(book: Book, table: IndexTable) -> list[Block]:
    blocks: list[Block] = [{"t": "Header", "c": [1, attr(INDEX_ID, ["back"]), text_inlines(book.index.title)]}]
    for group in table.groups:
        entries = [_entry_block(book, table, entry) for entry in group.entries]
        heading = {"t": "Para", "c": [{"t": "Strong", "c": text_inlines(group_title(book, group))}]}
        blocks.append(_div(["index-group"], [_div(["index-letter"], [heading]), *entries]))
    return blocks


def _glossary_blocks(book: Book, glossary: Glossary, converted: dict[str, Any], appendix_letter: str) -> list[Block]:
    appendix = book.glossary.place == "appendix"
    title = text_inlines(book.glossary.title)
    if appendix:
        title = [{"t": "Span", "c": [attr("", ["number"]), [_str(f"附录{appendix_letter}")]]}, {"t": "Space"}, *title]
    blocks: list[Block] = [{"t": "Header", "c": [2 if appendix else 1, attr(GLOSSARY_ID, ["appendix" if appendix else "back"]), title]}]
    for term in glossary.terms:
        entry: list[Block] = [{"t": "Para", "c": [{"t": "Strong", "c": text_inlines(term.heading)}]}]
        definition = converted.get(term.key)
        if definition is not None:
            entry += copy.deepcopy(definition.blocks)
        if term.see_also:
            links: list[Block] = []
            for key in term.see_also:
                found = glossary.find(key)
                links += ([_str("、")] if links else []) + ([_link(found.anchor, text_inlines(found.term))] if found else [_str(key)])
            entry.append({"t": "Para", "c": [_str(book.index.see_also + "："), *links]})
        blocks.append(_div(["glossary-entry"], entry, term.anchor))
    return blocks


def index_blocks(book: Book, converted: dict[str, Converted]) -> IndexBlocks:
    """Terms linked in copies of the sections that use them; the glossary's and the index's blocks.
    Raises ManuscriptError for a glossary file that cannot be read."""
    table = collect_index(book, converted)
    glossary = load_glossary(book)
    converted_definitions = definitions(glossary, READER)
    tips = {key: definition.plain for key, definition in converted_definitions.items()}
    out = dict(converted)
    for node_id, uses in table.terms.items():
        if uses:
            ast = copy.deepcopy(converted[node_id].ast)
            _term_links(ast["blocks"], node_id, table, glossary, tips, book)
            out[node_id] = replace(converted[node_id], ast=ast)
    result = IndexBlocks(out, glossary_in_appendices=book.glossary.place == "appendix")
    pages = []
    if glossary.terms:
        result.glossary = _glossary_blocks(book, glossary, converted_definitions, chr(ord("A") + len(book.appendices)))
        pages += [GLOSSARY_ID] + ([APPENDIX_GROUP] if result.glossary_in_appendices and not book.appendices else [])
    if not table.empty:
        result.index = _index_blocks(book, table)
        pages.append(INDEX_ID)
    result.pages = tuple(pages)
    return result
