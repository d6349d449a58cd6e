"""Where labels and references are in the author's files: line and column for messages.

pandoc's Markdown reader keeps no source positions, so the places are found again in the text, by
the same grammar refs.lua uses: the n-th reference to a label in a section is the n-th ``@label``
in its prose (code, math and link targets masked), the n-th definition the n-th ``{#label …}``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bookgen.checks.prose import masked_lines
from bookgen.errors import Location, ManuscriptError
from bookgen.model.book import BOOK_FILE, Book
from bookgen.xref.kinds import LABEL_CHARS, REFERENCE_START
from bookgen.xref.table import LabelTable, Place, Site


@lru_cache(maxsize=1024)
def reference_places(text: str, label: str) -> list[tuple[int, int]]:
    """(line, column of '@') of every reference to ``label`` in the prose of ``text`` (1-based)."""
    pattern = re.compile(rf"{REFERENCE_START}@{re.escape(label)}(?![-:]*[A-Za-z0-9_])")
    places = []
    for number, line, mask in masked_lines(text):
        places += [(number, match.start() + 1) for match in pattern.finditer(line) if mask[match.start()]]
    return places


@lru_cache(maxsize=1024)
def definition_places(text: str, label: str) -> list[tuple[int, int]]:
    """(line, column of '#') of every ``{#label …}`` (and ``{… #label}``) in ``text`` (1-based)."""
    pattern = re.compile(rf"\{{[^}}\n]*?(#{re.escape(label)})(?![{LABEL_CHARS}])[^}}\n]*\}}")
    return [(number, match.start(1) + 1) for number, line in enumerate(text.split("\n"), 1) for match in pattern.finditer(line)]


def outline_place(yaml_text: str, label: str) -> tuple[int, int]:
    """(line, column of the value) of ``id: label`` in book.yaml."""
    pattern = re.compile(rf"^\s*(?:-\s+)?id:\s*(['\"]?){re.escape(label)}\1\s*(#.*)?$")
    for number, line in enumerate(yaml_text.split("\n"), 1):
        match = pattern.match(line)
        if match:
            return number, match.start(1) + 1
    return 1, 1


def locate(book: Book, texts: dict[str, str], site: Site) -> Location:
    """The site as ``manuscript/file.md:LINE:COL`` (``texts``: each node id's Markdown). A place not
    found again (text changed since) falls back to the file's first line."""
    if site.place is Place.OUTLINE:
        line, column = outline_place((book.root / BOOK_FILE).read_text(encoding="utf-8"), site.label)
        return Location(book.display(BOOK_FILE), line, column)
    finder = reference_places if site.place is Place.REFERENCE else definition_places
    places = finder(texts.get(site.node.id, ""), site.label)
    line, column = places[site.occurrence] if site.occurrence < len(places) else (1, 1)
    return Location(book.display(site.node.file or BOOK_FILE), line, column)


def require_resolvable(book: Book, texts: dict[str, str], table: LabelTable) -> None:
    """Raise ManuscriptError at the first reference to an unknown label (X001): whatever the check's
    settings, no output prints a reference it cannot resolve."""
    for problem in table.problems:
        if problem.code == "X001":
            raise ManuscriptError(f"{problem.code} {problem.message}", locate(book, texts, problem.site))
