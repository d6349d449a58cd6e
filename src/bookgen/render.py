"""Stage 4: fill the LaTeX templates (templates/latex/*.tex_t) with the book and its converted sections.

Layout lives in the templates; this module only prepares plain values for them.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import jinja2
from pylatex.utils import escape_latex

from . import __version__
from .convert import Converted
from .manuscript import FONT_SIZES, Book, Node
from .sources import Source
from .tools import template_dir

TRUNCATED_MARKER = "本节未完"
SOURCE_MACRO = "\\bookgensource{"


def tex_escape(value: Any) -> str:
    """Plain text → LaTeX (pylatex's escaping; newlines become spaces)."""
    return str(escape_latex(" ".join(str(value).split())))


def latex_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir() / "latex")),
        block_start_string="<%", block_end_string="%>",
        variable_start_string="<%=", variable_end_string="%>",
        comment_start_string="<#", comment_end_string="#>",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False,
    )
    env.filters["tex"] = tex_escape
    return env


def entry_context(book: Book, node: Node, sources: dict[str, Source], converted: dict[str, Converted]) -> dict:
    """One outline entry as the templates see it."""
    source = sources.get(node.id)
    written = bool(source and source.written)
    has_text_of_its_own = node.kind not in ("part",) and (node.file is not None or not node.children)
    return {
        "kind": node.kind,
        "id": node.id,
        "title": node.title,
        "number": node.number,
        "source": f"{book.root.name}/{node.file}" if node.file else "",
        "body": converted[node.id].latex if written else "",
        "unwritten": has_text_of_its_own and not written,
        "truncated": bool(source and source.truncated),
        "children": [entry_context(book, child, sources, converted) for child in node.children],
    }


def pdf_subject(book: Book, sources: dict[str, Source], converted: dict[str, Converted]) -> str:
    """The PDF's Subject: the abstract as plain text (inline in book.yaml, or its Markdown file)."""
    abstract = book.metadata.abstract
    for node in book.files():
        if node.file == abstract and node.id in converted:
            return converted[node.id].plain
    if abstract.endswith(".md"):
        return ""
    return abstract


def render_latex(book: Book, sources: dict[str, Source], converted: dict[str, Converted]) -> str:
    meta = book.metadata
    layout = asdict(book.layout)
    layout["zihao"] = FONT_SIZES[book.layout.font_size]
    layout["latex_toc_depth"] = book.layout.toc_depth - 1  # 1: chapters (0), 2: sections (1)
    numbering = {"part_macro": book.numbering.part, "chapter_macro": book.numbering.chapter}

    def entries(nodes: tuple[Node, ...]) -> list[dict]:
        return [entry_context(book, node, sources, converted) for node in nodes]

    context = {
        "bookgen_version": __version__,
        "manuscript": book.root.name,
        "book": asdict(meta),
        "layout": layout,
        "fonts": asdict(book.fonts),
        "numbering": numbering,
        "truncated_marker": TRUNCATED_MARKER,
        "pdf": {
            "title": meta.title + (f"：{meta.subtitle}" if meta.subtitle else ""),
            "author": "，".join(meta.authors),
            "subject": pdf_subject(book, sources, converted),
            "keywords": "，".join(meta.keywords),
        },
        "front": entries(book.front),
        "body": entries(book.body),
        "appendices": entries(book.appendices),
        "back": entries(book.back),
    }
    return latex_environment().get_template("book.tex_t").render(context)


def source_map(tex: str) -> list[tuple[int, str]]:
    """(first TeX line, manuscript file) for every entry in the rendered book, in order."""
    marks = []
    for number, line in enumerate(tex.splitlines(), 1):
        if line.startswith(SOURCE_MACRO):
            marks.append((number, line[len(SOURCE_MACRO):].rstrip("}")))
    return marks


def source_for_line(marks: list[tuple[int, str]], tex_line: int) -> str | None:
    found = None
    for start, path in marks:
        if start > tex_line:
            break
        found = path
    return found or None
