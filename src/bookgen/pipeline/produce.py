"""The producing stages of a build: check → convert → render → typeset / package → verify.

``build`` calls ``produce`` only when something changed; this module carries the heavy imports
(pandoc, Jinja, pikepdf, the checker) so that a no-op build does not pay for them.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from bookgen.checks import check_book
from bookgen.epub.assemble import build_epub
from bookgen.errors import (
    CheckFailedError,
    ManuscriptError,
    PreflightError,
    TypesetError,
)
from bookgen.fsutil import copy_atomic
from bookgen.latex.document import UNIT_PREFIX, LatexDocument
from bookgen.latex.log import MissingGlyph, TypesetResult
from bookgen.latex.render import render_latex
from bookgen.latex.typeset import stage_images, typeset, typeset_unit
from bookgen.latex.update import MANIFEST, Manifest, UnitUpdate, update_unit
from bookgen.model.book import BOOK_FILE, Book
from bookgen.pipeline.build import BuildOptions, BuildResult, OutputReport, Progress
from bookgen.pipeline.reproducible import source_date_epoch
from bookgen.press.cover import render_cover
from bookgen.press.figures import Geometry
from bookgen.press.pdfx import finish_pdf
from bookgen.sources.convert import (
    Converted,
    abstract_text,
    convert_sources,
    image_problems,
    line_of,
)
from bookgen.sources.reading import Source
from bookgen.verify import check_epub, check_pdf

if TYPE_CHECKING:
    from bookgen.press.preflight import PreflightReport


def glyph_message(book: Book, sources: dict[str, Source], glyph: MissingGlyph) -> str:
    """'manuscript/x.md:3: 🚀 (U+1F680) has no glyph in …', at the character's first place in the book."""
    for source in sources.values():
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


def output_name(book: Book, kind: str) -> str:
    slug = book.metadata.slug
    return {"screen": f"{slug}.pdf", "print": f"{slug}-print.pdf", "cover": f"{slug}-cover.pdf", "epub": f"{slug}.epub"}[kind]


