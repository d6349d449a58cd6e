"""Stage 5a: typeset the rendered book with latexmk + XeLaTeX, safely, and report errors in the author's terms.

TeX runs with shell escape off and paranoid file access, in its own work directory, under a time
limit; its PDF replaces the previous one only when the run succeeded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bookgen.errors import Location, TypesetError, display_path
from bookgen.fsutil import write_if_changed
from bookgen.latex.document import LatexDocument
from bookgen.latex.log import _PASS, TypesetResult, _result, tex_failure
from bookgen.tools import require

JOBNAME = "book"
UNIT_JOBNAME = "bookgen-unit"  # the run that re-typesets one unit (\\includeonly) beside the book's own files


def tex_environment(work_dir: Path, epoch: int | None = None) -> dict[str, str]:
    """Safe TeX whatever the user's texmf.cnf says: no shell escape, no reading or writing outside.

    With ``epoch``, dates and document IDs are fixed (reproducible PDFs)."""
    env = dict(os.environ)
    if epoch is not None:
        env.update({"SOURCE_DATE_EPOCH": str(epoch), "FORCE_SOURCE_DATE": "1"})
    env.update(
        {
            "shell_escape": "f",
            "openin_any": "p",
            "openout_any": "p",
            "TEXMFOUTPUT": str(work_dir),
            "max_print_line": "10000",  # one log line per message: easier to map back
            "error_line": "254",
            "half_error_line": "238",
        }
    )
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


def typeset(
    document: LatexDocument,
    work_dir: Path,
    timeout: float,
    manuscript_root: Path,
    cancel: threading.Event | None = None,
    epoch: int | None = None,
    on_pass: PassProgress | None = None,
    force: bool = False,
) -> TypesetResult:
    """Run latexmk on the document; stop it after ``timeout`` seconds or as soon as ``cancel`` is set.

    ``force`` makes latexmk run even when its own records say the PDF is current (after a unit was
    spliced into the PDF behind its back)."""
    latexmk = require("latexmk", "latexmk and texlive-xetex")
    write_document(document, work_dir)
    command = [
        latexmk,
        "-xelatex",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        "-latexoption=-no-shell-escape",
        "-norc",
        f"-jobname={JOBNAME}",
        *(["-g"] if force else []),
        "book.tex",
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
            "latexmk failed: " + (said[-1] if said else "no output"), Location(display_path(work_dir / f"{JOBNAME}.log"))
        )
    return _result(work_dir / f"{JOBNAME}.pdf", passes, time.monotonic() - started, log, document)


def units_command(jobname: str, units: tuple[str, ...]) -> list[str]:
    r"""One XeLaTeX pass over ``units`` of book.tex (``\includeonly``; the others' .aux files give their
    counters and labels), safe and stopping at the first error. Raises ToolError without XeLaTeX."""
    return [
        require("xelatex", "texlive-xetex"),
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        "-no-shell-escape",
        f"-jobname={jobname}",
        f"\\includeonly{{{','.join(units)}}}\\input{{book.tex}}",
    ]


def typeset_unit(
    document: LatexDocument,
    unit: str,
    work_dir: Path,
    timeout: float,
    manuscript_root: Path,
    cancel: threading.Event | None = None,
    epoch: int | None = None,
) -> TypesetResult | None:
    r"""One XeLaTeX pass over one unit alone (``\includeonly``), with the book's last full run's .aux files.

    The work directory must hold that run's files. Returns None when TeX failed (the caller then
    typesets the whole book, which reports the error in full)."""
    write_document(document, work_dir)
    shutil.copyfile(work_dir / f"{JOBNAME}.aux", work_dir / f"{UNIT_JOBNAME}.aux")  # the other units' counters and labels
    command = units_command(UNIT_JOBNAME, (unit,))
    started = time.monotonic()
    returncode, _ = run_tex(command, work_dir, UNIT_JOBNAME, document, timeout, manuscript_root, cancel, epoch)
    if returncode != 0:
        return None
    return _result(work_dir / f"{UNIT_JOBNAME}.pdf", 1, time.monotonic() - started, _read_log(work_dir, UNIT_JOBNAME), document)


def run_tex(
    command: list[str],
    work_dir: Path,
    jobname: str,
    document: LatexDocument,
    timeout: float,
    manuscript_root: Path,
    cancel: threading.Event | None,
    epoch: int | None,
    on_line: Callable[[str], None] | None = None,
) -> tuple[int, str]:
    """Run a TeX tool in its own process group, streaming its output to ``on_line``; (exit code, output)."""
    proc = subprocess.Popen(
        command,
        cwd=work_dir,
        env=tex_environment(work_dir, epoch),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None  # stdout=PIPE
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
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
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
