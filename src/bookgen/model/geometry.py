"""The page geometry of the print interior, computed once from book.yaml's layout and print sections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bookgen.model.lengths import BP_PER_MM
from bookgen.model.settings import FONT_SIZES, Layout, PrintSettings

if TYPE_CHECKING:
    from bookgen.model.book import Book

MARK_MARGIN_MM = 10.0  # room for crop marks outside the bleed, on each side of the media


@dataclass(frozen=True)
class Geometry:
    """Sizes in millimetres. The trim is centred on the media (the sheet with bleed and crop marks).

    ``text_width`` is the text block's width: characters per line × the body font size.
    (Its height is set by TeX from ``lines_per_page``: geometry's ``lines=``.)
    """

    trim_width: float
    trim_height: float
    bleed: float
    text_width: float

    @classmethod
    def from_settings(cls, layout: Layout, press: PrintSettings) -> Geometry:
        """From book.yaml's layout and print sections (lengths in their units) to millimetres."""
        body_bp = FONT_SIZES[layout.font_size][1]
        return cls(layout.trim_width.mm, layout.trim_height.mm, press.bleed.mm, layout.chars_per_line * body_bp / BP_PER_MM)

    @classmethod
    def of(cls, book: Book) -> Geometry:
        """The book's geometry (computed when the book was loaded)."""
        return book.geometry

    @property
    def media_width(self) -> float:
        return self.trim_width + 2 * (self.bleed + MARK_MARGIN_MM)

    @property
    def media_height(self) -> float:
        return self.trim_height + 2 * (self.bleed + MARK_MARGIN_MM)
