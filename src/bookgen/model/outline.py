"""The outline of book.yaml (front, parts or chapters, appendices, back) as numbered Nodes."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bookgen.model.numbering import format_counter
from bookgen.model.options import (
    Choice,
    ManuscriptPath,
    Option,
    Problems,
    Text,
    check_keys,
    describe,
    read_options,
)
from bookgen.model.settings import Numbering
from bookgen.model.yamlpos import DataPath

STATUSES = ("draft", "truncated", "final")


class EntryKind(StrEnum):
    """The kind of an outline entry. A StrEnum: ``kind == "part"`` keeps working."""

    FRONT = "front"
    PART = "part"
    CHAPTER = "chapter"
    SECTION = "section"
    APPENDIX = "appendix"
    APPENDIX_SECTION = "appendix-section"
    BACK = "back"

    @property
    def is_section(self) -> bool:
        """A section of a chapter or of an appendix (numbered 1.1, A.1)."""
        return self in (EntryKind.SECTION, EntryKind.APPENDIX_SECTION)

    @property
    def is_chapter(self) -> bool:
        """A chapter or an appendix: what sections and figures are numbered under."""
        return self in (EntryKind.CHAPTER, EntryKind.APPENDIX)

    @property
    def children(self) -> tuple[str, EntryKind] | None:
        """The book.yaml key of this kind's sub-entries and their kind, or None."""
        return _CHILDREN.get(self)


_CHILDREN = {
    EntryKind.PART: ("chapters", EntryKind.CHAPTER),
    EntryKind.CHAPTER: ("sections", EntryKind.SECTION),
    EntryKind.APPENDIX: ("sections", EntryKind.APPENDIX_SECTION),
}


def _id_problem(node_id: str) -> str | None:
    if re.match(r"^[A-Za-z][A-Za-z0-9_-]*$", node_id):
        return None
    return f"id '{node_id}' must start with a Latin letter and use only letters, digits, '-' and '_'"


# Keys of every outline entry (plus 'chapters' in parts and 'sections' in chapters and appendices).
ENTRY_OPTIONS: dict[str, Option] = {
    "title": Text("", "the entry's title, without a number (bookgen numbers)"),
    "id": Text("", "for cross-references (default: ch-1, sec-1-2, app-a …)", check=_id_problem),
    "file": ManuscriptPath("its Markdown file; missing or empty: not yet written", suffix=".md", must_exist=False),
    "status": Choice("draft", STATUSES, "draft | truncated | final"),
    "draft_number": Text("", "the number an imported draft gave the entry, where it differs"),
}
# The top-level outline lists and the kind of their entries.
OUTLINE_KEYS = {
    "front": EntryKind.FRONT,
    "parts": EntryKind.PART,
    "chapters": EntryKind.CHAPTER,
    "appendices": EntryKind.APPENDIX,
    "back": EntryKind.BACK,
}


@dataclass(frozen=True)
class Node:
    """One outline entry. ``number`` is computed ('第1章', '1.1', '附录A'); '' when unnumbered."""

    kind: EntryKind
    title: str
    id: str
    file: str | None  # manuscript-relative POSIX path of its Markdown, if any
    status: str
    number: str
    yaml_line: int
    children: tuple[Node, ...] = ()
    counter: str = ""  # chapters and appendices: what their sections and figures number under ('3', 'B')
    draft_number: str = ""  # the number an imported draft gave this entry, where it differs from bookgen's

    @property
    def heading(self) -> str:
        """The title as printed in headings, TOC and nav: number and title."""
        return f"{self.number} {self.title}" if self.number else self.title

    @property
    def has_own_text(self) -> bool:
        """Whether the entry stands for text of its own: it names a file, or it is a leaf (then, without
        a file, it is an unwritten section). A part's file is optional text on the part page: never."""
        return self.kind != EntryKind.PART and (self.file is not None or not self.children)


def _typo_of(wanted: str, existing: str) -> bool:
    """Whether ``existing`` is ``wanted`` with a typo: one or two characters changed, and at least half of
    what follows their common folders kept (到来.md for 到來.md; not 其他.md for 到來.md)."""
    changed = sum(
        max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, wanted, existing).get_opcodes() if tag != "equal"
    )
    folders = 0
    for mine, theirs in zip(wanted.split("/")[:-1], existing.split("/")[:-1], strict=False):
        if mine != theirs:
            break
        folders += len(mine) + 1
    own = len(wanted.removesuffix(".md")) - folders
    return 0 < changed <= 2 and 2 * changed <= own


