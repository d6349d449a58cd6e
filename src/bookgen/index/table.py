"""The book-wide index and glossary-use table, from index.lua's summaries (``Converted.xref["index"]``).

Marks are read in book order (as the book is assembled). Marks naming the same entry (the same levels,
``事务!ACID 特性``) are one entry; an entry's parents exist even when nothing marks them alone. Each
entry has its locators in book order: a single mark, or a range from a ``start=NAME`` mark to the next
``end=NAME`` mark; and its 见 / 另见 references. Entries sort level by level in pinyin order
(bookgen.index.collate) and fall into groups headed A, B, C … (and the leading 符号与数字).

Glossary terms ({.term}) are listed per section with whether each is the first use in its chapter.
The PDF resolves locators to pages in TeX (templates/latex/preamble/index.tex_t); the EPUB and the
web edition link them (bookgen.index.ast).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from bookgen.index.collate import SYMBOLS, SortKey, sort_key
from bookgen.model.book import Book, Node
from bookgen.sources.convert import Converted
from bookgen.xref.table import chapters_in_order

MAX_LEVELS = 3


@dataclass(frozen=True)
class Mark:
    """An index mark: its anchor id (ix-NODE-N), where it is (``occurrence``: the n-th mark of its
    section, 0-based) and what it says."""

    id: str
    node: Node
    occurrence: int
    levels: tuple[str, ...]
    sort: tuple[str, ...]
    see: str
    see_also: str
    start: str
    end: str


@dataclass(frozen=True)
class Locator:
    """A place an entry points to: one mark, or a range from ``first`` to ``last``."""

    first: Mark
    last: Mark | None = None


@dataclass
class Entry:
    """One line of the index: its levels (the last is what it prints), depth 0–2, its locators in
    book order and its cross-references."""

    levels: tuple[str, ...]
    key: tuple[SortKey, ...] = ()
    locators: list[Locator] = field(default_factory=list)
    see: list[str] = field(default_factory=list)
    see_also: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.levels[-1]

    @property
    def depth(self) -> int:
        return len(self.levels) - 1

    @property
    def anchor(self) -> str:
        """The entry's own link target in the index (what a 见 or 另见 naming it links to)."""
        return "ixe-" + hashlib.sha1("!".join(self.levels).encode("utf-8")).hexdigest()[:10]


def entry_levels(named: str) -> tuple[str, ...]:
    """The levels a see= or seealso= names ("事务!ACID 特性")."""
    return tuple(level.strip() for level in named.split("!"))


def reference_text(named: str) -> str:
    """A 见 / 另见 target as printed: its levels joined by a full-width colon (事务：ACID 特性)."""
    return "：".join(entry_levels(named))


@dataclass(frozen=True)
class Group:
    """Entries under one heading: 'A' … 'Z', or the symbols group ('' → index.symbols)."""

    letter: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class IndexProblem:
    """A mark that cannot be indexed (rule code, message, the mark)."""

    code: str
    message: str
    mark: Mark


@dataclass(frozen=True)
class TermUse:
    """A {.term} in a section: its key, the text, the n-th term of the section (0-based), first in its chapter."""

    key: str
    text: str
    node: Node
    occurrence: int
    first: bool


