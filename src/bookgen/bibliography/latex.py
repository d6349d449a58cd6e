r"""The PDF side: refs.lua's ``\bookgencite{n}`` placeholders and the reference lists as LaTeX.

Each citation's printed form (superscript [1], [1-3], [1]288, 张伯伟[1], (张伯伟，2002)) is written
into the citing unit's own file, each number a link (``\bookgenlink``) to its entry's anchor, as
cross-references are (xref/latex.py): a unit's .tex changes exactly when a number it prints changes,
and the chapter update then falls back to the whole book. The lists' entries are rendered from the
same pandoc inlines the EPUB and the web edition print, by :func:`latex_inlines`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bookgen.bibliography.citing import LIST_ID, LIST_TITLE, BookCitations, book_citations, require_known
from bookgen.bibliography.library import Bibliography, Inline, anchor
from bookgen.latex.render import tex_escape
from bookgen.model.book import Book
from bookgen.sources.convert import Converted
from bookgen.sources.reading import Source

PLACEHOLDER = re.compile(r"\\bookgencite\{(\d+)\}")


def _url(target: str) -> str:
    """A URL as hyperref reads it in \\url and \\href (its \\% and \\# are normalised back)."""
    return target.replace("\\", "/").replace("%", "\\%").replace("#", "\\#").replace("{", "%7B").replace("}", "%7D")


def latex_inlines(inlines: list[Inline]) -> str:
    """Pandoc inlines of the formatter (Str, Space, Emph, Superscript, Link) as LaTeX: links to
    ``#anchor`` as ``\\bookgenlink``, URLs and DOIs printed as ``\\url`` prints them (line breaks at
    their slashes and dots)."""
    out = []
    for inline in inlines:
        kind, content = inline["t"], inline.get("c", [])
        if kind == "Str":
            out.append(tex_escape(content))  # brackets come out braced ({[}): never an optional argument
        elif kind == "Space":
            out.append(" ")
        elif kind == "Emph":
            out.append(f"\\emph{{{latex_inlines(content)}}}")
        elif kind == "Superscript":
            out.append(f"\\textsuperscript{{{latex_inlines(content)}}}")
        elif kind == "Link":
            text, target = content[1], content[2][0]
            if target.startswith("#"):
                out.append(f"\\bookgenlink{{{target[1:]}}}{{{latex_inlines(text)}}}")
            elif [i.get("c") for i in text] == [target]:
                out.append(f"\\url{{{_url(target)}}}")
            elif len(text) == 1 and text[0]["t"] == "Str":  # a DOI: breakable at its slashes and dots, as a URL
                out.append(f"\\href{{{_url(target)}}}{{\\nolinkurl{{{_url(text[0]['c'])}}}}}")
            else:
                out.append(f"\\href{{{_url(target)}}}{{{latex_inlines(text)}}}")
        else:
            raise ValueError(f"no LaTeX for a {kind} inline")
    return "".join(out)


def resolve_latex(latex: str, node_id: str, citations: BookCitations) -> str:
    """A converted section's LaTeX with every citation placeholder printed; a numeric citation boxed, so
    that xeCJK puts no CJK–Latin space around it (如张伯伟[1]所述, 见文献[1]与), as in the EPUB."""
    if "\\bookgencite" not in latex:
        return latex
    boxed = citations.library.settings.style == "numeric"

    def printed(match: re.Match) -> str:
        text = latex_inlines(citations.printed(node_id, int(match.group(1))))
        return f"\\mbox{{{text}}}" if boxed else text

    return PLACEHOLDER.sub(printed, latex)


def list_context(bibliography: Bibliography, title: str = LIST_TITLE, heading_id: str = LIST_ID) -> dict:
    """A reference list as the templates see it: its title, the id of its heading, the widest label
    (for the hanging indent; '' in author-date lists) and each entry's anchor, label and LaTeX."""
    entries = [
        {"anchor": anchor(key, bibliography.scope), "label": tex_escape(label), "text": latex_inlines(inlines)}
        for key, label, inlines in bibliography.entries_in_order()
    ]
    widest = max((entry["label"] for entry in entries), key=len, default="")
    return {"title": title, "id": heading_id, "widest": widest, "entries": entries}


@dataclass(frozen=True)
class CitedLatex:
    """The sections with their citations printed, and the lists: ``book`` the back-matter list (None
    when there is none), ``by_scope`` each chapter's own (bibliography.place: chapter)."""

    converted: dict[str, Converted]
    book: dict | None
    by_scope: dict[str, dict]


def cited_latex(book: Book, sources: dict[str, Source], converted: dict[str, Converted]) -> CitedLatex:
    """Print every citation of the book into its section's LaTeX from the book-wide numbering; raises
    ManuscriptError at a citation of an unknown key (file:line:col) or for a missing bibliography file."""
    citations = book_citations(book, converted)
    if citations is None:
        return CitedLatex(converted, None, {})
    require_known(book, {node_id: source.text for node_id, source in sources.items()}, citations)
    printed = {node_id: replace(section, latex=resolve_latex(section.latex, node_id, citations)) for node_id, section in converted.items()}
    lists = {
        scope: list_context(bib, heading_id=f"{LIST_ID}-{scope}" if scope else LIST_ID)
        for scope, bib in citations.lists.items()
        if bib.listed_keys()
    }
    return CitedLatex(printed, lists.pop("", None), lists)
