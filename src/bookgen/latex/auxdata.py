r"""What a unit's ``.aux`` file hands to the rest of the book, and moving it to other pages.

LaTeX's ``\include`` writes one ``.aux`` file per unit: its labels (``\newlabel``), its contents
lines (``\@writefile{toc}{\contentsline …}``), bookgen's index marks (``\bookgen@ixpage{id}{folio}
{physical}{page counter}``) and, last, the checkpoint of every counter at its end (``\@setckpt{unit}{\setcounter
…}``), which a run that leaves the unit out (``\includeonly``) restores. A unit typeset in a parallel
job starts at a page guessed before the pages in front of it were known; when it is known, the
unit's file is moved to its real pages here (every folio and physical page number shifted), so that
the other jobs read it as if the whole book had been typeset in one run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PAGE_COUNTERS = ("page", "bookgenphysical", "LN@truepage")
"""Counters that count pages: set from the book's page chain, never carried from a guess."""

ADDITIVE_COUNTERS = ("Hfootnote", "Item", "bookmark@seq@number", "footnote")
"""Counters a unit adds to (anchor numbers, footnotes in unnumbered chapters), unless a numbered
chapter resets them (footnote): the value after a unit is the value before plus what it added."""

CHAPTER_RESETS = ("footnote",)  # of ADDITIVE_COUNTERS, the ones \chapter resets (ctexbook: \@addtoreset)

_ROMAN = (
    ("m", 1000),
    ("cm", 900),
    ("d", 500),
    ("cd", 400),
    ("c", 100),
    ("xc", 90),
    ("l", 50),
    ("xl", 40),
    ("x", 10),
    ("ix", 9),
    ("v", 5),
    ("iv", 4),
    ("i", 1),
)


def roman(number: int) -> str:
    """Lower-case roman numeral of ``number`` ≥ 1, as LaTeX's ``\\roman`` writes it."""
    out = []
    for letters, value in _ROMAN:
        while number >= value:
            out.append(letters)
            number -= value
    return "".join(out)


def folio_value(folio: str) -> tuple[int, bool] | None:
    """(number, roman?) of a folio as ``\\thepage`` wrote it (``37``, ``iii``); None for other forms."""
    if folio.isdigit():
        return int(folio), False
    if folio and set(folio) <= set("ivxlcdm"):
        total, rest = 0, folio
        for letters, value in _ROMAN:
            while rest.startswith(letters):
                total, rest = total + value, rest[len(letters) :]
        return (total, True) if not rest and total else None
    return None


def shift_folio(folio: str, delta: int) -> str:
    """``folio`` moved ``delta`` pages on, in its own style (arabic or roman); other forms unchanged."""
    value = folio_value(folio)
    if value is None or delta == 0:
        return folio
    number, is_roman = value
    return roman(number + delta) if is_roman else str(number + delta)


def _group(text: str, start: int) -> int:
    """The index after the brace group that opens at ``text[start]`` ('{'); -1 when unbalanced. A
    backslash escapes the character after it (``\\{`` is no brace)."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _groups(text: str, start: int, count: int) -> list[tuple[int, int]] | None:
    """Spans (inner start, inner end) of ``count`` brace groups following each other from ``start``."""
    spans = []
    at = start
    for _ in range(count):
        while at < len(text) and text[at] == " ":
            at += 1
        if at >= len(text) or text[at] != "{":
            return None
        end = _group(text, at)
        if end < 0:
            return None
        spans.append((at + 1, end - 1))
        at = end
    return spans


_LABEL = re.compile(r"\\newlabel\{[^}]*\}\{")
_CONTENTSLINE = re.compile(r"\\contentsline \{[^}]*\}")
_INDEX_MARK = re.compile(r"\\bookgen@ixpage\{[^}]*\}")
_COUNTER = re.compile(r"\\setcounter\{([^}]+)\}\{(-?\d+)\}")
_WRITEFILE = re.compile(r"\\@writefile\{(\w+)\}")


@dataclass(frozen=True)
class Shift:
    """How far a unit's pages move: ``folio`` in its folio style, ``physical`` in sheets of the PDF."""

    folio: int
    physical: int


