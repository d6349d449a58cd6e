"""Counts in English messages: '1 error', '2 errors', '1 appendix', '3 appendices'."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str = "") -> str:
    """``'{count} {noun}'``, the noun in its plural (``plural``, by default noun + 's') unless ``count`` is 1."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
