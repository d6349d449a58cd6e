"""A book's bibliography: its entries, numbering by first citation, citations and the list as pandoc inlines.

The one source of the reference list's text for every output: :meth:`Bibliography.cite` and
:meth:`Bibliography.entries_in_order` return pandoc AST inlines (JSON dicts: Str, Space, Link,
Superscript, Emph), never strings with markup.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bookgen.bibliography.entry import Entry, Kind
from bookgen.bibliography.findings import Code, Finding
from bookgen.bibliography.gbt7714 import (
    Run,
    Seg,
    Style,
    format_entry,
    short_author,
    year_label,
)
from bookgen.bibliography.reading import FileContents, read_file
from bookgen.errors import ManuscriptError
from bookgen.fsutil import file_stamp
from bookgen.model.settings import BibliographySettings

Inline = dict


class Mode(enum.Enum):
    """How a citation is written: ``[@a]`` PAREN, ``@a`` NARRATIVE, ``[-@a]`` SUPPRESS_AUTHOR (refs.lua's modes)."""

    PAREN = "paren"
    NARRATIVE = "narrative"
    SUPPRESS_AUTHOR = "suppress-author"


@dataclass(frozen=True)
class CiteItem:
    """One cited key with its locator ('288', '第3章'), as in ``[@key, 288]``."""

    key: str
    locator: str = ""


def inlines(run: Run | Sequence[Seg]) -> list[Inline]:
    """Segments as pandoc AST inlines: words as Str, blanks as Space, links as Link, <i> as Emph;
    consecutive superscript segments in one Superscript."""
    out: list[Inline] = []
    for seg in run:
        if seg.superscript:
            if not (out and out[-1]["t"] == "Superscript" and out[-1].get("open")):
                out.append({"t": "Superscript", "c": [], "open": True})
            out[-1]["c"].extend(inlines([dataclasses.replace(seg, superscript=False)]))
            continue
        words: list[Inline] = []
        for token in re.split(r"(\s+)", seg.text):
            if token:
                words.append({"t": "Space"} if token.isspace() else {"t": "Str", "c": token})
        if seg.emph:
            words = [{"t": "Emph", "c": words}]
        if seg.target:
            words = [{"t": "Link", "c": [["", [], []], words, [seg.target, ""]]}]
        out.extend(words)
    for inline in out:
        inline.pop("open", None)
    return out


def anchor(key: str, scope: str = "") -> str:
    """The id of an entry in every output: ``ref-KEY``, or ``ref-SCOPE-KEY`` in a chapter's own list."""
    return f"ref-{scope}-{key}" if scope else "ref-" + key


# what each type needs (GB/T 7714—2025 §8: the required elements of each type's format)
REQUIRED = {
    Kind.BOOK: ("title", "publisher", "issued"),
    Kind.CHAPTER: ("title", "container_title", "issued"),
    Kind.PROCEEDINGS: ("title", "issued"),
    Kind.PAPER: ("title", "issued"),
    Kind.ARTICLE: ("title", "container_title", "issued"),
    Kind.NEWSPAPER: ("title", "container_title", "issued"),
    Kind.THESIS: ("title", "publisher", "issued"),
    Kind.REPORT: ("title",),
    Kind.STANDARD: ("title", "number"),
    Kind.PATENT: ("title", "number", "issued"),
    Kind.WEBPAGE: ("title", "url"),
    Kind.DATASET: ("title",),
    Kind.ARCHIVE: ("title",),
    Kind.MAP: ("title",),
    Kind.PREPRINT: ("title",),
}
_FIELD_NAMES = {
    "container_title": "journal/booktitle (container-title)",
    "issued": "year/date (issued)",
    "publisher": "publisher (or school/institution)",
    "url": "url",
}


@dataclass
class Bibliography:
    """The entries of a book's ``bibliography:`` files and the order they are cited in.

    ``entries`` by key in file order; ``findings`` from reading (malformed entries, duplicate keys,
    missing fields). Numbers are given in order of first citation: call :meth:`register` with every
    citation of the book in reading order (or let :meth:`cite` register as it goes).
    """

    settings: BibliographySettings
    entries: dict[str, Entry]
    findings: list[Finding] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # cited keys, in order of first citation
    scope: str = ""  # a chapter's own list (bibliography.place: chapter): its node id, in the anchors

    @property
    def style(self) -> Style:
        s = self.settings
        return Style(standard=s.standard, author_date=s.style == "author-date", fullwidth=s.punctuation == "fullwidth")

    def entry(self, key: str) -> Entry:
        """The entry of ``key``; ManuscriptError with a did-you-mean when there is none."""
        if key not in self.entries:
            raise ManuscriptError(f"{Code.UNKNOWN_KEY.value} {self.unknown_message(key)}")
        return self.entries[key]

    def unknown_message(self, key: str) -> str:
        hint = difflib.get_close_matches(key, list(self.entries), n=1, cutoff=0.6)
        return f"unknown citation @{key}" + (f" (did you mean @{hint[0]}?)" if hint else "")

    def register(self, keys: Iterable[str]) -> None:
        """Note citations in reading order; an entry's number is its place among first citations."""
        for key in keys:
            if key in self.entries and key not in self.order:
                self.order.append(key)

    def number(self, key: str) -> int:
        """The [n] of a registered or nocite entry (1-based)."""
        return self.listed_keys().index(key) + 1

    def nocite_keys(self) -> list[str]:
        wanted = self.settings.nocite
        keys = list(self.entries) if "*" in wanted else [k for k in wanted if k in self.entries]
        return [k for k in keys if k not in self.order]

    def listed_keys(self) -> list[str]:
        """Keys in the order of the list: numeric by first citation then nocite; author-date sorted (§9.3.2)."""
        keys = self.order + self.nocite_keys()
        if self.style.author_date:
            keys.sort(key=self._sort_key)
        return keys

    def _sort_key(self, key: str) -> tuple:
        """Chinese and Japanese entries first, by pinyin of the first author; then the others alphabetically."""
        entry = self.entries[key]
        author = short_author(entry)
        from pypinyin import lazy_pinyin  # here: its dictionaries cost every build 0.15 s and 60 MB at import

        spelled = " ".join(lazy_pinyin(author)) if entry.is_cjk else author
        return (0 if entry.is_cjk else 1, spelled.lower(), entry.issued.year, entry.title)

    def year_suffixes(self) -> dict[str, str]:
        """a, b, c… for entries of the same author(s) and year among the listed ones (§9.3.1.3)."""
        groups: dict[tuple[str, str], list[str]] = {}
        for key in self.listed_keys():
            entry = self.entries[key]
            groups.setdefault((short_author(entry), entry.issued.year), []).append(key)
        suffixes = {}
        for keys in groups.values():
            if len(keys) > 1:
                for index, key in enumerate(sorted(keys, key=lambda k: self.entries[k].title)):
                    suffixes[key] = chr(ord("a") + index)
        return suffixes

    def cite(self, items: Sequence[CiteItem | str], mode: Mode = Mode.PAREN) -> list[Inline]:
        """One citation as inlines; each entry's part links to ``#ref-KEY``.

        Numeric: superscript [1], [1-3], [1,3,5], [1]288; narrative 张伯伟[1]; SUPPRESS_AUTHOR the bracket
        on the line (见文献[1]). Author-date: (张伯伟，2002), (Caplan, 1993), 张伯伟(2002), (2002).
        Raises ManuscriptError for an unknown key.
        """
        cites = [CiteItem(i) if isinstance(i, str) else i for i in items]
        for item in cites:
            self.entry(item.key)
        self.register(c.key for c in cites)
        runs = self._author_date(cites, mode) if self.style.author_date else self._numeric(cites, mode)
        return inlines(runs)

    def _numeric(self, cites: list[CiteItem], mode: Mode) -> list[Seg]:
        numbered = sorted({(self.number(c.key), c.key) for c in cites})
        segs: list[Seg] = [Seg("[")]
        if any(c.locator for c in cites):
            segs = []
            for c in cites:
                segs += [Seg("["), Seg(str(self.number(c.key)), "#" + anchor(c.key, self.scope)), Seg("]" + c.locator)]
        else:
            runs: list[list[tuple[int, str]]] = []
            for number, key in numbered:
                if runs and number == runs[-1][-1][0] + 1:
                    runs[-1].append((number, key))
                else:
                    runs.append([(number, key)])
            for index, run in enumerate(runs):
                if index:
                    segs.append(Seg(","))
                parts = [run[0], run[-1]] if len(run) >= 3 else run
                for j, (number, key) in enumerate(parts):
                    if j:
                        segs.append(Seg("-" if len(run) >= 3 else ","))
                    segs.append(Seg(str(number), "#" + anchor(key, self.scope)))
            segs.append(Seg("]"))
        if mode == Mode.SUPPRESS_AUTHOR:
            return segs
        mark = [dataclasses.replace(seg, superscript=True) for seg in segs]
        if mode == Mode.NARRATIVE:
            return [Seg("、".join(short_author(self.entries[c.key]) for c in cites)), *mark]
        return mark

    def _author_date(self, cites: list[CiteItem], mode: Mode) -> list[Seg]:
        suffixes = self.year_suffixes()
        full = self.style.fullwidth and self.entries[cites[0].key].is_cjk
        lparen, rparen = ("（", "）") if full else ("(", ")")
        segs: list[Seg] = []
        for index, c in enumerate(cites):
            entry = self.entries[c.key]
            year = year_label(entry, suffixes.get(c.key, ""))
            target = "#" + anchor(c.key, self.scope)
            if mode == Mode.NARRATIVE:
                if index:
                    segs.append(Seg("、" if entry.is_cjk else ", "))
                space = "" if entry.is_cjk else " "
                segs += [Seg(short_author(entry) + space + lparen), Seg(year, target), Seg(rparen)]
            else:
                if index:
                    segs.append(Seg("；" if entry.is_cjk else "; "))
                text = year if mode == Mode.SUPPRESS_AUTHOR else short_author(entry) + ("，" if entry.is_cjk else ", ") + year
                segs.append(Seg(text, target))
        if mode != Mode.NARRATIVE:
            segs = [Seg(lparen), *segs, Seg(rparen)]
        locators = ",".join(c.locator for c in cites if c.locator)
        if locators:
            segs.append(Seg(locators, superscript=True))
        return segs

    def entries_in_order(self) -> list[tuple[str, str, list[Inline]]]:
        """The reference list: (key, label, inlines) per entry; label '[1]' (numeric) or '' (author-date)."""
        suffixes = self.year_suffixes()
        out = []
        for index, key in enumerate(self.listed_keys(), start=1):
            label = "" if self.style.author_date else f"[{index}]"
            run = format_entry(self.entries[key], self.style, suffixes.get(key, ""))
            out.append((key, label, inlines(run)))
        return out

    def check(self, uses: Iterable[tuple[str, str, int, int]]) -> list[Finding]:
        """Findings for the book's citations (``uses``: (key, manuscript-relative file, line, column) of
        each cited key).

        C001 for unknown keys (with did-you-mean), C004 for entries lacking a required field, C005
        for entries neither cited nor in nocite; plus the findings of reading the files.
        """
        findings = list(self.findings)
        cited = set()
        for key, file, line, column in uses:
            cited.add(key)
            if key not in self.entries:
                findings.append(Finding(Code.UNKNOWN_KEY, self.unknown_message(key), file, line, column))
        listed = cited | set(self.settings.nocite)
        for key, entry in self.entries.items():
            for name in REQUIRED.get(entry.kind, ()):
                if not getattr(entry, name):
                    findings.append(
                        Finding(
                            Code.MISSING_FIELD,
                            f"entry '{key}' ([{entry.kind.value.rstrip('/*')}]) lacks "
                            f"{_FIELD_NAMES.get(name, name)}, which GB/T 7714 requires",
                            entry.source,
                            entry.line,
                        )
                    )
            if key not in listed and "*" not in self.settings.nocite:
                findings.append(
                    Finding(Code.UNUSED, f"entry '{key}' is never cited (add it to nocite to list it)", entry.source, entry.line)
                )
        return findings


@functools.lru_cache(maxsize=32)
def _read(root: Path, relative: str, stamp: object) -> FileContents:
    """A file read once per version (``stamp``: its size and time): the checks, the PDF, the EPUB and
    the web edition of one build share it. Its entries are frozen; callers copy the lists."""
    return read_file(root, relative)


def load_bibliography(book_root: Path, settings: BibliographySettings) -> Bibliography:
    """Read every file of ``settings.files`` (manuscript-relative) into one Bibliography.

    A duplicate key keeps its first entry and is a C003 finding naming both places; malformed
    entries are C002 findings (``refs.bib:LINE``). Raises ManuscriptError for a missing file or an
    unknown extension, ToolError when pandoc cannot run.
    """
    entries: dict[str, Entry] = {}
    findings: list[Finding] = []
    for relative in settings.files:
        contents = _read(book_root, relative, tuple(file_stamp(book_root / relative) or ()))
        findings += contents.findings
        for entry in contents.entries:
            if entry.key in entries:
                first = entries[entry.key]
                findings.append(
                    Finding(
                        Code.DUPLICATE_KEY,
                        f"duplicate citation key '{entry.key}' (first in {first.source}:{first.line})",
                        entry.source,
                        entry.line,
                    )
                )
                continue
            entries[entry.key] = entry
    return Bibliography(settings, entries, findings)
