"""The rendered book as files: what the renderer writes and the TeX run, its log reader and the chapter update read."""

from __future__ import annotations

from dataclasses import dataclass, field

UNIT_PREFIX = "unit-"


@dataclass(frozen=True)
class LatexUnit:
    """One \\include'd unit, as the book's divisions place it: ``division`` is front, body, appendices or
    back (book.tex switches \\frontmatter, \\mainmatter, \\appendix, \\backmatter before the first of
    each); ``steps`` the sectioning counter its heading steps (part, chapter) or None (unnumbered)."""

    stem: str
    division: str
    steps: str | None = None


@dataclass(frozen=True)
class LatexDocument:
    """A LaTeX document as files: ``book.tex`` and the units it \\include's (file stem → text, in book order)."""

    main: str
    units: dict[str, str] = field(default_factory=dict)
    seeds: dict[str, str] = field(default_factory=dict)  # auxiliary files for a first run (TeX rewrites them)
    plan: tuple[LatexUnit, ...] = ()  # the units in book order

    def files(self) -> dict[str, str]:
        return {"book.tex": self.main, **{f"{stem}.tex": text for stem, text in self.units.items()}}