class _Run:
    """One build: the loaded book, its converted sections, and the steps that make each output."""

    def __init__(self, options: BuildOptions, book: Book, sources: dict[str, Source], converted: dict[str, Converted],
                 result: BuildResult, progress: Progress):
        self.options = options
        self.book = book
        self.sources = sources
        self.converted = converted
        self.result = result
        self.progress = progress
        self.cancel = threading.Event()
        self.epoch = source_date_epoch(book)
        self.work = options.output / ".work"

    def timed(self, stage: str, started: float) -> None:
        self.result.timings[stage] = self.result.timings.get(stage, 0.0) + time.monotonic() - started

    @property
    def tex_timeout(self) -> float:
        return self.options.tex_timeout or self.book.build.tex_timeout or default_tex_timeout(self.sources)

    def typeset(self, document: LatexDocument, work_dir: Path, what: str, force: bool = False) -> TypesetResult:
        self.progress(f"typesetting {what} with XeLaTeX (latexmk)")
        result = typeset(document, work_dir, self.tex_timeout, self.book.root, self.cancel, self.epoch,
                         on_pass=lambda n: self.progress(f"XeLaTeX pass {n} of {what}"), force=force)
        self.result.timings["typeset"] = self.result.timings.get("typeset", 0.0) + result.seconds
        missing = [glyph_message(self.book, self.sources, glyph) for glyph in result.missing_glyphs]
        if missing and self.options.strict_effective:
            raise TypesetError(f"{len(missing)} characters have no glyph in the book's fonts and would vanish "
                               "(an error in strict and print builds): " + "; ".join(missing))
        return result

    def tex_warnings(self, result: TypesetResult) -> dict[str, list[str]]:
        """The run's warnings by the unit they come from."""
        warnings: dict[str, list[str]] = {}
        for glyph in result.missing_glyphs:
            warnings.setdefault(glyph.unit, []).append(glyph_message(self.book, self.sources, glyph))
        for box in result.overfull:
            warnings.setdefault(box.unit, []).append(
                f"{box.source or 'the book'}: a line sticks out {box.points:.1f}pt into the margin (TeX line {box.tex_line} of {box.unit}.tex)")
        return warnings

    def warn(self, by_unit: dict[str, list[str]]) -> None:
        self.result.warnings.extend(warning for warnings in by_unit.values() for warning in warnings)

    def unit_heading(self, unit: str) -> str:
        """'第2章 块级元素' for unit-ch-2: what the author calls it."""
        headings = {UNIT_PREFIX + node.id: node.heading for node in self.book.nodes()}
        return headings.get(unit, {"titlepages": "the title pages", "contents": "the contents"}.get(unit, unit))

    def update_one_unit(self, document: LatexDocument, work_dir: Path) -> UnitUpdate:
        """The chapter-level update (screen builds): re-typeset one changed unit alone, splice its pages."""
        def alone(unit: str) -> TypesetResult | None:
            self.progress(f"typesetting {self.unit_heading(unit)} alone (one XeLaTeX pass)")
            begun = time.monotonic()
            try:
                return typeset_unit(document, unit, work_dir, self.tex_timeout, self.book.root, self.cancel, self.epoch)
            finally:
                self.timed("typeset", begun)
        update = update_unit(document, work_dir, alone)
        if update.made:
            self.result.timings["splice"] = update.splice_seconds
        if update.unit and not update.made:
            self.progress(f"{self.unit_heading(update.unit)} cannot be updated alone ({update.reason}): typesetting the whole book")
        return update

    def typeset_book(self, document: LatexDocument, work_dir: Path, profile: str) -> tuple[TypesetResult, str]:
        """The book's PDF in the work directory, by a chapter-level update where it can be (screen, not strict)."""
        previous = Manifest.load(work_dir)
        if profile == "screen" and not self.options.strict_effective and previous:
            update = self.update_one_unit(document, work_dir)
            if update.made:
                previous.spliced_in(document, update.unit, self.tex_warnings(update.made).get(update.unit, []), work_dir)
                self.warn(previous.warnings)
                return update.made, f"chapter update: {self.unit_heading(update.unit)} typeset alone and spliced in (1 XeLaTeX pass)"
        (work_dir / MANIFEST).unlink(missing_ok=True)  # until this run succeeds, the work directory matches no PDF
        made = self.typeset(document, work_dir, "the print interior" if profile == "print" else "the PDF",
                            force=bool(previous and previous.spliced))
        warnings = self.tex_warnings(made)
        if profile == "screen":  # print builds are always typeset whole: nothing to remember for an update
            Manifest.of_run(document, made, warnings).save(work_dir)
        self.warn(warnings)
        return made, f"{made.passes} XeLaTeX passes"

    def gate(self, name: str, report: PreflightReport) -> None:
        self.result.preflight[name] = report
        if not report.passed:
            failed = "; ".join(f"{c.name}: {c.evidence}" for c in report.checks if not c.passed)
            raise PreflightError(f"preflight of the {name} failed, the previous output is kept: {failed}")

    def interior(self, profile: str) -> OutputReport:
        begun = time.monotonic()
        book = self.book
        document = render_latex(book, self.sources, self.converted, profile)
        work_dir = self.work / ("latex" if profile == "screen" else "latex-print")
        work_dir.mkdir(parents=True, exist_ok=True)
        stage_images(book.root, {src for c in self.converted.values() for src in c.images}, work_dir)
        self.timed("render", begun)
        made, detail = self.typeset_book(document, work_dir, profile)
        target = self.options.output / output_name(book, profile)
        ready = made.pdf
        if profile == "print":
            from bookgen.press.preflight import (  # print builds only: pikepdf, poppler
                PreflightReport,
                preflight_interior,
            )

            ready = work_dir / "finished.pdf"
            finish_pdf(made.pdf, ready, book, Geometry.of(book), trim_centred=True, title=book.metadata.title)
            self.gate("interior", PreflightReport(preflight_interior(ready, book)))
        copy_atomic(ready, target)  # only now does the new PDF replace the old one
        report = OutputReport(target, target.stat().st_size, detail=detail)
        if self.options.verify or profile == "print":
            started = time.monotonic()
            pdf = check_pdf(target)
            self.timed("verify", started)
            report.pages = pdf.pages
            self.result.warnings.extend(pdf.problems)
        else:
            report.pages = made.pages
        return report

    def cover(self, interior: OutputReport) -> OutputReport:
        book = self.book
        document = LatexDocument(render_cover(book, interior.pages or 0, abstract_text(book, self.converted)))
        work_dir = self.work / "cover"
        work_dir.mkdir(parents=True, exist_ok=True)
        if book.press.cover_image:
            stage_images(book.root, {book.press.cover_image}, work_dir)
        made = self.typeset(document, work_dir, "the cover")
        self.warn(self.tex_warnings(made))
        from bookgen.press.preflight import PreflightReport, preflight_cover

        ready = work_dir / "finished.pdf"
        finish_pdf(made.pdf, ready, book, Geometry.of(book), trim_centred=False, title=f"{book.metadata.title}（封面）")
        self.gate("cover", PreflightReport(preflight_cover(ready, book, interior.pages or 0)))
        target = self.options.output / output_name(book, "cover")
        copy_atomic(ready, target)
        return OutputReport(target, target.stat().st_size, pages=1, detail=f"spine for {interior.pages} pages")

    def epub(self) -> OutputReport:
        begun = time.monotonic()
        self.progress("packaging the EPUB")
        path = build_epub(self.book, self.sources, self.converted, self.work / "epub", self.options.output / output_name(self.book, "epub"), self.epoch)
        self.timed("epub", begun)
        report = OutputReport(path, path.stat().st_size)
        if self.options.verify:
            begun = time.monotonic()
            self.progress("checking the EPUB with EPUBCheck")
            check = check_epub(path)
            self.timed("verify-epub", begun)
            report.detail = f"EPUBCheck: {check.errors} errors, {check.warnings} warnings"
            self.result.warnings.extend(check.messages)
        return report

    def print_pair(self) -> dict[str, OutputReport]:
        """The print interior, then (if asked) the cover, which needs its page count."""
        outputs = {"pdf": self.interior("print")}
        if "cover" in self.options.formats:
            outputs["cover"] = self.cover(outputs["pdf"])
        return outputs


