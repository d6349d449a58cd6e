"""book.yaml's keys, each declared once: type, default and a one-line description.

The settings sections are frozen dataclasses whose fields are declared with ``setting(Option)``;
``TOP_LEVEL`` lists the sections by key. The README's book.yaml reference is tested against these
declarations (tests/test_options.py).
"""

# ruff: noqa: RUF009 — setting() returns a dataclasses.field carrying the option (ruff only knows field() by name)

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from bookgen.model.lengths import Length
from bookgen.model.options import (
    Choice,
    ChoiceList,
    ChoiceMap,
    Flag,
    LengthOption,
    ManuscriptPath,
    ManuscriptPaths,
    Number,
    Option,
    Record,
    Section,
    SectionOrFile,
    Text,
    TextList,
    TextOrMarkdown,
    setting,
)

FONT_SIZES = {"小五": ("-5", 9.0), "五号": ("5", 10.5), "小四": ("-4", 12.0), "四号": ("4", 14.0)}  # body size → (ctex zihao, bp)
PUNCTUATION_STYLES = ("quanjiao", "banjiao", "kaiming", "CCT", "plain")  # ctex punct=
SEVERITY_LEVELS = ("error", "warning", "info")  # the values of checks.model.Severity
SPACING_POLICIES = ("none", "space", "any")


def isbn_problem(isbn: str) -> str | None:
    """Why an ISBN-13 is wrong (length, prefix, check digit), or None."""
    digits = re.sub(r"[\s-]", "", isbn)
    if not re.fullmatch(r"97[89]\d{10}", digits):
        return f"isbn '{isbn}' must be an ISBN-13: 13 digits starting with 978 or 979 (hyphens allowed)"
    expected = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits[:12])) % 10) % 10
    if int(digits[12]) != expected:
        return f"isbn '{isbn}' has the check digit {digits[12]}; it should be {expected}"
    return None


def _slug_problem(slug: str) -> str | None:
    if re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", slug):
        return None
    return "'slug' names the output files: use Latin letters, digits, '-', '_' or '.'"


def _language_problem(language: str) -> str | None:
    if re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", language):
        return None
    return f"'language' must be a language tag like zh-CN, not '{language}'"


def _colour_problem(colour: str) -> str | None:
    return None if re.match(r"^[0-9A-Fa-f]{6}$", colour) else "'cover_color' must be an RGB hex colour like 2B4C7E"


def _needs_number(form: str) -> str | None:
    return None if "{number}" in form else f"'{form}' must contain {{number}} where the number goes"


# ---------------------------------------------------------------- sections


@dataclass(frozen=True)
class Openings:
    """Where each kind of unit opens: right (a recto, after a blank verso if need be) or any (the next page)."""

    front: str = setting(Choice("right", ("right", "any"), "摘要, 前言, 目录"))
    part: str = setting(Choice("right", ("right", "any"), "part pages"))
    chapter: str = setting(Choice("right", ("right", "any"), "chapters"))
    appendix: str = setting(Choice("any", ("right", "any"), "附录A, 附录B …: on the next page by default"))
    back: str = setting(Choice("any", ("right", "any"), "致谢, 后记 …"))


@dataclass(frozen=True)
class Layout:
    """The page grid (house style: a text block measured in characters and lines)."""

    trim_width: Length = setting(LengthOption("185mm", "trimmed page width (787×1092 1/16)"))
    trim_height: Length = setting(LengthOption("260mm", "trimmed page height"))
    font_size: str = setting(Choice("五号", tuple(FONT_SIZES), "body size: 小五 9bp, 五号 10.5bp, 小四 12bp, 四号 14bp"))
    chars_per_line: int = setting(Number(40, "the text block is exactly this many characters wide", whole=True))
    lines_per_page: int = setting(Number(36, "… and this many lines high", whole=True))
    inner_margin: Length = setting(LengthOption("20mm", "订口, the binding side; the 切口 (outer) is what the trim leaves"))
    top_margin: Length = setting(LengthOption("24mm", "margin above the text block"))
    line_spread: float = setting(Number(1.3, "ctex linespread factor"))
    punctuation: str = setting(Choice("quanjiao", PUNCTUATION_STYLES, "ctex punct= style"))
    footnote_style: str = setting(Choice("arabic", ("arabic", "circled"), "footnote marks: 1 2 or ① ②"))
    toc_depth: int = setting(Number(2, "contents depth: 1 chapters, 2 with sections", whole=True))
    placeholder: str = setting(Text("本节待撰写", "printed for an unwritten section", required=True))
    caption_label: str = setting(
        Text("{name}{number}", "caption label in PDF and EPUB alike: 图1.1 / 表1.1 ('{name} {number}': 表 1.1)", check=_needs_number)
    )
    table_continued: str = setting(
        Text("续表{number}", "above a long table's repeated header (or '表{number}（续）')", check=_needs_number)
    )

    open: Openings = setting(Section(Openings, "where each kind of unit opens: right | any"))

    def caption(self, name: str, number: str) -> str:
        """A caption's label as printed: ('表', '2.1') → '表2.1' with the default ``caption_label``."""
        return self.caption_label.replace("{name}", name).replace("{number}", number)


