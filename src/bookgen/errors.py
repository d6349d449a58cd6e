"""Errors with messages for people. The CLI turns them into one line and an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def display_path(path: Path | str) -> str:
    """How messages name a file: relative to the current directory when it lies below it, else absolute.

    The same in every command, wherever the manuscript is (``manuscript/x.md``, ``/home/a/books/m1/x.md``).
    """
    absolute = Path(path).absolute()
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(absolute)


@dataclass
class Location:
    """A place in the author's files: ``path:line:col`` (line and col 1-based, optional)."""

    path: Path | str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = str(self.path)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


class BookgenError(Exception):
    """Base of all errors bookgen reports to the user. ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, message: str, location: Location | None = None, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.detail = detail

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return prefix + self.message


class ManuscriptError(BookgenError):
    """book.yaml or a section file is wrong: the author can fix it. Exit code 2.

    ``problems``: each problem as (location, message); several when one error reports a whole
    validation pass (book.yaml), the first being the error's own location and first message line.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        detail: str | None = None,
        problems: list[tuple[Location | None, str]] | None = None,
    ):
        super().__init__(message, location, detail)
        self.problems = problems or [(location, message)]


class ToolError(BookgenError):
    """An external tool (pandoc, xelatex, java) is missing or failed unexpectedly."""


class TypesetError(BookgenError):
    """XeLaTeX stopped on the book; the message points at the author's Markdown where it can."""


class BuildLockedError(BookgenError):
    """Another bookgen build is writing into the same output directory."""


class CheckFailedError(BookgenError):
    """The manuscript has check errors; ``detail`` lists them. The build stops before typesetting. Exit code 2,
    as for every manuscript error."""

    exit_code = 2


class PreflightError(BookgenError):
    """A print output failed its preflight; the previous output is kept."""
