"""The PDF builders: the interior (screen or print profile) and the cover, through XeLaTeX.

Screen builds whose only change is one unit (chapter, part page, front or back entry) typeset that
unit alone and splice its pages into the previous PDF (latex/update.py); everything else, and every
print build, is typeset whole. Print interiors and covers are finished as PDF/X and preflighted
before they replace the previous files.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from bookgen.errors import PreflightError, TypesetError
from bookgen.fsutil import copy_atomic, write_if_changed
from bookgen.latex.auxdata import contents_anchors
from bookgen.latex.document import UNIT_PREFIX, LatexDocument
from bookgen.latex.log import MissingGlyph, Overfull, TypesetResult, markdown_line
from bookgen.latex.render import render_latex
from bookgen.latex.typeset import stage_images, typeset, typeset_unit, write_document
from bookgen.latex.update import MANIFEST, Manifest, UnitUpdate, update_unit
from bookgen.model.book import BOOK_FILE
from bookgen.model.geometry import Geometry
from bookgen.pipeline.builder import BuildContext, Builder, Outdated
from bookgen.pipeline.options import Profile
from bookgen.pipeline.results import OutputReport
from bookgen.sources.convert import line_of
from bookgen.verify import check_pdf
from bookgen.wording import counted

if TYPE_CHECKING:
    from bookgen.press.preflight import (
        PreflightReport,  # pikepdf: imported by print builds only
    )


def glyph_message(context: BuildContext, glyph: MissingGlyph) -> str:
    """'manuscript/x.md:3: 🚀 (U+1F680) has no glyph in …', at the character's first place in the book."""
    book = context.book
    for source in context.sources.values():
        line = line_of(source.text, glyph.char)
        if line:
            where = f"{book.display(source.node.file or '')}:{line}"
            break
    else:
        where = book.display(BOOK_FILE)  # in a title or the metadata
    return (
        f"{where}: '{glyph.char}' (U+{ord(glyph.char):04X}) has no glyph in {glyph.font}: it prints as an empty box "
        "(the font's .notdef glyph); --strict and print builds refuse it"
    )


INTERIOR_WORK = {Profile.SCREEN: "latex", Profile.PRINT: "latex-print"}  # the interior's work directory under <output>/.work


class _LatexBuilder(Builder):
    """What the interior and the cover share: running XeLaTeX and reporting its warnings by unit."""

    work_name: str
    document: LatexDocument

    @property
    def work_dir(self) -> Path:
        return self.context.work / self.work_name

    def typeset(self, document: LatexDocument, what: str, force: bool = False) -> TypesetResult:
        """The whole document through latexmk; missing glyphs stop strict builds."""
        context = self.context
        context.progress(f"typesetting {what} with XeLaTeX (latexmk)")
        made = typeset(
            document,
            self.work_dir,
            context.tex_timeout,
            context.book.root,
            context.cancel,
            context.epoch,
            on_pass=lambda n: context.progress(f"XeLaTeX pass {n} of {what}"),
            force=force,
        )
        self.result.add_time("typeset", made.seconds)
        overfull = [self.overfull_message(box) for box in made.overfull]
        if overfull and (context.options.strict or context.options.for_print):
            raise TypesetError(
                f"{len(overfull)} lines stick out into the margin (an error in strict and print builds): " + "; ".join(overfull)
            )
        missing = [glyph_message(context, glyph) for glyph in made.missing_glyphs]
        if missing and (context.options.strict or context.options.for_print):  # --allow-incomplete does not let boxes through
            raise TypesetError(
                f"{len(missing)} characters have no glyph in the book's fonts and would print as empty boxes "
                "(an error in strict and print builds): " + "; ".join(missing)
            )
        return made

    def tex_warnings(self, made: TypesetResult) -> dict[str, list[str]]:
        """The run's warnings by the unit they come from."""
        warnings: dict[str, list[str]] = {}
        for glyph in made.missing_glyphs:
            warnings.setdefault(glyph.unit, []).append(glyph_message(self.context, glyph))
        for box in made.overfull:
            warnings.setdefault(box.unit, []).append(self.overfull_message(box))
        return warnings

    def overfull_message(self, box: Overfull) -> str:
        """'manuscript/x.md:12: a line sticks out 51.7pt into the margin (TeX line 70 of unit-ch-1.tex)': the
        Markdown line the paragraph comes from where it can be found (markdown_line), else the file or the book."""
        book = self.context.book
        where = "the book"
        if box.source:
            where = book.display(box.source)
            source = next((s for s in self.context.sources.values() if s.node.file == box.source), None)
            line = markdown_line(self.document.files().get(f"{box.unit}.tex", ""), box.tex_line, source.text) if source else None
            where += f":{line}" if line else ""
        return f"{where}: a line sticks out {box.points:.1f}pt into the margin (TeX line {box.tex_line} of {box.unit}.tex)"

    def warn(self, by_unit: dict[str, list[str]]) -> None:
        self.result.warnings.extend(warning for warnings in by_unit.values() for warning in warnings)

    def gate(self, name: str, report: PreflightReport) -> None:
        """Keep the preflight report; a failure keeps the previous output."""
        self.result.preflight[name] = report
        if not report.passed:
            failed = "; ".join(f"{c.name}: {c.evidence}" for c in report.checks if not c.passed)
            raise PreflightError(f"preflight of the {name} failed, the previous output is kept: {failed}")


