"""Stage 4: fill the LaTeX templates (templates/latex/*.tex_t) with the book and its converted sections.

Layout lives in the templates; this module only prepares plain values for them.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import jinja2
from pylatex.utils import escape_latex

from bookgen import __version__
from bookgen.document import TRUNCATED_MARKER
from bookgen.latex.document import UNIT_PREFIX, LatexDocument, LatexUnit
from bookgen.model.book import FONT_SIZES, Book, Node
from bookgen.model.geometry import Geometry
from bookgen.press.figures import FIGURES_FILE, format_label
from bookgen.sources.convert import Converted, abstract_text
from bookgen.sources.reading import Source
from bookgen.tools import template_dirs, user_cache_dir


def tex_escape(value: Any) -> str:
    """Plain text → LaTeX (pylatex's escaping; newlines become spaces)."""
    return str(escape_latex(" ".join(str(value).split())))


def _compiled_templates() -> jinja2.BytecodeCache | None:
    """Jinja's compiled templates kept between runs (keyed by the template's source): a quicker start."""
    directory = user_cache_dir() / "templates"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(directory))


def latex_environment(manuscript: Path) -> jinja2.Environment:
    """Jinja for templates/latex/: ``<manuscript>/templates/latex/`` first (the author's overrides), then bookgen's.

    An override replaces the template or partial of the same relative path (``include`` included).
    Compiled templates are cached under the template's name and file path and checked against a
    checksum of its source, so an edited override is compiled afresh.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(root / "latex") for root in template_dirs(manuscript)]),
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<%=",
        variable_end_string="%>",
        comment_start_string="<#",
        comment_end_string="#>",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        bytecode_cache=_compiled_templates(),
    )
    env.filters["tex"] = tex_escape
    return env


def entry_context(
    book: Book, node: Node, sources: dict[str, Source], converted: dict[str, Converted], references: dict[str, dict] | None = None
) -> dict:
    """One outline entry as the templates see it; ``references``: the reference lists of chapters and
    entries by node id (bibliography.place: chapter), printed at their end."""
    source = sources.get(node.id)
    written = bool(source and source.written)
    return {
        "kind": node.kind,
        "id": node.id,
        "title": node.title,
        "number": node.number,
        "source": node.file or "",  # manuscript-relative: the rendered TeX does not depend on where bookgen runs
        "body": converted[node.id].latex if written else "",
        "unwritten": node.has_own_text and not written,
        "truncated": bool(source and source.truncated),
        "opens_appendices": False,
        "references": (references or {}).get(node.id),
        "children": [entry_context(book, child, sources, converted, references) for child in node.children],
    }


def press_context(book: Book) -> dict:
    """Print values for the templates: sheet with crop marks, signature, 开本, where the 版权页 records its figures."""
    geometry = Geometry.of(book)
    label = format_label(book)
    return {
        "media_width": f"{geometry.media_width:.2f}",
        "media_height": f"{geometry.media_height:.2f}",
        "signature": book.press.signature,
        "format": label[0] if label else "",
        "fold": label[1] if label else 0,
        "figures_file": FIGURES_FILE,
    }


def _unit_plan(outline: dict[str, list[dict]], references: dict | None) -> dict[str, list[tuple[str, str, dict]]]:
    """The units of each book division: (file stem, template, template variables); ``references``:
    the book's 参考文献 (bibliography.latex.list_context), a back-matter unit before the others."""

    def unit(node_context: dict, template: str, name: str) -> tuple[str, str, dict]:
        return UNIT_PREFIX + node_context["id"], f"units/{template}.tex_t", {name: node_context}

    front: list[tuple[str, str, dict]] = [("titlepages", "units/titles.tex_t", {})]  # node units are all "unit-…": no clash
    front += [unit(entry, "front-entry", "entry") for entry in outline["front"]]
    front.append(("contents", "units/contents.tex_t", {}))
    body = []
    for top in outline["body"]:
        if top["kind"] == "part":
            body.append(unit(top, "part", "part"))
            body += [unit(chapter, "chapter", "chapter") for chapter in top["children"]]
        else:
            body.append(unit(top, "chapter", "chapter"))
    appendices = [unit(chapter, "chapter", "chapter") for chapter in outline["appendices"]]
    if appendices:
        appendices[0][2]["chapter"]["opens_appendices"] = True
    back = [("bibliography", "units/bibliography.tex_t", {"references": references})] if references else []
    return {
        "front": front,
        "body": body,
        "appendices": appendices,
        "back": back + [unit(entry, "front-entry", "entry") for entry in outline["back"]],
    }


