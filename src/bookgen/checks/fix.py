"""``check --fix``: apply the safe fixes to the author's files, after showing the diff."""

from __future__ import annotations

import difflib
from collections import defaultdict
from pathlib import Path

from bookgen.fsutil import write_atomic

from .model import RULES, Finding


def planned_changes(findings: list[Finding], files: dict[str, Path]) -> dict[Path, tuple[str, str]]:
    """(old text, new text) for every file a safe fix changes (the rules marked fixable in checks.model.RULES)."""
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.fix and RULES[finding.code].fixable and finding.path in files:
            by_file[finding.path].append(finding)
    changes = {}
    for display, file_findings in by_file.items():
        path = files[display]
        old = path.read_text(encoding="utf-8")
        lines = old.split("\n")
        fixes = sorted({f.fix for f in file_findings if f.fix}, key=lambda fix: (fix.line, fix.start), reverse=True)
        last_start: dict[int, int] = {}
        for fix in fixes:
            if fix.end > last_start.get(fix.line, len(lines[fix.line - 1]) + 1):
                continue  # overlaps a fix already applied on this line: the next run picks it up
            line = lines[fix.line - 1]
            lines[fix.line - 1] = line[: fix.start] + fix.text + line[fix.end :]
            last_start[fix.line] = fix.start
        new = "\n".join(lines)
        if new != old:
            changes[path] = (old, new)
    return changes


def diff(changes: dict[Path, tuple[str, str]], root: Path) -> str:
    out: list[str] = []
    for path, (old, new) in changes.items():
        name = str(path.relative_to(root.parent)) if path.is_relative_to(root.parent) else str(path)
        out.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"))
    return "".join(out)


def apply(changes: dict[Path, tuple[str, str]]) -> None:
    for path, (_, new) in changes.items():
        write_atomic(path, new)
