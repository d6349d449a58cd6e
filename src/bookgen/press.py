"""Stage 5c (print profile): publishing figures and the PDF/X finishing of the interior and the cover.

Figures follow Chinese publishing convention:
- 开本: the sheet and its fold, e.g. 787mm×1092mm 1/16 for a 185×260 mm trim (正度16开).
- 印张 (printed sheets) = pages ÷ 开数, to the eighth of a sheet, rounded up.
- 字数 (in 千字) = characters per line × lines per page × pages ÷ 1000: the house-style grid count
  publishers print on the copyright page (it counts the page area, not the characters typed).
- spine width = pages ÷ 2 × paper caliper (one leaf is two pages).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .fsutil import atomic_path
from .manuscript import Book, dimension_bp

BP_PER_MM = 72 / 25.4
# Trim size (mm) → (sheet, 开数) for the formats Chinese presses use.
FORMATS = {
    (185, 260): ("787mm×1092mm", 16), (170, 240): ("787mm×1092mm", 16), (210, 285): ("889mm×1194mm", 16),
    (130, 184): ("787mm×1092mm", 32), (140, 203): ("850mm×1168mm", 32), (148, 210): ("880mm×1230mm", 32),
}
DEFAULT_ICC = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")  # Debian libgs-common: Artifex CMYK SWOP
DEFAULT_CONDITION = ("CGATS TR 001", "Artifex CMYK SWOP Profile")  # identifier, info
MARK_MARGIN_MM = 10.0  # room for crop marks outside the bleed


def mm(value: str) -> float:
    return dimension_bp(value) / BP_PER_MM


@dataclass(frozen=True)
class Geometry:
    """Sizes of the print interior in millimetres; the trim is centred on the media."""

    trim_width: float
    trim_height: float
    bleed: float

    @classmethod
    def of(cls, book: Book) -> "Geometry":
        return cls(mm(book.layout.trim_width), mm(book.layout.trim_height), mm(book.press.bleed))

    @property
    def media_width(self) -> float:
        return self.trim_width + 2 * (self.bleed + MARK_MARGIN_MM)

    @property
    def media_height(self) -> float:
        return self.trim_height + 2 * (self.bleed + MARK_MARGIN_MM)


def format_label(book: Book) -> tuple[str, int] | None:
    """('787mm×1092mm 1/16', 16) for a known trim size, else None (the 开本 is then left out)."""
    key = (round(mm(book.layout.trim_width)), round(mm(book.layout.trim_height)))
    if key not in FORMATS:
        return None
    sheet, fold = FORMATS[key]
    return f"{sheet} 1/{fold}", fold


def printed_sheets(pages: int, fold: int) -> float:
    """印张: pages ÷ 开数, rounded up to the eighth of a sheet."""
    return math.ceil(pages / fold * 8) / 8


def thousand_characters(pages: int, book: Book) -> float:
    """字数 in 千字 by the grid convention: characters per line × lines per page × pages ÷ 1000."""
    return book.layout.chars_per_line * book.layout.lines_per_page * pages / 1000


def spine_width(pages: int, book: Book) -> float:
    """Spine in mm: pages ÷ 2 × paper caliper."""
    return pages / 2 * mm(book.press.paper_caliper)


def source_date_epoch(book: Book) -> int | None:
    """Build date for reproducible outputs: SOURCE_DATE_EPOCH, else book.yaml's date (YYYY-MM-DD)."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", book.metadata.date)
    if match:
        return int(datetime(*map(int, match.groups()), tzinfo=timezone.utc).timestamp())
    return None


def icc_profile(book: Book) -> tuple[bytes, str, str]:
    """(profile bytes, OutputConditionIdentifier, OutputCondition) for the OutputIntent."""
    if book.press.icc_profile:
        data = (book.root / book.press.icc_profile).read_bytes()
        identifier = book.press.output_condition or Path(book.press.icc_profile).stem
        return data, identifier, identifier
    identifier = book.press.output_condition or DEFAULT_CONDITION[0]
    return DEFAULT_ICC.read_bytes(), identifier, DEFAULT_CONDITION[1]


def finish_pdf(source: Path, target: Path, book: Book, geometry: Geometry, trim_centred: bool, title: str) -> None:
    """Write ``target``: ``source`` with TrimBox/BleedBox on every page, an OutputIntent and PDF/X-4 keys.

    ``trim_centred``: the interior's trim sits centred on a larger media (crop marks around it);
    for the cover the media is the bleed box itself.
    """
    profile, identifier, condition = icc_profile(book)
    import pikepdf  # here: only print builds finish a PDF (keeps screen builds' start quick)

    with pikepdf.open(source) as pdf:
        for page in pdf.pages:
            x0, y0, x1, y1 = (float(v) for v in page.mediabox)
            if trim_centred:
                inset_x = (x1 - x0 - geometry.trim_width * BP_PER_MM) / 2
                inset_y = (y1 - y0 - geometry.trim_height * BP_PER_MM) / 2
            else:
                inset_x = inset_y = geometry.bleed * BP_PER_MM
            trim = [x0 + inset_x, y0 + inset_y, x1 - inset_x, y1 - inset_y]
            bleed = geometry.bleed * BP_PER_MM
            page.obj.TrimBox = pikepdf.Array([round(v, 3) for v in trim])
            page.obj.BleedBox = pikepdf.Array([round(v, 3) for v in (trim[0] - bleed, trim[1] - bleed, trim[2] + bleed, trim[3] + bleed)])
            if "/CropBox" in page.obj:
                del page.obj.CropBox
            if "/Annots" in page.obj:  # links mean nothing on paper; PDF/X forbids annotations in the trim
                kept = [a for a in page.obj.Annots if a.get("/Subtype") != "/Link"]
                if kept:
                    page.obj.Annots = pikepdf.Array(kept)
                else:
                    del page.obj.Annots
        icc = pikepdf.Stream(pdf, profile)
        icc.N = 4
        pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFX,
            OutputConditionIdentifier=pikepdf.String(identifier), OutputCondition=pikepdf.String(condition),
            RegistryName=pikepdf.String("http://www.color.org"), Info=pikepdf.String(condition),
            DestOutputProfile=icc)])
        pdf.docinfo["/GTS_PDFXVersion"] = "PDF/X-4"
        pdf.docinfo["/Trapped"] = pikepdf.Name("/False")
        pdf.docinfo["/Title"] = title
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            xmp.register_xml_namespace("http://www.npes.org/pdfx/ns/id/", "pdfxid")
            xmp["pdfxid:GTS_PDFXVersion"] = "PDF/X-4"
            xmp["dc:title"] = title
            xmp["pdf:Trapped"] = "False"
            for key in ("/CreationDate", "/ModDate"):
                if key in pdf.docinfo:
                    stamp = str(pdf.docinfo[key])
                    xmp["xmp:CreateDate" if key == "/CreationDate" else "xmp:ModifyDate"] = _xmp_date(stamp)
        with atomic_path(target) as tmp:
            pdf.save(tmp, min_version="1.6", deterministic_id=True, compress_streams=True)


def _xmp_date(pdf_date: str) -> str:
    """D:20260115000000+00'00' → 2026-01-15T00:00:00+00:00."""
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|[+-]\d{2}'?\d{2}'?)?", pdf_date)
    if not m:
        return pdf_date
    zone = m.group(7) or "Z"
    zone = "+00:00" if zone == "Z" else zone[:3] + ":" + zone[3:].strip("'")[-2:]
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}T{m.group(4)}:{m.group(5)}:{m.group(6)}{zone}"
