"""The book-wide label table: every labelled object and outline entry with its number and printed form.

Walks the sections in book order (as the book is assembled) over refs.lua's summaries and numbers
captioned figures, tables and code listings and labelled display equations per chapter (图1.1,
表A.2, 式(1.1), 代码1.1), headings inside sections (第1.2.1节); outline entries whose id starts with
``sec-`` are sections (第3.2节, A.1节), chapters (第3章), parts (第二部分) or appendices (附录A). The
same counting rules are LaTeX's (figures, tables, equations and listings per chapter; \\subsection
numbered), so the PDF's own caption numbers equal the table's; tests compare them.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from bookgen.model.book import Book, EntryKind, Node
from bookgen.model.numbering import format_counter
from bookgen.model.settings import CrossRef
from bookgen.sources.convert import Converted
from bookgen.xref.kinds import OBJECT_KINDS, RefKind


class Place(Enum):
    """What a Site points at in the author's files."""

    REFERENCE = "reference"  # @label in a section's text
    DEFINITION = "definition"  # {#label} in a section's text
    OUTLINE = "outline"  # id: label in book.yaml


@dataclass(frozen=True)
class Site:
    """Where a label or a reference is: in ``node``'s file (or, OUTLINE, its book.yaml entry), the
    ``occurrence``-th (0-based) place of that kind for ``label``. bookgen.xref.places turns it into
    a line and column."""

    node: Node
    label: str
    place: Place
    occurrence: int = 0


@dataclass(frozen=True)
class Problem:
    """A cross-reference problem (rule code X001…); ``other``: a second place the message names."""

    code: str
    message: str
    site: Site
    other: Site | None = None


@dataclass(frozen=True)
class Form:
    """A printed reference: words around a number (第, 3.2, 节). The PDF boxes the number, so that no
    CJK–Latin space comes between 图 and 1.2."""

    before: str
    number: str
    after: str = ""

    @property
    def text(self) -> str:
        return self.before + self.number + self.after

    @property
    def bare(self) -> Form:
        """The number alone ([-@fig-a]: 1.2)."""
        return Form("", self.number)

    @classmethod
    def of_template(cls, template: str, number: str) -> Form:
        """'第{}节', '3.2' → 第 3.2 节 (crossref: templates hold '{}' once)."""
        before, _, after = template.partition("{}")
        return cls(before, number, after)


@dataclass(frozen=True)
class Target:
    """What a label stands for: its printed form (图1.2), where it is, and whether it is an outline
    entry (linked through the heading's own LaTeX label) or an object in a section."""

    label: str
    kind: RefKind
    form: Form
    node: Node
    entry: bool
    site: Site


@dataclass(frozen=True)
class Numbered:
    """A numbered object in a section's text: its printed form and its anchor (label or generated id)."""

    form: Form
    anchor: str
    labelled: bool


@dataclass(frozen=True)
class LabelTable:
    """Labels → targets; per node id and object type (refs.lua's "figure", "table", "equation",
    "listing"), the number of each such object in order (None: not numbered); the problems found."""

    words: CrossRef
    targets: dict[str, Target] = field(default_factory=dict)
    numbered: dict[str, dict[str, list[Numbered | None]]] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    def group(self, labels: list[str], bare: bool) -> list[tuple[Target, Form] | str]:
        """A reference group as printed: (target, its form) items joined by the book's words
        (图1.1、图1.2和图1.3). Raises KeyError for an unknown label (the check reports it first)."""
        items: list[tuple[Target, Form] | str] = []
        for index, label in enumerate(labels):
            if index:
                items.append(self.words.conjunction if index == len(labels) - 1 else self.words.separator)
            target = self.targets[label]
            items.append((target, target.form.bare if bare else target.form))
        return items


def chapters_in_order(book: Book) -> Iterator[tuple[Node, Node | None]]:
    """Every outline node in reading order with the chapter or appendix it is numbered under (None in
    front and back matter and on part pages)."""
    chapter: Node | None = None
    for node in book.nodes():
        if node.kind.is_chapter:
            chapter = node
        elif not node.kind.is_section:
            chapter = None
        yield node, chapter


