"""Stage 1: load ``book.yaml`` into a Book: metadata, settings and the numbered outline.

Everything here is plain data; nothing reads the section files yet (that is ``sources``). The keys
are declared in ``model.settings`` (sections) and ``model.outline`` (entries); one validation pass
collects every problem with its ``book.yaml:LINE:COL``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bookgen.errors import Location, display_path
from bookgen.model.geometry import Geometry
from bookgen.model.options import Problems, check_keys, declared, describe, read_options
from bookgen.model.outline import OUTLINE_KEYS, EntryKind, Node, OutlineReader
from bookgen.model.settings import (
    FONT_SIZES,
    SECTIONS,
    Accessibility,
    BibliographySettings,
    BuildSettings,
    CheckOptions,
    CrossRef,
    Fonts,
    GlossarySettings,
    HtmlSettings,
    IndexSettings,
    Layout,
    Metadata,
    Numbering,
    PrintSettings,
)
from bookgen.model.yamlpos import DataPath, PositionedYaml, load_yaml

BOOK_FILE = "book.yaml"
TOP_LEVEL_KEYS = [*declared(Metadata), *SECTIONS, *OUTLINE_KEYS]

__all__ = ["BOOK_FILE", "FONT_SIZES", "BibliographySettings", "Book", "EntryKind", "Metadata", "Node", "load_book"]


@dataclass(frozen=True)
class Book:
    """A loaded manuscript: ``root`` its directory (absolute), settings by book.yaml section, the outline."""

    root: Path
    metadata: Metadata
    layout: Layout
    fonts: Fonts
    numbering: Numbering
    build: BuildSettings
    press: PrintSettings
    front: tuple[Node, ...]
    body: tuple[Node, ...]  # parts, or chapters when the book has no parts
    appendices: tuple[Node, ...]
    back: tuple[Node, ...]
    yaml: PositionedYaml = field(compare=False, repr=False)  # book.yaml with positions, for later messages
    check: CheckOptions = field(default_factory=CheckOptions)
    source_digest: str = ""  # hash of book.yaml, for caches
    crossref: CrossRef = field(default_factory=CrossRef)
    html: HtmlSettings = field(default_factory=HtmlSettings)
    accessibility: Accessibility = field(default_factory=Accessibility)
    bibliography: BibliographySettings = field(default_factory=BibliographySettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    glossary: GlossarySettings = field(default_factory=GlossarySettings)

    @cached_property
    def geometry(self) -> Geometry:
        """The print page geometry (trim, bleed, text block, media) from layout and print; computed once."""
        return Geometry.from_settings(self.layout, self.press)

    @property
    def has_parts(self) -> bool:
        return any(node.kind == EntryKind.PART for node in self.body)

    def display(self, file: str) -> str:
        """How messages name ``file`` (manuscript-relative): see errors.display_path."""
        return display_path(self.root / file)

    def location(self, at: DataPath) -> Location:
        """Where the value at data path ``at`` is in book.yaml (line and column when known)."""
        return self.yaml.location(at)

    def nodes(self) -> Iterator[Node]:
        """Every outline node in reading order."""

        def walk(nodes: tuple[Node, ...]) -> Iterator[Node]:
            for node in nodes:
                yield node
                yield from walk(node.children)

        for group in (self.front, self.body, self.appendices, self.back):
            yield from walk(group)

    def files(self) -> list[Node]:
        """Nodes that name a Markdown file, in reading order."""
        return [node for node in self.nodes() if node.file]


def load_book(manuscript_dir: Path) -> Book:
    """Read and validate ``manuscript_dir/book.yaml``; number the outline.

    Raises ManuscriptError listing every problem, one per line as ``book.yaml:LINE:COL: message``
    (the error's own location is the first one's); files book.yaml names (cover, abstract, ICC
    profile, cover image) must exist, section files need not (missing = not yet written).
    """
    root = manuscript_dir.resolve()
    yaml_path = manuscript_dir / BOOK_FILE
    doc = load_yaml(yaml_path)
    problems = Problems(doc, root)
    top = doc.data
    if not isinstance(top, dict):
        problems.error(f"{BOOK_FILE} must be a mapping (key: value lines), not {describe(top)}", ())
        top = {}
    check_keys(top, TOP_LEVEL_KEYS, problems, (), f" in {BOOK_FILE}", f"; known keys: {', '.join(sorted(TOP_LEVEL_KEYS))}")
    if top.get("title") is None or not str(top["title"]).strip():
        problems.error("book.yaml needs a 'title'", ())
    metadata = Metadata(**read_options(top, declared(Metadata), problems, ()))
    sections = read_options(top, SECTIONS, problems, ())
    numbering = sections.get("numbering", Numbering())

    if "parts" in top and "chapters" in top:
        problems.error("give either 'parts' (with chapters inside) or 'chapters', not both", ("chapters", "__key__"))
    outline = OutlineReader(problems, numbering)
    lists = {
        key: outline.entries(top.get(key), (key,), kind) for key, kind in OUTLINE_KEYS.items() if key != "chapters" or "parts" not in top
    }
    outline.check_files(root)
    problems.raise_if_any()

    digest = hashlib.sha256(yaml_path.read_bytes()).hexdigest()
    return Book(
        root,
        metadata,
        sections.get("layout", Layout()),
        sections.get("fonts", Fonts()),
        numbering,
        sections.get("build", BuildSettings()),
        sections.get("print", PrintSettings()),
        lists["front"],
        lists.get("parts") or lists.get("chapters", ()),
        lists["appendices"],
        lists["back"],
        doc,
        sections.get("check", CheckOptions()),
        digest,
        sections.get("crossref", CrossRef()),
        sections.get("html", HtmlSettings()),
        sections.get("accessibility", Accessibility()),
        sections.get("bibliography", BibliographySettings()),
        sections.get("index", IndexSettings()),
        sections.get("glossary", GlossarySettings()),
    )
