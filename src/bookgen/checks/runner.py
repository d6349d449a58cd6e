"""Run the rules over a manuscript; apply book.yaml's check settings and inline ignore comments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from bookgen.errors import Location, ManuscriptError, display_path
from bookgen.model.book import BOOK_FILE, Book, load_book
from bookgen.sources.convert import Converted, convert_sources
from bookgen.sources.reading import Source, read_source, source_nodes
from bookgen.tools import OVERRIDES_DIR

from .context import CheckContext, CheckSettings, SourceFile
from .markup import check_markup
from .model import RULES, Finding, Severity
from .residue import check_residue
from .structure import check_structure

_IGNORE = re.compile(r"<!--\s*bookgen-ignore(?::\s*([A-Z0-9 ,]+?))?\s*-->")


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # display path → real path, for --fix
    book_invalid: bool = False  # book.yaml does not load: its problems are the S001 findings, no rule ran

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == Severity.ERROR]


def _schema_findings(error: ManuscriptError, manuscript: Path) -> CheckReport:
    """An S001 finding for each problem of a book.yaml that does not load."""
    return CheckReport([_schema_finding(location, message, manuscript) for location, message in error.problems], book_invalid=True)


def _schema_finding(location: Location | None, message: str, manuscript: Path) -> Finding:
    path = display_path(location.path if location else manuscript / BOOK_FILE)
    return Finding(
        path, (location.line if location else None) or 1, (location.column if location else None) or 1, "S001", Severity.ERROR, message
    )


def run_checks(manuscript: Path, cache_dir: Path, fast: bool = False) -> CheckReport:
    """Load a manuscript and check it (the `check` command); sections converted through the cache."""
    try:
        book = load_book(manuscript)
    except ManuscriptError as error:
        return _schema_findings(error, manuscript)
    sources, unreadable = {}, []
    for node in source_nodes(book):
        try:
            sources[node.id] = read_source(book, node)
        except ManuscriptError as error:
            line = (error.location.line if error.location else None) or 1
            unreadable.append(Finding(book.display(node.file or ""), line, 1, "S001", Severity.ERROR, error.message))
    written = {node_id: source for node_id, source in sources.items() if source.written}
    converted, _ = convert_sources(book, written, cache_dir)
    report = check_book(book, sources, converted, fast)
    report.findings = unreadable + report.findings
    return report


def check_book(
    book: Book, sources: dict[str, Source], converted: dict[str, Converted], fast: bool = False, errors_only: bool = False
) -> CheckReport:
    """All rules over a loaded book; ``fast`` leaves out those that run tools or read fonts, ``errors_only``
    the families that report no errors as configured (both: build's pre-check)."""
    report = CheckReport()
    try:
        settings = CheckSettings.from_book(book)
    except ManuscriptError as error:
        return _schema_findings(error, book.root)
    report.files[book.display(BOOK_FILE)] = book.root / BOOK_FILE  # S008's fix is in book.yaml
    files = []
    nodes = source_nodes(book)  # the abstract's file too: its text prints (cover, EPUB, web home page)
    for node in nodes:
        source = sources.get(node.id)
        if source is None:
            continue  # unreadable: reported by the caller
        display = book.display(node.file or "")
        report.files[display] = source.path
        files.append(SourceFile(node, source.path, display, source.text if source.written else ""))
    used = {node.file for node in nodes}
    for path in sorted(book.root.rglob("*.md")):
        relative = path.relative_to(book.root).as_posix()
        parts = path.relative_to(book.root).parts  # hidden files and template overrides are not the book's text
        if relative not in used and parts[0] != OVERRIDES_DIR and not any(part.startswith(".") for part in parts):
            text = path.read_text(encoding="utf-8", errors="replace")
            files.append(SourceFile(None, path, book.display(relative), text))
    ctx = CheckContext(book, files, settings)

    def wanted(codes: str) -> bool:  # a family ('T') or one rule ('M003')
        return not errors_only or settings.can_fail(codes)

    if wanted("S"):
        check_structure(ctx)
    if wanted("R"):
        check_residue(ctx, wanted)
    # Typography (big Unicode regexes, autocorrect) and fonts (fontTools) are imported only when they
    # run: build's pre-check needs neither, and it should not pay for them.
    if wanted("T"):
        from .typography import check_typography

        check_typography(ctx)
    if not fast:
        from .fonts import check_fonts

        check_fonts(ctx)
    if wanted("M"):
        written = {node_id: source for node_id, source in sources.items() if source.written}
        check_markup(ctx, written, converted, with_math=not fast, wanted=wanted)
    if wanted("X"):
        from .xrefs import check_xrefs

        check_xrefs(ctx, converted)
    if wanted("C"):
        from .citations import check_citations

        check_citations(ctx, converted)
    if wanted("I"):
        from .index import check_index

        check_index(ctx, converted)
    report.findings += _apply_settings(ctx.findings, settings, files, fast)
    report.findings.sort(key=lambda f: (f.path != ctx.yaml_display, f.path, f.line, f.column, f.code))
    return report


def _apply_settings(findings: list[Finding], settings: CheckSettings, files: list[SourceFile], fast: bool) -> list[Finding]:
    ignored: dict[tuple[str, int], set[str] | None] = {}
    for source in files:
        lines = source.text.split("\n")
        for number, line in enumerate(lines, 1):
            for match in _IGNORE.finditer(line):
                codes = set(re.split(r"[ ,]+", match.group(1).strip())) if match.group(1) else None
                target = number + 1 if line.strip() == match.group(0) else number  # alone on a line: the next line
                ignored[(source.display, target)] = codes
    kept = []
    for finding in findings:
        if finding.code in settings.disabled:
            continue
        if fast and RULES[finding.code].slow:
            continue
        key = (finding.path, finding.line)
        silenced = ignored.get(key, set())
        if key in ignored and (silenced is None or finding.code in silenced):
            continue
        if finding.code in settings.severities:
            finding = replace(finding, severity=settings.severities[finding.code])
        kept.append(finding)
    return kept
