"""Lengths as book.yaml gives them (``185mm``, ``10.5bp``), parsed once into a value and a unit."""

from __future__ import annotations

import re
from typing import NamedTuple

BP_PER_MM = 72 / 25.4
BP_PER_UNIT = {"bp": 1.0, "pt": 72 / 72.27, "mm": BP_PER_MM, "cm": 10 * BP_PER_MM, "in": 72.0}
_LENGTH = re.compile(r"^(\d+(?:\.\d+)?)(mm|cm|pt|bp|in)$")


class Length(NamedTuple):
    """A non-negative length in one of TeX's units (mm, cm, pt, bp, in).

    A NamedTuple, not a dataclass, so that ``dataclasses.asdict`` of a settings section keeps it a
    Length (the LaTeX templates print it with ``str()``: ``185mm``).
    """

    value: float
    unit: str

    @classmethod
    def parse(cls, text: str) -> Length:
        """'185mm' → Length(185.0, 'mm'). Raises ValueError for anything else ('185', '-3mm', '1em')."""
        match = _LENGTH.match(text.strip())
        if not match:
            raise ValueError(f"not a length like 185mm or 10.5bp: {text!r}")
        return cls(float(match.group(1)), match.group(2))

    @property
    def bp(self) -> float:
        """In big points (1/72 in), the unit of PDF boxes and pdfinfo."""
        return self.value * BP_PER_UNIT[self.unit]

    @property
    def inches(self) -> float:
        """In inches (for resolutions in dpi)."""
        return self.bp / 72

    @property
    def mm(self) -> float:
        """In millimetres."""
        return self.bp / BP_PER_MM

    def tex(self) -> str:
        """As TeX reads it: '185mm', '0.1mm', '10.5bp' (no exponent, no trailing zeros)."""
        number = f"{self.value:.6f}".rstrip("0").rstrip(".")
        return number + self.unit

    def __str__(self) -> str:
        return self.tex()
