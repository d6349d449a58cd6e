"""The EPUB builder: the book assembled as one pandoc document, written by pandoc, checked by EPUBCheck."""

from __future__ import annotations

import time
from pathlib import Path

from bookgen.epub.assemble import EpubAssembly, assemble_epub, write_epub
from bookgen.epub.pagemap import PageMap, read_page_map
from bookgen.fsutil import copy_atomic
from bookgen.pipeline.builder import BuildContext, Builder, Outdated
from bookgen.pipeline.options import Profile
from bookgen.pipeline.results import OutputReport
from bookgen.verify import EpubReport, check_epub
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

    def prepare(self) -> None:
        begun = time.monotonic()
        self.context.progress("packaging the EPUB")
        context = self.context
        self.assembly = assemble_epub(context.book, context.sources, context.converted, self.work_dir, self.printed_edition())
        self.timed("epub", begun)

    def printed_edition(self) -> PageMap | None:
        """The page map of a current PDF of this manuscript (this build's profile first), else None."""
        from bookgen.latex.render import (
            render_latex,  # Jinja and the LaTeX templates: only to compare the units
        )

        context = self.context
        document = render_latex(context.book, context.sources, context.converted)
        profiles = sorted(Profile, key=lambda profile: profile is not context.options.profile)
        for profile in profiles:
            work_name = "latex" if profile is Profile.SCREEN else "latex-print"
            page_map = read_page_map(context.work / work_name, document, context.output_path(profile.value))
            if page_map is not None:
                return page_map
        return None

    def outdated(self) -> Outdated:
        return Outdated()  # pandoc writes the whole package

    def write(self, outdated: Outdated) -> Path:
        assert self.assembly is not None, "prepare() runs before write()"
        begun = time.monotonic()
        made = write_epub(self.context.book, self.assembly, self.context.epoch)
        self.timed("epub", begun)
        return made

    def verify(self, made: Path) -> None:
        if not self.context.options.verify:
            return
        begun = time.monotonic()
        self.context.progress("checking the EPUB with EPUBCheck")
        self.check = check_epub(made)
        self.timed("verify-epub", begun)
        self.result.warnings.extend(self.check.messages)

    def report(self, made: Path) -> OutputReport:
        target = self.context.output_path("epub")
        copy_atomic(made, target)
        detail = f"EPUBCheck: {self.check.errors} errors, {self.check.warnings} warnings" if self.check else ""
        assert self.assembly is not None, "prepare() runs before report()"
        if self.assembly.page_breaks:
            detail = ", ".join(filter(None, [detail, f"page list of {counted(self.assembly.page_breaks, 'printed page')}"]))
        return OutputReport(target, target.stat().st_size, detail=detail, epubcheck=self.check)