def _font(default: str, role: str) -> Text:
    return Text(default, f"fontconfig family for {role}", required=True)


@dataclass(frozen=True)
class Fonts:
    """fontconfig family names."""

    serif_cjk: str = setting(_font("Noto Serif CJK SC", "Chinese text"))
    sans_cjk: str = setting(_font("Noto Sans CJK SC", "Chinese headings"))
    bold_cjk: str = setting(_font("Noto Sans CJK SC Bold", "Chinese bold"))
    kai_cjk: str = setting(_font("LXGW WenKai", "emphasis and quotations (楷)"))
    mono_cjk: str = setting(_font("Noto Sans Mono CJK SC", "Chinese in code"))
    kai_mono: str = setting(_font("LXGW WenKai Mono", "comments in code blocks (楷 on the monospace grid)"))
    serif: str = setting(_font("TeX Gyre Termes", "Latin text and digits: Times-like beside 宋, as the math face"))
    sans: str = setting(_font("Noto Sans", "Latin headings"))
    mono: str = setting(_font("Noto Sans Mono", "code"))
    math: str = setting(_font("TeX Gyre Termes Math", "math: the companion of the Latin face"))


@dataclass(frozen=True)
class Numbering:
    """How parts, chapters and appendices are numbered (sections are always 1.1, A.1)."""

    part: str = setting(Choice("chinese", ("arabic", "chinese"), "第一部分, or arabic: 第1部分"))
    chapter: str = setting(Choice("arabic", ("arabic", "chinese"), "第1章, or chinese: 第一章"))
    appendix: str = setting(Choice("alph", ("alph",), "附录A"))


@dataclass(frozen=True)
class PrintSettings:
    """The print profile and the cover (book.yaml `print:`)."""

    bleed: Length = setting(LengthOption("3mm", "bleed beyond the trim on every side"))
    signature: int = setting(Number(16, "pages per printed sheet: the page count is padded to a multiple", whole=True))
    paper_caliper: Length = setting(LengthOption("0.1mm", "thickness of one leaf: spine = pages ÷ 2 × caliper"))
    icc_profile: str = setting(ManuscriptPath("a CMYK output profile in the manuscript (default: Ghostscript's SWOP)"))
    output_condition: str = setting(Text("", "e.g. FOGRA39 (default: that of the default profile)"))
    cover_color: str = setting(Text("2B4C7E", "cover background, RGB hex (converted to CMYK)", check=_colour_problem))
    cover_image: str = setting(ManuscriptPath("an image in the manuscript filling the cover"))


@dataclass(frozen=True)
class BuildSettings:
    """How the build runs."""

    tex_timeout: float = setting(Number(0.0, "seconds; 0 scales with the book (--tex-timeout overrides)", positive=False))


@dataclass(frozen=True)
class CheckOptions:
    """``bookgen check`` and build's pre-check (rule codes are checked against the rules by checks.context)."""

    disable: tuple[str, ...] = setting(TextList("rule codes not to run, e.g. [T003]"))
    severity: dict[str, str] = setting(ChoiceMap(SEVERITY_LEVELS, "rule code: error | warning | info"))
    cjk_latin_spacing: str = setting(Choice("none", SPACING_POLICIES, "none: no typed spaces (xeCJK spaces the PDF) | space | any"))


