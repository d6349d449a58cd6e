"""What reading and checking a bibliography found wrong: typed findings the checks report as ``file:line:col``."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"  # the build stops before TeX runs
    WARNING = "warning"
    INFO = "info"


class Code(enum.Enum):
    """Rule codes of the citation checks (C for citation)."""

    UNKNOWN_KEY = "C001"  # a citation key missing from every bibliography file
    MALFORMED = "C002"  # a .bib or .json entry that cannot be read
    DUPLICATE_KEY = "C003"  # the same key in two places
    MISSING_FIELD = "C004"  # an entry lacks a field GB/T 7714 requires for its type
    UNUSED = "C005"  # an entry neither cited nor listed in nocite


SEVERITY = {
    Code.UNKNOWN_KEY: Severity.ERROR,
    Code.MALFORMED: Severity.ERROR,
    Code.DUPLICATE_KEY: Severity.ERROR,
    Code.MISSING_FIELD: Severity.WARNING,
    Code.UNUSED: Severity.INFO,
}


@dataclass(frozen=True)
class Finding:
    """One problem at ``file:line:col`` (manuscript-relative file; line/col 1-based, 0 when unknown)."""

    code: Code
    message: str
    file: str
    line: int = 0
    column: int = 0

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.code]

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "") + (f":{self.column}" if self.line and self.column else "")
        return f"{where}: {self.code.value} {self.message}"