def shift_aux(aux: str, shift: Shift) -> str:
    """The unit's .aux text with every page it names moved by ``shift``: label pages, contents-line
    pages and index marks (folio, physical). The checkpoint is left to ``set_checkpoint``."""
    edits: list[tuple[int, int, str]] = []
    for match in _LABEL.finditer(aux):  # \newlabel{x}{{number}{page}{title}{anchor}{}}
        spans = _groups(aux, match.end(), 2)
        if spans:
            start, end = spans[1]
            edits.append((start, end, shift_folio(aux[start:end], shift.folio)))
    for match in _CONTENTSLINE.finditer(aux):  # \contentsline {kind}{title}{page}{anchor}
        spans = _groups(aux, match.end(), 2)
        if spans:
            start, end = spans[1]
            edits.append((start, end, shift_folio(aux[start:end], shift.folio)))
    for match in _INDEX_MARK.finditer(aux):  # \bookgen@ixpage{id}{folio}{physical}{page counter}
        spans = _groups(aux, match.end(), 3)
        if spans:
            (f_start, f_end), (p_start, p_end), (c_start, c_end) = spans
            edits.append((f_start, f_end, shift_folio(aux[f_start:f_end], shift.folio)))
            edits.append((p_start, p_end, _shift_number(aux[p_start:p_end], shift.physical)))
            edits.append((c_start, c_end, _shift_number(aux[c_start:c_end], shift.folio)))
    out = aux
    for start, end, text in sorted(edits, reverse=True):
        out = out[:start] + text + out[end:]
    return out


def _shift_number(text: str, delta: int) -> str:
    return str(int(text) + delta) if text.isdigit() else text


def checkpoint(aux: str) -> dict[str, int]:
    """The counters at the unit's end (its ``\\@setckpt``); empty when the file has none."""
    at = aux.find("\\@setckpt{")
    return {m.group(1): int(m.group(2)) for m in _COUNTER.finditer(aux, at)} if at >= 0 else {}


def set_checkpoint(aux: str, values: dict[str, int]) -> str:
    """The .aux text with the checkpoint's counters in ``values`` set to them (others unchanged)."""
    at = aux.find("\\@setckpt{")
    if at < 0:
        return aux

    def put(match: re.Match) -> str:
        name = match.group(1)
        return f"\\setcounter{{{name}}}{{{values[name]}}}" if name in values else match.group(0)

    return aux[:at] + _COUNTER.sub(put, aux[at:])


def seed_aux(unit: str, values: dict[str, int]) -> str:
    """An .aux file for a unit not typeset yet: only its checkpoint, with ``values`` (a first pass's guess)."""
    counters = "".join(f"\\setcounter{{{name}}}{{{value}}}\n" for name, value in values.items())
    return f"\\relax \n\\@setckpt{{{unit}}}{{\n{counters}}}\n"


def contents_lines(aux: str) -> dict[str, list[str]]:
    """The lines the unit adds to each list file (toc, lof, lot …), in order, as LaTeX writes them there."""
    lines: dict[str, list[str]] = {}
    for match in _WRITEFILE.finditer(aux):
        spans = _groups(aux, match.end(), 1)
        if spans:
            start, end = spans[0]
            text = aux[start:end].replace("\\protected@file@percent ", "%").rstrip()
            lines.setdefault(match.group(1), []).append(text)
    return lines


def index_marks(aux: str) -> list[str]:
    """The unit's ``\\bookgen@ixpage`` lines (what the 索引 reads)."""
    return [aux[m.start() : end] for m in _INDEX_MARK.finditer(aux) if (end := _group_end(aux, m.end(), 3)) > 0]


def _group_end(text: str, start: int, count: int) -> int:
    spans = _groups(text, start, count)
    return spans[-1][1] + 1 if spans else -1


def contents_anchors(aux: str) -> list[tuple[str, str]]:
    """(kind, anchor) of each contents line the unit writes (``\\contentsline {chapter}{…}{page}{chapter.2}``):
    the bookmark level of the heading the anchor names."""
    out = []
    for match in _CONTENTSLINE.finditer(aux):
        spans = _groups(aux, match.end(), 3)
        if spans:
            start, end = spans[2]
            kind = match.group(0)[len("\\contentsline {") : -1]
            out.append((kind, aux[start:end]))
    return out
