"""Structure: outline entries without text, truncated sections, stray files, duplicates, heading levels,
titles with their own number."""

from __future__ import annotations

import re
from collections import defaultdict

from bookgen.importer.draft import classify
from bookgen.model.book import BOOK_FILE, Node
from bookgen.textrules import HEADING

from .context import CheckContext
from .model import Fix
from .prose import masked_lines


def check_structure(ctx: CheckContext) -> None:
    book = ctx.book
    by_node = {f.node.id: f for f in ctx.files if f.node is not None}
    for node in book.nodes():
        source = by_node.get(node.id)
        if node.has_own_text and not (source and source.text.strip()):
            ctx.report("S002", ctx.yaml_display, node.yaml_line, 1, f"unwritten: {node.heading}" + (f" ({node.file})" if node.file else ""))
        if node.draft_number:
            ctx.report(
                "S007",
                ctx.yaml_display,
                node.yaml_line,
                1,
                f"the draft numbered '{node.title}' {node.draft_number}; bookgen prints {node.number or 'no number (back matter)'}",
            )
        if node.status == "truncated":
            last = len(source.text.rstrip("\n").split("\n")) if source else node.yaml_line
            ctx.report(
                "S003",
                source.display if source else ctx.yaml_display,
                last,
                1,
                f"truncated: {node.heading} stops mid-sentence; finish it, then remove 'status: truncated'",
            )
    for source in ctx.files:
        if source.node is None:
            ctx.report("S004", source.display, 1, 1, "no outline entry in book.yaml uses this file")
    yaml_lines = (book.root / BOOK_FILE).read_text(encoding="utf-8").split("\n")
    for node in book.nodes():
        if node.number:
            _check_title_number(ctx, node, yaml_lines)
    titles = defaultdict(list)
    for node in book.nodes():
        titles[(node.kind.is_section, node.title)].append(node)
    for (_, title), nodes in titles.items():
        for node in nodes[1:]:
            ctx.report(
                "S005",
                ctx.yaml_display,
                node.yaml_line,
                1,
                f"'{title}' is also the title of {nodes[0].heading} (line {nodes[0].yaml_line})",
            )
    for source in ctx.checked:
        if source.node is not None and source.text.strip():
            _check_headings(ctx, source)


# The importer's kinds of numbered titles → whether they number a section (else a part, chapter or appendix).
_NUMBER_KINDS = {"part": False, "chapter": False, "appendix": False, "section": True, "subsection": True}


def _check_title_number(ctx: CheckContext, node: Node, yaml_lines: list[str]) -> None:
    """S008: a numbered entry's title that starts with a number of its own (第1章 开篇, 1.1 起点, 附录A 工具,
    recognised by the importer's patterns, which strip them from a draft): bookgen prints its number before it.
    At the title in book.yaml; the fix keeps the bare title (none where the title is not found as typed)."""
    classified = classify(node.title)
    if _NUMBER_KINDS.get(classified.kind) != node.kind.is_section or classified.title in ("", node.title):
        return  # a chapter's '3.5 倍速' is a title, not a section number
    for number in range(max(node.yaml_line, 1), len(yaml_lines) + 1):
        line = yaml_lines[number - 1]
        start = line.find(node.title)
        if start >= 0 and line[:start].strip(" -'\"").removesuffix("title:").strip() == "":
            fix = Fix(number, start, start + len(node.title), classified.title)
            break
    else:
        number, start, fix = node.yaml_line or 1, 0, None
    ctx.report(
        "S008",
        ctx.yaml_display,
        number,
        start + 1,
        f"the title '{node.title}' carries its own number '{classified.number}': bookgen prints {node.number} before it; "
        f"give 'title: {classified.title}'",
        fix,
    )


def _check_headings(ctx: CheckContext, source) -> None:
    previous = 0
    node = source.node
    for number, line, mask in masked_lines(source.text):
        match = HEADING.match(line)
        if not match or not mask or not mask[0]:
            continue
        level = len(match.group(1))
        title = match.group(2)
        if re.sub(r"^[\d.A-Z]+\s*|[\s：:]", "", title) == re.sub(r"[\s：:]", "", node.title):
            ctx.report(
                "S006",
                source.display,
                number,
                1,
                f"this heading repeats the entry's title '{node.title}', which bookgen already prints; remove it",
            )
        elif level > previous + 1:
            ctx.report(
                "S006",
                source.display,
                number,
                1,
                f"heading level {level} after level {previous}: in a section file '#' is the level below the section (1.1.1), '##' the next",
            )
        elif level > 3:
            ctx.report(
                "S006",
                source.display,
                number,
                1,
                f"heading level {level} is deeper than a book prints sensibly (up to '###' inside a section)",
            )
        previous = level
