"""Stage 6b: preflight a print interior (and its cover) against book.yaml and the PDF/X-4 rules we can check.

No open-source validator certifies PDF/X; these are the checks the standard and printers require,
each with its evidence: boxes, page count, fonts, image resolution, colour spaces, OutputIntent,
PDF/X keys, no encryption, JavaScript or annotations inside the trim, metadata; for the cover,
its width against the spine formula and a barcode that decodes to the ISBN.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pikepdf

from bookgen.errors import Location, ManuscriptError, ToolError, display_path
from bookgen.model.book import Book
from bookgen.model.geometry import Geometry
from bookgen.model.lengths import BP_PER_MM
from bookgen.press.figures import spine_width
from bookgen.tools import run_tool
from bookgen.verify import pdf_fonts

TOLERANCE_BP = 0.6
MIN_PPI = 300
DEVICE_OPERATORS = {"rg": "DeviceRGB", "RG": "DeviceRGB", "k": "DeviceCMYK", "K": "DeviceCMYK", "g": "DeviceGray", "G": "DeviceGray"}


@dataclass(frozen=True)
class Check:
    subject: str  # interior | cover
    name: str
    passed: bool
    evidence: str


@dataclass
class PreflightReport:
    """The checks with their evidence. ``screen_pdf``: the interior has no TrimBox and no OutputIntent at
    all — a PDF made to read, not a print interior — and the text report says only that."""

    checks: list[Check]
    screen_pdf: bool = False

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks) and not self.screen_pdf

    def text(self) -> str:
        if self.screen_pdf:
            return (
                "preflight: this is a screen PDF (no TrimBox, no OutputIntent), not a print interior; the press gets "
                "build/<slug>-print.pdf from `bookgen build --profile print` (--format json lists every check)\n"
            )
        lines = [f"{'PASS' if c.passed else 'FAIL'}  {c.subject:8} {c.name}: {c.evidence}" for c in self.checks]
        failed = sum(not c.passed for c in self.checks)
        lines.append(f"preflight: {len(self.checks) - failed} passed, {failed} failed")
        return "\n".join(lines) + "\n"

    def json(self) -> str:
        return (
            json.dumps(
                {"passed": self.passed, "screen_pdf": self.screen_pdf, "checks": [asdict(c) for c in self.checks]},
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )


def _box(page: pikepdf.Page, name: str) -> list[float] | None:
    value = page.obj.get(name)
    return [float(v) for v in value] if value is not None else None


def _media(page: pikepdf.Page) -> list[float]:
    """The page's MediaBox (every PDF page has one) in bp."""
    return [float(v) for v in page.mediabox]


def _inside(inner: list[float], outer: list[float]) -> bool:
    return inner[0] >= outer[0] - 0.01 and inner[1] >= outer[1] - 0.01 and inner[2] <= outer[2] + 0.01 and inner[3] <= outer[3] + 0.01


