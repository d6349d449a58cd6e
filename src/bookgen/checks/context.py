"""What the rules look at: the loaded book, its files' text, and the check settings from book.yaml."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from bookgen.errors import Location, ManuscriptError
from bookgen.model.book import BOOK_FILE, Book, Node

from .model import RULES, Finding, Fix, Severity

SPACING_POLICIES = ("none", "space", "any")


@dataclass(frozen=True)
class CheckSettings:
    disabled: frozenset[str] = frozenset()
    severities: dict = field(default_factory=dict)
    cjk_latin_spacing: str = "none"  # none: no typed spaces (xeCJK spaces the PDF); space: always; any: not checked

    @classmethod
    def from_book(cls, book: Book) -> "CheckSettings":
        config = dict(book.check)
        where = Location(book.root.name + "/" + BOOK_FILE)
        unknown = set(config) - {"disable", "severity", "cjk_latin_spacing"}
        if unknown:
            close = difflib.get_close_matches(sorted(unknown)[0], ["disable", "severity", "cjk_latin_spacing"], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ManuscriptError(f"unknown key '{sorted(unknown)[0]}' in 'check'{hint}", where)
        disabled = config.get("disable") or []
        severities = config.get("severity") or {}
        if not isinstance(disabled, list) or not isinstance(severities, dict):
            raise ManuscriptError("check: 'disable' must be a list of rule codes and 'severity' a mapping of code: level", where)
        for code in list(disabled) + list(severities):
            if code not in RULES:
                raise ManuscriptError(f"check: unknown rule code '{code}'", where)
        for code, level in severities.items():
            if level not in [s.value for s in Severity]:
                raise ManuscriptError(f"check: severity of {code} must be error, warning or info, not '{level}'", where)
        spacing = config.get("cjk_latin_spacing", "none")
        if spacing not in SPACING_POLICIES:
            raise ManuscriptError(f"check: cjk_latin_spacing must be one of {', '.join(SPACING_POLICIES)}", where)
        return cls(frozenset(disabled), {code: Severity(level) for code, level in severities.items()}, spacing)

    def can_fail(self, codes: str) -> bool:
        """Whether any enabled rule whose code starts with ``codes`` ('T': a family, 'M003': one rule)
        reports errors, as configured."""
        return any(self.severities.get(code, rule.severity) == Severity.ERROR
                   for code, rule in RULES.items() if code.startswith(codes) and code not in self.disabled)


@dataclass
class SourceFile:
    node: Node | None  # None for a Markdown file no outline entry uses
    path: Path
    display: str
    text: str


@dataclass
class CheckContext:
    book: Book
    files: list[SourceFile]
    settings: CheckSettings
    findings: list[Finding] = field(default_factory=list)

    def report(self, code: str, display: str, line: int, column: int, message: str, fix: Fix | None = None) -> None:
        rule = RULES[code]
        self.findings.append(Finding(display, line, column, code, rule.severity, message, fix))

    @property
    def yaml_display(self) -> str:
        return f"{self.book.root.name}/{BOOK_FILE}"
