r"""The PDF side: refs.lua's ``\bookgenref{labels}{form}`` placeholders replaced by printed, linked forms.

A reference prints what the label table says (图1.2) as a link: ``\bookgenlink{label}{…}`` to the
object's named destination (``\bookgenanchor``, which needs no .aux file), or, for an outline entry,
``\bookgenentrylink{id}{…}`` to its heading's LaTeX label. The forms are written into the referring
unit's own file, so a unit's .tex changes exactly when a number it prints changes: the chapter update
(latex/update.py) then sees two changed units and typesets the whole book.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bookgen.latex.render import tex_escape
from bookgen.model.book import Book
from bookgen.sources.convert import Converted
from bookgen.sources.reading import Source
from bookgen.xref.places import require_resolvable
from bookgen.xref.table import LabelTable, collect_labels

PLACEHOLDER = re.compile(r"\\bookgenref\{([^{}]*)\}\{(normal|bare)\}")


def resolve_latex(latex: str, table: LabelTable) -> str:
    """``latex`` (a converted section) with every placeholder filled; raises KeyError for an unknown
    label (builders check first: places.require_resolvable)."""
    if "\\bookgenref" not in latex:
        return latex

    def printed(match: re.Match) -> str:
        out = []
        for item in table.group(match.group(1).split(","), match.group(2) == "bare"):
            if isinstance(item, str):
                out.append(tex_escape(item))
                continue
            target, form = item
            macro = "bookgenentrylink" if target.entry else "bookgenlink"
            printed = f"{tex_escape(form.before)}\\mbox{{{tex_escape(form.number)}}}{tex_escape(form.after)}"
            out.append(f"\\{macro}{{{target.label}}}{{{printed}}}")
        return "".join(out)

    return PLACEHOLDER.sub(printed, latex)


def resolved_latex(book: Book, sources: dict[str, Source], converted: dict[str, Converted]) -> dict[str, Converted]:
    """The sections with their cross-references printed from the book's label table; raises
    ManuscriptError at a reference to an unknown label (file:line:col)."""
    table = collect_labels(book, converted)
    require_resolvable(book, {node_id: source.text for node_id, source in sources.items()}, table)
    return {node_id: replace(section, latex=resolve_latex(section.latex, table)) for node_id, section in converted.items()}
