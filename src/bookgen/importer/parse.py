"""``bookgen import``: a one-file Markdown draft → a manuscript (book.yaml + one Markdown file per entry).

Never loses or invents text: every draft line that is not a removed artifact, a title-block field or
an outline/structure heading lands in exactly one output file, byte for byte (headings inside a
section only lose their hand-written numbers and are re-levelled to the section file's scale).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from bookgen.errors import Location, ManuscriptError
from bookgen.fsutil import write_atomic
from bookgen.importer.draft import (
    ABSTRACT_FIELD,
    KEYWORDS_FIELD,
    LIST_ITEM,
    OUTLINE_TITLE,
    TITLE_FIELD,
    Classified,
    Line,
    Removal,
    classify,
    clean_lines,
    fenced_lines,
    normalize,
)
from bookgen.model.book import BOOK_FILE, load_book
from bookgen.sources.reading import decode_markdown
from bookgen.textrules import CJK_CHAR, HEADING, PAUSES, ends_mid_sentence, strip_markup

CHAPTER_LIKE = ("chapter", "appendix", "front", "back")
SECTION_LIKE = ("section", "appendix-section")
_UNSAFE_IN_NAMES = re.compile(r"[<>:\"/\\|?*\x00-\x1f]+")
_THEMATIC_BREAK = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")


@dataclass
class DraftEntry:
    kind: str  # front | part | chapter | section | appendix | appendix-section | back
    title: str
    draft_number: str
    line: int
    children: list[DraftEntry] = field(default_factory=list)
    text: list[Line] = field(default_factory=list)
    status: str = "draft"
    file: str = ""
    mismatched_number: bool = False  # the draft's number differs from the one bookgen computes


@dataclass(frozen=True)
class Renumbered:
    """A heading inside a section whose hand-written number the import dropped (bookgen numbers it)."""

    line: int  # 1-based draft line
    number: str
    title: str


@dataclass
class OutlinePlace:
    """Where the outline being read has got to: the current part and chapter (or front/back entry)."""

    part: DraftEntry | None = None
    chapter: DraftEntry | None = None


@dataclass
class DraftBook:
    title: str = ""
    subtitle: str = ""
    keywords: list[str] = field(default_factory=list)
    abstract: list[Line] = field(default_factory=list)
    front: list[DraftEntry] = field(default_factory=list)
    parts: list[DraftEntry] = field(default_factory=list)
    chapters: list[DraftEntry] = field(default_factory=list)  # when the draft has no parts
    appendices: list[DraftEntry] = field(default_factory=list)
    back: list[DraftEntry] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    renumbered: list[Renumbered] = field(default_factory=list)  # hand-written numbers removed from headings inside sections
    chapter_numerals: str = "arabic"
    part_numerals: str = "chinese"

    def entries(self) -> list[DraftEntry]:
        out: list[DraftEntry] = []

        def walk(items: list[DraftEntry]) -> None:
            for item in items:
                out.append(item)
                walk(item.children)

        for group in (self.front, self.parts, self.chapters, self.appendices, self.back):
            walk(group)
        return out


# ---------------------------------------------------------------- parsing


class _Parser:
    def __init__(self, text: str, name: str):
        self.name = name
        self.lines, removals = clean_lines(text)
        self.book = DraftBook(removals=removals)
        self.fenced = fenced_lines(self.lines)

    def heading(self, index: int) -> tuple[int, str] | None:
        if index in self.fenced:
            return None
        match = HEADING.match(self.lines[index].text)
        return (len(match.group(1)), match.group(2)) if match else None

    def parse(self) -> DraftBook:
        outline_at = next(
            (i for i in range(len(self.lines)) if (h := self.heading(i)) and OUTLINE_TITLE.search(h[1]) and len(strip_markup(h[1])) <= 80),
            None,
        )
        if outline_at is None:
            body_at = next(
                (i for i in range(len(self.lines)) if (h := self.heading(i)) and classify(h[1]).kind not in ("other",)), len(self.lines)
            )
            self.title_block(0, body_at)
        else:
            self.title_block(0, outline_at)
            if not self.book.title:
                outline_heading = self.heading(outline_at)
                inside = re.search(r"《(.+?)》", outline_heading[1]) if outline_heading else None
                if inside:
                    self.set_title(inside.group(1))
            body_at = self.outline(outline_at + 1)
        self.body(body_at)
        self.mark_truncation()
        return self.book

    # -- the title block ------------------------------------------------------------------------
    def set_title(self, text: str) -> None:
        title = strip_markup(text).strip("《》 ")
        main, _, sub = title.partition("：") if "：" in title else title.partition(":")
        self.book.title, self.book.subtitle = main.strip(), sub.strip()  # 主书名：副书名

    def title_block(self, start: int, end: int) -> None:
        field_kind = ""
        for index in range(start, end):
            line = self.lines[index]
            heading = self.heading(index)
            text = strip_markup(heading[1] if heading else line.text.strip())
            if not text:
                continue
            for kind, pattern in (("title", TITLE_FIELD), ("keywords", KEYWORDS_FIELD), ("abstract", ABSTRACT_FIELD)):
                match = pattern.match(text)
                if match and (heading or match.group(2) or len(text) <= 8):
                    field_kind = kind
                    value = match.group(2).strip()
                    if value:
                        self.field_value(kind, value, line)
                    break
            else:
                if heading and heading[0] == 1 and not self.book.title and field_kind != "title":
                    self.set_title(text)
                    field_kind = ""
                elif field_kind:
                    self.field_value(field_kind, text, line)
                    if field_kind == "title":
                        field_kind = ""
                else:
                    self.book.warnings.append(f"{self.name}:{line.number}: text before the outline kept as front matter 前言")
                    if not self.book.front:
                        self.book.front.append(DraftEntry("front", "前言", "", line.number))
                    self.book.front[0].text.append(line)

    def field_value(self, kind: str, value: str, line: Line) -> None:
        if kind == "title" and not self.book.title:
            self.set_title(value)
        elif kind == "keywords":
            item = LIST_ITEM.match(line.text)
            words = [item.group(2).strip()] if item else re.split(r"[,，、;；]\s*|\s{2,}", value)
            self.book.keywords.extend(strip_markup(w) for w in words if w.strip())
        elif kind == "abstract":
            self.book.abstract.append(line)

    # -- the outline ----------------------------------------------------------------------------
    def outline(self, start: int) -> int:
        """Read the outline's headings or list items; return where the body begins."""
        seen: set[str] = set()
        level_kinds: dict[int, str] = {}
        state = OutlinePlace()
        index = start
        while index < len(self.lines):
            line = self.lines[index]
            heading = self.heading(index)
            item = None if heading else LIST_ITEM.match(line.text)
            if _THEMATIC_BREAK.match(line.text) and index not in self.fenced:
                return index + 1
            if not line.text.strip():
                index += 1
                continue
            if not heading and not item:
                self.book.warnings.append(f"{self.name}:{line.number}: body text began without a heading repeating the outline")
                return index
            if heading:
                text, level = heading[1], heading[0]
            else:
                assert item is not None  # one of the two, see above
                text, level = item.group(2), 10 + len(item.group(1).expandtabs(4)) // 2
            classified = classify(text)
            key = classified.kind + normalize(classified.title)
            if key in seen and classified.kind != "other":
                return index  # the first outline title again: the body starts here
            seen.add(key)
            kind = classified.kind
            if kind == "other":
                kind = level_kinds.get(level, "section" if state.chapter else "chapter")
                classified = Classified(kind, "", classified.title)
            else:
                level_kinds.setdefault(level, kind)
            self.place(classified, line.number, state)
            index += 1
        return index

    def place(self, item: Classified, line: int, state: OutlinePlace) -> None:
        """Put an outline item into the tree being built; an appendix group only moves ``state``, a sub-heading nothing."""
        self.note_numerals(item)
        if item.kind == "appendix-group":
            state.part, state.chapter = None, None
        elif item.kind != "subsection":  # sub-headings live inside section files, not in the outline
            self.add(item, line, state)

    def add(self, item: Classified, line: int, state: OutlinePlace) -> DraftEntry:
        """Add an entry (part, chapter, section, appendix, front or back matter) after ``state``'s place."""
        book = self.book
        kind = item.kind
        if kind == "section":
            parent = state.chapter
            if parent is None or parent.kind not in ("chapter", "appendix"):
                book.warnings.append(f"{self.name}:{line}: section '{item.title}' outside any chapter taken as a chapter")
                kind = "chapter"
            else:
                entry = DraftEntry("appendix-section" if parent.kind == "appendix" else "section", item.title, item.number, line)
                parent.children.append(entry)
                return entry
        entry = DraftEntry(kind, item.title, item.number, line)
        if kind == "part":
            book.parts.append(entry)
            state.part, state.chapter = entry, None
        elif kind == "chapter":
            (state.part.children if state.part else book.chapters).append(entry)
            state.chapter = entry
        elif kind == "appendix":
            book.appendices.append(entry)
            state.chapter, state.part = entry, None
        elif kind == "front" and not (book.parts or book.chapters):
            book.front.append(entry)
            state.chapter = entry
        else:  # back matter, or a front-matter title after the chapters
            if item.number:
                book.warnings.append(f"{self.name}:{line}: '{item.number} {item.title}' taken as back matter, not as an appendix")
            entry.kind = "back"
            book.back.append(entry)
            state.chapter = entry
        return entry

    def note_numerals(self, item: Classified) -> None:
        if item.kind == "chapter" and re.match(r"^第[一二三四五六七八九十百零〇两]+章$", item.number):
            self.book.chapter_numerals = "chinese"
        if item.kind == "part" and re.match(r"^第\d+[部篇]", item.number):
            self.book.part_numerals = "arabic"

    # -- the body -------------------------------------------------------------------------------
    def body(self, start: int) -> None:
        book = self.book
        if not book.entries():  # no outline: the body's headings are the outline
            self.outline_from_body(start)
        flat = book.entries()
        cursor = 0
        current: DraftEntry | None = None
        levels: dict[str, int] = {}
        for index in range(start, len(self.lines)):
            line = self.lines[index]
            heading = self.heading(index)
            if heading:
                level, text = heading
                item = classify(text)
                if item.kind == "appendix-group":
                    continue
                structural = item.kind in ("part", "chapter", "appendix", "section", "front", "back")
                if item.kind == "other" and current is not None:
                    section_level = levels.get("section", levels.get("chapter", 0) + 1)
                    structural = level <= section_level and current.kind in SECTION_LIKE + ("chapter", "appendix")
                    if structural:
                        item = Classified("section", "", item.title)
                if structural:
                    found = self.match(flat, cursor, item)
                    if found is None:
                        book.warnings.append(
                            f"{self.name}:{line.number}: heading '{strip_markup(text)}' is not in the outline; added where it stands"
                        )
                        found = self.insert(item, line.number, current)
                        flat = book.entries()
                    cursor = flat.index(found) + 1
                    current = found
                    levels["section" if found.kind in SECTION_LIKE else "chapter" if found.kind in CHAPTER_LIKE else found.kind] = level
                    continue
                if current is not None:
                    base = levels.get("section" if current.kind in SECTION_LIKE else "chapter", level - 1)
                    line = self.relevel(line, level - base, item)
            if current is None:
                if line.text.strip():
                    book.warnings.append(f"{self.name}:{line.number}: text before the first heading of the body kept as front matter 前言")
                    if not book.front or book.front[0].title != "前言":
                        book.front.insert(0, DraftEntry("front", "前言", "", line.number))
                        flat = book.entries()
                    book.front[0].text.append(line)
                continue
            current.text.append(line)

    def relevel(self, line: Line, depth: int, item: Classified) -> Line:
        """A heading inside a section: '#' per level below the section, hand-written number dropped."""
        depth = max(1, min(6, depth))
        match = HEADING.match(line.text)
        title_text = match.group(2) if match else line.text
        if item.number:
            self.book.renumbered.append(Renumbered(line.number, item.number, item.title))
            title_text = re.sub(r"^\s*" + re.escape(item.number) + r"\.?[\s:：、]*", "", title_text)
        return Line(line.number, "#" * depth + " " + title_text)

    def match(self, flat: list[DraftEntry], cursor: int, item: Classified) -> DraftEntry | None:
        def compatible(entry: DraftEntry) -> bool:
            if item.kind == "part":
                return entry.kind == "part"
            if item.kind in ("section",):
                return entry.kind in SECTION_LIKE
            return entry.kind in CHAPTER_LIKE

        wanted = normalize(item.title)
        for entry in flat[cursor:] + flat[:cursor]:
            if compatible(entry) and normalize(entry.title) == wanted:
                return entry
        return None

    def insert(self, item: Classified, line: int, current: DraftEntry | None) -> DraftEntry:
        """Add a body heading the outline lacks, right after the entry it follows."""
        if item.kind == "section":
            chapter = self.chapter_of(current)
            if chapter is not None:
                entry = DraftEntry("appendix-section" if chapter.kind == "appendix" else "section", item.title, item.number, line)
                position = chapter.children.index(current) + 1 if current in chapter.children else len(chapter.children)
                chapter.children.insert(position, entry)
                return entry
        outline_item = Classified("chapter" if item.kind == "section" else item.kind, item.number, item.title)
        self.note_numerals(outline_item)
        return self.add(outline_item, line, OutlinePlace(self.part_of(current), self.chapter_of(current)))

    def chapter_of(self, entry: DraftEntry | None) -> DraftEntry | None:
        for candidate in self.book.entries():
            if entry is candidate and entry.kind in CHAPTER_LIKE:
                return entry
            if entry in candidate.children and candidate.kind in CHAPTER_LIKE:
                return candidate
        return None

    def part_of(self, entry: DraftEntry | None) -> DraftEntry | None:
        for part in self.book.parts:
            if entry is part or entry in part.children or any(entry in ch.children for ch in part.children):
                return part
        return None

    def outline_from_body(self, start: int) -> None:
        state = OutlinePlace()
        level_kinds: dict[int, str] = {}
        for index in range(start, len(self.lines)):
            heading = self.heading(index)
            if not heading:
                continue
            item = classify(heading[1])
            if item.kind == "other":
                kind = level_kinds.get(heading[0])
                if kind is None:
                    continue  # a sub-heading: it stays in its section's text
                item = Classified(kind, "", item.title)
            elif item.kind != "subsection":
                level_kinds.setdefault(heading[0], item.kind)
            self.place(item, self.lines[index].number, state)

    def mark_truncation(self) -> None:
        """Entries whose text was cut off: the draft's last written entry when it stops mid-sentence, and
        any other entry whose last paragraph stops mid-sentence right before the next heading
        (``……参与者会一直阻塞，这正是`` then ``### 3.2 …``): see ``cut_off``."""
        written = [entry for entry in self.book.entries() if any(line.text.strip() for line in entry.text)]
        for index, entry in enumerate(written):
            if cut_off("\n".join(line.text for line in entry.text), last_in_draft=index == len(written) - 1):
                entry.status = "truncated"


