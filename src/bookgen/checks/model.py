"""Findings, fixes and the rule table (stable codes, default severities)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    summary: str
    fixable: bool = False
    slow: bool = False  # runs a tool (xelatex) or reads fonts: skipped by build's pre-check


@dataclass(frozen=True)
class Fix:
    """Replace columns [start, end) of ``line`` (1-based line, 0-based columns) with ``text``."""

    line: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Finding:
    path: str  # as shown to the author: manuscript/…/x.md or manuscript/book.yaml
    line: int
    column: int  # 1-based
    code: str
    severity: Severity
    message: str
    fix: Fix | None = None

    def as_dict(self) -> dict:
        data = {
            "file": self.path,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "fix": None,
        }
        if self.fix:
            data["fix"] = {"line": self.fix.line, "start": self.fix.start, "end": self.fix.end, "text": self.fix.text}
        return data

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.code} {self.message}"


RULES = {
    rule.code: rule
    for rule in [
        # Structure
        Rule("S001", Severity.ERROR, "book.yaml is invalid (syntax, unknown key, wrong type, path outside the manuscript)"),
        Rule("S002", Severity.INFO, "section not yet written"),
        Rule("S003", Severity.WARNING, "section marked truncated (the draft stops mid-sentence)"),
        Rule("S004", Severity.WARNING, "Markdown file that no outline entry uses"),
        Rule("S005", Severity.WARNING, "duplicate title in the outline"),
        Rule("S006", Severity.WARNING, "heading inside a section file breaks the book's hierarchy"),
        Rule("S007", Severity.INFO, "the imported draft numbered this entry differently"),
        Rule("S008", Severity.WARNING, "outline title that carries its own number (it prints with two)", fixable=True),
        # Machine-writing residue
        Rule("R001", Severity.ERROR, "chat token", fixable=True),
        Rule("R002", Severity.ERROR, "writing instruction or assistant preamble", fixable=True),
        Rule("R003", Severity.WARNING, "paragraph stops mid-sentence"),
        Rule("R004", Severity.WARNING, "the same paragraph appears twice"),
        # Chinese typography
        Rule("T001", Severity.WARNING, "half-width punctuation in Chinese text", fixable=True),
        Rule("T002", Severity.WARNING, "full-width Latin letter or digit", fixable=True),
        Rule("T003", Severity.INFO, "spacing between Chinese and Latin/digits against the book's policy", fixable=True),
        Rule("T004", Severity.WARNING, "unbalanced or mismatched paired punctuation"),
        Rule("T005", Severity.WARNING, "doubled punctuation", fixable=True),
        Rule("T006", Severity.WARNING, "ellipsis or dash in the wrong form", fixable=True),
        Rule("T007", Severity.INFO, "sentence ends without punctuation before a paragraph break"),
        # Fonts
        Rule("F001", Severity.ERROR, "character that no configured font has", slow=True),
        # Math and markup
        Rule("M001", Severity.ERROR, "formula that will not compile or convert", slow=True),
        Rule("M002", Severity.WARNING, "emphasis marker that will print literally"),
        Rule("M003", Severity.ERROR, "image not found or outside the manuscript"),
        Rule("M004", Severity.WARNING, "image below 300 dpi at its printed size"),
        Rule("M005", Severity.ERROR, "formula with an unclosed brace, \\left or environment"),
        Rule("M006", Severity.ERROR, "underscore emphasis beside Chinese that prints literally", fixable=True),
        # Cross-references (bookgen.xref)
        Rule("X001", Severity.ERROR, "reference to an unknown label"),
        Rule("X002", Severity.ERROR, "the same label defined twice"),
        Rule("X003", Severity.INFO, "label never referenced"),
        Rule("X004", Severity.ERROR, "label of the wrong kind for its prefix"),
        Rule("X005", Severity.ERROR, "label with a space or a character a label cannot hold"),
        Rule("X006", Severity.ERROR, "label on something that has no number"),
        Rule("X007", Severity.ERROR, "@id of an outline entry whose id does not start with sec- (prints literally)"),
        Rule("X008", Severity.WARNING, "@word that is neither a cross-reference nor a citation (a book without bibliography)"),
        # Citations (bookgen.bibliography)
        Rule("C001", Severity.ERROR, "citation of a key no bibliography file holds"),
        Rule("C002", Severity.ERROR, "bibliography file or entry that cannot be read"),
        Rule("C003", Severity.ERROR, "the same citation key twice"),
        Rule("C004", Severity.WARNING, "entry without a field GB/T 7714 requires for its type"),
        Rule("C005", Severity.INFO, "entry never cited and not in nocite"),
        Rule("M007", Severity.WARNING, "image without alternative text (build --strict refuses it)"),
        Rule("M008", Severity.WARNING, "raw HTML the PDF cannot render (its text prints, the tag's meaning is lost)"),
        Rule("M009", Severity.WARNING, "raw LaTeX the EPUB cannot render (it prints in the PDF only)"),
        # Index and glossary (bookgen.index)
        Rule("I001", Severity.ERROR, "term used in the text but missing from the glossary"),
        Rule("I002", Severity.INFO, "glossary term never used in the text"),
        Rule("I003", Severity.ERROR, "two glossary entries with the same key"),
        Rule("I004", Severity.ERROR, "index range without its start or its end"),
        Rule("I005", Severity.ERROR, "index entry without text or with more than three levels"),
        Rule("I006", Severity.ERROR, "glossary file that cannot be read"),
        Rule("I007", Severity.WARNING, "index see= or seealso= naming an entry that nothing marks"),
    ]
}

# Rules whose findings in a file follow from that file alone (its text, its conversion, the images it shows)
# and book.yaml: the runner keeps them per file and runs them only on files that changed. The others
# compare files (R004, X001…) or read fonts, the bibliography, the glossary, the outline (F, C, I, S).
PER_FILE = frozenset(
    ["S006", "R001", "R002", "R003", "X005", "X007", "X008"]
    + ["T001", "T002", "T003", "T004", "T005", "T006", "T007"]
    + ["M002", "M003", "M004", "M005", "M006", "M007", "M008", "M009"]
)
