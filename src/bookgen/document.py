"""The whole book as one pandoc document, in reading order, with bookgen's numbers in it.

Every heading carries the number the PDF prints (第1章, 1.1, 附录A …), every captioned figure and
table its label (图1.1, 表1.1), every unwritten entry its placeholder: the EPUB and the web edition
are written from this one document, so they print exactly what the PDF prints.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from bookgen.bibliography.ast import CitedSections, cited_sections
from bookgen.bibliography.citing import LIST_ID
from bookgen.index.ast import index_blocks
from bookgen.model.book import Book, Node
from bookgen.sources.ast import Block, attr, text_inlines, walk_blocks
from bookgen.sources.convert import Converted
from bookgen.sources.reading import Source
from bookgen.xref.ast import insert_after_front, resolve_sections

TRUNCATED_MARKER = "本节未完"


def heading(level: int, node_id: str, number: str, title: str, kind: str) -> Block:
    inlines = text_inlines(title)
    if number:
        number_span: Block = {"t": "Span", "c": [attr("", ["number"]), [{"t": "Str", "c": number}]]}
        inlines = [number_span, {"t": "Space"}, *inlines]
    return {"t": "Header", "c": [level, attr(node_id, [kind]), inlines]}


def note_block(css_class: str, text: str) -> Block:
    return {"t": "Div", "c": [attr("", [css_class]), [{"t": "Para", "c": [{"t": "Str", "c": text}]}]]}


class _Assembler:
    """Builds the document's block list in reading order, numbering what LaTeX numbers."""

    def __init__(self, book: Book, sources: dict[str, Source], cited: CitedSections):
        self.book = book
        self.sources = sources
        self.cited = cited
        self.converted = cited.converted
        self.blocks: list[Block] = []
        self.chapter_level = 2 if book.has_parts or book.appendices else 1

    def entry_text(self, node: Node, level: int, section_number: str, float_prefix: str, counters: dict[str, int]) -> None:
        """The node's own text (or its placeholder), headings shifted to sit below ``level``."""
        source = self.sources.get(node.id)
        if source is None or not source.written:
            if node.has_own_text:
                self.blocks.append(note_block("unwritten", f"「{self.book.layout.placeholder}」"))
            return
        body = copy.deepcopy(self.converted[node.id].ast["blocks"])
        # AST heading level 1 is LaTeX's \section: put it one below the enclosing chapter-like entry.
        offset = level - 1 if node.kind.is_section else level
        subsection = 0
        for element in walk_blocks(body):
            kind = element["t"]
            if kind == "Header":
                element["c"][0] += offset
                classes = element["c"][1][1]
                if section_number and element["c"][0] == level + 1 and "unnumbered" not in classes:
                    subsection += 1
                    element["c"][2][:0] = [
                        {"t": "Span", "c": [attr("", ["number"]), [{"t": "Str", "c": f"{section_number}.{subsection}"}]]},
                        {"t": "Space"},
                    ]
            elif kind in ("Figure", "Table") and float_prefix:
                self._number_caption(element, float_prefix, counters)
        self.blocks.extend(body)
        if source.truncated:
            self.blocks.append(note_block("truncated", f"〔{TRUNCATED_MARKER}〕"))

    def _number_caption(self, element: dict, prefix: str, counters: dict[str, int]) -> None:
        """图1.1 / 表1.1 before a caption, as LaTeX numbers and labels them (uncaptioned ones stay unnumbered)."""
        caption_blocks = element["c"][1][1]
        if not caption_blocks:
            return
        name = "图" if element["t"] == "Figure" else "表"
        counters[name] = counters.get(name, 0) + 1
        label = {
            "t": "Span",
            "c": [attr("", ["caption-label"]), [{"t": "Str", "c": self.book.layout.caption(name, f"{prefix}.{counters[name]}")}]],
        }
        first = caption_blocks[0]
        if first["t"] in ("Plain", "Para"):
            first["c"][:0] = [label, {"t": "Str", "c": "\u3000"}]

    def chapter(self, node: Node, level: int) -> None:
        self.blocks.append(heading(level, node.id, node.number, node.title, node.kind))
        prefix = node.counter
        counters: dict[str, int] = {}
        self.entry_text(node, level, "", prefix, counters)
        for section in node.children:
            self.blocks.append(heading(level + 1, section.id, section.number, section.title, section.kind))
            self.entry_text(section, level + 1, section.number, prefix, counters)
        self.blocks.extend(self.cited.chapter_list(node.id, level + 1))  # bibliography.place: chapter

    def assemble(self) -> list[Block]:
        book = self.book
        for node in book.front:
            self.blocks.append(heading(1, node.id, "", node.title, "front"))
            self.entry_text(node, 1, "", "", {})
            self.blocks.extend(self.cited.chapter_list(node.id, 2))
        for top in book.body:
            if top.kind == "part":
                self.blocks.append(heading(1, top.id, top.number, top.title, "part"))
                self.entry_text(top, 1, "", "", {})
                for chapter in top.children:
                    self.chapter(chapter, 2)
            else:
                self.chapter(top, self.chapter_level)
        if book.appendices:
            self.blocks.append(heading(1, "appendices", "", "附录", "appendix-group"))
            for node in book.appendices:
                self.chapter(node, 2)
        self.blocks.extend(self.cited.book)  # 参考文献, before the index and 后记
        for node in book.back:
            self.blocks.append(heading(1, node.id, "", node.title, "back"))
            self.entry_text(node, 1, "", "", {})
            self.blocks.extend(self.cited.chapter_list(node.id, 2))
        return self.blocks


@dataclass(frozen=True)
class BookDocument:
    """The book as pandoc blocks (JSON AST), and the heading level of its chapters (2 when parts or
    appendices group them under level-1 headings)."""

    blocks: list[Block]
    chapter_level: int
    pages: tuple[str, ...] = ()  # ids of headings bookgen adds that open a web page of their own (术语表, 参考文献, 索引)


def assemble_book(book: Book, sources: dict[str, Source], converted: dict[str, Converted]) -> BookDocument:
    """Front matter, 图目录/表目录 (crossref.lists), parts and chapters, appendices (under 附录), the 术语表,
    参考文献, the 索引 and back matter as one document, every cross-reference resolved from the book's one
    label table, every citation from its one numbering and every index locator and glossary term from the
    one index table, so the EPUB and the web edition print what the PDF prints. The converted ASTs are
    copied, never changed. Raises ManuscriptError at a reference to an unknown label or a citation of an
    unknown key (file:line:col)."""
    resolved = resolve_sections(book, sources, converted)
    indexed = index_blocks(book, resolved.converted)  # glossary terms linked; the 术语表 and 索引 (bookgen.index.ast)
    assembler = _Assembler(book, sources, cited_sections(book, sources, indexed.converted))
    blocks = indexed.place(insert_after_front(assembler.assemble(), resolved.lists), bool(book.appendices))
    listed = any(block["t"] == "Header" and block["c"][1][0] == LIST_ID for block in blocks)  # the 参考文献: a page of its own
    return BookDocument(blocks, assembler.chapter_level, indexed.pages + ((LIST_ID,) if listed else ()))
