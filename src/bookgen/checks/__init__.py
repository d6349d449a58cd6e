"""``bookgen check``: a linter for Chinese manuscripts.

Rules live in one module per family (structure, residue, typography, fonts, markup); each finding
points at the author's own file (book.yaml or a Markdown section) by line and column.
"""

from .model import RULES, Finding, Fix, Severity
from .runner import CheckReport, check_book, run_checks

__all__ = ["RULES", "CheckReport", "Finding", "Fix", "Severity", "check_book", "run_checks"]
