"""Index and glossary (I): terms the glossary lacks, glossary entries never used, two entries with one
key, index ranges that do not close, entries with too many levels, 见/另见 leading nowhere (from
bookgen.index's tables, with the places found again in the Markdown and in the glossary file)."""

from __future__ import annotations

import re
from functools import lru_cache

from bookgen.errors import ManuscriptError
from bookgen.index.glossary import load_glossary, term_location
from bookgen.index.table import collect_index
from bookgen.model.book import Node
from bookgen.sources.convert import Converted

from .context import CheckContext
from .prose import masked_lines

# [text]{… .index …} or [text]{… .term …}: a bracketed span without nested brackets, as index.lua reads it.
_SPAN = re.compile(r"\[[^\[\]]*\]\{([^{}]*)\}")


@lru_cache(maxsize=256)
def span_places(text: str, css_class: str) -> list[tuple[int, int]]:
    """(line, column of '[') of every span of class ``css_class`` in the prose of ``text``, in order."""
    wanted = re.compile(rf"(?:^|\s)\.{css_class}(?:\s|$)")
    return [
        (number, match.start() + 1)
        for number, line, mask in masked_lines(text)
        for match in _SPAN.finditer(line)
        if mask[match.start()] and wanted.search(match.group(1))
    ]


def _place(ctx: CheckContext, texts: dict[str, str], node: Node, css_class: str, occurrence: int) -> tuple[str, int, int]:
    places = span_places(texts.get(node.id, ""), css_class)
    line, column = places[occurrence] if occurrence < len(places) else (1, 1)
    return ctx.book.display(node.file or ""), line, column


def check_index(ctx: CheckContext, converted: dict[str, Converted]) -> None:
    """I001–I007 over the whole book."""
    book = ctx.book
    texts = {source.node.id: source.text for source in ctx.files if source.node is not None}
    table = collect_index(book, converted)
    for problem in table.problems:
        ctx.report(problem.code, *_place(ctx, texts, problem.mark.node, "index", problem.mark.occurrence), problem.message)
    try:
        glossary = load_glossary(book)
    except ManuscriptError as error:
        where = error.location
        ctx.report(
            "I006",
            str(where.path) if where else ctx.yaml_display,
            (where.line if where else None) or 1,
            (where.column if where else None) or 1,
            error.message,
        )
        return
    used: set[str] = set()
    for uses in table.terms.values():
        for use in uses:
            term = glossary.find(use.key)
            if term is not None:
                used.add(term.key)
                continue
            hint = "" if book.glossary.file else " (book.yaml names no glossary file)"
            ctx.report("I001", *_place(ctx, texts, use.node, "term", use.occurrence), f"term '{use.key}' is not in the glossary{hint}")
    for first, again in glossary.duplicates:
        where, before = term_location(glossary, again, "key"), term_location(glossary, first, "key")
        ctx.report(
            "I003",
            str(where.path),
            where.line or 1,
            where.column or 1,
            f"glossary key '{again.key}' is given twice (also at {before.path}:{before.line}:{before.column})",
        )
    for term in glossary.terms:
        if term.key not in used:
            where = term_location(glossary, term)
            ctx.report(
                "I002", str(where.path), where.line or 1, where.column or 1, f"glossary term '{term.term}' is never used in the text"
            )
