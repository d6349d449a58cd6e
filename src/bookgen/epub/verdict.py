"""EPUBCheck's verdicts, kept by the EPUB's SHA-256, and EPUBCheck in the background for edit builds.

EPUBCheck takes 5 s or more on a 200-page book (a Java start plus the check): longer than the whole
edit it would verify. So a verdict is kept in ``<work>/epub/epubcheck.json`` under the hash of the
package it judged: a build whose package has the same bytes (``--format epub`` after ``--format all``,
an edit undone) reports the kept verdict and runs nothing. Where the check matters (a cold build,
``--strict``, the print profile and so ``handoff``, CI) it runs before the EPUB is put in place and
an invalid package fails the build. An edit build (some parts reused) puts its EPUB in place and hands
a copy to one background EPUBCheck (``python -m bookgen.epub.verdict``, at the lowest priority, one at a time:
edits made while it runs queue only their newest EPUB); the summary says so, and the next build
reports that verdict. Nothing is ever said to be verified that was not.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bookgen.fsutil import copy_atomic, write_atomic
from bookgen.verify import EpubReport, check_epub

VERDICTS = "epubcheck.json"
KEPT = 16  # verdicts kept (the newest)
QUEUE = "epubcheck-queue"


def epub_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def _locked(work_dir: Path) -> Iterator[None]:
    work_dir.mkdir(parents=True, exist_ok=True)
    with open(work_dir / f".{VERDICTS}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(work_dir: Path) -> dict:
    try:
        data = json.loads((work_dir / VERDICTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"verdicts": {}}
    return data if isinstance(data.get("verdicts"), dict) else {"verdicts": {}}


def cached_verdict(work_dir: Path, digest: str) -> EpubReport | None:
    """EPUBCheck's verdict on the package with SHA-256 ``digest``, when one was kept."""
    entry = _read(work_dir)["verdicts"].get(digest)
    if not isinstance(entry, dict):
        return None
    try:
        return EpubReport(int(entry["errors"]), int(entry["warnings"]), list(entry["messages"]), int(entry.get("fatal", 0)))
    except (KeyError, TypeError, ValueError):
        return None


def store_verdict(work_dir: Path, digest: str, report: EpubReport) -> None:
    with _locked(work_dir):
        data = _read(work_dir)
        verdicts = data["verdicts"]
        verdicts.pop(digest, None)
        verdicts[digest] = {"errors": report.errors, "warnings": report.warnings, "messages": report.messages, "fatal": report.fatal}
        data["verdicts"] = dict(list(verdicts.items())[-KEPT:])
        write_atomic(work_dir / VERDICTS, json.dumps(data, ensure_ascii=False, indent=1))


def remember_output(work_dir: Path, digest: str) -> None:
    """Note the package that was put in place (the next build reports a background verdict on it)."""
    with _locked(work_dir):
        data = _read(work_dir)
        data["output"] = digest
        write_atomic(work_dir / VERDICTS, json.dumps(data, ensure_ascii=False, indent=1))


def last_output(work_dir: Path) -> str:
    """The SHA-256 of the package the previous build put in place ('' when unknown)."""
    return str(_read(work_dir).get("output", ""))


def verify_kept(epub: Path, work_dir: Path, digest: str | None = None) -> tuple[EpubReport, bool]:
    """EPUBCheck's verdict on ``epub``: the kept one (True) or a new one, then kept (False)."""
    digest = digest or epub_digest(epub)
    kept = cached_verdict(work_dir, digest)
    if kept is not None:
        return kept, True
    report = check_epub(epub)
    store_verdict(work_dir, digest, report)
    return report, False


# ---------------------------------------------------------------- in the background


def check_in_background(epub: Path, work_dir: Path) -> None:
    """Queue a copy of ``epub`` for the background EPUBCheck, starting it unless it runs already."""
    queue = work_dir / QUEUE
    queue.mkdir(parents=True, exist_ok=True)
    copy_atomic(epub, queue / "pending.epub")  # replaces an older queued one: only the newest is worth checking
    with open(queue / "worker.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # a worker runs; it takes the pending package when it is done
        fcntl.flock(handle, fcntl.LOCK_UN)
    with open(queue / "worker.log", "ab") as log:
        subprocess.Popen(
            ["nice", "-n", "19", sys.executable, "-m", "bookgen.epub.verdict", str(work_dir)],  # behind the next build
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # outlives the build; Ctrl-C in the terminal does not reach it
        )


START_DELAY = 1.0  # seconds: the build that started the check finishes first (its summary, its state)


def _work(work_dir: Path, delay: float = 0.0) -> None:
    queue = work_dir / QUEUE
    time.sleep(delay)
    while True:
        with open(queue / "worker.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return  # another worker has the queue
            try:
                while True:
                    pending, checking = queue / "pending.epub", queue / "checking.epub"
                    try:
                        os.replace(pending, checking)
                    except FileNotFoundError:
                        break
                    digest = epub_digest(checking)
                    if cached_verdict(work_dir, digest) is None:
                        try:
                            store_verdict(work_dir, digest, check_epub(checking))
                        except Exception as error:
                            print(f"EPUBCheck failed: {error}", file=sys.stderr)
                    checking.unlink(missing_ok=True)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        if not (queue / "pending.epub").exists():  # queued between the last look and the unlock: go on
            return


if __name__ == "__main__":
    _work(Path(sys.argv[1]), START_DELAY)
