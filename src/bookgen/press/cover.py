"""The cover (print): back, spine and front with bleed, the spine from the interior's page count, the
ISBN as EAN-13 bars.

Python hands the cover template plain values (millimetres, module counts, digits, strings, CMYK); the
layout arithmetic and every TeX string are the template's (templates/latex/cover.tex_t)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from bookgen import __version__
from bookgen.latex.render import latex_environment
from bookgen.model.book import Book
from bookgen.model.geometry import Geometry
from bookgen.press.figures import spine_width


@dataclass(frozen=True)
class Bar:
    """One dark bar of an EAN-13 code, in modules from the code's left edge (the template scales modules to mm)."""

    start: int
    width: int
    guard: bool  # the start, centre and end guards reach below the others


@dataclass(frozen=True)
class Barcode:
    """An ISBN as EAN-13: its 13 digits, its dark bars and its width in modules (95)."""

    digits: str
    bars: tuple[Bar, ...]
    modules: int


def isbn_barcode(isbn: str) -> Barcode:
    """The EAN-13 of ``isbn`` (hyphens allowed; the check digit was validated when book.yaml was loaded)."""
    import barcode  # python-barcode: the module pattern of an ISBN-13

    code = barcode.get("isbn13", re.sub(r"[^0-9]", "", isbn))
    modules = code.build()[0]
    bars = [
        Bar(run.start(), len(run.group()), run.start() < 3 or 45 <= run.start() < 50 or run.start() >= 92)
        for run in re.finditer("1+", modules)
    ]
    return Barcode(code.get_fullcode(), tuple(bars), len(modules))


def cmyk(rgb_hex: str) -> tuple[float, float, float, float]:
    """An RGB hex colour ('2B4C7E') as naive CMYK fractions 0–1: print is CMYK, not RGB."""
    rgb = [int(rgb_hex[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    black = 1 - max(rgb)
    c, m, y = (0.0 if black >= 1 else (1 - v - black) / (1 - black) for v in rgb)
    return c, m, y, black


def render_cover(book: Book, pages: int, blurb: str) -> str:
    """The cover's LaTeX for an interior of ``pages`` pages with ``blurb`` (plain text) on the back.

    The template gets lengths in mm (trim, bleed, spine = pages ÷ 2 × caliper), the barcode in modules
    and its digits, the colour as CMYK fractions; it lays the panels out itself.
    """
    geometry = Geometry.of(book)
    cover = {
        "trim_width": geometry.trim_width,
        "trim_height": geometry.trim_height,
        "bleed": geometry.bleed,
        "spine": spine_width(pages, book),
        "cmyk": cmyk(book.press.cover_color),
        "image": book.press.cover_image,
        "blurb": blurb,
        "barcode": isbn_barcode(book.metadata.isbn) if book.metadata.isbn else None,
    }
    context = {"bookgen_version": __version__, "book": asdict(book.metadata), "fonts": asdict(book.fonts), "cover": cover}
    return latex_environment(book.root).get_template("cover.tex_t").render(context)
