"""Stage 5c (print profile): publishing figures and the PDF/X finishing of the interior and the cover.

Figures follow Chinese publishing convention:
- 开本: the sheet and its fold, e.g. 787mm×1092mm 1/16 for a 185×260 mm trim (正度16开).
- 印张 (printed sheets) = pages ÷ 开数, to the eighth of a sheet, rounded up.
- 字数 (in 千字) = characters per line × lines per page × pages ÷ 1000: the house-style grid count
  publishers print on the copyright page (it counts the page area, not the characters typed).
  Both are computed by TeX on the 版权页 (templates/latex/front/copyright.tex_t), which knows the page
  count from its previous pass; bookgen reads what the page printed from FIGURES_FILE (CopyrightFigures).
- spine width = pages ÷ 2 × paper caliper (one leaf is two pages).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bookgen.model.book import Book

# Trim size (mm) → (sheet, 开数) for the formats Chinese presses use.
FORMATS = {
    (185, 260): ("787mm×1092mm", 16),
    (170, 240): ("787mm×1092mm", 16),
    (210, 285): ("889mm×1194mm", 16),
    (130, 184): ("787mm×1092mm", 32),
    (140, 203): ("850mm×1168mm", 32),
    (148, 210): ("880mm×1230mm", 32),
}


def format_label(book: Book) -> tuple[str, int] | None:
    """('787mm×1092mm 1/16', 16) for a known trim size, else None (the 开本 is then left out)."""
    key = (round(book.geometry.trim_width), round(book.geometry.trim_height))
    if key not in FORMATS:
        return None
    sheet, fold = FORMATS[key]
    return f"{sheet} 1/{fold}", fold


FIGURES_FILE = "copyright-figures.json"  # written by the 版权页 into the LaTeX work directory


@dataclass(frozen=True)
class CopyrightFigures:
    """The 版权页's figures as TeX computed and printed them (templates/latex/front/copyright.tex_t)."""

    printed_sheets: float | None  # 印张; None when the trim is no known 开本 (the page leaves it out)
    thousand_characters: float  # 字数 in 千字

    @classmethod
    def of_run(cls, latex_work_dir: Path) -> CopyrightFigures | None:
        """What the 版权页 printed in the last run in ``latex_work_dir`` that typeset it; None if none did."""
        try:
            record = json.loads((latex_work_dir / FIGURES_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        sheets = record["printed_sheets"]
        return cls(None if sheets is None else float(sheets), float(record["thousand_characters"]))


def spine_width(pages: int, book: Book) -> float:
    """Spine in mm: pages ÷ 2 × paper caliper."""
    return pages / 2 * book.press.paper_caliper.mm