def produce(options: BuildOptions, book: Book, sources: dict[str, Source], result: BuildResult, progress: Progress) -> None:
    """Make the outputs options asks for into ``result`` (inside the build lock)."""
    output_dir = options.output
    cache_dir = output_dir / ".cache"
    progress(f"converting {sum(s.written for s in sources.values())} sections with pandoc")
    started = time.monotonic()
    converted, stats = convert_sources(book, sources, cache_dir, options.jobs)
    for node_id, section in converted.items():
        for message, where in image_problems(book, sources[node_id], section):
            raise ManuscriptError(message, where)
    result.timings["convert"] = time.monotonic() - started
    progress(f"converted {stats.converted}, reused {stats.cached} from the cache")
    result.converted, result.reused = stats.converted, stats.cached
    if options.check:
        started = time.monotonic()
        errors = check_book(book, sources, converted, fast=True, errors_only=True).errors
        result.timings["check"] = time.monotonic() - started
        if errors:
            raise CheckFailedError(f"{len(errors)} check errors; fix them (bookgen check --fix fixes some) or build with --no-check",
                                   detail="\n".join(str(finding) for finding in errors))

    run = _Run(options, book, sources, converted, result, progress)
    jobs: dict[str, Callable[[], dict[str, OutputReport]]] = {}
    if options.for_print and ("pdf" in options.formats or "cover" in options.formats):
        jobs["print"] = run.print_pair
    elif "pdf" in options.formats:
        jobs["pdf"] = lambda: {"pdf": run.interior("screen")}
    if "epub" in options.formats:
        jobs["epub"] = lambda: {"epub": run.epub()}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        futures = [pool.submit(job) for job in jobs.values()]
        try:
            for future in futures:
                result.outputs.update(future.result())
        except BaseException:
            run.cancel.set()  # Ctrl-C, SIGTERM or a failure: the other worker stops its tools and unwinds
            raise
