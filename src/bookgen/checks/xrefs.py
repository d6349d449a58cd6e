"""Cross-references (X): unknown references, duplicate labels, unreferenced labels, labels of the wrong
kind or on unnumbered things (from the book's label table, bookgen.xref), and labels a reference
cannot reach because of a space or a non-ASCII character, and ``@words`` that are no reference (from the
Markdown text)."""

from __future__ import annotations

import re

from bookgen.sources.convert import Converted
from bookgen.textrules import FENCE, in_fences
from bookgen.xref.kinds import LABEL_CHARS, LABEL_RE, PREFIXES, REFERENCE_START, RefKind
from bookgen.xref.places import locate
from bookgen.xref.table import collect_labels

from .context import CheckContext, SourceFile
from .prose import masked_lines

# {#fig-… …}: a label attribute with what follows it inside the braces.
_ATTRIBUTE = re.compile(rf"\{{\s*#((?:{PREFIXES})(?:-[^\s}}]*)?)([^}}]*)\}}")
# @fig- followed by a character no label holds (a Chinese character): the reference ends before it.
_CUT_REFERENCE = re.compile(rf"{REFERENCE_START}@(?:{PREFIXES})-(?=[^\x00-\x7f])")
_LABEL_HINT = "a label is ASCII letters, digits, '-', '_' and ':'"
# @word as pandoc reads a citation key or refs.lua a label: a letter, then label characters ('-' or ':' at the end is text).
_AT_WORD = re.compile(rf"{REFERENCE_START}@([A-Za-z][{LABEL_CHARS}]*)")


def check_xrefs(ctx: CheckContext, converted: dict[str, Converted]) -> None:
    """X001–X006 over the whole book (positions found again in the files: bookgen.xref.places)."""
    book = ctx.book
    texts = {source.node.id: source.text for source in ctx.files if source.node is not None}
    for problem in collect_labels(book, converted).problems:
        where = locate(book, texts, problem.site)
        message = problem.message
        if problem.other is not None:
            message = message.replace("{other}", str(locate(book, texts, problem.other)))
        ctx.report(problem.code, str(where.path), where.line or 1, where.column or 1, message)
    outline_ids = {node.id for node in book.nodes()}
    for source in ctx.checked:
        if source.node is not None and source.text:
            _label_characters(ctx, source)
            _unreferencing_words(ctx, source, outline_ids)


def _unreferencing_words(ctx: CheckContext, source: SourceFile, outline_ids: set[str]) -> None:
    """X007 for ``@ch-2`` / ``@intro`` naming an outline entry whose id lacks the ``sec-`` prefix (only
    fig-/tbl-/eq-/lst-/sec- labels are cross-references: issue 15), X008 for any other ``@word`` without a
    cross-reference prefix in a book with no bibliography (nothing makes it a citation): both print literally."""
    citations = bool(ctx.book.bibliography.files)
    for number, line, mask in masked_lines(source.text):
        for match in _AT_WORD.finditer(line):
            prefix, dash, _ = match.group(1).partition("-")
            if not mask[match.start()] or (dash and prefix in RefKind._value2member_map_):
                continue  # a cross-reference (X001, X005 report what is wrong with it)
            word = match.group(1).rstrip("-:")
            if word in outline_ids:
                ctx.report(
                    "X007",
                    source.display,
                    number,
                    match.start() + 1,
                    f"@{word} prints literally: only ids starting with sec- are cross-references; "
                    f"give the entry `id: sec-{word}` to refer to it as @sec-{word}",
                )
            elif not citations:
                ctx.report(
                    "X008",
                    source.display,
                    number,
                    match.start() + 1,
                    f"@{word} is neither a cross-reference nor a citation (no bibliography:); it prints literally",
                )


def _label_characters(ctx: CheckContext, source: SourceFile) -> None:
    lines = source.text.split("\n")
    for number, (line, fenced) in enumerate(zip(lines, in_fences(lines), strict=False), 1):
        if fenced and not FENCE.match(line):
            continue  # inside a code block
        for match in _ATTRIBUTE.finditer(line):
            label, rest = match.group(1), match.group(2).split()
            stray = [token for token in rest if not token.startswith((".", "#")) and "=" not in token]
            column = match.start(1)
            if stray:
                ctx.report("X005", source.display, number, column, f"label '#{label} {stray[0]}' contains a space: {_LABEL_HINT}")
            elif LABEL_RE.fullmatch(label) is None or label.endswith(("-", ":")):
                ctx.report("X005", source.display, number, column, f"label #{label} cannot be referenced: {_LABEL_HINT}")
    for number, line, mask in masked_lines(source.text):
        for match in _CUT_REFERENCE.finditer(line):
            if mask[match.start()]:
                after = line[match.end()]
                ctx.report(
                    "X005",
                    source.display,
                    number,
                    match.start() + 1,
                    f"'{match.group(0)}{after}…' is not a reference: {_LABEL_HINT}, and '{after}' ends it",
                )