def toc_numbers(book: Book) -> dict[str, list[str]]:
    """The numbers the contents print, chapters (第12章, 附录G) and sections (10.12, G.11), each once: the
    preamble sizes the contents' number boxes to the widest of them."""
    chapters = [node for node in book.nodes() if node.kind.is_chapter]
    return {
        "chapters": list(dict.fromkeys(node.number for node in chapters)),
        "sections": list(dict.fromkeys(child.number for node in chapters for child in node.children)),
    }


def book_context(book: Book, converted: dict[str, Converted], profile: str = "screen") -> dict[str, Any]:
    """What every LaTeX template sees of the book (metadata, layout, fonts, numbering, press values) but its outline.

    ``profile`` is 'screen' or 'print'; ``converted`` gives the abstract (the PDF's subject).
    """
    meta = book.metadata
    layout = asdict(book.layout)
    layout["zihao"] = FONT_SIZES[book.layout.font_size][0]
    layout["latex_toc_depth"] = book.layout.toc_depth - 1  # 1: chapters (0), 2: sections (1)
    return {
        "bookgen_version": __version__,
        "manuscript": book.root.name,
        "book": asdict(meta),
        "layout": layout,
        "fonts": asdict(book.fonts),
        "numbering": {"part_macro": book.numbering.part, "chapter_macro": book.numbering.chapter},
        "crossref": asdict(book.crossref),
        "truncated_marker": TRUNCATED_MARKER,
        "profile": profile,
        "press": press_context(book),
        "toc_numbers": toc_numbers(book),
        "pdf": {
            "title": meta.title + (f"：{meta.subtitle}" if meta.subtitle else ""),
            "author": "，".join(meta.authors),
            "subject": abstract_text(book, converted),
            "keywords": "，".join(meta.keywords),
        },
    }


def render_latex(book: Book, sources: dict[str, Source], converted: dict[str, Converted], profile: str = "screen") -> LatexDocument:
    """The book as LaTeX: ``book.tex`` (class, preamble, one ``\\include`` per unit), the units and the seeded contents."""
    from bookgen.bibliography.latex import cited_latex  # these import this module's tex_escape
    from bookgen.index.latex import with_index
    from bookgen.xref.latex import resolved_latex

    converted = resolved_latex(book, sources, converted)  # cross-references printed from the book's label table
    converted, index_units = with_index(book, converted)  # glossary terms linked; the 术语表 and 索引 units
    cited = cited_latex(book, sources, converted)  # citations printed from the book-wide numbering
    converted = cited.converted
    outline = {
        division: [entry_context(book, node, sources, converted, cited.by_scope) for node in nodes]
        for division, nodes in (("front", book.front), ("body", book.body), ("appendices", book.appendices), ("back", book.back))
    }
    plan = _unit_plan(outline, cited.book)
    index_units.place(plan)
    context = {
        **book_context(book, converted, profile),
        "units": {division: [stem for stem, _, _ in units] for division, units in plan.items()},
        **outline,
    }
    env = latex_environment(book.root)
    unit_template = env.get_template("unit.tex_t")
    ordered = [(division, *unit) for division, units_of in plan.items() for unit in units_of]  # book order
    units = {
        stem: unit_template.render(
            context, template=template, unit_number=number, numbered_captions=_steps(template, variables) == "chapter", **variables
        )
        for number, (_, stem, template, variables) in enumerate(ordered, start=1)
    }
    seeds = {"book.toc": env.get_template("contents-seed.toc_t").render(context)}
    order = tuple(LatexUnit(stem, division, _steps(template, variables)) for division, stem, template, variables in ordered)
    return LatexDocument(env.get_template("book.tex_t").render(context), units, seeds, order)


def _steps(template: str, variables: dict) -> str | None:
    """The counter a unit's heading steps: part pages the part, chapters and appendices (the glossary as
    an appendix too) the chapter."""
    if template == "units/part.tex_t":
        return "part"
    if template == "units/chapter.tex_t" or variables.get("glossary", {}).get("appendix"):
        return "chapter"
    return None


FORMULA_MARK = "% bookgen-formula "  # ends the line of each formula in the formula check's document


def render_formulas(book: Book, converted: dict[str, Converted], formulas: list[tuple[bool, str]]) -> str:
    """The formula check's document (``bookgen check``, M001): the book's own class and preamble (screen
    profile, the author's overrides included), then each (display?, TeX) formula set in a box of its own
    on one line ending in ``FORMULA_MARK`` and its index. Nothing is shipped out.
    """
    context = {
        **book_context(book, converted),
        "formulas": [{"display": d, "tex": t.replace("\n", " ")} for d, t in formulas],
        "mark": FORMULA_MARK,
    }
    return latex_environment(book.root).get_template("formulas.tex_t").render(context)