class _Numbering:
    """Builds a LabelTable; see the module's docstring."""

    def __init__(self, book: Book):
        self.book = book
        self.words = book.crossref
        self.targets: dict[str, Target] = {}
        self.problems: list[Problem] = []
        self.occurrences: Counter[tuple[str, str, Place]] = Counter()

    def site(self, node: Node, label: str, place: Place) -> Site:
        key = (node.id, label, place)
        site = Site(node, label, place, self.occurrences[key])
        self.occurrences[key] += 1
        return site

    def define(self, target: Target) -> None:
        first = self.targets.get(target.label)
        if first is not None:
            self.problems.append(Problem("X002", f"duplicate label #{target.label} (also defined at {{other}})", target.site, first.site))
            return
        self.targets[target.label] = target

    def outline(self) -> None:
        words, numbering = self.words, self.book.numbering
        parts = 0
        for node, _ in chapters_in_order(self.book):
            parts += node.kind == EntryKind.PART
            if RefKind.of_label(node.id) != RefKind.SECTION:
                continue
            site = self.site(node, node.id, Place.OUTLINE)
            if node.kind == EntryKind.PART:
                form = Form.of_template(words.part, format_counter(parts, numbering.part))
            elif node.kind == EntryKind.CHAPTER:
                form = Form.of_template(words.chapter, format_counter(int(node.counter), numbering.chapter))
            elif node.kind == EntryKind.APPENDIX:
                form = Form.of_template(words.appendix, node.counter)
            elif node.kind.is_section:
                form = self.forms(RefKind.SECTION, node.number, node)
            else:
                self.problems.append(Problem("X006", f"label #{node.id} is on {node.title}, which has no number", site))
                continue
            self.define(Target(node.id, RefKind.SECTION, form, node, True, site))

    def text_objects(self, converted: dict[str, Converted]) -> dict[str, dict[str, list[Numbered | None]]]:
        numbered: dict[str, dict[str, list[Numbered | None]]] = {}
        counts: Counter[str] = Counter()
        current: Node | None = None
        for node, chapter in chapters_in_order(self.book):
            if chapter is not current:
                counts.clear()
                current = chapter
            section = converted.get(node.id)
            if section is None:
                continue
            subsections = 0
            per_type: dict[str, list[Numbered | None]] = {}
            for target in section.xref.get("targets") or []:
                kind_name, label = target["kind"], target["label"]
                number = None
                if kind_name == "heading":
                    if node.kind.is_section and target["level"] == 2 and target["numbered"]:
                        subsections += 1
                        number = f"{node.number}.{subsections}"
                elif kind_name in OBJECT_KINDS and chapter is not None and (kind_name == "equation" or target["caption"]):
                    counts[kind_name] += 1
                    number = f"{chapter.counter}.{counts[kind_name]}"
                entry = self.object(node, kind_name, label, number, target.get("element", ""))
                if kind_name != "heading" and kind_name in OBJECT_KINDS:
                    per_type.setdefault(kind_name, []).append(entry)
            if per_type:
                numbered[node.id] = per_type
        return numbered

    def object(self, node: Node, kind_name: str, label: str, number: str | None, element: str) -> Numbered | None:
        """Define ``label`` (if any) for one object of refs.lua's type ``kind_name`` (``element``: the pandoc
        element of an "other"); its Numbered."""
        kind = OBJECT_KINDS.get(kind_name)
        entry = None
        if number is not None and kind is not None:
            entry = Numbered(self.forms(kind, number, node), label or f"{kind.value}-{number}", bool(label))
        if not label:
            return entry
        site = self.site(node, label, Place.DEFINITION)
        named = RefKind.of_label(label)
        if kind is None or entry is None:
            self.problems.append(Problem("X006", f"label #{label} is on {_UNNUMBERED.get(element or kind_name, 'an element')}", site))
            return entry
        if named != kind:
            self.problems.append(
                Problem("X004", f"label #{label} is on a {kind.object_name}: a {kind.object_name}'s label starts with {kind.value}-", site)
            )
        self.define(Target(label, kind, entry.form, node, False, site))
        return entry

    def forms(self, kind: RefKind, number: str, node: Node) -> Form:
        """The printed form of an object numbered ``number`` in ``node``'s text (or of section ``node``)."""
        words = self.words
        if kind == RefKind.EQUATION:
            return Form(words.equation, f"({number})")
        if kind == RefKind.SECTION:
            in_appendix = node.kind == EntryKind.APPENDIX_SECTION or node.kind == EntryKind.APPENDIX
            return Form.of_template(words.appendix_section if in_appendix else words.section, number)
        word = {RefKind.FIGURE: words.figure, RefKind.TABLE: words.table, RefKind.LISTING: words.listing}[kind]
        return Form(word, number)

    def references(self, converted: dict[str, Converted]) -> None:
        used: set[str] = set()
        known = sorted(self.targets)
        for node, _ in chapters_in_order(self.book):
            section = converted.get(node.id)
            for reference in (section.xref.get("references") or []) if section else []:
                for label in reference["labels"]:
                    site = self.site(node, label, Place.REFERENCE)
                    used.add(label)
                    if label not in self.targets:
                        close = difflib.get_close_matches(label, known, n=1)
                        hint = f" (did you mean @{close[0]}?)" if close else ""
                        self.problems.append(Problem("X001", f"unknown reference @{label}{hint}", site))
        for label, target in self.targets.items():
            if label not in used and not _default_id(target):
                self.problems.append(Problem("X003", f"label #{label} is never referenced", target.site))


# Why a labelled element has no number, by refs.lua's type (or, for "other", the pandoc element).
_UNNUMBERED = {
    "Image": "an image without a caption: a figure is an image with a caption, alone in its paragraph",
    "CodeBlock": 'a code block without a caption: give it caption="…"',
    "heading": "a heading bookgen does not number (only '#' headings in a section file are: 1.1.1)",
    "figure": "a figure outside the chapters and appendices, which has no number",
    "table": "a table outside the chapters and appendices, which has no number",
    "equation": "an equation outside the chapters and appendices, which has no number",
    "listing": "a code listing outside the chapters and appendices, which has no number",
}


def _default_id(target: Target) -> bool:
    """Whether an outline entry's id is the one bookgen gives it (sec-1-2): not a label the author set."""
    node = target.node
    return target.entry and node.kind.is_section and node.id == "sec-" + node.number.replace(".", "-").lower()


def collect_labels(book: Book, converted: dict[str, Converted]) -> LabelTable:
    """The label table of a book from its converted sections, with every problem found (X001–X004, X006)."""
    numbering = _Numbering(book)
    numbering.outline()
    numbered = numbering.text_objects(converted)
    numbering.references(converted)
    return LabelTable(book.crossref, numbering.targets, numbered, tuple(numbering.problems))
