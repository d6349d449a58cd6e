"""What the rules look at: the loaded book, its files' text, and the check settings from book.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bookgen.model.book import BOOK_FILE, Book, Node
from bookgen.model.options import Problems, did_you_mean

from .model import RULES, Finding, Fix, Severity


@dataclass(frozen=True)
class CheckSettings:
    """book.yaml's ``check:`` section (declared and type-checked in model.settings.CheckOptions) with
    its rule codes checked against the rule table."""

    disabled: frozenset[str] = frozenset()
    severities: dict = field(default_factory=dict)
    cjk_latin_spacing: str = "none"  # none: no typed spaces (xeCJK spaces the PDF); space: always; any: not checked

    @classmethod
    def from_book(cls, book: Book) -> CheckSettings:
        """Raises ManuscriptError at ``book.yaml:LINE:COL`` for each rule code that is not a rule's
        (all of them, one per line)."""
        config = book.check
        problems = Problems(book.yaml, book.root)
        places = [
            *((code, ("check", "disable", i)) for i, code in enumerate(config.disable)),
            *((code, ("check", "severity", code, "__key__")) for code in config.severity),
        ]
        for code, at in places:
            if code not in RULES:
                problems.error(f"check: unknown rule code '{code}'{did_you_mean(code, sorted(RULES))}", at)
        problems.raise_if_any()
        severities = {code: Severity(level) for code, level in config.severity.items()}
        return cls(frozenset(config.disable), severities, config.cjk_latin_spacing)

    def can_fail(self, codes: str) -> bool:
        """Whether any enabled rule whose code starts with ``codes`` ('T': a family, 'M003': one rule)
        reports errors, as configured."""
        return any(
            self.severities.get(code, rule.severity) == Severity.ERROR
            for code, rule in RULES.items()
            if code.startswith(codes) and code not in self.disabled
        )


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
    only: list[SourceFile] | None = None  # the files the per-file rules read (None: all; the runner kept the others' findings)

    @property
    def checked(self) -> list[SourceFile]:
        """The files whose per-file rules (model.PER_FILE) run: all of them, or those with no kept findings."""
        return self.files if self.only is None else self.only

    def report(self, code: str, display: str, line: int, column: int, message: str, fix: Fix | None = None) -> None:
        rule = RULES[code]
        self.findings.append(Finding(display, line, column, code, rule.severity, message, fix))

    @property
    def yaml_display(self) -> str:
        return self.book.display(BOOK_FILE)
