"""Files written so that nothing is ever half-written: temp file in the same directory, then rename."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bookgen.errors import BuildLockedError


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one rename.

    On any error (or Ctrl-C) the temporary file is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def file_stamp(path: Path) -> list[int] | None:
    """Size and modification time: enough to notice a file that changed behind bookgen's back."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def write_atomic(target: Path, data: bytes | str) -> None:
    with atomic_path(target) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)


def copy_atomic(source: Path, target: Path) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def write_if_changed(target: Path, text: str) -> bool:
    """Write ``text`` unless the file already holds it (keeps mtimes, so latexmk sees no change)."""
    try:
        if target.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_atomic(target, text)
    return True


@contextmanager
def build_lock(output_dir: Path) -> Iterator[None]:
    """One build at a time per output directory; a second one stops with a clear message."""
    output_dir.mkdir(parents=True, exist_ok=True)
    lock_path = output_dir / ".bookgen.lock"
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise BuildLockedError(f"another build is running in {output_dir} (lock {lock_path}); wait for it to finish") from None
            raise
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
