"""What the EPUB declares about its accessibility (EPUB Accessibility 1.1), from what the book contains.

Declarations are facts about this EPUB, never defaults: a feature is listed only when the book has it
(MathML only with formulas, page navigation only with a page list), the summary says in Chinese what
a reader gets, and conformance to EPUB Accessibility 1.1 – WCAG 2.1 Level AA is claimed only when
bookgen's own checks of the content pass: every image has alternative text and every table a header
row (bookgen writes the rest itself: language, headings, navigation, MathML with alttext, th scope,
contrast-checked colours, page-break labels). ``a11y:certifiedBy`` names who evaluated the EPUB only
when book.yaml's ``accessibility: certified_by`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from bookgen.model.book import Book
from bookgen.sources.ast import walk_blocks

CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"


@dataclass(frozen=True)
class Contents:
    """What the assembled document holds, counted element by element."""

    images: int = 0
    images_without_alt: int = 0
    tables: int = 0
    tables_without_header: int = 0
    formulas: int = 0
    latin_passages: int = 0  # spans marked {lang=…}


def has_alt(image: dict) -> bool:
    """An Image element with alternative text: its description inlines, or an ``alt`` attribute."""
    attributes = dict(image["c"][0][2])
    return bool(image["c"][1]) or bool(attributes.get("alt", "").strip())


def contents_of(blocks: list[dict]) -> Contents:
    """Count images (with and without alt text), tables (with and without a header row), formulas and
    language-marked spans in a pandoc block list."""
    counts = dict.fromkeys(("images", "images_without_alt", "tables", "tables_without_header", "formulas", "latin_passages"), 0)
    for element in walk_blocks(blocks):
        kind = element["t"]
        if kind == "Image":
            counts["images"] += 1
            counts["images_without_alt"] += not has_alt(element)
        elif kind == "Table":
            counts["tables"] += 1
            counts["tables_without_header"] += not element["c"][3][1]  # TableHead [attr, rows]
        elif kind == "Math":
            counts["formulas"] += 1
        elif kind == "Span" and any(key == "lang" for key, _ in element["c"][0][2]):
            counts["latin_passages"] += 1
    return Contents(**counts)


@dataclass(frozen=True)
class Declaration:
    """The accessibility metadata of one EPUB (schema.org and a11y: properties)."""

    access_modes: tuple[str, ...]
    sufficient: tuple[str, ...]  # one accessModeSufficient set, comma-joined in the OPF
    features: tuple[str, ...]
    summary: str
    conforms: bool
    certified_by: str
    certifier_credential: str
    page_source: str  # a11y:pageBreakSource; "" without a page list


def declare(book: Book, contents: Contents, page_breaks: int) -> Declaration:
    """The declaration for a book with ``contents`` and ``page_breaks`` printed-page markers (0: none)."""
    conforms = contents.images_without_alt == 0 and contents.tables_without_header == 0
    features = ["tableOfContents", "readingOrder", "structuralNavigation", "displayTransformability"]
    sentences = ["本书提供目录导航和按章节层级组织的标题，阅读顺序与印刷版一致"]
    if page_breaks:
        features += ["printPageNumbers", "pageNavigation"]
        isbn = f"（ISBN {book.metadata.isbn}）" if book.metadata.isbn else ""
        sentences.append(f"正文中标有印刷版{isbn}的页码，可按页码跳转")
    if contents.formulas:
        features.append("MathML")
        sentences.append("数学公式采用 MathML，并附有 TeX 形式的文字替代")
    if contents.images:
        if contents.images_without_alt:
            sentences.append(f"有 {contents.images_without_alt} 幅图片缺少文字说明")
        else:
            features.append("alternativeText")
            sentences.append("图片均有文字说明")
    if contents.tables and not contents.tables_without_header:
        sentences.append("表格带有表头")
    if contents.latin_passages:
        sentences.append("外文段落标明了语种")
    sentences.append("字体、字号和颜色可由阅读软件调整")
    if conforms:
        sentences.append("本书符合 EPUB 无障碍 1.1 规范及 WCAG 2.1 AA 级要求")
    modes = ("textual", "visual") if contents.images else ("textual",)
    sufficient = ("textual",) if conforms or not contents.images else ("textual", "visual")
    page_source = ""
    if page_breaks:
        page_source = book.metadata.identifier() if book.metadata.isbn else f"{book.metadata.title}（印刷版）"
    settings = book.accessibility
    return Declaration(
        modes,
        sufficient,
        tuple(features),
        "；".join(sentences) + "。",
        conforms,
        settings.certified_by,
        settings.certifier_credential,
        page_source,
    )