class OutlineReader:
    """Turns the outline lists of book.yaml into numbered Nodes, recording problems (ids, files, keys)."""

    def __init__(self, problems: Problems, numbering: Numbering):
        self.problems = problems
        self.numbering = numbering
        self.counters = {kind: 0 for kind in EntryKind}
        self.ids: dict[str, DataPath] = {}
        self.files: dict[str, DataPath] = {}

    def entries(self, value: Any, at: DataPath, kind: EntryKind, parent_number: str = "") -> tuple[Node, ...]:
        """The nodes of the list ``value`` at ``at``, numbered in order."""
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problems.error(f"{at[-1]} must be a list (lines starting with '- '), not {describe(value)}", at)
            return ()
        nodes = []
        for index, item in enumerate(value):
            where = at + (index,)
            if isinstance(item, str):  # shorthand: a bare title
                item = {"title": item}
            if not isinstance(item, dict):
                self.problems.error(f"{kind} entry must be a mapping (key: value lines), not {describe(item)}", where)
                continue
            nodes.append(self.entry(item, where, kind, index + 1, parent_number))
        return tuple(nodes)

    def entry(self, item: dict, at: DataPath, kind: EntryKind, position: int, parent_number: str) -> Node:
        problems = self.problems
        children = kind.children
        known = sorted([*ENTRY_OPTIONS, children[0]] if children else ENTRY_OPTIONS)
        check_keys(item, known, problems, at, f" in a {kind} entry", f"; known keys: {', '.join(known)}")
        if "title" not in item or item["title"] is None or not str(item["title"]).strip():
            problems.error(f"this {kind} entry needs a 'title'", at)
        values = read_options(item, ENTRY_OPTIONS, problems, at)
        number, node_id = self._number(kind, position, parent_number)
        node_id = values.get("id") or node_id
        if node_id in self.ids:
            first = problems.doc.location(self.ids[node_id]).line
            problems.error(f"duplicate id '{node_id}' (also used on line {first})", at + ("id",) if "id" in item else at)
        self.ids.setdefault(node_id, at)
        file = values.get("file") or None
        if file is not None:
            if file in self.files:
                first = problems.doc.location(self.files[file]).line
                problems.error(f"file '{file}' is already used by the entry on line {first}", at + ("file",))
            self.files.setdefault(file, at + ("file",))
        counter = self._root(kind) if kind.is_chapter else ""
        nodes: tuple[Node, ...] = ()
        if children:
            nodes = self.entries(item.get(children[0]), at + (children[0],), children[1], counter)
        return Node(
            kind,
            values.get("title", ""),
            node_id,
            file,
            values.get("status", "draft"),
            number,
            problems.doc.location(at).line or 0,
            nodes,
            counter,
            values.get("draft_number", ""),
        )

    def check_files(self, root: Path) -> None:
        """A ``file:`` that does not exist while a Markdown file no entry uses has a close name is a typo
        (到来.md for 到來.md): an error at the ``file:`` value with a did-you-mean. A file that is plainly
        missing is a section not yet written, as before."""
        missing = {file: at for file, at in self.files.items() if not (root / file).is_file()}
        if not missing:
            return
        unused = sorted(
            path.relative_to(root).as_posix()
            for path in root.rglob("*.md")
            if path.relative_to(root).as_posix() not in self.files
            and not any(part.startswith(".") or part == "templates" for part in path.relative_to(root).parts)
        )
        for file, at in missing.items():
            close = next((name for name in unused if _typo_of(file, name)), None)
            if close:
                self.problems.error(f"file '{file}' does not exist; did you mean '{close}' (a Markdown file no entry uses)?", at)

    def _number(self, kind: EntryKind, position: int, parent_number: str) -> tuple[str, str]:
        """The printed number and the default id of the next entry of this kind."""
        style = self.numbering
        if kind.is_section:
            return f"{parent_number}.{position}", f"sec-{parent_number.replace('.', '-')}-{position}".lower()
        self.counters[kind] += 1
        n = self.counters[kind]
        if kind == EntryKind.PART:
            return f"第{format_counter(n, style.part)}部分", f"part-{n}"
        if kind == EntryKind.CHAPTER:
            return f"第{format_counter(n, style.chapter)}章", f"ch-{n}"
        if kind == EntryKind.APPENDIX:
            return f"附录{format_counter(n, style.appendix)}", f"app-{format_counter(n, 'alph').lower()}"
        return "", f"{kind}-{n}"

    def _root(self, kind: EntryKind) -> str:
        """What a chapter's or appendix's sections are numbered under: '3' for 第3章 (or 第三章), 'B' for 附录B."""
        if kind == EntryKind.APPENDIX:
            return format_counter(self.counters[kind], "alph")
        return str(self.counters[EntryKind.CHAPTER])
