"""Where the prose is: Markdown lines with code, math, URLs, link targets, raw TeX and comments masked.

Typography rules and fixes only ever look at (and change) the prose runs this yields.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bookgen.textrules import CHAT_TOKEN, HEADING, in_fences

_INLINE_MASKS = [
    re.compile(r"(`+).+?\1"),  # inline code
    re.compile(r"\$(?=\S)(?:\\\$|[^$])+?(?<=\S)\$(?!\d)"),  # inline math (pandoc's rule)
    re.compile(r"<!--.*?-->"),  # comments
    re.compile(r"<https?://[^>]+>|https?://[^\s)）\]>]+|www\.[^\s)）\]>]+"),  # URLs
    re.compile(r"\]\([^)]*\)"),  # link and image targets
    re.compile(r"\[\^[^\]]+\]"),  # footnote markers
    re.compile(r"\\[A-Za-z]+\*?(?:\[[^\]]*\])?(?:\{[^}]*\})*"),  # raw TeX commands
    re.compile(r"\{[#.][^}]*\}"),  # pandoc attributes {#id .class}
]
_HTML_TAG = re.compile(r"<[A-Za-z/][^>]*>")  # masked, except chat tokens that look like tags (<end_of_turn>, <s>)
_NOT_A_BLOCK_OF_PROSE = re.compile(r"^([-*+]\s|\d+[.)]\s|\||>|:\s|\[\^)")  # list items, tables, quotes, definitions, notes


@dataclass(frozen=True)
class Run:
    """A stretch of prose: ``text`` starts at 0-based column ``start`` of 1-based ``line``."""

    line: int
    start: int
    text: str


@functools.lru_cache(maxsize=4096)
def masked_lines(text: str) -> tuple[tuple[int, str, tuple[bool, ...]], ...]:
    """(line number, line, prose mask) for every line; code blocks and display math are all masked.

    Memoized: every rule family reads the same files."""
    out = []
    in_math = False
    in_comment = False
    lines = text.split("\n")
    for number, (line, fenced) in enumerate(zip(lines, in_fences(lines), strict=False), 1):
        if fenced:
            out.append((number, line, (False,) * len(line)))
            continue
        mask = [True] * len(line)
        position = 0
        while position <= len(line):
            if in_math or in_comment:
                closer = "$$" if in_math else "-->"
                end = line.find(closer, position)
                stop = len(line) if end < 0 else end + len(closer)
                for i in range(position, stop):
                    mask[i] = False
                if end < 0:
                    break
                in_math = in_comment = False
                position = stop
                continue
            math_at = line.find("$$", position)
            comment_at = line.find("<!--", position)
            starts = [p for p in (math_at, comment_at) if p >= 0]
            if not starts:
                break
            first = min(starts)
            if first == math_at:
                in_math = True
                for i in range(first, first + 2):
                    mask[i] = False
                position = first + 2
            else:
                in_comment = True
                position = first
        for pattern in _INLINE_MASKS:
            for match in pattern.finditer(line):
                for i in range(match.start(), match.end()):
                    mask[i] = False
        tokens: list[tuple[int, int]] | None = None
        for match in _HTML_TAG.finditer(line):
            if tokens is None:
                tokens = [token.span() for token in CHAT_TOKEN.finditer(line)]
            if not any(start <= match.start() and match.end() <= end for start, end in tokens):
                for i in range(match.start(), match.end()):
                    mask[i] = False
        out.append((number, line, tuple(mask)))
    return tuple(out)


def prose_runs(text: str) -> list[Run]:
    runs = []
    for number, line, mask in masked_lines(text):
        start = None
        for i, visible in enumerate(mask + (False,)):
            if visible and start is None:
                start = i
            elif not visible and start is not None:
                runs.append(Run(number, start, line[start:i]))
                start = None
    return runs


@functools.lru_cache(maxsize=4096)
def paragraphs(text: str) -> tuple[tuple[int, int, str], ...]:
    """(first line, last line, joined prose) of each plain paragraph: no code, math, headings, lists or tables."""
    result = []
    block: list[tuple[int, str]] = []

    def close() -> None:
        if block:
            result.append((block[0][0], block[-1][0], "".join(t for _, t in block)))
        block.clear()

    for number, line, mask in masked_lines(text):
        stripped = line.strip()
        if not stripped or not any(mask) or HEADING.match(stripped) or _NOT_A_BLOCK_OF_PROSE.match(stripped):
            close()
            continue
        prose = line if all(mask) else "".join(ch for ch, visible in zip(line, mask, strict=False) if visible)
        block.append((number, prose.strip()))
    close()
    return tuple(result)