def _common(pdf_path: Path, pdf: pikepdf.Pdf, subject: str) -> list[Check]:
    """Checks that apply to the interior and the cover alike."""
    checks = []
    fonts = pdf_fonts(pdf_path)
    bad = [f["name"] for f in fonts if not f["embedded"] or f["type"].startswith("Type 3")]
    unsubset = [f["name"] for f in fonts if "+" not in f["name"]]
    checks.append(
        Check(
            subject,
            "fonts embedded and subset, no Type 3",
            not bad and not unsubset,
            f"{len(fonts)} fonts"
            + (f"; not embedded or Type 3: {', '.join(bad)}" if bad else "")
            + (f"; not subset: {', '.join(unsubset)}" if unsubset else ""),
        )
    )
    images = run_tool(["pdfimages", "-list", str(pdf_path)], pdf_path, timeout=120, package="poppler-utils").stdout.splitlines()[2:]
    low = []
    for line in images:
        cols = line.split()
        if len(cols) >= 14 and cols[2] == "image":
            ppi = min(float(cols[12]), float(cols[13]))
            if ppi < MIN_PPI:
                low.append(f"page {cols[0]}: {ppi:.0f} ppi")
    checks.append(
        Check(
            subject,
            f"images at {MIN_PPI} ppi or more where placed",
            not low,
            f"{len(images)} images" + (f"; too low: {'; '.join(low)}" if low else ""),
        )
    )
    spaces = _colour_spaces(pdf)
    checks.append(
        Check(
            subject,
            "colour spaces: no DeviceRGB (CMYK output intent)",
            "DeviceRGB" not in spaces,
            "used: " + (", ".join(sorted(spaces)) or "none"),
        )
    )
    intents = pdf.Root.get("/OutputIntents")
    intent = intents[0] if intents is not None and len(intents) else None
    condition = str(intent.get("/OutputConditionIdentifier")) if intent is not None else ""
    ok = intent is not None and intent.get("/S") == "/GTS_PDFX" and "/DestOutputProfile" in intent
    checks.append(Check(subject, "OutputIntent (GTS_PDFX) with an ICC profile", ok, condition if ok else "missing"))
    version = str(pdf.docinfo.get("/GTS_PDFXVersion", ""))
    trapped = str(pdf.docinfo.get("/Trapped", ""))
    title = str(pdf.docinfo.get("/Title", ""))
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:  # read only: never rewrites the Info
        xmp_version = xmp.get("pdfxid:GTS_PDFXVersion", "")
    has_id = "/ID" in pdf.trailer
    checks.append(
        Check(
            subject,
            "PDF/X keys: GTS_PDFXVersion, Trapped, XMP, document ID",
            version.startswith("PDF/X") and trapped in ("/True", "/False") and bool(xmp_version) and has_id,
            f"GTS_PDFXVersion={version or '-'}, Trapped={trapped or '-'}, XMP={xmp_version or '-'}, ID={'yes' if has_id else 'no'}",
        )
    )
    javascript = (
        "/JavaScript" in pdf.Root.get("/Names", {})
        or "/AA" in pdf.Root
        or (
            "/OpenAction" in pdf.Root
            and isinstance(pdf.Root.OpenAction, pikepdf.Dictionary)
            and pdf.Root.OpenAction.get("/S") == "/JavaScript"
        )
    )
    checks.append(
        Check(
            subject,
            "no encryption, no JavaScript",
            not pdf.is_encrypted and not javascript,
            f"encrypted={'yes' if pdf.is_encrypted else 'no'}, JavaScript={'yes' if javascript else 'no'}",
        )
    )
    inside = []
    for number, page in enumerate(pdf.pages, 1):
        trim = _box(page, "/TrimBox") or _media(page)
        for annotation in page.obj.get("/Annots", []):
            rect = [float(v) for v in annotation.Rect]
            if rect[0] < trim[2] and rect[2] > trim[0] and rect[1] < trim[3] and rect[3] > trim[1]:
                inside.append(f"page {number}: {annotation.get('/Subtype')}")
    checks.append(Check(subject, "no annotations inside the trim", not inside, "; ".join(inside[:5]) or "none"))
    checks.append(Check(subject, "PDF metadata (Title)", bool(title), f"Title={title or '-'}, Author={pdf.docinfo.get('/Author', '-')}"))
    return checks


def _colour_spaces(pdf: pikepdf.Pdf) -> set[str]:
    spaces: set[str] = set()
    for page in pdf.pages:
        for instruction in pikepdf.parse_content_stream(page):
            name = DEVICE_OPERATORS.get(str(instruction.operator))
            if name:
                spaces.add(name)
        resources: Any = page.obj.get("/Resources", {})
        for xobject in resources.get("/XObject", {}).values():
            if xobject.get("/Subtype") == "/Image":
                space = xobject.get("/ColorSpace")
                spaces.add(str(space[0] if isinstance(space, pikepdf.Array) else space).lstrip("/"))
            elif xobject.get("/Subtype") == "/Form":
                for instruction in pikepdf.parse_content_stream(xobject):
                    name = DEVICE_OPERATORS.get(str(instruction.operator))
                    if name:
                        spaces.add(name)
        for space in resources.get("/ColorSpace", {}).values():
            spaces.add(str(space[0] if isinstance(space, pikepdf.Array) else space).lstrip("/"))
    return spaces


def preflight_interior(pdf_path: Path, book: Book) -> list[Check]:
    geometry = Geometry.of(book)
    trim_w, trim_h, bleed = geometry.trim_width * BP_PER_MM, geometry.trim_height * BP_PER_MM, geometry.bleed * BP_PER_MM
    checks = []
    with pikepdf.open(pdf_path) as pdf:
        pages = len(pdf.pages)
        wrong_trim, wrong_bleed, not_nested = [], [], []
        for number, page in enumerate(pdf.pages, 1):
            media, trim, bleed_box = _media(page), _box(page, "/TrimBox"), _box(page, "/BleedBox")
            if trim is None or abs(trim[2] - trim[0] - trim_w) > TOLERANCE_BP or abs(trim[3] - trim[1] - trim_h) > TOLERANCE_BP:
                wrong_trim.append(number)
            if (
                trim is None
                or bleed_box is None
                or any(
                    abs(a - b) > TOLERANCE_BP
                    for a, b in zip(bleed_box, (trim[0] - bleed, trim[1] - bleed, trim[2] + bleed, trim[3] + bleed), strict=False)
                )
            ):
                wrong_bleed.append(number)
            if trim is None or bleed_box is None or not (_inside(trim, bleed_box) and _inside(bleed_box, media)):
                not_nested.append(number)
        first = pdf.pages[0]
        trim0 = _box(first, "/TrimBox") or [0, 0, 0, 0]
        checks.append(
            Check(
                "interior",
                f"TrimBox {geometry.trim_width:g}×{geometry.trim_height:g} mm on every page",
                not wrong_trim,
                f"{(trim0[2] - trim0[0]) / BP_PER_MM:.1f}×{(trim0[3] - trim0[1]) / BP_PER_MM:.1f} mm"
                + (f"; wrong on pages {wrong_trim[:10]}" if wrong_trim else ""),
            )
        )
        checks.append(
            Check(
                "interior",
                f"BleedBox = TrimBox + {geometry.bleed:g} mm on every page",
                not wrong_bleed,
                "all pages" if not wrong_bleed else f"wrong on pages {wrong_bleed[:10]}",
            )
        )
        checks.append(
            Check(
                "interior",
                "boxes nested: TrimBox ⊆ BleedBox ⊆ MediaBox",
                not not_nested,
                "all pages" if not not_nested else f"not on pages {not_nested[:10]}",
            )
        )
        signature = book.press.signature
        checks.append(Check("interior", f"page count a multiple of the signature ({signature})", pages % signature == 0, f"{pages} pages"))
        checks += _common(pdf_path, pdf, "interior")
    return checks


