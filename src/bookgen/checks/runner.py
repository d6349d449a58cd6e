"""Run the rules over a manuscript; apply book.yaml's check settings and inline ignore comments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..convert import convert_sources
from ..errors import ManuscriptError
from ..manuscript import BOOK_FILE, load_book
from ..sources import read_source
from .context import CheckContext, CheckSettings, SourceFile
from .fonts import check_fonts
from .markup import check_markup
from .model import RULES, Finding, Severity
from .residue import check_residue
from .structure import check_structure
from .typography import check_typography

_IGNORE = re.compile(r"<!--\s*bookgen-ignore(?::\s*([A-Z0-9 ,]+?))?\s*-->")


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # display path → real path, for --fix

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == Severity.ERROR]


def _schema_finding(error: ManuscriptError, manuscript: Path) -> Finding:
    location = error.location
    path = str(location.path) if location else f"{manuscript.name}/{BOOK_FILE}"
    if location and Path(path).is_absolute():
        try:
            path = str(Path(manuscript.name) / Path(path).relative_to(manuscript.resolve()))
        except ValueError:
            pass
    return Finding(path, (location.line if location else None) or 1, (location.column if location else None) or 1,
                   "S001", Severity.ERROR, error.message)


def run_checks(manuscript: Path, cache_dir: Path, fast: bool = False) -> CheckReport:
    """All rules; ``fast`` leaves out those that run tools or read fonts (build's pre-check)."""
    report = CheckReport()
    try:
        book = load_book(manuscript)
        settings = CheckSettings.from_book(book)
    except ManuscriptError as error:
        report.findings.append(_schema_finding(error, manuscript))
        return report
    files, sources = [], {}
    used = set()
    for node in book.files():
        display = f"{book.root.name}/{node.file}"
        used.add(node.file)
        try:
            source = read_source(book, node)
        except ManuscriptError as error:
            report.findings.append(Finding(display, (error.location.line if error.location else None) or 1, 1, "S001", Severity.ERROR, error.message))
            continue
        sources[node.id] = source
        report.files[display] = source.path
        if source.written:
            files.append(SourceFile(node, source.path, display, source.text))
        else:
            files.append(SourceFile(node, source.path, display, ""))
    for path in sorted(book.root.rglob("*.md")):
        relative = path.relative_to(book.root).as_posix()
        if relative not in used and not any(part.startswith(".") for part in path.relative_to(book.root).parts):
            text = path.read_text(encoding="utf-8", errors="replace")
            files.append(SourceFile(None, path, f"{book.root.name}/{relative}", text))
    ctx = CheckContext(book, files, settings)
    check_structure(ctx)
    check_residue(ctx)
    check_typography(ctx)
    if not fast:
        check_fonts(ctx)
    written = {node_id: source for node_id, source in sources.items() if source.written}
    converted, _ = convert_sources(book, written, cache_dir)
    check_markup(ctx, written, converted, with_math=not fast)
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
        if key in ignored and (ignored[key] is None or finding.code in ignored[key]):
            continue
        if finding.code in settings.severities:
            finding = replace(finding, severity=settings.severities[finding.code])
        kept.append(finding)
    return kept
