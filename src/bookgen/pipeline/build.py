"""The pipeline: load outline → read sections → check → convert → render → typeset / package → verify.

Profiles: "screen" (the default: a PDF to read) and "print" (trim centred on a sheet with crop marks,
TrimBox/BleedBox, PDF/X-4 keys, pages padded to whole sheets, preflight). The cover is built from
the print interior's page count. No output is replaced unless its new version passed its checks.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from bookgen.errors import Location, ManuscriptError
from bookgen.fsutil import build_lock
from bookgen.model.book import BOOK_FILE, Book, load_book
from bookgen.pipeline.state import STATE_FILE, inputs_digest, record, up_to_date
from bookgen.sources.reading import Source, read_sources

if TYPE_CHECKING:
    from bookgen.press.preflight import PreflightReport

FORMATS = ("pdf", "epub", "cover")
PROFILES = ("screen", "print")
Progress = Callable[[str], None]


@dataclass
class BuildOptions:
    manuscript: Path
    output: Path
    formats: tuple[str, ...] = ("pdf", "epub")
    profile: str = "screen"
    strict: bool = False
    allow_incomplete: bool = False  # print builds are strict unless this is given
    jobs: int = max(1, min(4, os.cpu_count() or 1))
    tex_timeout: float | None = None
    verify: bool = True
    check: bool = True  # run the check's fast error rules first

    @property
    def for_print(self) -> bool:
        return self.profile == "print" or "cover" in self.formats

    @property
    def strict_effective(self) -> bool:
        return self.strict or (self.for_print and not self.allow_incomplete)


@dataclass
class OutputReport:
    path: Path
    size: int
    pages: int | None = None
    detail: str = ""


@dataclass
class BuildResult:
    book: Book
    outputs: dict[str, OutputReport] = field(default_factory=dict)
    unwritten: list[str] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    preflight: dict[str, "PreflightReport"] = field(default_factory=dict)
    up_to_date: bool = False  # nothing changed: no pandoc, no TeX ran
    converted: int = 0  # sections pandoc converted in this build
    reused: int = 0  # sections taken from the conversion cache


def incomplete_sections(book: Book, sources: dict[str, Source]) -> tuple[list[str], list[str]]:
    """Headings of unwritten and of truncated entries, in reading order."""
    unwritten, truncated = [], []
    for node in book.nodes():
        source = sources.get(node.id)
        leaf_without_text = node.kind != "part" and (node.file is not None or not node.children)
        if leaf_without_text and not (source and source.written):
            unwritten.append(node.heading)
        if source and source.truncated:
            truncated.append(node.heading)
    return unwritten, truncated


def build(options: BuildOptions, progress: Progress = lambda message: None) -> BuildResult:
    started = time.monotonic()
    book = load_book(options.manuscript)
    sources = read_sources(book)
    result = BuildResult(book)
    result.timings["load"] = time.monotonic() - started
    result.unwritten, result.truncated = incomplete_sections(book, sources)
    if options.strict_effective and (result.unwritten or result.truncated):
        listing = "; ".join([f"unwritten: {h}" for h in result.unwritten] + [f"truncated: {h}" for h in result.truncated])
        reason = "a print build is strict (--allow-incomplete overrides)" if options.for_print and not options.strict else "--strict"
        raise ManuscriptError(f"{reason}: {len(result.unwritten)} unwritten and {len(result.truncated)} truncated sections ({listing})",
                              Location(options.manuscript / BOOK_FILE))

    output_dir = options.output
    with build_lock(output_dir):
        state_path = output_dir / ".work" / STATE_FILE
        digest = inputs_digest(options.manuscript, {"formats": sorted(options.formats), "profile": options.profile,
                                                    "strict": options.strict_effective, "check": options.check, "verify": options.verify})
        recorded = up_to_date(state_path, digest)
        if recorded is not None:
            result.up_to_date = True
            result.outputs = {name: OutputReport(Path(entry["path"]), entry["stamp"][0], entry.get("pages"), "up to date")
                              for name, entry in recorded["outputs"].items()}
            result.warnings = recorded.get("warnings", [])
            result.timings["total"] = time.monotonic() - started
            return result
        from bookgen.pipeline.produce import (
            produce,  # imported only when there is work: a no-op build stays fast
        )

        produce(options, book, sources, result, progress)
        result.outputs = {key: result.outputs[key] for key in ("pdf", "cover", "epub") if key in result.outputs}
        record(state_path, digest, {name: {"path": str(report.path), "pages": report.pages} for name, report in result.outputs.items()},
               result.warnings)
    return result
