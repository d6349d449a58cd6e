"""Stage 1: load ``book.yaml`` into a Book: metadata, settings and the numbered outline.

Everything here is plain data; nothing reads the section files yet (that is ``sources``).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from bookgen.errors import ManuscriptError
from bookgen.model.numbering import format_counter
from bookgen.model.yamlpos import DataPath, PositionedYaml, load_yaml

BOOK_FILE = "book.yaml"
_DIMENSION = re.compile(r"^\d+(\.\d+)?(mm|cm|pt|bp|in)$")
_BP_PER_UNIT = {"bp": 1.0, "pt": 72 / 72.27, "mm": 72 / 25.4, "cm": 720 / 25.4, "in": 72.0}
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
STATUSES = ("draft", "truncated", "final")
FONT_SIZES = {"小五": ("-5", 9.0), "五号": ("5", 10.5), "小四": ("-4", 12.0), "四号": ("4", 14.0)}  # body size → (ctex zihao, bp)


def dimension_bp(value: str) -> float:
    """'185mm' → 524.41 (big points, the unit pdfinfo reports)."""
    match = _DIMENSION.match(value)
    assert match, value
    return float(value[: -2]) * _BP_PER_UNIT[match.group(2)]


# ---------------------------------------------------------------- settings (book.yaml sections)

@dataclass(frozen=True)
class Layout:
    """The page grid (house style: a text block measured in characters and lines)."""

    trim_width: str = "185mm"
    trim_height: str = "260mm"
    font_size: str = "五号"  # 10.5bp; 小四 12bp, 小五 9bp …
    chars_per_line: int = 40
    lines_per_page: int = 36
    inner_margin: str = "22mm"
    top_margin: str = "24mm"
    line_spread: float = 1.3
    punctuation: str = "quanjiao"  # ctex punct= style
    footnote_style: str = "arabic"  # arabic | circled
    toc_depth: int = 2  # 1 parts+chapters, 2 with sections
    placeholder: str = "本节待撰写"


@dataclass(frozen=True)
class Fonts:
    serif_cjk: str = "Noto Serif CJK SC"
    sans_cjk: str = "Noto Sans CJK SC"
    bold_cjk: str = "Noto Sans CJK SC Bold"
    kai_cjk: str = "LXGW WenKai"
    mono_cjk: str = "Noto Sans Mono CJK SC"
    serif: str = "Noto Serif"
    sans: str = "Noto Sans"
    mono: str = "Noto Sans Mono"
    math: str = "TeX Gyre Termes Math"


@dataclass(frozen=True)
class Numbering:
    part: str = "chinese"  # 第一部分
    chapter: str = "arabic"  # 第1章; "chinese" gives 第一章
    appendix: str = "alph"  # 附录A


@dataclass(frozen=True)
class PrintSettings:
    """The print profile and the cover (book.yaml `print:`)."""

    bleed: str = "3mm"
    signature: int = 16  # pages per printed sheet: the page count is padded to a multiple
    paper_caliper: str = "0.1mm"  # thickness of one leaf: spine = pages ÷ 2 × caliper
    icc_profile: str = ""  # a CMYK output profile in the manuscript; default: Ghostscript's SWOP profile
    output_condition: str = ""  # e.g. FOGRA39; default: that of the default profile (CGATS TR 001, SWOP)
    cover_color: str = "2B4C7E"  # RGB hex of the cover background
    cover_image: str = ""  # an image in the manuscript filling the cover (under the text)


@dataclass(frozen=True)
class BuildSettings:
    tex_timeout: float = 0.0  # seconds; 0: scale with the book's size (--tex-timeout overrides)


@dataclass(frozen=True)
class BibliographySettings:
    """The reference list (book.yaml `bibliography:`): GB/T 7714 entries, the same text in every output."""

    files: tuple[str, ...] = ()  # .bib (BibTeX/BibLaTeX) and .json (CSL-JSON) files in the manuscript
    style: str = "numeric"  # numeric (顺序编码制) | author-date (著者-出版年制)
    standard: str = "2025"  # GB/T 7714—2025 | 2015
    place: str = "book"  # book: one list at the end, before the index | chapter: at the end of each chapter
    punctuation: str = "standard"  # standard (half-width, as the standard prints) | fullwidth (Chinese entries)
    nocite: tuple[str, ...] = ()  # keys listed but not cited; '*' lists every entry


@dataclass(frozen=True)
class Metadata:
    title: str
    subtitle: str = ""
    authors: tuple[str, ...] = ()
    language: str = "zh-CN"
    keywords: tuple[str, ...] = ()
    abstract: str = ""  # inline text, or the path of a Markdown file in the manuscript
    publisher: str = ""
    isbn: str = ""
    edition: str = ""
    date: str = ""
    rights: str = ""
    slug: str = "book"
    cover: str = ""  # image path inside the manuscript
    price: str = ""  # 定价, e.g. 59.00元
    printing: str = ""  # 印次, e.g. 1

    def identifier(self) -> str:
        """ISBN when set, else a UUID derived from title and authors: the same from build to build."""
        if self.isbn:
            return "urn:isbn:" + re.sub(r"[^0-9Xx]", "", self.isbn)
        seed = "\n".join((self.title, self.subtitle, *self.authors))
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "bookgen:" + seed))


# ---------------------------------------------------------------- the outline

@dataclass(frozen=True)
class Node:
    """One outline entry. ``number`` is computed ('第1章', '1.1', '附录A'); '' when unnumbered."""

    kind: str  # front | part | chapter | section | appendix | appendix-section | back
    title: str
    id: str
    file: str | None  # manuscript-relative POSIX path of its Markdown, if any
    status: str
    number: str
    yaml_line: int
    children: tuple["Node", ...] = ()
    counter: str = ""  # chapters and appendices: what their sections and figures number under ('3', 'B')
    draft_number: str = ""  # the number an imported draft gave this entry, where it differs from bookgen's

    @property
    def heading(self) -> str:
        """The title as printed in headings, TOC and nav: number and title."""
        return f"{self.number} {self.title}" if self.number else self.title


@dataclass(frozen=True)
class Book:
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
    check: dict = field(default_factory=dict)
    source_digest: str = ""  # hash of book.yaml, for caches
    bibliography: BibliographySettings = BibliographySettings()

    @property
    def has_parts(self) -> bool:
        return any(node.kind == "part" for node in self.body)

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


# ---------------------------------------------------------------- validation helpers

_TOP_KEYS = {f.name for f in dataclasses.fields(Metadata)} | {
    "layout", "fonts", "numbering", "build", "print", "front", "parts", "chapters", "appendices", "back", "check",
    "bibliography",
}
_COMMON_KEYS = {"title", "id", "file", "status", "draft_number"}
_ENTRY_KEYS = {
    "part": _COMMON_KEYS | {"chapters"},
    "chapter": _COMMON_KEYS | {"sections"},
    "appendix": _COMMON_KEYS | {"sections"},
    "section": _COMMON_KEYS,
    "appendix-section": _COMMON_KEYS,
    "front": _COMMON_KEYS,
    "back": _COMMON_KEYS,
}


class _Reader:
    """Checks values of a PositionedYaml and raises ManuscriptErrors that point at them."""

    def __init__(self, doc: PositionedYaml):
        self.doc = doc

    def fail(self, message: str, at: DataPath) -> ManuscriptError:
        return ManuscriptError(message, self.doc.location(at))

    def check_keys(self, mapping: dict, allowed: set[str], at: DataPath, what: str) -> None:
        for key in mapping:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                known = ", ".join(sorted(allowed))
                raise ManuscriptError(
                    f"unknown key '{key}' in {what}{suggestion}; known keys: {known}",
                    self.doc.location(at + (key, "__key__")),
                )

    def mapping(self, value: Any, at: DataPath, what: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be a mapping (key: value lines), not {_kind(value)}", at)
        return value

    def sequence(self, value: Any, at: DataPath, what: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{what} must be a list (lines starting with '- '), not {_kind(value)}", at)
        return value

    def text(self, value: Any, at: DataPath, what: str) -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            raise self.fail(f"{what} must be text, not {_kind(value)}", at)
        return str(value).strip()  # numbers and dates are fine as text (edition: 1, date: 2024-05-01)

    def texts(self, value: Any, at: DataPath, what: str) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value.strip(),) if value.strip() else ()
        return tuple(self.text(item, at + (i,), f"{what} item") for i, item in enumerate(self.sequence(value, at, what)))

    def path(self, value: Any, at: DataPath, what: str, root: Path) -> str:
        """A manuscript-relative file path that stays inside the manuscript directory."""
        raw = self.text(value, at, what)
        posix = PurePosixPath(raw.replace("\\", "/"))
        if posix.is_absolute() or re.match(r"^[A-Za-z]:", raw):
            raise self.fail(f"{what} '{raw}' is an absolute path; give it relative to the manuscript directory", at)
        if ".." in posix.parts:
            raise self.fail(f"{what} '{raw}' leads out of the manuscript directory ('..' is not allowed)", at)
        resolved = (root / posix).resolve()
        if not resolved.is_relative_to(root.resolve()):
            raise self.fail(f"{what} '{raw}' leads out of the manuscript directory (through a symbolic link)", at)
        return str(posix)

    def settings(self, cls: type, value: Any, at: DataPath) -> Any:
        """Build a settings dataclass from a mapping, checking keys and the type of each value."""
        if value is None:
            return cls()
        mapping = self.mapping(value, at, at[-1])
        names = {f.name: f for f in dataclasses.fields(cls)}
        self.check_keys(mapping, set(names), at, f"'{at[-1]}'")
        kwargs = {}
        for key, raw in mapping.items():
            default = names[key].default
            where = at + (key,)
            if isinstance(default, bool):
                ok = isinstance(raw, bool)
            elif isinstance(default, int):
                ok = isinstance(raw, int) and not isinstance(raw, bool) and raw > 0
            elif isinstance(default, float):
                ok = isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0
            else:
                ok = isinstance(raw, str) and bool(raw.strip())
            is_length = isinstance(default, str) and key.endswith(("_width", "_height", "_margin", "bleed", "caliper"))
            if is_length and not (isinstance(raw, str) and _DIMENSION.match(raw)):
                raise self.fail(f"'{key}' must be a length like 185mm or 10.5bp, not '{raw}'", where)
            if not ok:
                expected = type(default).__name__.replace("str", "text").replace("int", "a positive whole number").replace("float", "a positive number")
                raise self.fail(f"'{key}' must be {expected}, not {_kind(raw)}", where)
            kwargs[key] = float(raw) if isinstance(default, float) else raw
        return cls(**kwargs)


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    return {dict: "a mapping", list: "a list", str: f"text '{value}'", bool: f"'{value}'"}.get(type(value), repr(value))


# ---------------------------------------------------------------- loading

def load_book(manuscript_dir: Path) -> Book:
    """Read and validate ``manuscript_dir/book.yaml``; number the outline."""
    root = manuscript_dir.resolve()
    yaml_path = manuscript_dir / BOOK_FILE
    doc = load_yaml(yaml_path)
    reader = _Reader(doc)
    top = reader.mapping(doc.data, (), BOOK_FILE)
    reader.check_keys(top, _TOP_KEYS, (), BOOK_FILE)

    if not reader.text(top.get("title"), ("title",), "title"):
        raise ManuscriptError("book.yaml needs a 'title'", doc.location(()))
    meta_fields = {f.name: f for f in dataclasses.fields(Metadata)}
    meta: dict[str, Any] = {}
    for key in meta_fields:
        if key not in top:
            continue
        if key in ("authors", "keywords"):
            meta[key] = reader.texts(top[key], (key,), key)
        elif key == "cover" and top[key]:
            meta[key] = reader.path(top[key], (key,), key, root)
        else:
            meta[key] = reader.text(top[key], (key,), key)
    if "slug" in meta and not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", meta["slug"]):
        raise reader.fail("'slug' names the output files: use Latin letters, digits, '-', '_' or '.'", ("slug",))
    if "language" in meta and not re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", meta["language"]):
        raise reader.fail(f"'language' must be a language tag like zh-CN, not '{meta['language']}'", ("language",))
    metadata = Metadata(**{k: v for k, v in meta.items() if v != "" or k == "title"})

    layout = reader.settings(Layout, top.get("layout"), ("layout",))
    _check_choice(reader, layout.punctuation, ("quanjiao", "banjiao", "kaiming", "CCT", "plain"), ("layout", "punctuation"))
    _check_choice(reader, layout.font_size, tuple(FONT_SIZES), ("layout", "font_size"))
    _check_choice(reader, layout.footnote_style, ("arabic", "circled"), ("layout", "footnote_style"))
    fonts = reader.settings(Fonts, top.get("fonts"), ("fonts",))
    numbering = reader.settings(Numbering, top.get("numbering"), ("numbering",))
    build_settings = reader.settings(BuildSettings, top.get("build"), ("build",))
    press = reader.settings(PrintSettings, top.get("print"), ("print",))
    for key in ("icc_profile", "cover_image"):
        if getattr(press, key):
            reader.path(getattr(press, key), ("print", key), key, root)
    if not re.match(r"^[0-9A-Fa-f]{6}$", press.cover_color):
        raise reader.fail("'cover_color' must be an RGB hex colour like 2B4C7E", ("print", "cover_color"))
    if metadata.isbn:
        problem = isbn_problem(metadata.isbn)
        if problem:
            raise reader.fail(problem, ("isbn",))
    for key in ("part", "chapter"):
        _check_choice(reader, getattr(numbering, key), ("arabic", "chinese"), ("numbering", key))
    _check_choice(reader, numbering.appendix, ("alph",), ("numbering", "appendix"))

    if "parts" in top and "chapters" in top:
        raise reader.fail("give either 'parts' (with chapters inside) or 'chapters', not both", ("chapters", "__key__"))
    outline = _OutlineReader(reader, root, numbering)
    front = outline.entries(top.get("front"), ("front",), "front")
    if "parts" in top:
        body = outline.entries(top.get("parts"), ("parts",), "part")
    else:
        body = outline.entries(top.get("chapters"), ("chapters",), "chapter")
    appendices = outline.entries(top.get("appendices"), ("appendices",), "appendix")
    back = outline.entries(top.get("back"), ("back",), "back")
    check = reader.mapping(top.get("check") or {}, ("check",), "check")

    bibliography = _bibliography(reader, top.get("bibliography"), root)

    digest = hashlib.sha256(yaml_path.read_bytes()).hexdigest()
    return Book(root, metadata, layout, fonts, numbering, build_settings, press, front, body, appendices, back, check, digest,
                bibliography)


def _bibliography(reader: _Reader, value: Any, root: Path) -> BibliographySettings:
    """`bibliography:` as a file, a list of files, or a mapping with files, style, standard, place, punctuation, nocite."""
    at: DataPath = ("bibliography",)
    if value is None:
        return BibliographySettings()
    if not isinstance(value, dict):
        value = {"files": value}
    reader.check_keys(value, {f.name for f in dataclasses.fields(BibliographySettings)}, at, "'bibliography'")
    files = tuple(reader.path(f, at + ("files", i), "bibliography file", root)
                  for i, f in enumerate(reader.texts(value.get("files"), at + ("files",), "files")))
    for i, name in enumerate(files):
        if not name.lower().endswith((".bib", ".json")):
            raise reader.fail(f"bibliography file '{name}' must be BibTeX (.bib) or CSL-JSON (.json)", at + ("files", i))
    options = {key: reader.text(value[key], at + (key,), key) for key in ("style", "standard", "place", "punctuation")
               if key in value}
    settings = BibliographySettings(files, nocite=reader.texts(value.get("nocite"), at + ("nocite",), "nocite"), **options)
    for key, choices in (("style", ("numeric", "author-date")), ("standard", ("2025", "2015")),
                         ("place", ("book", "chapter")), ("punctuation", ("standard", "fullwidth"))):
        _check_choice(reader, getattr(settings, key), choices, at + (key,))
    return settings


def isbn_problem(isbn: str) -> str | None:
    """Why an ISBN-13 is wrong (length, prefix, check digit), or None."""
    digits = re.sub(r"[\s-]", "", isbn)
    if not re.fullmatch(r"97[89]\d{10}", digits):
        return f"isbn '{isbn}' must be an ISBN-13: 13 digits starting with 978 or 979 (hyphens allowed)"
    expected = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits[:12])) % 10) % 10
    if int(digits[12]) != expected:
        return f"isbn '{isbn}' has the check digit {digits[12]}; it should be {expected}"
    return None


def _check_choice(reader: _Reader, value: str, choices: tuple[str, ...], at: DataPath) -> None:
    if value not in choices:
        raise reader.fail(f"'{at[-1]}' must be one of {', '.join(choices)}, not '{value}'", at)


_CHILD_KIND = {"part": ("chapters", "chapter"), "chapter": ("sections", "section"), "appendix": ("sections", "appendix-section")}


class _OutlineReader:
    """Turns the outline lists of book.yaml into numbered Nodes, checking ids and files."""

    def __init__(self, reader: _Reader, root: Path, numbering: Numbering):
        self.reader = reader
        self.root = root
        self.numbering = numbering
        self.counters = {"part": 0, "chapter": 0, "appendix": 0, "front": 0, "back": 0}
        self.ids: dict[str, DataPath] = {}
        self.files: dict[str, DataPath] = {}

    def entries(self, value: Any, at: DataPath, kind: str, parent_number: str = "") -> tuple[Node, ...]:
        items = self.reader.sequence(value, at, at[-1])
        nodes = []
        for index, item in enumerate(items):
            where = at + (index,)
            if isinstance(item, str):  # shorthand: a bare title
                item = {"title": item}
            nodes.append(self.entry(self.reader.mapping(item, where, f"{kind} entry"), where, kind, index + 1, parent_number))
        return tuple(nodes)

    def entry(self, item: dict, at: DataPath, kind: str, position: int, parent_number: str) -> Node:
        reader = self.reader
        reader.check_keys(item, _ENTRY_KEYS[kind], at, f"a {kind} entry")
        title = reader.text(item.get("title"), at + ("title",), "title")
        if not title:
            raise reader.fail(f"this {kind} entry needs a 'title'", at)
        number, node_id = self._number(kind, position, parent_number)
        if "id" in item:
            node_id = reader.text(item["id"], at + ("id",), "id")
            if not _ID.match(node_id):
                raise reader.fail(f"id '{node_id}' must start with a Latin letter and use only letters, digits, '-' and '_'", at + ("id",))
        if node_id in self.ids:
            first = self.reader.doc.location(self.ids[node_id]).line
            raise reader.fail(f"duplicate id '{node_id}' (also used on line {first})", at + ("id",) if "id" in item else at)
        self.ids[node_id] = at
        file = None
        if item.get("file"):
            file = reader.path(item["file"], at + ("file",), "file", self.root)
            if not file.endswith(".md"):
                raise reader.fail(f"file '{file}' must be a Markdown file ending in .md", at + ("file",))
            if file in self.files:
                first = self.reader.doc.location(self.files[file]).line
                raise reader.fail(f"file '{file}' is already used by the entry on line {first}", at + ("file",))
            self.files[file] = at + ("file",)
        status = reader.text(item.get("status"), at + ("status",), "status") or "draft"
        if status not in STATUSES:
            raise reader.fail(f"status must be one of {', '.join(STATUSES)}, not '{status}'", at + ("status",))
        counter = number_root(kind, self.counters) if kind in ("chapter", "appendix") else ""
        children: tuple[Node, ...] = ()
        if kind in _CHILD_KIND:
            key, child_kind = _CHILD_KIND[kind]
            children = self.entries(item.get(key), at + (key,), child_kind, counter)
        draft_number = reader.text(item.get("draft_number"), at + ("draft_number",), "draft_number")
        return Node(kind, title, node_id, file, status, number, self.reader.doc.location(at).line or 0, children, counter, draft_number)

    def _number(self, kind: str, position: int, parent_number: str) -> tuple[str, str]:
        """The printed number and the default id of the next entry of this kind."""
        style = self.numbering
        if kind in ("section", "appendix-section"):
            return f"{parent_number}.{position}", f"sec-{parent_number.replace('.', '-')}-{position}".lower()
        self.counters[kind] += 1
        n = self.counters[kind]
        if kind == "part":
            return f"第{format_counter(n, style.part)}部分", f"part-{n}"
        if kind == "chapter":
            return f"第{format_counter(n, style.chapter)}章", f"ch-{n}"
        if kind == "appendix":
            return f"附录{format_counter(n, style.appendix)}", f"app-{format_counter(n, 'alph').lower()}"
        return "", f"{kind}-{n}"


def number_root(kind: str, counters: dict[str, int]) -> str:
    """What a chapter's or appendix's sections are numbered under: '3' for 第3章 (or 第三章), 'B' for 附录B."""
    if kind == "appendix":
        return format_counter(counters["appendix"], "alph")
    return str(counters["chapter"])
