"""Run the rules over a manuscript; apply book.yaml's check settings and inline ignore comments."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from bookgen import __version__
from bookgen.errors import Location, ManuscriptError, display_path
from bookgen.fsutil import write_atomic
from bookgen.model.book import BOOK_FILE, Book, load_book
from bookgen.sources.convert import Converted, convert_sources
from bookgen.sources.reading import Source, read_source, source_nodes
from bookgen.tools import OVERRIDES_DIR, pandoc_identity

from .context import CheckContext, CheckSettings, SourceFile
from .markup import check_markup
from .model import PER_FILE, RULES, Finding, Fix, Severity
from .residue import check_residue
from .structure import check_structure

_IGNORE = re.compile(r"<!--\s*bookgen-ignore(?::\s*([A-Z0-9 ,]+?))?\s*-->")
KEPT_FILE = "check.json"  # in check_book's cache_dir: {display path: [key, findings of the per-file rules]}


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
    book: Book,
    sources: dict[str, Source],
    converted: dict[str, Converted],
    fast: bool = False,
    errors_only: bool = False,
    cache_dir: Path | None = None,
) -> CheckReport:
    """All rules over a loaded book; ``fast`` leaves out those that run tools or read fonts, ``errors_only``
    the families that report no errors as configured (both: build's pre-check).

    With ``cache_dir``, the findings of the per-file rules (model.PER_FILE) are kept there for each file
    under a key of what they read (_file_keys), and those rules run only on the files whose key changed;
    the rules that compare files run over the whole book each time. The findings are the same as without."""
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
    keys = _file_keys(book, files, converted, fast, errors_only) if cache_dir else {}
    kept = _read_kept(cache_dir / KEPT_FILE, keys) if cache_dir else {}
    ctx = CheckContext(book, files, settings, only=[f for f in files if f.display not in kept] if cache_dir else None)

    @functools.cache
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
    if wanted("C") and book.bibliography.files:  # without a bibliography there is nothing to cite from
        from .citations import check_citations

        check_citations(ctx, converted)
    if wanted("I"):
        from .index import check_index

        check_index(ctx, converted)
    if cache_dir and ctx.checked:
        fresh: dict[str, list[Finding]] = {source.display: [] for source in ctx.checked}
        for finding in ctx.findings:
            if finding.code in PER_FILE:
                fresh[finding.path].append(finding)
        _write_kept(cache_dir / KEPT_FILE, keys, kept | fresh)
    ctx.findings += [finding for findings in kept.values() for finding in findings]
    report.findings += _apply_settings(ctx.findings, settings, files, fast)
    report.findings.sort(key=lambda f: (f.path != ctx.yaml_display, f.path, f.line, f.column, f.code))
    return report


def _file_keys(book: Book, files: list[SourceFile], converted: dict[str, Converted], fast: bool, errors_only: bool) -> dict[str, str]:
    """Each file's key for its kept findings (by display path): a digest of what the per-file rules read — its
    text and the images it shows (path, size, time), book.yaml (titles, outline ids, check settings, the
    page's width), bookgen's version, pandoc's (the AST), and which rules run."""
    common = hashlib.sha256()
    for part in (__version__, pandoc_identity(), f"{fast} {errors_only}"):
        common.update(part.encode("utf-8") + b"\0")
    common.update((book.root / BOOK_FILE).read_bytes())
    keys = {}
    for source in files:
        digest = common.copy()
        section = converted.get(source.node.id) if source.node else None
        images = [_image_stamp(book.root / src) for src in section.images] if section else []
        digest.update(json.dumps([source.display, source.node.id if source.node else "", images]).encode("utf-8") + b"\0")
        digest.update(source.text.encode("utf-8"))
        keys[source.display] = digest.hexdigest()
    return keys


def _image_stamp(path: Path) -> list:
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return [str(path)]  # missing (M003 says so)
    return [str(path), str(path.resolve()), stat.st_size, stat.st_mtime_ns]


def _read_kept(path: Path, keys: dict[str, str]) -> dict[str, list[Finding]]:
    """The kept findings of the files whose key is still the one they were found under."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return {display: [_finding(display, row) for row in rows] for display, (key, rows) in stored.items() if keys.get(display) == key}
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # none yet, or damaged: check every file


def _finding(display: str, row: list) -> Finding:
    line, column, code, severity, message, fix = row
    return Finding(display, line, column, code, Severity(severity), message, Fix(*fix) if fix else None)


def _write_kept(path: Path, keys: dict[str, str], findings: dict[str, list[Finding]]) -> None:
    def row(f: Finding) -> list:
        return [f.line, f.column, f.code, f.severity.value, f.message, f.fix and [f.fix.line, f.fix.start, f.fix.end, f.fix.text]]

    rows = {display: [keys[display], [row(finding) for finding in found]] for display, found in findings.items()}
    write_atomic(path, json.dumps(rows, ensure_ascii=False))


def _apply_settings(findings: list[Finding], settings: CheckSettings, files: list[SourceFile], fast: bool) -> list[Finding]:
    ignored: dict[tuple[str, int], set[str] | None] = {}
    for source in files:
        if "bookgen-ignore" not in source.text:
            continue
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
