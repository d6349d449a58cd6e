"""Stage 4: fill the LaTeX templates (templates/latex/*.tex_t) with the book and its converted sections.

Layout lives in the templates; this module only prepares plain values for them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import jinja2
from pylatex.utils import escape_latex

from . import __version__
from .convert import Converted, abstract_text
from .manuscript import FONT_SIZES, Book, Node
from .press import BP_PER_MM, Geometry, format_label, spine_width
from .sources import Source
from .tools import template_dir, user_cache_dir

TRUNCATED_MARKER = "本节未完"
SOURCE_MACRO = "\\bookgensource{"


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


def latex_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir() / "latex")),
        block_start_string="<%", block_end_string="%>",
        variable_start_string="<%=", variable_end_string="%>",
        comment_start_string="<#", comment_end_string="#>",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False, bytecode_cache=_compiled_templates(),
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
        "opens_appendices": False,
        "children": [entry_context(book, child, sources, converted) for child in node.children],
    }


def press_context(book: Book) -> dict:
    """Print-profile values for the templates: sheet with crop marks, signature, 开本."""
    geometry = Geometry.of(book)
    label = format_label(book)
    return {
        "media_width": f"{geometry.media_width:.2f}",
        "media_height": f"{geometry.media_height:.2f}",
        "signature": book.press.signature,
        "format": label[0] if label else "",
        "fold": label[1] if label else 0,
    }


UNIT_PREFIX = "unit-"


@dataclass(frozen=True)
class LatexDocument:
    """A LaTeX document as files: ``book.tex`` and the units it \\include's (file stem → text, in book order)."""

    main: str
    units: dict[str, str] = field(default_factory=dict)
    seeds: dict[str, str] = field(default_factory=dict)  # auxiliary files for a first run (TeX rewrites them)

    def files(self) -> dict[str, str]:
        return {"book.tex": self.main, **{f"{stem}.tex": text for stem, text in self.units.items()}}


def _unit_plan(outline: dict[str, list[dict]]) -> dict[str, list[tuple[str, str, dict]]]:
    """The units of each book division: (file stem, template, template variables)."""
    def unit(node_context: dict, template: str, name: str) -> tuple[str, str, dict]:
        return UNIT_PREFIX + node_context["id"], f"units/{template}.tex_t", {name: node_context}

    front = [("titlepages", "units/titles.tex_t", {})]  # node units are all "unit-…": no clash
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
    return {"front": front, "body": body, "appendices": appendices,
            "back": [unit(entry, "front-entry", "entry") for entry in outline["back"]]}


def render_latex(book: Book, sources: dict[str, Source], converted: dict[str, Converted], profile: str = "screen") -> LatexDocument:
    meta = book.metadata
    layout = asdict(book.layout)
    layout["zihao"] = FONT_SIZES[book.layout.font_size][0]
    layout["latex_toc_depth"] = book.layout.toc_depth - 1  # 1: chapters (0), 2: sections (1)
    numbering = {"part_macro": book.numbering.part, "chapter_macro": book.numbering.chapter}

    outline = {division: [entry_context(book, node, sources, converted) for node in nodes]
               for division, nodes in (("front", book.front), ("body", book.body), ("appendices", book.appendices), ("back", book.back))}
    plan = _unit_plan(outline)
    context = {
        "bookgen_version": __version__,
        "manuscript": book.root.name,
        "book": asdict(meta),
        "layout": layout,
        "fonts": asdict(book.fonts),
        "numbering": numbering,
        "truncated_marker": TRUNCATED_MARKER,
        "profile": profile,
        "press": press_context(book),
        "pdf": {
            "title": meta.title + (f"：{meta.subtitle}" if meta.subtitle else ""),
            "author": "，".join(meta.authors),
            "subject": abstract_text(book, converted),
            "keywords": "，".join(meta.keywords),
        },
        "units": {division: [stem for stem, _, _ in units] for division, units in plan.items()},
        **outline,
    }
    env = latex_environment()
    unit_template = env.get_template("unit.tex_t")
    units = {stem: unit_template.render(context, template=template, **variables)
             for division in plan.values() for stem, template, variables in division}
    seeds = {"book.toc": env.get_template("contents-seed.toc_t").render(context)}
    return LatexDocument(env.get_template("book.tex_t").render(context), units, seeds)


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


MODULE_MM = 0.33  # EAN-13 nominal module width (100 % magnification)


def barcode_bars(isbn: str) -> tuple[list[tuple[float, tuple[float, bool]]], float, str]:
    """EAN-13 bars as (x mm, (width mm, guard bar?)), the code's width in mm, and its human-readable digits."""
    import barcode  # python-barcode: the module pattern of an ISBN-13

    code = barcode.get("isbn13", re.sub(r"[^0-9]", "", isbn))
    modules = code.build()[0]
    bars: list[tuple[float, tuple[float, bool]]] = []
    start = None
    for index, bit in enumerate(modules + "0"):
        if bit == "1" and start is None:
            start = index
        elif bit != "1" and start is not None:
            guard = start < 3 or 45 <= start < 50 or start >= 92
            bars.append((round(start * MODULE_MM, 3), (round((index - start) * MODULE_MM, 3), guard)))
            start = None
    digits = code.get_fullcode()
    return bars, round(len(modules) * MODULE_MM, 3), f"{digits[0]}\\enspace {digits[1:7]}\\enspace {digits[7:]}"


def _vertical(text: str) -> str:
    """Characters stacked top to bottom (Chinese spine lettering)."""
    return "\\\\".join(tex_escape(ch) for ch in text if not ch.isspace())


def render_cover(book: Book, pages: int, blurb: str) -> str:
    geometry = Geometry.of(book)
    spine = spine_width(pages, book)
    meta = book.metadata
    spine_font = round(min(14.0, spine * BP_PER_MM * 0.62), 1) if spine >= 3 else 0
    bars, barcode_width, digits = barcode_bars(meta.isbn) if meta.isbn else ([], 0.0, "")
    rgb = [int(book.press.cover_color[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    black = 1 - max(rgb)
    cmyk = [0.0 if black >= 1 else (1 - c - black) / (1 - black) for c in rgb] + [black]  # print in CMYK, not RGB
    cover = {
        "width": round(2 * geometry.trim_width + spine + 2 * geometry.bleed, 3),
        "height": round(geometry.trim_height + 2 * geometry.bleed, 3),
        "trim_width": geometry.trim_width, "trim_height": geometry.trim_height, "bleed": geometry.bleed,
        "spine": round(spine, 3),
        "front_x": round(geometry.bleed + geometry.trim_width + spine, 3),
        "spine_x": round(geometry.bleed + geometry.trim_width, 3),
        "panel_text": geometry.trim_width - 40,
        "spine_font": spine_font,
        "spine_title": _vertical(meta.title),
        "spine_author": _vertical(meta.authors[0]) if meta.authors else "",
        "spine_publisher": _vertical(meta.publisher),
        "color": ",".join(f"{v:.3f}" for v in cmyk),
        "image": book.press.cover_image,
        "blurb": blurb,
        "bars": bars, "barcode_width": barcode_width, "digits": digits,
        "barcode_x": round(geometry.trim_width - 22 - barcode_width, 3),
    }
    context = {"bookgen_version": __version__, "book": asdict(meta), "fonts": asdict(book.fonts), "cover": cover}
    return latex_environment().get_template("cover.tex_t").render(context)