_BLOCK_START = re.compile(r"^(?:[-*+]\s|\d+[.)]\s|>|\||#|```|~~~|\$\$|!\[|<)")
"""Lines that open a list item, quote, table row, heading, fence, display math, image or HTML: not running prose."""


def cut_off(text: str, last_in_draft: bool) -> bool:
    """Whether an entry's Markdown ``text`` was cut off.

    A draft's last entry is cut off when it stops without a sentence end (textrules.ends_mid_sentence).
    Earlier entries end where the next heading begins, and a list item or table legitimately ends
    without punctuation, so there the last line must be running prose that stops on a CJK character
    or on a pause mark (，、) — how generated text looks when it stopped mid-sentence and the draft
    went on with the next heading.
    """
    stripped = text.rstrip()
    if not stripped or not ends_mid_sentence(stripped):
        return False
    if last_in_draft or stripped[-1] in PAUSES:
        return True
    last_line = stripped.splitlines()[-1].strip()
    return not _BLOCK_START.match(last_line) and bool(CJK_CHAR.match(stripped[-1]))


def parse_draft(text: str, name: str = "draft.md") -> DraftBook:
    """The draft's outline, text and artifacts; ``name`` is the draft's file name for warnings (``name:line: …``)."""
    return _Parser(text, name).parse()


