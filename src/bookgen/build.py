"""The pipeline: load outline → read sections → convert → render → typeset / package → verify."""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .convert import convert_sources, image_problems, line_of
from .epub import build_epub
from .checks import run_checks
from .errors import CheckFailedError, Location, ManuscriptError, TypesetError
from .fsutil import build_lock, copy_atomic
from .manuscript import BOOK_FILE, Book, load_book
from .render import render_latex
from .sources import Source, read_sources
from .typeset import MissingGlyph, stage_images, typeset
from .verify import check_epub, check_pdf

FORMATS = ("pdf", "epub")
Progress = Callable[[str], None]


@dataclass
class BuildOptions:
    manuscript: Path
    output: Path
    formats: tuple[str, ...] = FORMATS
    strict: bool = False
    jobs: int = max(1, min(4, os.cpu_count() or 1))
    tex_timeout: float | None = None
    verify: bool = True
    check: bool = True  # run the check's fast error rules first


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


def glyph_message(book: Book, sources: dict[str, Source], glyph: MissingGlyph) -> str:
    """'manuscript/x.md:3: 🚀 (U+1F680) has no glyph in …', at the character's first place in the book."""
    for node_id, source in sources.items():
        line = line_of(source.text, glyph.char)
        if line:
            where = f"{book.root.name}/{source.node.file}:{line}"
            break
    else:
        where = f"{book.root.name}/{BOOK_FILE}"  # in a title or the metadata
    return f"{where}: '{glyph.char}' (U+{ord(glyph.char):04X}) has no glyph in {glyph.font}: it prints as nothing"


def default_tex_timeout(sources: dict[str, Source]) -> float:
    """Generous for the book's size: 2 min, plus 1 s per 2,000 characters of text."""
    characters = sum(len(source.text) for source in sources.values())
    return 120.0 + characters / 2000


def build(options: BuildOptions, progress: Progress = lambda message: None) -> BuildResult:
    timings: dict[str, float] = {}

    def timed(stage: str, started: float) -> None:
        timings[stage] = time.monotonic() - started

    started = time.monotonic()
    book = load_book(options.manuscript)
    sources = read_sources(book)
    timed("load", started)
    result = BuildResult(book, timings=timings)
    result.unwritten, result.truncated = incomplete_sections(book, sources)
    if options.strict and (result.unwritten or result.truncated):
        listing = "; ".join([f"unwritten: {h}" for h in result.unwritten] + [f"truncated: {h}" for h in result.truncated])
        raise ManuscriptError(
            f"--strict: {len(result.unwritten)} unwritten and {len(result.truncated)} truncated sections ({listing})",
            Location(options.manuscript / BOOK_FILE),
        )

    output_dir = options.output
    with build_lock(output_dir):
        cache_dir = output_dir / ".cache"
        if options.check:
            started = time.monotonic()
            errors = run_checks(options.manuscript, cache_dir, fast=True).errors
            timed("check", started)
            if errors:
                raise CheckFailedError(f"{len(errors)} check errors; fix them (bookgen check --fix fixes some) or build with --no-check",
                                       detail="\n".join(str(finding) for finding in errors))
        work_dir = output_dir / ".work"
        progress(f"converting {sum(s.written for s in sources.values())} sections with pandoc")
        started = time.monotonic()
        converted, stats = convert_sources(book, sources, cache_dir, options.jobs)
        for node_id, section in converted.items():
            for message, where in image_problems(book, sources[node_id], section):
                raise ManuscriptError(message, where)
        timed("convert", started)
        progress(f"converted {stats.converted}, reused {stats.cached} from the cache")

        slug = book.metadata.slug

        def make_pdf() -> OutputReport:
            begun = time.monotonic()
            tex = render_latex(book, sources, converted)
            latex_dir = work_dir / "latex"
            latex_dir.mkdir(parents=True, exist_ok=True)
            stage_images(book.root, {src for c in converted.values() for src in c.images}, latex_dir)
            timed("render", begun)
            progress("typesetting the PDF with XeLaTeX (latexmk)")
            timeout = options.tex_timeout or book.build.tex_timeout or default_tex_timeout(sources)
            typeset_result = typeset(tex, latex_dir, timeout, book.root, cancel)
            timings["typeset"] = typeset_result.seconds
            missing = [glyph_message(book, sources, glyph) for glyph in typeset_result.missing_glyphs]
            if missing and options.strict:
                raise TypesetError(f"--strict: {len(missing)} characters have no glyph in the book's fonts and would vanish: "
                                   + "; ".join(missing))
            result.warnings.extend(missing)
            for box in typeset_result.overfull:
                result.warnings.append(f"{box.source or 'the book'}: a line sticks out {box.points:.1f}pt into the margin (TeX line {box.tex_line})")
            pdf_path = output_dir / f"{slug}.pdf"
            copy_atomic(typeset_result.pdf, pdf_path)  # only now does the new PDF replace the old one
            report = OutputReport(pdf_path, pdf_path.stat().st_size, detail=f"{typeset_result.passes} XeLaTeX passes")
            if options.verify:
                begun = time.monotonic()
                pdf = check_pdf(pdf_path)
                timed("verify-pdf", begun)
                report.pages = pdf.pages
                result.warnings.extend(pdf.problems)
            return report

        def make_epub() -> OutputReport:
            begun = time.monotonic()
            progress("packaging the EPUB")
            path = build_epub(book, sources, converted, work_dir / "epub", output_dir / f"{slug}.epub")
            timed("epub", begun)
            report = OutputReport(path, path.stat().st_size)
            if options.verify:
                begun = time.monotonic()
                progress("checking the EPUB with EPUBCheck")
                check = check_epub(path)
                timed("verify-epub", begun)
                report.detail = f"EPUBCheck: {check.errors} errors, {check.warnings} warnings"
                result.warnings.extend(check.messages)
            return report

        makers = {"pdf": make_pdf, "epub": make_epub}
        wanted = [fmt for fmt in FORMATS if fmt in options.formats]
        cancel = threading.Event()  # set on Ctrl-C or SIGTERM: workers stop their tools and unwind
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            futures = {fmt: pool.submit(makers[fmt]) for fmt in wanted}
            try:
                for fmt in wanted:
                    result.outputs[fmt] = futures[fmt].result()
            except BaseException:
                cancel.set()
                raise
    return result
