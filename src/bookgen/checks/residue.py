"""Machine-writing residue: chat tokens, writing instructions, paragraphs cut off, repeated paragraphs."""

from __future__ import annotations

import re
from collections.abc import Callable

from bookgen.textrules import CHAT_TOKEN, PAUSES, is_instruction

from .context import CheckContext
from .model import Fix
from .prose import masked_lines, paragraphs

_CUT_OFF = PAUSES | {"；"}  # a semicolon ends a clause, not a paragraph


def check_residue(ctx: CheckContext, wanted: Callable[[str], bool] = lambda code: True) -> None:
    """R001–R004; ``wanted`` leaves out rules by code (build's pre-check wants only those that give errors)."""
    whole_paragraphs = wanted("R003") or wanted("R004")
    for source in ctx.checked:
        for number, line, mask in masked_lines(source.text):
            for match in CHAT_TOKEN.finditer(line):
                if all(mask[match.start() : match.end()]):
                    ctx.report(
                        "R001",
                        source.display,
                        number,
                        match.start() + 1,
                        f"chat token {match.group(0)}",
                        Fix(number, match.start(), match.end(), ""),
                    )
            if any(mask) and is_instruction(line):
                ctx.report(
                    "R002",
                    source.display,
                    number,
                    1,
                    f"writing instruction or assistant preamble: {line.strip()}",
                    Fix(number, 0, len(line), ""),
                )
        for _, last, text in paragraphs(source.text) if whole_paragraphs else ():
            if text and text[-1] in _CUT_OFF:
                ctx.report(
                    "R003", source.display, last, len(source.text.split("\n")[last - 1]), f"paragraph stops mid-sentence at '{text[-12:]}'"
                )
    seen: dict[str, tuple[str, int]] = {}
    for source in ctx.files if whole_paragraphs else ():  # R004 compares every file with the others
        for first, _, text in paragraphs(source.text):
            key = re.sub(r"\s+", "", text)
            if len(key) >= 30:
                if key in seen:
                    where, at = seen[key]
                    ctx.report("R004", source.display, first, 1, f"the same paragraph stands at {where}:{at}")
                else:
                    seen[key] = (source.display, first)
