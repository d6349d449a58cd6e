"""The EPUB builder: the book assembled as one pandoc document, written by pandoc in per-chapter parts
(only the changed ones again, ``parts``), checked by EPUBCheck (its verdict kept by the package's hash;
in the background after an edit, ``verdict``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bookgen.epub.assemble import EpubAssembly, EpubWrite, assemble_epub, write_epub
from bookgen.epub.pagemap import PageMap, read_page_map
from bookgen.epub.verdict import cached_verdict, check_in_background, epub_digest, last_output, remember_output, verify_kept
from bookgen.errors import ToolError
from bookgen.fsutil import copy_atomic
from bookgen.pipeline.builder import BuildContext, Builder, Outdated
from bookgen.pipeline.options import Profile
from bookgen.pipeline.results import OutputReport
from bookgen.verify import EpubReport
from bookgen.wording import counted


class EpubBuilder(Builder):
    """``<slug>.epub``: EPUB 3 with the book's numbering, MathML and Chinese landmarks; with a current PDF
    of the same manuscript (built before it in the same build, or earlier), the printed pages' list."""

    name = "epub"

    def __init__(self, context: BuildContext):
        super().__init__(context)
        self.work_dir = context.work / "epub"
        self.check: EpubReport | None = None
        self.assembly: EpubAssembly | None = None
        self.written: EpubWrite | None = None
        self.digest = ""
        self.verification = ""  # what the summary says about EPUBCheck: run, kept, in the background or not at all

    def prepare(self) -> None:
        begun = time.monotonic()
        self.context.progress("packaging the EPUB")
        context = self.context
        self.assembly = assemble_epub(context.book, context.sources, context.converted, self.work_dir, self.printed_edition())
        self.timed("epub", begun)

    def printed_edition(self) -> PageMap | None:
        """The page map of a current PDF of this manuscript (this build's profile first), else None."""
        context = self.context
        profiles = sorted(Profile, key=lambda profile: profile is not context.options.profile)
        if not any(context.output_path(profile.value).is_file() for profile in profiles):
            return None  # no PDF: nothing to map (and no LaTeX to render for the comparison)
        from bookgen.latex.render import render_latex  # pylatex and the LaTeX templates: only to compare the units

        document = render_latex(context.book, context.sources, context.converted)
        for profile in profiles:
            work_name = "latex" if profile is Profile.SCREEN else "latex-print"
            page_map = read_page_map(context.work / work_name, document, context.output_path(profile.value))
            if page_map is not None:
                return page_map
        return None

    def outdated(self) -> Outdated:
        return Outdated()  # the parts' digests decide, in write(): a part is written when its inputs changed

    def write(self, outdated: Outdated) -> Path:
        assert self.assembly is not None, "prepare() runs before write()"
        begun = time.monotonic()
        context = self.context
        self.written = write_epub(context.book, self.assembly, context.epoch, context.options.jobs, context.cancel)
        self.timed("epub", begun)
        return self.written.path

    def check_now(self) -> bool:
        """Run EPUBCheck before the package is put in place: cold builds, --strict, print (handoff), CI."""
        options = self.context.options
        assert self.written is not None
        return self.written.cold or options.strict or options.profile is Profile.PRINT or bool(os.environ.get("CI"))

    def verify(self, made: Path) -> None:
        self.digest = epub_digest(made)
        if not self.context.options.verify:
            self.verification = "not verified (--no-verify)"
            return
        previous = last_output(self.work_dir)
        if previous and previous != self.digest:  # the background check of the previous build's package, if it is done
            earlier = cached_verdict(self.work_dir, previous)
            if earlier is not None and not earlier.passed:
                self.result.warnings.append(
                    f"EPUBCheck (in the background) on the previous EPUB: {earlier.errors} errors, {earlier.warnings} warnings"
                )
                self.result.warnings.extend(earlier.messages)
        kept = cached_verdict(self.work_dir, self.digest)
        if kept is None and not self.check_now():
            self.verification = "EPUBCheck: running in the background (the next build reports it; --strict waits for it)"
            return
        begun = time.monotonic()
        if kept is None:
            self.context.progress("checking the EPUB with EPUBCheck")
        self.check, cached = verify_kept(made, self.work_dir, self.digest)
        self.timed("verify-epub", begun)
        self.verification = f"EPUBCheck: {self.check.errors} errors, {self.check.warnings} warnings" + (" (verdict kept)" if cached else "")
        if self.check.errors:
            raise ToolError(
                f"the EPUB does not pass EPUBCheck ({self.verification}); the previous EPUB is kept", detail="\n".join(self.check.messages)
            )
        self.result.warnings.extend(self.check.messages)

    def report(self, made: Path) -> OutputReport:
        target = self.context.output_path("epub")
        copy_atomic(made, target)
        remember_output(self.work_dir, self.digest)
        if self.check is None and self.context.options.verify:
            check_in_background(target, self.work_dir)
        assert self.assembly is not None and self.written is not None, "prepare() and write() run before report()"
        written = self.written
        rewritten = (
            "all parts written"
            if len(written.written) == written.parts
            else f"{counted(len(written.written), 'part')} of {written.parts} rewritten"
            + (", nav and OPF too" if written.frame_written else "")
        )
        detail = ", ".join(filter(None, [self.verification, rewritten]))
        if self.assembly.page_breaks:
            detail = ", ".join(filter(None, [detail, f"page list of {counted(self.assembly.page_breaks, 'printed page')}"]))
        return OutputReport(target, target.stat().st_size, detail=detail, epubcheck=self.check)
