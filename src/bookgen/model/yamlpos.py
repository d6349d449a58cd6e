"""Load YAML keeping the line and column of every value, for messages like ``book.yaml:12:5: …``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bookgen.errors import Location, ManuscriptError, display_path

# A path into the loaded data: keys and list indexes, e.g. ("parts", 0, "chapters", 2, "title").
DataPath = tuple[str | int, ...]


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where PyYAML has it


class _UniqueKeyLoader(_BaseLoader):  # libyaml or the pure-Python parser, chosen at import time
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise ManuscriptError(
                f"duplicate key '{key}' (first given on line {seen[key].start_mark.line + 1})",
                Location(display_path(mark.name), mark.line + 1, mark.column + 1),
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class PositionedYaml:
    """YAML data plus the position of each value, addressed by its data path."""

    def __init__(self, data: Any, marks: dict[DataPath, tuple[int, int]], path: Path):
        self.data = data
        self.path = path
        self._marks = marks

    def location(self, data_path: DataPath) -> Location:
        """The location of the value at ``data_path``, or of its nearest ancestor that has one."""
        while data_path and data_path not in self._marks:
            data_path = data_path[:-1]
        line, column = self._marks.get(data_path, (1, 1))
        return Location(display_path(self.path), line, column)


def _collect_marks(node: yaml.Node, here: DataPath, marks: dict[DataPath, tuple[int, int]]) -> None:
    marks[here] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                _collect_marks(value_node, here + (key_node.value,), marks)
                marks[here + (key_node.value, "__key__")] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_marks(item, here + (index,), marks)


def load_yaml(path: Path, text: str | None = None) -> PositionedYaml:
    """Parse ``path`` (or ``text`` named as ``path``); YAML errors become one-line ManuscriptErrors."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ManuscriptError("book.yaml not found: a manuscript needs one (see README)", Location(display_path(path))) from None
        except UnicodeDecodeError as exc:
            raise ManuscriptError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", Location(display_path(path))) from None
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except ManuscriptError as exc:  # a duplicate key: name the real file, not "<unicode string>"
        if exc.location is not None:
            exc.location.path = path
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        location = Location(display_path(path), mark.line + 1, mark.column + 1) if mark else Location(display_path(path))
        raise ManuscriptError(f"YAML syntax error: {problem}", location) from None
    except yaml.YAMLError as exc:
        raise ManuscriptError(f"YAML error: {exc}", Location(display_path(path))) from None
    finally:
        loader.dispose()
    marks: dict[DataPath, tuple[int, int]] = {}
    if node is not None:
        _collect_marks(node, (), marks)
    return PositionedYaml(data if data is not None else {}, marks, path)
