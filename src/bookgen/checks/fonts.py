"""Fonts: every character of the book against the fonts the PDF will use (their cmaps, via fontconfig)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import unicodedata
from dataclasses import asdict
from functools import cache
from pathlib import Path

from bookgen.fsutil import write_atomic
from bookgen.tools import run_tool, user_cache_dir

from .context import CheckContext


def find_font(name: str) -> tuple[Path, int] | None:
    """The file and face index of a font by family or full name, as fontspec finds it ('Noto Sans CJK SC Bold').

    None when fontconfig knows no such font; raises ToolError when fc-list is missing or fails.
    """
    for key in ("family", "fullname"):
        out = run_tool(
            ["fc-list", "-f", "%{file}\\t%{index}\\n", f":{key}={name}"], f"font '{name}' in book.yaml", timeout=60, package="fontconfig"
        ).stdout
        for line in sorted(out.splitlines()):
            file, _, index = line.partition("\t")
            if file:
                return Path(file), int(index or 0)
    return None


@cache
def coverage(path: Path, index: int) -> frozenset[int]:
    """The code points a font face maps, cached on disk by file, size and time (reading a CJK cmap takes a while)."""
    stat = path.stat()
    key = hashlib.sha256(f"{path}:{index}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:24]
    cached = user_cache_dir() / f"cmap-{key}.json"
    try:
        return frozenset(json.loads(cached.read_text()))
    except (OSError, ValueError):
        pass
    from fontTools.ttLib import TTFont  # here: only `bookgen check` reads fonts

    font = TTFont(str(path), fontNumber=index, lazy=True)
    points = sorted(font.getBestCmap() or {})
    font.close()
    with contextlib.suppress(OSError):  # a read-only home: no cache, same answer
        write_atomic(cached, json.dumps(points))
    return frozenset(points)


def check_fonts(ctx: CheckContext) -> None:
    covered: set[int] = set()
    for role, family in asdict(ctx.book.fonts).items():
        found = find_font(family)
        if found is None:
            ctx.report("F001", ctx.yaml_display, 1, 1, f"font '{family}' ({role} in 'fonts') is not installed")
            continue
        covered |= coverage(found[0], found[1])
    places = [(source.display, number, line) for source in ctx.files for number, line in enumerate(source.text.split("\n"), 1)]
    places += [(ctx.yaml_display, node.yaml_line, node.title) for node in ctx.book.nodes()]
    reported: set[tuple[str, str]] = set()
    for display, number, line in places:
        for column, char in enumerate(line, 1):
            if ord(char) in covered or (display, char) in reported or char.isspace() or unicodedata.category(char).startswith("C"):
                continue
            reported.add((display, char))  # the first place in each file
            name = unicodedata.name(char, "unnamed")
            ctx.report(
                "F001",
                display,
                number,
                column,
                f"'{char}' (U+{ord(char):04X} {name}) is in none of the book's fonts: it would print as nothing",
            )