@dataclass(frozen=True)
class IndexTable:
    """The index's groups in order, every mark by id, every entry by its levels, the problems, the glossary
    terms used per node id."""

    groups: tuple[Group, ...] = ()
    marks: dict[str, Mark] = field(default_factory=dict)
    entries: dict[tuple[str, ...], Entry] = field(default_factory=dict)
    problems: tuple[IndexProblem, ...] = ()
    terms: dict[str, tuple[TermUse, ...]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.groups


def _as_list(value: object) -> list[str]:
    """index.lua's lists arrive as JSON arrays, or as {} when empty."""
    return [str(item) for item in value] if isinstance(value, list) else []


def collect_index(book: Book, converted: dict[str, Converted]) -> IndexTable:
    """The index table of a book from its converted sections (see the module's docstring)."""
    latin = book.index.latin == "letters"
    entries: dict[tuple[str, ...], Entry] = {}
    overrides: dict[tuple[str, ...], str] = {}
    marks: dict[str, Mark] = {}
    problems: list[IndexProblem] = []
    open_ranges: dict[str, tuple[Mark, Entry]] = {}
    terms: dict[str, tuple[TermUse, ...]] = {}
    used_in: dict[str, set[str]] = {}

    def entry(levels: tuple[str, ...]) -> Entry:
        for depth in range(1, len(levels) + 1):
            entries.setdefault(levels[:depth], Entry(levels[:depth]))
        return entries[levels]

    for node, chapter in chapters_in_order(book):
        section = converted.get(node.id)
        summary = section.xref.get("index") if section else None
        if not summary:
            continue
        for occurrence, raw in enumerate(_as_list_of_dicts(summary.get("marks"))):
            mark = Mark(
                raw["id"],
                node,
                occurrence,
                tuple(_as_list(raw["entry"])),
                tuple(_as_list(raw.get("sort"))),
                raw.get("see", ""),
                raw.get("seealso", ""),
                raw.get("start", ""),
                raw.get("end", ""),
            )
            marks[mark.id] = mark
            if mark.end:
                opened = open_ranges.pop(mark.end, None)
                if opened is None:
                    problems.append(IndexProblem("I004", f"index range end={mark.end} has no start={mark.end} before it", mark))
                else:
                    opened[1].locators.append(Locator(opened[0], mark))
                continue
            levels = tuple(level for level in mark.levels if level)
            if not levels or len(levels) > MAX_LEVELS:
                problems.append(
                    IndexProblem(
                        "I005", f"index entry '{'!'.join(mark.levels)}' must have one to {MAX_LEVELS} levels separated by '!'", mark
                    )
                )
                continue
            for depth, override in enumerate(mark.sort[: len(levels)]):
                overrides.setdefault(levels[: depth + 1], override)
            target = entry(levels)
            if mark.see:
                target.see.append(mark.see)
            elif mark.see_also:
                target.see_also.append(mark.see_also)
            elif mark.start:
                if mark.start in open_ranges:
                    problems.append(IndexProblem("I004", f"index range start={mark.start} is opened again before its end", mark))
                open_ranges[mark.start] = (mark, target)
            else:
                target.locators.append(Locator(mark))
        unit = (chapter or node).id
        seen = used_in.setdefault(unit, set())
        uses = []
        for occurrence, raw in enumerate(_as_list_of_dicts(summary.get("terms"))):
            key = raw["key"]
            uses.append(TermUse(key, raw["text"], node, occurrence, key not in seen))
            seen.add(key)
        terms[node.id] = tuple(uses)
    problems += [
        IndexProblem("I004", f"index range start={name} is never closed by end={name}", mark) for name, (mark, _) in open_ranges.items()
    ]
    for mark in marks.values():  # a 见 or 另见 must lead to an entry the index prints
        for attribute, named in (("see", mark.see), ("seealso", mark.see_also)):
            if named and entry_levels(named) not in entries:
                problems.append(IndexProblem("I007", f"index {attribute}='{named}' names an entry that nothing marks", mark))
    for path, item in entries.items():  # the first sort= given for a level wins, wherever it was given
        item.key = tuple(sort_key(level, overrides.get(path[: depth + 1], ""), latin) for depth, level in enumerate(path))
    ordered = sorted(entries.values(), key=lambda e: e.key)
    groups: list[Group] = []
    for item in ordered:
        letter = item.key[0].group
        if not groups or groups[-1].letter != letter:
            groups.append(Group(letter, ()))
        groups[-1] = Group(letter, groups[-1].entries + (item,))
    return IndexTable(tuple(groups), marks, entries, tuple(problems), terms)


def _as_list_of_dicts(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def group_title(book: Book, group: Group) -> str:
    """The printed heading of a group: its letter, or index.symbols."""
    return book.index.symbols if group.letter == SYMBOLS else group.letter
