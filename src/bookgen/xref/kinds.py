"""What a reference can point at. Citations (#17) and index marks (#18) add their own kinds here."""

from __future__ import annotations

import re
from enum import StrEnum


class RefKind(StrEnum):
    """A kind of cross-reference; the value is its label prefix (``@fig-arch``)."""

    FIGURE = "fig"
    TABLE = "tbl"
    EQUATION = "eq"
    LISTING = "lst"
    SECTION = "sec"

    @classmethod
    def of_label(cls, label: str) -> RefKind | None:
        """The kind a label's prefix names ('fig-arch' → FIGURE), or None (not a cross-reference label)."""
        prefix, dash, rest = label.partition("-")
        return cls(prefix) if dash and rest and prefix in cls._value2member_map_ else None

    @property
    def object_name(self) -> str:
        """What the kind is called in messages."""
        return _NAMES[self]


_NAMES = {
    RefKind.FIGURE: "figure",
    RefKind.TABLE: "table",
    RefKind.EQUATION: "equation",
    RefKind.LISTING: "code listing",
    RefKind.SECTION: "section",
}

# refs.lua's object types (its summary's "kind") → the kind of label they carry.
OBJECT_KINDS = {
    "figure": RefKind.FIGURE,
    "table": RefKind.TABLE,
    "equation": RefKind.EQUATION,
    "listing": RefKind.LISTING,
    "heading": RefKind.SECTION,
}

LABEL_CHARS = "A-Za-z0-9_:-"  # a label is made of these; any other character ends it
PREFIXES = "|".join(kind.value for kind in RefKind)
# Where an '@' may start a reference: not after a letter, digit or ._%+- (an e-mail address).
REFERENCE_START = r"(?<![A-Za-z0-9._%+-])"
LABEL_RE = re.compile(rf"[{LABEL_CHARS}]+")
