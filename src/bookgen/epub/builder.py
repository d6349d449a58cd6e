"""The EPUB builder: the book assembled as one pandoc document, written by pandoc, checked by EPUBCheck."""

from __future__ import annotations

import time
from pathlib import Path

from bookgen.epub.assemble import EpubAssembly, assemble_epub, write_epub
from bookgen.fsutil import copy_atomic
from bookgen.pipeline.builder import BuildContext, Builder, Outdated
from bookgen.pipeline.results import OutputReport
from bookgen.verify import EpubReport, check_epub
from bookgen.xref.ast import resolve_sections


class EpubBuilder(Builder):
    """``<slug>.epub``: EPUB 3 with the book's numbering, MathML and Chinese landmarks."""

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
        sections = resolve_sections(context.book, context.sources, context.converted)  # cross-references
        self.assembly = assemble_epub(context.book, context.sources, sections.converted, self.work_dir, sections.lists)
        self.timed("epub", begun)

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
        return OutputReport(target, target.stat().st_size, detail=detail, epubcheck=self.check)
