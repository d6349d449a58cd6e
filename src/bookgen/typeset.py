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
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Location, TypesetError
from .fsutil import write_if_changed
from .render import source_for_line, source_map
from .tools import require

JOBNAME = "book"
_ERROR_LINE = re.compile(r"^(\S+?\.(?:tex|sty|cls|def|cfg|fd|ltx)):(\d+): (.*)$")  # -file-line-error
_CONTEXT_LINE = re.compile(r"^l\.(\d+) (.*)$")
_MISSING_CHAR = re.compile(r"Missing character: There is no (.) \(U\+[0-9A-F]{4,6}\) in font (.*?)!")
_OVERFULL = re.compile(r"^Overfull \\hbox \(([\d.]+)pt too wide\) (?:in paragraph|detected) at lines? (\d+)", re.M)
OVERFULL_THRESHOLD_PT = 3.0  # less is invisible in print


@dataclass
class MissingGlyph:
    char: str
    font: str


@dataclass
class Overfull:
    points: float
    tex_line: int
    source: str | None  # the manuscript file the TeX line comes from


@dataclass
class TypesetResult:
    """A finished run: ``pdf`` is still in the work directory; the caller decides whether it replaces the output."""

    pdf: Path
    passes: int
    seconds: float
    missing_glyphs: list[MissingGlyph] = field(default_factory=list)
    overfull: list[Overfull] = field(default_factory=list)


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


def typeset(tex: str, work_dir: Path, timeout: float, manuscript_root: Path, cancel: threading.Event | None = None,
            epoch: int | None = None) -> TypesetResult:
    """Run latexmk on ``tex``; stop it after ``timeout`` seconds or as soon as ``cancel`` is set."""
    latexmk = require("latexmk", "latexmk and texlive-xetex")
    work_dir.mkdir(parents=True, exist_ok=True)
    tex_path = work_dir / f"{JOBNAME}.tex"
    write_if_changed(tex_path, tex)
    command = [
        latexmk, "-xelatex", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
        "-latexoption=-no-shell-escape", "-norc", f"-jobname={JOBNAME}", tex_path.name,
    ]
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=work_dir, env=tex_environment(work_dir, epoch), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    log_path = work_dir / f"{JOBNAME}.log"
    try:
        stdout = _wait(proc, started + timeout, cancel)
    except subprocess.TimeoutExpired:
        # SIGINT makes TeX stop at an "Interruption" error (we run it with -halt-on-error), so it
        # closes its log with the TeX line it was on; SIGKILL is the fallback.
        _stop(proc, signal.SIGINT, grace=10)
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        located = tex_failure(log, tex, log_path, manuscript_root)
        raise TypesetError(
            f"XeLaTeX did not finish within {timeout:.0f} s (an endless macro loop?) and was stopped; "
            "raise the limit with --tex-timeout if the book is just long",
            located.location if located else None,
        ) from None
    except BaseException:
        _stop(proc, signal.SIGINT, grace=3)
        raise
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    if proc.returncode != 0:
        said = stdout.decode("utf-8", "replace").strip().splitlines()
        raise tex_failure(log, tex, log_path, manuscript_root) or TypesetError(
            "latexmk failed: " + (said[-1] if said else "no output"), Location(log_path))
    passes = len(re.findall(rb"Run number \d+ of rule '(?:xe)?latex'", stdout))
    missing = {m.group(1): MissingGlyph(m.group(1), m.group(2).split("/")[0].strip('"')) for m in _MISSING_CHAR.finditer(log)}
    marks = source_map(tex)
    overfull = [Overfull(float(m.group(1)), int(m.group(2)), source_for_line(marks, int(m.group(2))))
                for m in _OVERFULL.finditer(log) if float(m.group(1)) > OVERFULL_THRESHOLD_PT]
    return TypesetResult(work_dir / f"{JOBNAME}.pdf", passes, time.monotonic() - started, list(missing.values()), overfull)


def _wait(proc: subprocess.Popen, deadline: float, cancel: threading.Event | None) -> bytes:
    while True:
        try:
            return proc.communicate(timeout=0.5)[0]
        except subprocess.TimeoutExpired:
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt from None  # unwound by the caller's except clause below
            if time.monotonic() > deadline:
                raise


def _stop(proc: subprocess.Popen, first_signal: int, grace: float) -> None:
    """Stop latexmk and every TeX it started (they share a process group)."""
    try:
        os.killpg(proc.pid, first_signal)
        proc.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def tex_failure(log: str, tex: str, log_path: Path, manuscript_root: Path) -> TypesetError | None:
    """The first TeX error of the log, located in the author's Markdown where it can be."""
    lines = log.splitlines()
    for index, line in enumerate(lines):
        match = _ERROR_LINE.match(line)
        if match and not match.group(1).endswith(f"{JOBNAME}.tex"):
            # An error inside a package: name the package file; the book line follows as l.NNN.
            line = "! " + f"{match.group(3).strip()} ({Path(match.group(1)).name}:{match.group(2)})"
            match = None
        if match:
            tex_line, message = int(match.group(2)), match.group(3).strip()
        elif line.startswith("! "):
            tex_line, message = None, line[2:].strip()
        else:
            continue
        context = ""
        for follow in lines[index + 1: index + 20]:
            ctx = _CONTEXT_LINE.match(follow)
            if ctx:
                tex_line = tex_line or int(ctx.group(1))
                context = ctx.group(2)
                break
        missing = re.match(r"(?:LaTeX Error: )?File [`'](.+?)' not found", message) or re.match(r"I can't (?:find|open) file [`'](.+?)'", message)
        if missing:
            message = f"TeX may not read '{missing.group(1)}' (missing, or outside the manuscript and build directories)"
        elif message.startswith("I can't write on file"):
            message = message.replace("I can't write on file", "TeX may not write") + " (only inside the build directory)"
        source = source_for_line(source_map(tex), tex_line) if tex_line else None
        location, token = _locate_in_source(manuscript_root, source, context)
        detail = f" {token}" if token and token not in message and not missing else ""
        fallback = Location(log_path.with_suffix(".tex"), tex_line)
        return TypesetError(f"{message.rstrip('.')}{detail} (TeX line {tex_line}; full log: {log_path})", location or fallback)
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