def _number_template(template: str) -> str | None:
    return None if template.count("{}") == 1 else f"'{template}' must hold '{{}}' once, where the number goes (e.g. 第{{}}节)"


def _word(default: str, what: str) -> Text:
    return Text(default, what, required=True)


def _template(default: str, what: str) -> Text:
    return Text(default, what, required=True, check=_number_template)


@dataclass(frozen=True)
class CrossRef:
    """How cross-references print (book.yaml ``crossref:``); the same words in every output."""

    figure: str = setting(_word("图", "before a figure's number: 图1.1"))
    table: str = setting(_word("表", "before a table's number: 表1.1"))
    equation: str = setting(_word("式", "before an equation's number: 式(1.1)"))
    listing: str = setting(_word("代码", "before a code listing's number: 代码1.1"))
    section: str = setting(_template("第{}节", "a section, {} the number: 第3.2节"))
    chapter: str = setting(_template("第{}章", "a chapter, {} as numbering.chapter writes it: 第3章"))
    part: str = setting(_template("第{}部分", "a part, {} as numbering.part writes it: 第二部分"))
    appendix: str = setting(_template("附录{}", "an appendix: 附录A"))
    appendix_section: str = setting(_template("{}节", "a section of an appendix: A.1节"))
    conjunction: str = setting(_word("和", "before the last of a group: 图1.1和图1.2"))
    separator: str = setting(_word("、", "between the others: 图1.1、图1.2和图1.3"))
    lists: tuple[str, ...] = setting(ChoiceList(("figures", "tables"), "lists after the contents: [figures, tables]"))
    list_of_figures: str = setting(_word("图目录", "the list of figures' title"))
    list_of_tables: str = setting(_word("表目录", "the list of tables' title"))


@dataclass(frozen=True)
class IndexSettings:
    """The index (book.yaml ``index:``; issue 18): a back-matter unit, the same entries in every output."""

    title: str = setting(_word("索引", "the index's title"))
    columns: int = setting(Number(2, "columns of the PDF's index", whole=True))
    latin: str = setting(
        Choice(
            "letters",
            ("letters", "symbols"),
            "entries starting with a Latin letter: under their letter among the pinyin, or in the leading group with digits and symbols",
        )
    )
    symbols: str = setting(_word("符号与数字", "the leading group's heading (entries starting with a digit or a symbol)"))
    see: str = setting(_word("见", "before a see reference: 见多版本并发控制"))
    see_also: str = setting(_word("另见", "before a see-also reference"))
    locators: str = setting(
        Choice(
            "number", ("number", "section"), "EPUB and web edition: links numbered 1, 2, 3 per entry, or labelled with the section number"
        )
    )


@dataclass(frozen=True)
class GlossarySettings:
    """The glossary (book.yaml ``glossary:``, or ``glossary: FILE``; issue 18)."""

    file: str = setting(
        ManuscriptPath("a YAML list of terms in the manuscript: term, english, abbreviation, definition (Markdown), see_also, key")
    )
    title: str = setting(_word("术语表", "the glossary's title"))
    place: str = setting(Choice("back", ("back", "appendix"), "back matter (before the index), or the last appendix"))
    bold_first: bool = setting(Flag(True, "a term's first use in each chapter in bold"))


@dataclass(frozen=True)
class Accessibility:
    """What the publisher declares about the EPUB's accessibility (book.yaml ``accessibility:``)."""

    certified_by: str = setting(Text("", "a11y:certifiedBy: who evaluated the EPUB (the publisher, or a certifier)"))
    certifier_credential: str = setting(Text("", "a11y:certifierCredential, e.g. a certification the certifier holds"))


@dataclass(frozen=True)
class HtmlSettings:
    """The web edition (book.yaml ``html:``)."""

    split: str = setting(Choice("chapter", ("chapter", "section"), "one page per chapter-like entry, or per section too"))


