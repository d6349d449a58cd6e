"""The life-cycle every output format's builder follows, and what a builder is given.

    prepare()   render or assemble the book for this format into the work directory
    outdated()  which of the format's units must be written again (the rest is reused)
    write()     run the tool (XeLaTeX, pandoc …) and return the new file, still in the work directory
    verify()    check that file with the real validators; raise to keep the previous output
    report()    move it into place (atomically) and describe it

``run`` calls them in that order, timing each. A builder keeps its state on itself and its results
in its own StageResult: builders of different formats run in parallel threads and share nothing
but the read-only BuildContext (and its cancel event).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from bookgen.model.book import Book
from bookgen.pipeline.options import BuildOptions, Progress
from bookgen.pipeline.results import OutputReport, StageResult
from bookgen.sources.convert import Converted
from bookgen.sources.reading import Source


def default_tex_timeout(sources: dict[str, Source]) -> float:
    """Seconds XeLaTeX may take on this book: 2 min, plus 1 s per 2,000 characters of text."""
    characters = sum(len(source.text) for source in sources.values())
    return 120.0 + characters / 2000


@dataclass(frozen=True)
class BuildContext:
    """Everything the builders read: the request, the book, its sources and their conversions."""

    options: BuildOptions
    book: Book
    sources: dict[str, Source]
    converted: dict[str, Converted]
    progress: Progress
    cancel: threading.Event  # set when a build is stopped: every builder stops its tools and unwinds
    epoch: int | None  # the build date (reproducible outputs), seconds since 1970

    @property
    def work(self) -> Path:
        """The build's own files (never an output): ``<output>/.work``."""
        return self.options.output / ".work"

    @property
    def tex_timeout(self) -> float:
        """--tex-timeout, else book.yaml's build.tex_timeout (0 means: scale), else scaled with the book."""
        return self.options.tex_timeout or self.book.build.tex_timeout or default_tex_timeout(self.sources)

    def output_path(self, name: str) -> Path:
        """``<output>/<slug><suffix>``: name is one of screen, print, cover, epub; ``<output>/html`` for html."""
        if name == "html":
            return self.options.output / "html"
        slug = self.book.metadata.slug
        suffix = {"screen": ".pdf", "print": "-print.pdf", "cover": "-cover.pdf", "epub": ".epub"}[name]
        return self.options.output / f"{slug}{suffix}"


@dataclass(frozen=True)
class Outdated:
    """What ``write`` must do: every unit (``units`` None), or only these units, or nothing."""

    units: tuple[str, ...] | None = None
    reason: str = ""

    @property
    def whole(self) -> bool:
        return self.units is None


class Builder(ABC):
    """One output format. Subclasses implement the five steps; ``run`` is the same for all."""

    name: ClassVar[str]  # the key of its output in BuildResult.outputs

    def __init__(self, context: BuildContext):
        self.context = context
        self.result = StageResult()

    def timed(self, stage: str, started: float) -> None:
        """Add the time since ``started`` (time.monotonic()) to ``stage``."""
        self.result.add_time(stage, time.monotonic() - started)

    @abstractmethod
    def prepare(self) -> None:
        """Render or assemble this format's input files in the work directory."""

    @abstractmethod
    def outdated(self) -> Outdated:
        """Which units must be written again."""

    @abstractmethod
    def write(self, outdated: Outdated) -> Path:
        """Make the new output in the work directory and return its path."""

    @abstractmethod
    def verify(self, made: Path) -> None:
        """Check ``made``; add warnings to ``self.result``; raise a BookgenError to keep the previous output."""

    @abstractmethod
    def report(self, made: Path) -> OutputReport:
        """Move ``made`` into place (atomically) and describe it."""

    def run(self) -> StageResult:
        """prepare → outdated → write → verify → report; returns this builder's StageResult."""
        self.prepare()
        made = self.write(self.outdated())
        self.verify(made)
        self.result.outputs[self.name] = self.report(made)
        return self.result
