"""pandoc's JSON AST as bookgen handles it: the element type, walking, small constructors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Block = dict[str, Any]


def attr(identifier: str = "", classes: list[str] | None = None) -> list[Any]:
    """An element's attributes: [id, classes, key-value pairs]."""
    return [identifier, classes or [], []]


def text_inlines(text: str) -> list[Block]:
    """Plain text as pandoc inlines (Str and Space)."""
    inlines: list[Block] = []
    for word in text.split():
        if inlines:
            inlines.append({"t": "Space"})
        inlines.append({"t": "Str", "c": word})
    return inlines


def walk_blocks(value: Any) -> Iterator[dict]:
    """Every AST element (dict with "t") inside ``value``, depth first."""
    if isinstance(value, dict):
        if "t" in value:
            yield value
        for child in value.values():
            yield from walk_blocks(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk_blocks(child)