# ---------------------------------------------------------------- writing the manuscript


def file_name(title: str) -> str:
    """A readable, stable file name from a title: no numbers, nothing a file system refuses."""
    name = _UNSAFE_IN_NAMES.sub("-", title)
    name = re.sub(r"\s+", "-", name.strip()).strip(".-")
    return name[:60] or "untitled"


def assign_files(book: DraftBook) -> None:
    used: set[str] = set()

    def unique(path: str) -> str:
        stem, candidate, n = path[:-3], path, 2
        while candidate in used:
            candidate = f"{stem}-{n}.md"
            n += 1
        used.add(candidate)
        return candidate

    for entry in book.front:
        entry.file = unique(f"front/{file_name(entry.title)}.md")
    for part in book.parts:
        if part.text and any(line.text.strip() for line in part.text):
            part.file = unique(f"parts/{file_name(part.title)}.md")
    for root, chapters in (("chapters", [c for p in book.parts for c in p.children] + book.chapters), ("appendices", book.appendices)):
        for chapter in chapters:
            folder = f"{root}/{file_name(chapter.title)}"
            if any(line.text.strip() for line in chapter.text) or not chapter.children:
                chapter.file = unique(f"{folder}/index.md" if chapter.children else f"{folder}.md")
            for section in chapter.children:
                section.file = unique(f"{folder}/{file_name(section.title)}.md")
    for entry in book.back:
        entry.file = unique(f"back/{file_name(entry.title)}.md")