def preflight_cover(cover_path: Path, book: Book, interior_pages: int) -> list[Check]:
    geometry = Geometry.of(book)
    spine = spine_width(interior_pages, book)
    want_w = 2 * geometry.trim_width + spine + 2 * geometry.bleed
    want_h = geometry.trim_height + 2 * geometry.bleed
    checks = []
    with pikepdf.open(cover_path) as pdf:
        media = _media(pdf.pages[0])
        width, height = (media[2] - media[0]) / BP_PER_MM, (media[3] - media[1]) / BP_PER_MM
        checks.append(
            Check(
                "cover",
                "width = 2 × trim + spine + 2 × bleed",
                abs(width - want_w) < 0.3 and abs(height - want_h) < 0.3,
                f"{width:.1f}×{height:.1f} mm; expected {want_w:.1f}×{want_h:.1f} mm "
                f"(spine {spine:.1f} mm = {interior_pages} pages ÷ 2 × {book.press.paper_caliper})",
            )
        )
        trim, bleed_box = _box(pdf.pages[0], "/TrimBox"), _box(pdf.pages[0], "/BleedBox")
        checks.append(
            Check(
                "cover",
                "TrimBox and BleedBox nested in the MediaBox",
                bool(trim and bleed_box and _inside(trim, bleed_box) and _inside(bleed_box, media)),
                f"TrimBox {trim}, BleedBox {bleed_box}",
            )
        )
        checks += _common(cover_path, pdf, "cover")
    checks.append(_barcode(cover_path, book))
    return checks


def _barcode(cover_path: Path, book: Book) -> Check:
    expected = re.sub(r"[^0-9]", "", book.metadata.isbn)
    if not expected:
        return Check("cover", "ISBN barcode", False, "book.yaml gives no isbn: a printed book needs one")
    zbarimg = shutil.which("zbarimg")
    if not zbarimg:
        return Check("cover", "ISBN barcode", False, "zbarimg not installed (Debian zbar-tools): cannot read the barcode")
    with tempfile.TemporaryDirectory() as tmp:
        run_tool(
            ["pdftoppm", "-r", "400", "-gray", "-png", str(cover_path), f"{tmp}/cover"], cover_path, timeout=120, package="poppler-utils"
        )
        image = next(Path(tmp).glob("cover*.png"), None)
        if image is None:
            raise ToolError(f"pdftoppm rendered no page of {cover_path}")
        # zbarimg exits 4 when it finds no barcode: that is the check's answer, not a failure
        found = run_tool([zbarimg, "--quiet", "--raw", str(image)], cover_path, timeout=120, check=False).stdout.split()
    return Check("cover", "ISBN barcode decodes to the ISBN", expected in found, f"decoded {found or 'nothing'}; ISBN {expected}")


def preflight(interior: Path, book: Book, cover: Path | None = None) -> PreflightReport:
    """Preflight an interior (and its cover, checked against the interior's page count). Raises
    ManuscriptError, naming the file, for a file that is no readable PDF."""
    for path in (interior, cover):
        if path is None:
            continue
        try:
            pikepdf.open(path).close()
        except pikepdf.PdfError as error:
            raise ManuscriptError(f"not a PDF pikepdf can read ({str(error).split(': ')[-1]})", Location(display_path(path))) from None
    checks = preflight_interior(interior, book)
    with pikepdf.open(interior) as pdf:
        pages = len(pdf.pages)
        screen = "/OutputIntents" not in pdf.Root and not any("/TrimBox" in page.obj for page in pdf.pages)
    if cover is not None:
        checks += preflight_cover(cover, book, pages)
    return PreflightReport(checks, screen_pdf=screen)
