"""PDF/X finishing of the print interior and the cover: TrimBox/BleedBox, OutputIntent, PDF/X-4 keys, XMP."""

from __future__ import annotations

import re
from pathlib import Path

from bookgen.fsutil import atomic_path
from bookgen.model.book import Book
from bookgen.model.geometry import Geometry
from bookgen.model.lengths import BP_PER_MM

DEFAULT_ICC = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")  # Debian libgs-common: Artifex CMYK SWOP


DEFAULT_CONDITION = ("CGATS TR 001", "Artifex CMYK SWOP Profile")  # identifier, info


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
        pdf.Root.OutputIntents = pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.OutputIntent,
                    S=pikepdf.Name.GTS_PDFX,
                    OutputConditionIdentifier=pikepdf.String(identifier),
                    OutputCondition=pikepdf.String(condition),
                    RegistryName=pikepdf.String("http://www.color.org"),
                    Info=pikepdf.String(condition),
                    DestOutputProfile=icc,
                )
            ]
        )
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