@dataclass(frozen=True)
class BibliographySettings:
    """The reference list (book.yaml ``bibliography:``): GB/T 7714 entries, the same text in every output."""

    files: tuple[str, ...] = setting(
        ManuscriptPaths(
            "BibTeX/BibLaTeX (.bib) and CSL-JSON (.json) files in the manuscript", (".bib", ".json"), "BibTeX (.bib) or CSL-JSON (.json)"
        )
    )
    style: str = setting(Choice("numeric", ("numeric", "author-date"), "numeric (顺序编码制) | author-date (著者-出版年制)"))
    standard: str = setting(Choice("2025", ("2025", "2015"), "GB/T 7714—2025 or its 2015 edition"))
    place: str = setting(Choice("book", ("book", "chapter"), "book: one list before the index | chapter: one per chapter"))
    punctuation: str = setting(Choice("standard", ("standard", "fullwidth"), "standard (half-width) | fullwidth (Chinese entries)"))
    nocite: tuple[str, ...] = setting(TextList("keys listed but not cited; '*' lists every entry"))


@dataclass(frozen=True)
class Cip:
    """图书在版编目（CIP）数据 as the CIP centre issued it (GB/T 12451); the 版权页 prints it only when given."""

    title_line: str = setting(Text("", "书名/著者．—出版地：出版者，出版年"))
    isbn: str = setting(Text("", "the ISBN in the CIP record", check=isbn_problem))
    classification: str = setting(Text("", "Ⅰ.①… Ⅱ.①… Ⅲ.①… Ⅳ.①TP18 (主题词 and 分类号)"))
    number: str = setting(Text("", "CIP 数据核字号, e.g. （2026）第012345号"))


_ISO_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def _date_problem(date: str) -> str | None:
    return None if _ISO_DATE.match(date) else f"'date' must be a date like 2026-01-15 (or 2026-01, 2026), not '{date}'"


@dataclass(frozen=True)
class Metadata:
    """The book's metadata (top-level keys of book.yaml)."""

    title: str = setting(Text("", "the book's title", required=True))
    subtitle: str = setting(Text("", "subtitle"))
    authors: tuple[str, ...] = setting(TextList("authors; unknown metadata stays empty"))
    language: str = setting(Text("zh-CN", "language tag", check=_language_problem))
    keywords: tuple[str, ...] = setting(TextList("keywords"))
    abstract: str = setting(TextOrMarkdown("a Markdown file in the manuscript, or the text itself"))
    publisher: str = setting(Text("", "publisher"))
    address: str = setting(Text("", "地址: the publisher's, on the 版权页"))
    isbn: str = setting(Text("", "ISBN-13; also the EPUB identifier (else a UUID derived from the book)", check=isbn_problem))
    edition: str = setting(Text("", "edition"))
    date: str = setting(Text("", "publication date, ISO 8601 (2026-01-15): the 版权页 prints 2026年1月", check=_date_problem))
    rights: str = setting(Text("", "rights statement"))
    slug: str = setting(Text("book", "output file names: build/<slug>.pdf", check=_slug_problem))
    cover: str = setting(ManuscriptPath("an image in the manuscript, used as the EPUB cover"))
    price: str = setting(Text("", "定价, e.g. 59.00元 (版权页, back cover)"))
    printing: str = setting(Text("", "印次"))
    cip: Cip | None = setting(Record(Cip, "the CIP record (GB/T 12451), printed on the 版权页 when given"))

    def identifier(self) -> str:
        """ISBN when set, else a UUID derived from title and authors: the same from build to build."""
        if self.isbn:
            return "urn:isbn:" + re.sub(r"[^0-9Xx]", "", self.isbn)
        seed = "\n".join((self.title, self.subtitle, *self.authors))
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "bookgen:" + seed))


SECTIONS: dict[str, Option] = {
    "print": Section(PrintSettings, "the print profile and the cover"),
    "build": Section(BuildSettings, "how the build runs"),
    "check": Section(CheckOptions, "bookgen check's rules"),
    "numbering": Section(Numbering, "numbering styles"),
    "crossref": Section(CrossRef, "how cross-references print"),
    "html": Section(HtmlSettings, "the web edition"),
    "bibliography": Section(BibliographySettings, "参考文献 by GB/T 7714 (a file name alone: its files)", shorthand="files"),
    "index": Section(IndexSettings, "the index"),
    "glossary": SectionOrFile(GlossarySettings, "the glossary"),
    "accessibility": Section(Accessibility, "what the EPUB's accessibility metadata declares"),
    "layout": Section(Layout, "the page grid"),
    "fonts": Section(Fonts, "fontconfig family names"),
}
