"""The EPUB and web edition side: citation Spans filled with links, and the 参考文献 as pandoc blocks.

Each citation Span of refs.lua gets the inlines the PDF prints (its numbers linking to ``#ref-KEY``);
each list entry is a paragraph whose first inline is an empty Span carrying the entry's id (pandoc's
EPUB writer rewrites links to Span ids into ``chNNN.xhtml#id``), then its label and its text: the
formatter's inlines, the very ones bibliography.latex renders for the PDF.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from bookgen.bibliography.citing import LIST_ID, LIST_TITLE, BookCitations, book_citations, require_known
from bookgen.bibliography.library import Bibliography, anchor
from bookgen.model.book import Book
from bookgen.sources.ast import Block, attr, walk_blocks
from bookgen.sources.convert import Converted
from bookgen.sources.reading import Source


def _fill(blocks: list[Block], node_id: str, citations: BookCitations) -> None:
    for element in walk_blocks(blocks):
        if element["t"] == "Span" and "cite" in element["c"][0][1]:
            n = int(dict(element["c"][0][2])["n"])
            element["c"] = [attr("", ["citation"]), citations.printed(node_id, n)]


def list_blocks(bibliography: Bibliography, level: int, heading_id: str, classes: list[str]) -> list[Block]:
    """A reference list: its heading (level ``level``, id ``heading_id``) and a Div of entries."""
    entries = []
    for key, label, inlines in bibliography.entries_in_order():
        lead = [{"t": "Span", "c": [attr(anchor(key, bibliography.scope), []), []]}]
        if label:
            lead += [{"t": "Span", "c": [attr("", ["reference-label"]), [{"t": "Str", "c": label}]]}, {"t": "Space"}]
        entries.append({"t": "Para", "c": lead + copy.deepcopy(inlines)})
    return [
        {"t": "Header", "c": [level, attr(heading_id, classes), [{"t": "Str", "c": LIST_TITLE}]]},
        {"t": "Div", "c": [attr("", ["references"]), entries]},
    ]


@dataclass(frozen=True)
class CitedSections:
    """The sections with their citations filled in; ``book`` the book's list as blocks (level 1, before
    the back matter; [] when there is none), ``by_scope`` each chapter's own (place: chapter)."""

    converted: dict[str, Converted]
    book: list[Block]
    by_scope: dict[str, Bibliography]

    def chapter_list(self, scope: str, level: int) -> list[Block]:
        """The list at the end of chapter (or entry) ``scope``, its heading at ``level``; [] if it cites nothing."""
        bibliography = self.by_scope.get(scope)
        return list_blocks(bibliography, level, f"{LIST_ID}-{scope}", ["unnumbered"]) if bibliography else []


def cited_sections(book: Book, sources: dict[str, Source], converted: dict[str, Converted]) -> CitedSections:
    """Every citation filled from the book-wide numbering (the sections' ASTs copied where they cite);
    raises ManuscriptError at a citation of an unknown key (file:line:col)."""
    citations = book_citations(book, converted)
    if citations is None:
        return CitedSections(converted, [], {})
    require_known(book, {node_id: source.text for node_id, source in sources.items()}, citations)
    out = dict(converted)
    for node_id in citations.citations:
        ast = copy.deepcopy(converted[node_id].ast)
        _fill(ast["blocks"], node_id, citations)
        out[node_id] = replace(converted[node_id], ast=ast)
    lists = {scope: bib for scope, bib in citations.lists.items() if bib.listed_keys()}
    whole = list_blocks(lists.pop(""), 1, LIST_ID, ["back", "bibliography"]) if "" in lists else []
    return CitedSections(out, whole, lists)
