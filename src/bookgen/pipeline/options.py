"""What a build is asked to make: the formats, the profile and the run's switches (the CLI's flags as data)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

Progress = Callable[[str], None]


class Format(StrEnum):
    """An output a build can make; each has one builder (``pipeline.build.BUILDERS``)."""

    PDF = "pdf"
    EPUB = "epub"
    COVER = "cover"
    HTML = "html"


class Profile(StrEnum):
    """screen: a PDF to read; print: crop marks, TrimBox/BleedBox, PDF/X keys, whole sheets, preflight."""

    SCREEN = "screen"
    PRINT = "print"


def default_jobs() -> int:
    """Parallel workers when --jobs is not given: the machine's cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class BuildOptions:
    """One build's request. ``formats`` and ``profile`` accept their enum values or the same strings."""

    manuscript: Path
    output: Path
    formats: tuple[Format, ...] = (Format.PDF, Format.EPUB)
    profile: Profile = Profile.SCREEN
    strict: bool = False
    allow_incomplete: bool = False  # print builds are strict unless this is given
    jobs: int = default_jobs()
    tex_timeout: float | None = None  # seconds; None: book.yaml's build.tex_timeout, else scaled with the book
    verify: bool = True
    check: bool = True  # run the check's fast error rules first

    def __post_init__(self) -> None:
        object.__setattr__(self, "formats", tuple(Format(name) for name in self.formats))
        object.__setattr__(self, "profile", Profile(self.profile))

    @property
    def for_print(self) -> bool:
        """The print interior is wanted: the print profile, or a cover (whose spine needs its page count)."""
        return self.profile is Profile.PRINT or Format.COVER in self.formats

    @property
    def strict_effective(self) -> bool:
        """--strict, or a print build without --allow-incomplete."""
        return self.strict or (self.for_print and not self.allow_incomplete)
