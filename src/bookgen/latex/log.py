"""What XeLaTeX's log says, in the author's terms: errors located in the Markdown, missing glyphs,
overfull lines, page counts and the units' page ranges; and the map from TeX lines to manuscript files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bookgen.errors import Location, TypesetError, display_path
from bookgen.latex.document import LatexDocument

_ERROR_LINE = re.compile(r"^(\S+?\.(?:tex|sty|cls|def|cfg|fd|ltx)):(\d+): (.*)$")  # -file-line-error


_CONTEXT_LINE = re.compile(r"^l\.(\d+) (.*)$")


_MISSING_CHAR = re.compile(r"Missing character: There is no (.) \(U\+[0-9A-F]{4,6}\) in font (.*?)!")


_OVERFULL = re.compile(r"^Overfull \\hbox \(([\d.]+)pt too wide\) (?:in paragraph|detected) at lines? (\d+)", re.MULTILINE)


_FILE_OPENED = re.compile(r"\(\./([\w.-]+\.tex)\b")


_UNIT_MARK = re.compile(r"^bookgen-unit-(begin|end): ([\w.-]+?)(?:\.tex)? (\d+) (\d+)$", re.MULTILINE)


_PASS = re.compile(r"Run number (\d+) of rule '(?:xe)?latex'")


_PAGES = re.compile(r"^Output written on .*?\((\d+) pages?", re.M)


OVERFULL_THRESHOLD_PT = 3.0  # less is invisible in print


@dataclass
class MissingGlyph:
    char: str
    font: str
    unit: str = ""  # the unit file it is in


@dataclass
class Overfull:
    points: float
    tex_line: int
    source: str | None  # the manuscript file the TeX line comes from
    unit: str = ""  # the unit file it is in


@dataclass(frozen=True)
class UnitPages:
    """Where a unit's pages are: ``first``/``end`` in the whole book (0-based, end exclusive), and where
    this run's PDF has them (``output_first``; the same as ``first`` when the whole book was typeset)."""

    first: int
    end: int
    output_first: int

    @property
    def count(self) -> int:
        return self.end - self.first


@dataclass
class TypesetResult:
    """A finished run: ``pdf`` is still in the work directory; the caller decides whether it replaces the output."""

    pdf: Path
    passes: int
    seconds: float
    missing_glyphs: list[MissingGlyph] = field(default_factory=list)
    overfull: list[Overfull] = field(default_factory=list)
    units: dict[str, UnitPages] = field(default_factory=dict)
    pages: int = 0  # in the PDF this run wrote


def _result(pdf: Path, passes: int, seconds: float, log: str, document: LatexDocument) -> TypesetResult:
    missing = {
        m.group(1): MissingGlyph(m.group(1), m.group(2).split("/")[0].strip('"'), file_at(log, m.start(), document).removesuffix(".tex"))
        for m in _MISSING_CHAR.finditer(log)
    }
    overfull = []
    for match in _OVERFULL.finditer(log):
        if float(match.group(1)) > OVERFULL_THRESHOLD_PT:
            name = file_at(log, match.start(), document)
            marks = source_map(document.files().get(name, ""))
            overfull.append(
                Overfull(float(match.group(1)), int(match.group(2)), source_for_line(marks, int(match.group(2))), name.removesuffix(".tex"))
            )
    written = _PAGES.findall(log)
    return TypesetResult(pdf, passes, seconds, list(missing.values()), overfull, unit_pages(log), int(written[-1]) if written else 0)


def unit_pages(log: str) -> dict[str, UnitPages]:
    """The units' page ranges from the log's bookgen-unit marks (only the units typeset in that run)."""
    begun: dict[str, tuple[int, int]] = {}
    pages: dict[str, UnitPages] = {}
    for mark in _UNIT_MARK.finditer(log):
        side, unit, book_page, output_page = mark.group(1), mark.group(2), int(mark.group(3)), int(mark.group(4))
        if side == "begin":
            begun[unit] = (book_page, output_page)
        elif unit in begun:
            first, output_first = begun.pop(unit)
            pages[unit] = UnitPages(first, first + output_page - output_first, output_first)
    return pages


def file_at(log: str, position: int, document: LatexDocument) -> str:
    """The document file TeX was reading at ``position`` of the log (the last one it opened)."""
    found = "book.tex"
    files = document.files()
    for match in _FILE_OPENED.finditer(log, 0, position):
        if match.group(1) in files:
            found = match.group(1)
    return found


