"""Finding ``@key`` references in Markdown, directly between Chinese characters (issue 15's recogniser).

Pandoc/Quarto syntax: ``[@a; @b, 288]`` (a bracketed group, each item with an optional locator
after a comma), ``[-@a]`` (the author suppressed), ``@a`` (narrative). Unlike pandoc, a reference
is recognised right after a Chinese character (``如@fig-arch所示``, ``张伯伟[@zhang2002]所述``);
a key ends at the first character that cannot be in one (a Chinese character ends it), and
punctuation inside a key is kept only when a letter or digit follows. An ``@`` after a Latin
letter or digit (an e-mail address) is no reference. Code spans and fenced code are skipped.
Keys with a cross-reference prefix (fig-, tbl-, eq-, lst-, sec-) are cross-references, not citations.
"""

from __future__ import annotations

import bisect
import enum
import re
from dataclasses import dataclass

CROSSREF_PREFIXES = ("fig-", "tbl-", "eq-", "lst-", "sec-")
_KEY = r"[A-Za-z0-9_](?:[A-Za-z0-9_]|[:.#$%&+?<>~/-](?=[A-Za-z0-9_]))*"
_GROUP = re.compile(r"\[(?P<body>[^\[\]]*@[^\[\]]*)\](?![(\[{])")
_ITEM = re.compile(rf"^\s*(?P<prefix>[^@]*?)(?P<minus>-?)@(?P<key>{_KEY})(?:\s*,\s*(?P<locator>.*?))?\s*$", re.DOTALL)
_BARE = re.compile(rf"(?<![A-Za-z0-9_.@+\\-])@(?P<key>{_KEY})")


class Mode(enum.Enum):
    """How a reference is written: ``[@a]`` PAREN, ``@a`` NARRATIVE, ``[-@a]`` SUPPRESS_AUTHOR."""

    PAREN = "paren"
    NARRATIVE = "narrative"
    SUPPRESS_AUTHOR = "suppress-author"


@dataclass(frozen=True)
class Reference:
    """One ``@key`` in the text: 1-based line and column of its ``@``; ``group`` numbers bracketed groups."""

    key: str
    line: int
    column: int
    mode: Mode
    locator: str = ""
    group: int = 0  # items of one [ … ] share a group number (> 0); narrative references have 0

    @property
    def is_crossref(self) -> bool:
        return self.key.startswith(CROSSREF_PREFIXES)


def _mask_code(text: str) -> str:
    """The text with fenced code blocks and code spans blanked out (same length, same lines)."""
    def blank(match: re.Match) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))
    text = re.sub(r"(?ms)^(`{3,}|~{3,}).*?^\1[`~]*[ \t]*$", blank, text)
    return re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", blank, text)


def scan_references(text: str) -> list[Reference]:
    """Every ``@key`` reference of a Markdown text, in order (citations and cross-references alike)."""
    masked = _mask_code(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", masked)]

    def position(offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(line_starts, offset) - 1
        return index + 1, offset - line_starts[index] + 1

    found: list[tuple[int, Reference]] = []
    taken: list[tuple[int, int]] = []
    for number, group in enumerate(_GROUP.finditer(masked), start=1):
        offset = group.start("body")
        items = []
        for part in group.group("body").split(";"):
            match = _ITEM.match(part)
            if not match:
                items = []
                break
            at = offset + match.start("minus") + len(match.group("minus"))
            mode = Mode.SUPPRESS_AUTHOR if match.group("minus") else Mode.PAREN
            items.append((at, match.group("key"), mode, (match.group("locator") or "").strip()))
            offset += len(part) + 1
        if items:
            taken.append((group.start(), group.end()))
            for at, key, mode, locator in items:
                line, column = position(at)
                found.append((at, Reference(key, line, column, mode, locator, number)))
    for match in _BARE.finditer(masked):
        if any(start <= match.start() < end for start, end in taken):
            continue
        line, column = position(match.start())
        found.append((match.start(), Reference(match.group("key"), line, column, Mode.NARRATIVE)))
    return [ref for _, ref in sorted(found, key=lambda pair: pair[0])]


def find_citations(text: str) -> list[Reference]:
    """The citations of a Markdown text: references whose key has no cross-reference prefix."""
    return [ref for ref in scan_references(text) if not ref.is_crossref]
