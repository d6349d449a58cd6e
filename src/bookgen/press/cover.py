"""The cover (print): back, spine and front with bleed, the spine from the interior's page count, the
ISBN as EAN-13 bars."""

from __future__ import annotations

import re
from dataclasses import asdict

from bookgen import __version__
from bookgen.latex.render import latex_environment, tex_escape
from bookgen.model.book import Book
from bookgen.press.figures import BP_PER_MM, Geometry, spine_width

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
    return latex_environment(book.root).get_template("cover.tex_t").render(context)
