"""Stage 6: check the outputs with the real tools: poppler for the PDF, EPUBCheck for the EPUB."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bookgen.errors import ToolError
from bookgen.tools import epubcheck_jar, require


@dataclass
class PdfReport:
    pages: int
    width_bp: float
    height_bp: float
    fonts: list[dict]
    problems: list[str] = field(default_factory=list)


def pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run([require("pdfinfo", "poppler-utils"), str(pdf)], capture_output=True, text=True, check=True).stdout
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())}


def pdf_fonts(pdf: Path) -> list[dict]:
    out = subprocess.run([require("pdffonts", "poppler-utils"), str(pdf)], capture_output=True, text=True, check=True).stdout
    fonts = []
    for line in out.splitlines()[2:]:
        # name, type (may contain spaces), encoding, emb, sub, uni, object id
        match = re.match(r"^(\S+)\s+(.+?)\s+(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$", line)
        if match:
            fonts.append({"name": match.group(1), "type": match.group(2), "embedded": match.group(4) == "yes"})
    return fonts


def check_pdf(pdf: Path) -> PdfReport:
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


@dataclass
class EpubReport:
    errors: int
    warnings: int
    messages: list[str]


def check_epub(epub: Path) -> EpubReport:
    """EPUBCheck (5.x, shipped in the epubcheck package) with its JSON report."""
    java = require("java", "a Java runtime (default-jre-headless)")
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        proc = subprocess.run([java, "-jar", str(epubcheck_jar()), str(epub), "--json", str(report_path)],
                              capture_output=True, text=True, timeout=600)
        if not report_path.exists():
            raise ToolError("EPUBCheck did not run: " + (proc.stderr.strip() or proc.stdout.strip()))
        data = json.loads(report_path.read_text(encoding="utf-8"))
    errors = warnings = 0
    messages = []
    for message in data.get("messages", []):
        severity = message.get("severity", "")
        if severity in ("ERROR", "FATAL"):
            errors += 1
        elif severity == "WARNING":
            warnings += 1
        else:
            continue
        where = message.get("locations") or [{}]
        place = where[0].get("path", "")
        messages.append(f"{severity} {message.get('ID', '')} {place}: {message.get('message', '')}")
    return EpubReport(errors, warnings, messages)