def tex_failure(log: str, document: LatexDocument, log_path: Path, manuscript_root: Path) -> TypesetError | None:
    """The first TeX error of the log, located in the author's Markdown where it can be."""
    lines = log.splitlines(keepends=True)
    files = document.files()
    offset = 0
    for index, line in enumerate(lines):
        position, offset = offset, offset + len(line)
        line = line.rstrip("\n")
        match = _ERROR_LINE.match(line)
        if not match and not line.startswith("! "):
            continue
        tex_file = Path(match.group(1)).name if match else file_at(log, position, document)
        if match and tex_file not in files:
            # An error inside a package: name the package file; the book line follows as l.NNN.
            line = "! " + f"{match.group(3).strip()} ({tex_file}:{match.group(2)})"
            tex_file = file_at(log, position, document)
            match = None
        if match:
            tex_line, message = int(match.group(2)), match.group(3).strip()
        else:
            tex_line, message = None, line[2:].strip()
        context = ""
        for follow in lines[index + 1 : index + 20]:
            ctx = _CONTEXT_LINE.match(follow.rstrip("\n"))
            if ctx:
                tex_line = tex_line or int(ctx.group(1))
                context = ctx.group(2)
                break
        missing = re.match(r"(?:LaTeX Error: )?File [`'](.+?)' not found", message) or re.match(
            r"I can't (?:find|open) file [`'](.+?)'", message
        )
        if missing:
            message = f"TeX may not read '{missing.group(1)}' (missing, or outside the manuscript and build directories)"
        elif message.startswith("I can't write on file"):
            message = message.replace("I can't write on file", "TeX may not write") + " (only inside the build directory)"
        runaway = _runaway_start(lines[max(0, index - 4) : index], message, files)
        if runaway:  # an unclosed argument ran on to the end of its file: the error is where it began
            tex_file, tex_line, context = runaway
        source = source_for_line(source_map(files.get(tex_file, "")), tex_line) if tex_line else None
        location, token = _locate_in_source(manuscript_root, source, context)
        detail = f" {token}" if token and token not in message and not missing else ""
        fallback = Location(display_path(log_path.parent / tex_file), tex_line)
        return TypesetError(
            f"{message.rstrip(' .')}{detail} (TeX line {tex_line} of {tex_file}; full log: {log_path})", location or fallback
        )
    return None


_RUNAWAY = re.compile(r"^(?:File ended while scanning use of|Paragraph ended before) (\\[A-Za-z@]+)")


def _runaway_start(before: list[str], message: str, files: dict[str, str]) -> tuple[str, int, str] | None:
    """Where an unclosed argument began, for "File ended while scanning use of \\frac" (and "Paragraph
    ended before \\frac was complete"): TeX prints the argument after "Runaway argument?", and its first
    words stand once in the rendered files. Returns (TeX file, line, the control sequence) or None."""
    command = _RUNAWAY.match(message)
    lines = [line.rstrip("\n") for line in before]
    if not command or "Runaway argument?" not in lines:
        return None
    words = " ".join(lines[lines.index("Runaway argument?") + 1 :]).lstrip("{").split()
    for count in (3, 2, 1):  # TeX adds spaces after control words and prints \par for blank lines: fewer words may match
        probe = " ".join(words[:count])
        if len(probe) < 3:
            continue
        for name, content in files.items():
            for number, line in enumerate(content.splitlines(), 1):
                if probe in " ".join(line.split()):
                    return name, number, command.group(1)
    return None


def _locate_in_source(manuscript_root: Path, source: str | None, context: str) -> tuple[Location | None, str]:
    """Find the offending token (the last control sequence before the error) in the Markdown file."""
    tokens = re.findall(r"\\[A-Za-z@]+|\\.", context)
    token = tokens[-1] if tokens else ""
    if not source:
        return None, token
    markdown = manuscript_root / source  # markers name the manuscript-relative file
    line = column = None
    if token and markdown.is_file():
        for number, text in enumerate(markdown.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if token in text:
                line, column = number, text.index(token) + 1
                break
    return Location(display_path(markdown), line, column), token


SOURCE_MACRO = "\\bookgensource{"


def source_map(tex: str) -> list[tuple[int, str]]:
    """(first TeX line, manuscript file) for every entry in the rendered book, in order."""
    marks = []
    for number, line in enumerate(tex.splitlines(), 1):
        if line.startswith(SOURCE_MACRO):
            marks.append((number, line[len(SOURCE_MACRO) :].rstrip("}")))
    return marks


_TEX_MARKUP = re.compile(r"\\bookgenpara\{[se]\}\{[^}]*\}|\\[A-Za-z@]+\*?(?:\{\})?|[{}]")


def markdown_line(tex: str, tex_line: int, markdown: str) -> int | None:
    """The line of ``markdown`` (a section's text) that TeX line ``tex_line`` of ``tex`` (its unit file)
    comes from, or None: the TeX line's longest run of text without its markup (pandoc keeps the
    source's line breaks: wrap_text=preserve), looked up in the Markdown, shorter and shorter from its
    start until it is found (TeX escapes and the break points of convert.lua are gone from it)."""
    lines = tex.splitlines()
    if not 0 < tex_line <= len(lines):
        return None
    text = re.sub(r"\\([_&%#$])", r"\1", _TEX_MARKUP.sub(" ", lines[tex_line - 1]))
    words = sorted(text.split(), key=len, reverse=True)
    if not words:
        return None
    for size in range(min(len(words[0]), 24), 1, -1):
        for number, line in enumerate(markdown.splitlines(), 1):
            if words[0][:size] in line:
                return number
    return None


def source_for_line(marks: list[tuple[int, str]], tex_line: int) -> str | None:
    found = None
    for start, path in marks:
        if start > tex_line:
            break
        found = path
    return found or None
