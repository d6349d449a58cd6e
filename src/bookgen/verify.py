"""Stage 6: check the outputs with the real tools: poppler for the PDF, EPUBCheck for the EPUB."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bookgen.errors import ToolError
from bookgen.tools import epubcheck_jar, run_tool


@dataclass
class PdfReport:
    """What poppler says of a PDF: page count, first page size in bp, fonts, and problems found (unembedded, Type 3)."""

    pages: int
    width_bp: float
    height_bp: float
    fonts: list[dict]
    problems: list[str] = field(default_factory=list)


def pdf_info(pdf: Path) -> dict[str, str]:
    """pdfinfo's fields ("Pages", "Page size", …) as text. Raises ToolError when pdfinfo is missing or fails."""
    out = run_tool(["pdfinfo", str(pdf)], pdf, timeout=120, package="poppler-utils").stdout
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())}


def pdf_fonts(pdf: Path) -> list[dict]:
    """The PDF's fonts as {"name", "type", "embedded"}. Raises ToolError when pdffonts is missing or fails."""
    out = run_tool(["pdffonts", str(pdf)], pdf, timeout=120, package="poppler-utils").stdout
    fonts = []
    for line in out.splitlines()[2:]:
        # name, type (may contain spaces), encoding, emb, sub, uni, object id
        match = re.match(r"^(\S+)\s+(.+?)\s+(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", line)
        if match:
            fonts.append({"name": match.group(1), "type": match.group(2), "embedded": match.group(4) == "yes"})
    return fonts


def check_pdf(pdf: Path) -> PdfReport:
    """Pages, size and fonts of ``pdf`` with its font problems. Raises ToolError when poppler cannot read it."""
    info = pdf_info(pdf)
    size = re.match(r"([\d.]+) x ([\d.]+) pts", info.get("Page size", ""))
    fonts = pdf_fonts(pdf)
    report = PdfReport(int(info.get("Pages", "0")), float(size.group(1)) if size else 0.0, float(size.group(2)) if size else 0.0, fonts)
    for font in fonts:
        if not font["embedded"]:
            report.problems.append(f"font {font['name']} is not embedded")
        if font["type"].startswith("Type 3"):
            report.problems.append(f"font {font['name']} is a Type 3 font")
    return report


@dataclass(frozen=True)
class EpubReport:
    """EPUBCheck's verdict: counts of errors (fatal ones included), fatal errors and warnings, and one
    display line per message ("SEVERITY ID path: text"). Decide with ``passed``, never by the text."""

    errors: int
    warnings: int
    messages: list[str]
    fatal: int = 0

    @property
    def passed(self) -> bool:
        """No error and no warning: what a retailer's ingestion accepts."""
        return self.errors == 0 and self.warnings == 0


def check_epub(epub: Path) -> EpubReport:
    """EPUBCheck (5.x, shipped in the epubcheck package) on ``epub``, read from its JSON report.

    EPUBCheck exits non-zero when it finds errors; that is a report, not a failure. Raises ToolError
    when Java is missing, EPUBCheck times out (600 s) or writes no readable report.
    """
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        proc = run_tool(
            ["java", "-jar", str(epubcheck_jar()), str(epub), "--json", str(report_path)],
            epub,
            timeout=600,
            check=False,
            package="a Java runtime (default-jre-headless)",
        )
        try:
            data = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            said = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            raise ToolError(f"EPUBCheck wrote no report on {epub} (exit {proc.returncode}): {said}") from None
    counts = {"FATAL": 0, "ERROR": 0, "WARNING": 0}
    messages = []
    for message in data.get("messages", []):
        severity = message.get("severity", "")
        if severity not in counts:
            continue  # USAGE, INFO: advice, not problems
        counts[severity] += 1
        where = message.get("locations") or [{}]
        place = where[0].get("path", "")
        messages.append(f"{severity} {message.get('ID', '')} {place}: {message.get('message', '')}")
    return EpubReport(counts["ERROR"] + counts["FATAL"], counts["WARNING"], messages, fatal=counts["FATAL"])
