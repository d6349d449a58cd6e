"""Stage 5a: typeset the rendered book with latexmk + XeLaTeX, safely, and report errors in the author's terms.

TeX runs with shell escape off and paranoid file access, in its own work directory, under a time
limit; its PDF replaces the previous one only when the run succeeded.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Location, TypesetError
from .fsutil import write_if_changed
from .render import LatexDocument, source_for_line, source_map
from .tools import require

JOBNAME = "book"
UNIT_JOBNAME = "bookgen-unit"  # the run that re-typesets one unit (\\includeonly) beside the book's own files
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


def tex_environment(work_dir: Path, epoch: int | None = None) -> dict[str, str]:
    """Safe TeX whatever the user's texmf.cnf says: no shell escape, no reading or writing outside.

    With ``epoch``, dates and document IDs are fixed (reproducible PDFs)."""
    env = dict(os.environ)
    if epoch is not None:
        env.update({"SOURCE_DATE_EPOCH": str(epoch), "FORCE_SOURCE_DATE": "1"})
    env.update({
        "shell_escape": "f",
        "openin_any": "p",
        "openout_any": "p",
        "TEXMFOUTPUT": str(work_dir),
        "max_print_line": "10000",  # one log line per message: easier to map back
        "error_line": "254",
        "half_error_line": "238",
    })
    return env


def stage_images(manuscript_root: Path, images: set[str], work_dir: Path) -> None:
    """Copy the images the sections use into the work directory (TeX may read only below it)."""
    for src in sorted(images):
        source = manuscript_root / src
        target = work_dir / src
        if target.exists() and target.stat().st_size == source.stat().st_size and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


PassProgress = Callable[[int], None]


def write_document(document: LatexDocument, work_dir: Path) -> None:
    work_dir.mkdir(parents=True, exist_ok=True)
    for name, text in document.files().items():
        write_if_changed(work_dir / name, text)
    for name, text in document.seeds.items():
        if not (work_dir / name).exists():
            (work_dir / name).write_text(text, encoding="utf-8")


def typeset(document: LatexDocument, work_dir: Path, timeout: float, manuscript_root: Path, cancel: threading.Event | None = None,
            epoch: int | None = None, on_pass: PassProgress | None = None, force: bool = False) -> TypesetResult:
    """Run latexmk on the document; stop it after ``timeout`` seconds or as soon as ``cancel`` is set.

    ``force`` makes latexmk run even when its own records say the PDF is current (after a unit was
    spliced into the PDF behind its back)."""
    latexmk = require("latexmk", "latexmk and texlive-xetex")
    write_document(document, work_dir)
    command = [
        latexmk, "-xelatex", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
        "-latexoption=-no-shell-escape", "-norc", f"-jobname={JOBNAME}", *(["-g"] if force else []), "book.tex",
    ]
    passes = 0

    def count_pass(line: str) -> None:
        nonlocal passes
        if _PASS.search(line):
            passes += 1
            if on_pass:
                on_pass(passes)

    started = time.monotonic()
    returncode, output = run_tex(command, work_dir, JOBNAME, document, timeout, manuscript_root, cancel, epoch, count_pass)
    log = _read_log(work_dir, JOBNAME)
    if returncode != 0:
        said = output.strip().splitlines()
        raise tex_failure(log, document, work_dir / f"{JOBNAME}.log", manuscript_root) or TypesetError(
            "latexmk failed: " + (said[-1] if said else "no output"), Location(work_dir / f"{JOBNAME}.log"))
    return _result(work_dir / f"{JOBNAME}.pdf", passes, time.monotonic() - started, log, document)


def typeset_unit(document: LatexDocument, unit: str, work_dir: Path, timeout: float, manuscript_root: Path,
                 cancel: threading.Event | None = None, epoch: int | None = None) -> TypesetResult | None:
    r"""One XeLaTeX pass over one unit alone (``\includeonly``), with the book's last full run's .aux files.

    The work directory must hold that run's files. Returns None when TeX failed (the caller then
    typesets the whole book, which reports the error in full)."""
    xelatex = require("xelatex", "texlive-xetex")
    write_document(document, work_dir)
    shutil.copyfile(work_dir / f"{JOBNAME}.aux", work_dir / f"{UNIT_JOBNAME}.aux")  # the other units' counters and labels
    command = [xelatex, "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "-no-shell-escape",
               f"-jobname={UNIT_JOBNAME}", f"\\includeonly{{{unit}}}\\input{{book.tex}}"]
    started = time.monotonic()
    returncode, _ = run_tex(command, work_dir, UNIT_JOBNAME, document, timeout, manuscript_root, cancel, epoch)
    if returncode != 0:
        return None
    return _result(work_dir / f"{UNIT_JOBNAME}.pdf", 1, time.monotonic() - started, _read_log(work_dir, UNIT_JOBNAME), document)


def run_tex(command: list[str], work_dir: Path, jobname: str, document: LatexDocument, timeout: float, manuscript_root: Path,
            cancel: threading.Event | None, epoch: int | None, on_line: Callable[[str], None] | None = None) -> tuple[int, str]:
    """Run a TeX tool in its own process group, streaming its output to ``on_line``; (exit code, output)."""
    proc = subprocess.Popen(command, cwd=work_dir, env=tex_environment(work_dir, epoch), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    lines: list[str] = []

    def read() -> None:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            if on_line:
                on_line(line)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _wait(proc, time.monotonic() + timeout, cancel)
    except subprocess.TimeoutExpired:
        # SIGINT makes TeX stop at an "Interruption" error (we run it with -halt-on-error), so it
        # closes its log with the TeX line it was on; SIGKILL is the fallback.
        _stop(proc, signal.SIGINT, grace=10)
        located = tex_failure(_read_log(work_dir, jobname), document, work_dir / f"{jobname}.log", manuscript_root)
        raise TypesetError(
            f"XeLaTeX did not finish within {timeout:.0f} s (an endless macro loop?) and was stopped; "
            "raise the limit with --tex-timeout if the book is just long",
            located.location if located else None,
        ) from None
    except BaseException:
        _stop(proc, signal.SIGINT, grace=3)
        raise
    finally:
        reader.join(timeout=5)
    return proc.returncode, "".join(lines)


def _read_log(work_dir: Path, jobname: str) -> str:
    log_path = work_dir / f"{jobname}.log"
    return log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""


def _result(pdf: Path, passes: int, seconds: float, log: str, document: LatexDocument) -> TypesetResult:
    missing = {m.group(1): MissingGlyph(m.group(1), m.group(2).split("/")[0].strip('"'), file_at(log, m.start(), document).removesuffix(".tex"))
               for m in _MISSING_CHAR.finditer(log)}
    overfull = []
    for match in _OVERFULL.finditer(log):
        if float(match.group(1)) > OVERFULL_THRESHOLD_PT:
            name = file_at(log, match.start(), document)
            marks = source_map(document.files().get(name, ""))
            overfull.append(Overfull(float(match.group(1)), int(match.group(2)), source_for_line(marks, int(match.group(2))),
                                     name.removesuffix(".tex")))
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


def _wait(proc: subprocess.Popen, deadline: float, cancel: threading.Event | None) -> None:
    while True:
        try:
            proc.wait(timeout=0.5)
            return
        except subprocess.TimeoutExpired:
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt from None  # unwound by the caller's except clause below
            if time.monotonic() > deadline:
                raise


def _stop(proc: subprocess.Popen, first_signal: int, grace: float) -> None:
    """Stop latexmk and every TeX it started (they share a process group).

    Waits for the whole group, not just latexmk: latexmk may exit at once on SIGINT while XeLaTeX is
    still writing the log that names the line it stopped on; SIGKILL only what outlives ``grace``."""
    try:
        os.killpg(proc.pid, first_signal)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (proc.poll() is None or _group_running(proc.pid)):
        time.sleep(0.05)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _group_running(group: int) -> bool:
    """Whether a process of the group still runs (zombies have finished)."""
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:  # no /proc: ask the kernel, which also counts zombies
        try:
            os.killpg(group, 0)
            return True
        except ProcessLookupError:
            return False
    for entry in entries:
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:  # state, parent, process group
            return True
    return False


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
        for follow in lines[index + 1: index + 20]:
            ctx = _CONTEXT_LINE.match(follow.rstrip("\n"))
            if ctx:
                tex_line = tex_line or int(ctx.group(1))
                context = ctx.group(2)
                break
        missing = re.match(r"(?:LaTeX Error: )?File [`'](.+?)' not found", message) or re.match(r"I can't (?:find|open) file [`'](.+?)'", message)
        if missing:
            message = f"TeX may not read '{missing.group(1)}' (missing, or outside the manuscript and build directories)"
        elif message.startswith("I can't write on file"):
            message = message.replace("I can't write on file", "TeX may not write") + " (only inside the build directory)"
        source = source_for_line(source_map(files.get(tex_file, "")), tex_line) if tex_line else None
        location, token = _locate_in_source(manuscript_root, source, context)
        detail = f" {token}" if token and token not in message and not missing else ""
        fallback = Location(log_path.parent / tex_file, tex_line)
        return TypesetError(f"{message.rstrip('.')}{detail} (TeX line {tex_line} of {tex_file}; full log: {log_path})", location or fallback)
    return None


def _locate_in_source(manuscript_root: Path, source: str | None, context: str) -> tuple[Location | None, str]:
    """Find the offending token (the last control sequence before the error) in the Markdown file."""
    tokens = re.findall(r"\\[A-Za-z@]+|\\.", context)
    token = tokens[-1] if tokens else ""
    if not source:
        return None, token
    markdown = manuscript_root.parent / source  # markers name "<manuscript dir>/<file>"
    line = None
    if token and markdown.is_file():
        for number, text in enumerate(markdown.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if token in text:
                line = number
                break
    return Location(source, line), token