def entry_yaml(entry: DraftEntry) -> dict:
    data: dict = {"title": entry.title}
    if entry.file:
        data["file"] = entry.file
    if entry.status != "draft":
        data["status"] = entry.status
    if entry.mismatched_number:
        data["draft_number"] = entry.draft_number
    if entry.children:
        data["sections" if entry.kind in ("chapter", "appendix") else "chapters"] = [entry_yaml(child) for child in entry.children]
    return data


def book_yaml(book: DraftBook, slug: str, source_name: str) -> str:
    abstract_file = "front/摘要.md" if book.abstract else ""
    data: dict = {
        "title": book.title or "未命名",
        "subtitle": book.subtitle,
        "authors": [],
        "language": "zh-CN",
        "keywords": book.keywords,
        "abstract": abstract_file,
        "publisher": "",
        "isbn": "",
        "edition": "",
        "date": "",
        "rights": "",
        "slug": slug,
        "numbering": {"part": book.part_numerals, "chapter": book.chapter_numerals},
    }
    for key, entries in (
        ("front", book.front),
        ("parts", book.parts),
        ("chapters", book.chapters),
        ("appendices", book.appendices),
        ("back", book.back),
    ):
        if entries:
            data[key] = [entry_yaml(entry) for entry in entries]
    header = (
        f"# Imported by `bookgen import` from {source_name}.\n"
        "# Titles carry no numbers: bookgen numbers parts, chapters, sections and appendices itself.\n"
        "# An entry whose file is missing or empty is a section not yet written.\n"
    )
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False)