class InteriorBuilder(_LatexBuilder):
    """The book's PDF: ``<slug>.pdf`` (screen) or ``<slug>-print.pdf`` (print, PDF/X finished)."""

    name = "pdf"

    def __init__(self, context: BuildContext, profile: Profile):
        super().__init__(context)
        self.profile = profile
        self.work_name = INTERIOR_WORK[profile]
        self.document = LatexDocument("")
        self.previous: Manifest | None = None
        self.detail = ""
        self.pages = 0

    def prepare(self) -> None:
        begun = time.monotonic()
        context = self.context
        self.document = render_latex(context.book, context.sources, context.converted, self.profile)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        stage_images(context.book.root, {src for c in context.converted.values() for src in c.images}, self.work_dir)
        self.previous = Manifest.load(self.work_dir)
        self.timed("render", begun)

    def outdated(self) -> Outdated:
        """Screen builds with a previous run may update one unit; the update itself finds out which."""
        if self.parallel:
            return Outdated(units=(), reason="the parallel jobs find out which units to typeset")
        if self.profile is Profile.SCREEN and not self.context.options.strict_effective and self.previous:
            return Outdated(units=(), reason="a previous run to update")
        return Outdated()

    def unit_heading(self, unit: str) -> str:
        """'第2章 块级元素' for unit-ch-2: what the author calls it."""
        headings = {UNIT_PREFIX + node.id: node.heading for node in self.context.book.nodes()}
        return headings.get(unit, {"titlepages": "the title pages", "contents": "the contents"}.get(unit, unit))

    def update_one_unit(self) -> UnitUpdate:
        """The chapter-level update: re-typeset the one changed unit alone and splice its pages in."""
        context = self.context

        def alone(unit: str) -> TypesetResult | None:
            context.progress(f"typesetting {self.unit_heading(unit)} alone (one XeLaTeX pass)")
            begun = time.monotonic()
            try:
                return typeset_unit(
                    self.document, unit, self.work_dir, context.tex_timeout, context.book.root, context.cancel, context.epoch
                )
            finally:
                self.timed("typeset", begun)

        update = update_unit(self.document, self.work_dir, alone)
        if update.made:
            self.result.add_time("splice", update.splice_seconds)
        if update.unit and not update.made:
            context.progress(f"{self.unit_heading(update.unit)} cannot be updated alone ({update.reason}): typesetting the whole book")
        return update

    @property
    def parallel(self) -> bool:
        """Screen builds on more than one core typeset the units as parallel jobs (latex/parallel); print
        and strict builds, and --jobs 1, typeset the book whole in one run (the reference)."""
        options = self.context.options
        return self.profile is Profile.SCREEN and options.jobs > 1 and not options.strict_effective

    def write_parallel(self) -> Path:
        """The units as parallel XeLaTeX jobs, merged into one PDF; the page map and 版权页 figures beside it."""
        from bookgen.latex.merge import LEVELS, PageSpan, merge_pieces
        from bookgen.latex.parallel import PIECES_DIR, ParallelTypesetter, moved_pages, opening

        context = self.context
        write_document(self.document, self.work_dir)  # the jobs link to these files; the page map reads them
        (self.work_dir / MANIFEST).unlink(missing_ok=True)  # the one-unit update of sequential builds starts afresh
        typesetter = ParallelTypesetter(
            self.document,
            self.work_dir,
            context.options.jobs,
            context.tex_timeout,
            context.book.root,
            context.book.layout.open.back == "right",
            context.cancel,
            context.epoch,
            context.progress,
            self.unit_heading,
            self.tex_warnings,
        )
        made = typesetter.typeset()
        self.result.add_time("typeset", made.seconds)
        begun = time.monotonic()
        spans = []
        levels: dict[str, int] = {}
        for unit in self.document.plan:
            run, place = made.runs[unit.stem], made.places[unit.stem]
            switches = typesetter.switches[unit.stem]
            run_blanks, _ = opening(switches, run.opens_right, run.before["page"], typesetter.back_opens_right)
            keep = min(run_blanks, place.leads)
            spans.append(
                PageSpan(
                    unit.stem,
                    self.work_dir / PIECES_DIR / run.piece,
                    run.first + run_blanks - keep,
                    run.count - run_blanks + keep,
                    place.leads - keep,
                    unit.division == "back",
                    "/r" if unit.division == "front" else "/D",
                    place.folio,
                    keep,
                )
            )
            write_if_changed(self.work_dir / f"{unit.stem}.tex.pages", moved_pages(run, place, typesetter.back_opens_right, switches))
            for kind, anchor in contents_anchors(run.aux):
                levels[anchor] = LEVELS.get(kind, 0)
            self.warn({unit.stem: run.warnings})
        target = self.work_dir / "merged.pdf"
        self.pages = merge_pieces(spans, levels, target)
        self.result.add_time("merge", time.monotonic() - begun)
        self.detail = (
            f"{counted(made.jobs_run, 'XeLaTeX job')} in {counted(made.rounds, 'round')} on {context.options.jobs} cores, "
            f"{counted(made.typeset_units, 'unit')} typeset"
        )
        return target

    def write(self, outdated: Outdated) -> Path:
        if self.parallel:
            return self.write_parallel()
        previous = self.previous
        if not outdated.whole and previous:
            update = self.update_one_unit()
            if update.made and update.unit:
                previous.spliced_in(self.document, update.unit, self.tex_warnings(update.made).get(update.unit, []), self.work_dir)
                self.warn(previous.warnings)
                self.detail = f"chapter update: {self.unit_heading(update.unit)} typeset alone and spliced in (1 XeLaTeX pass)"
                self.pages = update.made.pages
                return update.made.pdf
        (self.work_dir / MANIFEST).unlink(missing_ok=True)  # until this run succeeds, the work directory matches no PDF
        what = "the print interior" if self.profile is Profile.PRINT else "the PDF"
        made = self.typeset(self.document, what, force=bool(previous and previous.spliced))
        warnings = self.tex_warnings(made)
        if self.profile is Profile.SCREEN:  # print builds are always typeset whole: nothing to remember for an update
            Manifest.of_run(self.document, made, warnings).save(self.work_dir)
        self.warn(warnings)
        self.detail, self.pages = f"{made.passes} XeLaTeX passes", made.pages
        if self.profile is Profile.SCREEN:
            return made.pdf
        from bookgen.press.pdfx import finish_pdf

        finished = self.work_dir / "finished.pdf"
        book = self.context.book
        finish_pdf(made.pdf, finished, book, Geometry.of(book), trim_centred=True, title=book.metadata.title)
        return finished

    def verify(self, made: Path) -> None:
        if self.profile is Profile.PRINT:
            from bookgen.press.preflight import PreflightReport, preflight_interior

            self.gate("interior", PreflightReport(preflight_interior(made, self.context.book)))
        if self.context.options.verify or self.profile is Profile.PRINT:
            begun = time.monotonic()
            pdf = check_pdf(made)
            self.timed("verify", begun)
            self.pages = pdf.pages
            self.result.warnings.extend(pdf.problems)

    def report(self, made: Path) -> OutputReport:
        target = self.context.output_path(self.profile.value)
        copy_atomic(made, target)  # only now does the new PDF replace the old one
        return OutputReport(target, target.stat().st_size, self.pages, self.detail)


