"""What each stage hands on: one result per builder run, merged by the build into one BuildResult.

Each builder fills its own StageResult in its own thread; only ``build`` merges them, in one thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bookgen.model.book import Book

if TYPE_CHECKING:
    from bookgen.press.preflight import PreflightReport
    from bookgen.verify import EpubReport


@dataclass(frozen=True)
class OutputReport:
    """One file a build wrote: its path, size in bytes, page count (PDFs) and a line for the summary."""

    path: Path
    size: int
    pages: int | None = None
    detail: str = ""
    epubcheck: EpubReport | None = None  # EPUB outputs that were verified


@dataclass
class StageResult:
    """What one builder's run produced; owned by the thread that runs the builder."""

    outputs: dict[str, OutputReport] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # stage → seconds
    preflight: dict[str, PreflightReport] = field(default_factory=dict)  # "interior" | "cover" → report

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds


@dataclass
class BuildResult:
    """The whole build as the CLI reports it; outputs in the order pdf, cover, epub."""

    book: Book
    outputs: dict[str, OutputReport] = field(default_factory=dict)
    unwritten: list[str] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    preflight: dict[str, PreflightReport] = field(default_factory=dict)
    up_to_date: bool = False  # nothing changed: no pandoc, no TeX ran
    converted: int = 0  # sections pandoc converted in this build
    reused: int = 0  # sections taken from the conversion cache

    def merge(self, stage: StageResult) -> None:
        """Take one builder's result in (called by the build's own thread only)."""
        self.outputs.update(stage.outputs)
        self.warnings.extend(stage.warnings)
        for name, seconds in stage.timings.items():
            self.timings[name] = self.timings.get(name, 0.0) + seconds
        self.preflight.update(stage.preflight)
