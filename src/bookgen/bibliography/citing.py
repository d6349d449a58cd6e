"""The book's citations numbered book-wide, from the placeholders the conversion left in each section.

refs.lua (sources/pandoc) turns every citation into a placeholder that depends on no other section
and lists it in the section's summary (``xref["citations"]``: n, keys, mode, locators). Here, after
conversion and before any output, the sections are read in book order: an entry's number is its
place among first citations (nocite entries after them), in one list for the book or, with
``bibliography.place: chapter``, one per chapter (front and back matter entries each have their own).
The PDF (bibliography.latex) and the EPUB and web edition (bibliography.ast) print from this one model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

from bookgen.bibliography.library import Bibliography, CiteItem, Inline, Mode, load_bibliography
from bookgen.errors import Location, ManuscriptError
from bookgen.model.book import Book, Node
from bookgen.sources.convert import Converted
from bookgen.xref.places import reference_places
from bookgen.xref.table import chapters_in_order

LIST_TITLE = "参考文献"
LIST_ID = "bookgen-bibliography"  # the book's list: its heading's id in every output


@dataclass(frozen=True)
class Citation:
    """One citation placeholder: its keys, how it is written and a locator per key ('288' or '')."""

    keys: tuple[str, ...]
    mode: Mode
    locators: tuple[str, ...]

    @property
    def items(self) -> list[CiteItem]:
        return [CiteItem(key, locator) for key, locator in zip(self.keys, self.locators, strict=False)]


@dataclass(frozen=True)
class Use:
    """A cited key where the author wrote it: section ``node``, its ``occurrence``-th (0-based) ``@key``."""

    key: str
    node: Node
    occurrence: int


@dataclass
class BookCitations:
    """The numbered lists and every section's citations.

    ``library``: every entry of the bibliography files; ``lists``: by scope ('' for the book's one list, else the chapter's or entry's node id), each a
    Bibliography with its citation order; ``scopes``: the scope of each node id; ``citations``: per
    node id, the section's placeholders by their number n.
    """

    library: Bibliography
    lists: dict[str, Bibliography]
    scopes: dict[str, str]
    citations: dict[str, dict[int, Citation]] = field(default_factory=dict)
    uses: list[Use] = field(default_factory=list)

    def printed(self, node_id: str, n: int) -> list[Inline]:
        """The inlines of placeholder ``n`` of a section (superscript [1], 张伯伟[1], (张伯伟，2002) …),
        each number a Link to its entry. Raises ManuscriptError for an unknown key (check first)."""
        citation = self.citations[node_id][n]
        return self.lists[self.scopes[node_id]].cite(citation.items, citation.mode)

    def unknown(self) -> Iterator[Use]:
        """Every use of a key no bibliography file holds."""
        return (use for use in self.uses if use.key not in self.library.entries)


def _citations(section: Converted) -> list[dict]:
    return section.xref.get("citations") or []


def book_citations(book: Book, converted: dict[str, Converted]) -> BookCitations | None:
    """The book's citations numbered in book order, or None when book.yaml names no bibliography.
    Raises ManuscriptError when a bibliography file is missing; unknown keys are left for the checks
    (:func:`require_known`)."""
    settings = book.bibliography
    if not settings.files:
        return None
    base = load_bibliography(book.root, settings)
    per_chapter = settings.place == "chapter"
    lists: dict[str, Bibliography] = {} if per_chapter else {"": base}
    scopes: dict[str, str] = {}
    result = BookCitations(base, lists, scopes)
    seen: dict[tuple[str, str], int] = {}
    for node, chapter in chapters_in_order(book):
        scope = (chapter or node).id if per_chapter else ""
        scopes[node.id] = scope
        section = converted.get(node.id)
        if section is None or not _citations(section):
            continue
        if scope not in lists:
            lists[scope] = dataclasses.replace(base, settings=dataclasses.replace(settings, nocite=()), order=[], scope=scope)
        by_number = result.citations.setdefault(node.id, {})
        for item in _citations(section):
            citation = Citation(tuple(item["keys"]), Mode(item["mode"]), tuple(item["locators"]))
            by_number[int(item["n"])] = citation
            lists[scope].register(citation.keys)
            for key in citation.keys:
                occurrence = seen.get((node.id, key), 0)
                seen[(node.id, key)] = occurrence + 1
                result.uses.append(Use(key, node, occurrence))
    return result


def use_place(texts: dict[str, str], use: Use) -> tuple[str, int, int]:
    """(manuscript-relative file, line, column of '@') of a use, found again in its section's text
    (``texts``: each node id's Markdown); the file's first line when the text no longer holds it."""
    places = reference_places(texts.get(use.node.id, ""), use.key)
    line, column = places[use.occurrence] if use.occurrence < len(places) else (1, 1)
    return use.node.file or "", line, column


def require_known(book: Book, texts: dict[str, str], citations: BookCitations | None) -> None:
    """Raise ManuscriptError at the first citation of an unknown key (C001, with a did-you-mean):
    whatever the check's settings, no output prints a citation it cannot resolve."""
    if citations is None:
        return
    for use in citations.unknown():
        path, line, column = use_place(texts, use)
        raise ManuscriptError(f"C001 {citations.library.unknown_message(use.key)}", Location(book.display(path), line, column))