class CoverBuilder(_LatexBuilder):
    """``<slug>-cover.pdf``: back, spine and front with bleed, for an interior of ``interior_pages``."""

    name = "cover"
    work_name = "cover"

    def __init__(self, context: BuildContext, interior_pages: int):
        super().__init__(context)
        self.interior_pages = interior_pages
        self.document = LatexDocument("")

    def prepare(self) -> None:
        from bookgen.press.cover import render_cover
        from bookgen.sources.convert import abstract_text

        book = self.context.book
        self.document = LatexDocument(render_cover(book, self.interior_pages, abstract_text(book, self.context.converted)))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if book.press.cover_image:
            stage_images(book.root, {book.press.cover_image}, self.work_dir)

    def outdated(self) -> Outdated:
        return Outdated()

    def write(self, outdated: Outdated) -> Path:
        from bookgen.press.pdfx import finish_pdf

        made = self.typeset(self.document, "the cover")
        self.warn(self.tex_warnings(made))
        book = self.context.book
        finished = self.work_dir / "finished.pdf"
        finish_pdf(made.pdf, finished, book, Geometry.of(book), trim_centred=False, title=f"{book.metadata.title}（封面）")
        return finished

    def verify(self, made: Path) -> None:
        from bookgen.press.preflight import PreflightReport, preflight_cover

        self.gate("cover", PreflightReport(preflight_cover(made, self.context.book, self.interior_pages)))

    def report(self, made: Path) -> OutputReport:
        target = self.context.output_path("cover")
        copy_atomic(made, target)
        return OutputReport(target, target.stat().st_size, pages=1, detail=f"spine for {self.interior_pages} pages")