def entry_text(lines: list[Line]) -> str:
    """The entry's lines, blank lines at both ends dropped; '' when there is nothing written."""
    texts = [line.text for line in lines]
    while texts and not texts[0].strip():
        texts.pop(0)
    while texts and not texts[-1].strip():
        texts.pop()
    return "\n".join(texts) + "\n" if texts else ""


def manuscript_files(book: DraftBook, slug: str, source_name: str) -> dict[str, str]:
    """Every file the import writes, by manuscript-relative path."""
    if book.abstract and not any(e.title == "摘要" for e in book.front):
        book.front.insert(0, DraftEntry("front", "摘要", "", book.abstract[0].number, text=list(book.abstract)))
    elif book.abstract:
        next(e for e in book.front if e.title == "摘要").text[:0] = book.abstract
    assign_files(book)
    files = {BOOK_FILE: book_yaml(book, slug, source_name)}
    for entry in book.entries():
        text = entry_text(entry.text)
        if entry.file and text:
            files[entry.file] = text
    return files


@dataclass(frozen=True)
class NumberingNote:
    """A number the draft wrote that bookgen does not print: draft line, the draft's number, bookgen's, the title."""

    line: int
    draft: str
    computed: str  # bookgen's number, "(unnumbered)" or "(numbered by bookgen)" for headings inside sections
    title: str


@dataclass
class ImportReport:
    """What ``bookgen import`` did: entry counts, CJK characters per chapter heading, removals, numbering notes."""

    source: str
    parts: int
    chapters: int
    sections: int
    appendices: int
    front: int
    back: int
    sections_with_text: int
    sections_total: int
    cjk_per_chapter: dict[str, int]
    removed: list[Removal]
    numbering: list[NumberingNote]
    truncated: list[str]
    warnings: list[str]
    files: list[str]

    def as_json(self) -> str:
        """The report as a JSON object (``removed`` and ``numbering`` as lists of objects), indented."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def import_draft(draft: Path, output: Path, slug: str = "book", force: bool = False) -> ImportReport:
    """Write the manuscript made from ``draft`` into ``output`` and report what the import did.

    Raises ManuscriptError when the draft cannot be read or decoded, or when ``output`` already holds
    one of the files the import writes (unless ``force``); never deletes a file.
    """
    try:
        raw = draft.read_bytes()
    except OSError as exc:
        raise ManuscriptError(f"cannot read the draft: {exc.strerror}", Location(draft)) from None
    text = decode_markdown(raw, draft)
    book = parse_draft(text, draft.name)
    files = manuscript_files(book, slug, draft.name)
    if not force:
        existing = [path for path in files if (output / path).exists()]
        if existing:
            raise ManuscriptError(
                f"{output} already holds a manuscript ({existing[0]}); use --force to replace the files import generates",
                Location(output / existing[0]),
            )
    for path, content in files.items():
        write_atomic(output / path, content)
    report = make_report(book, output, draft.name, files)
    if any(entry.mismatched_number for entry in book.entries()):
        # Keep the draft's own number beside the entries bookgen renumbers, so that `check` can show them.
        write_atomic(output / BOOK_FILE, book_yaml(book, slug, draft.name))
    return report


def make_report(book: DraftBook, output: Path, source_name: str, files: dict[str, str]) -> ImportReport:
    """The report of an import just written to ``output`` (its book.yaml is loaded to compare numbers)."""
    loaded = load_book(output)
    numbering: list[NumberingNote] = []
    # Pair the draft's entries with the loaded outline (same order) to compare numbers.
    for draft_entry, node in zip(book.entries(), loaded.nodes(), strict=False):
        if draft_entry.draft_number and draft_entry.draft_number != node.number:
            draft_entry.mismatched_number = True
            numbering.append(NumberingNote(draft_entry.line, draft_entry.draft_number, node.number or "(unnumbered)", node.title))
    numbering += [NumberingNote(item.line, item.number, "(numbered by bookgen)", item.title) for item in book.renumbered]
    sections = [e for e in book.entries() if e.kind in SECTION_LIKE]
    chapters = [c for p in book.parts for c in p.children] + book.chapters + book.appendices
    cjk = {}
    for node, chapter in zip([n for n in loaded.nodes() if n.kind in ("chapter", "appendix")], chapters, strict=False):
        lines = chapter.text + [line for section in chapter.children for line in section.text]
        cjk[node.heading] = sum(len(CJK_CHAR.findall(line.text)) for line in lines)
    return ImportReport(
        source=source_name,
        parts=len(book.parts),
        chapters=len(chapters) - len(book.appendices),
        sections=sum(1 for e in sections if e.kind == "section"),
        appendices=len(book.appendices),
        front=len(book.front),
        back=len(book.back),
        sections_with_text=sum(1 for e in sections if entry_text(e.text)),
        sections_total=len(sections),
        cjk_per_chapter=cjk,
        removed=list(book.removals),
        numbering=numbering,
        truncated=[f"{e.file}" for e in book.entries() if e.status == "truncated"],
        warnings=book.warnings,
        files=sorted(files),
    )
