"""Issue 13, PDF items 1, 4, 5, 6, 7, 11: punctuation, long tables, caption labels, faces, code grid.

Measured on the built PDF (PyMuPDF's per-character boxes and font names, pdftotext) and EPUB, from one
build of tests/fixtures/typography-a: quotes in body, bold, headings, captions, footnotes, table
cells and the contents; a dash run that crosses line ends; a long table; code and math with Chinese.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import FIXTURES, build_copy, pdftotext

pymupdf = pytest.importorskip("pymupdf")

BODY = 10.5  # 五号, bp


@dataclass(frozen=True)
class Char:
    char: str
    width: float
    size: float
    font: str
    page: int
    x0: float
    x1: float


@dataclass(frozen=True)
class Line:
    chars: tuple[Char, ...]

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.chars)


@pytest.fixture(scope="session")
def typo_build(tmp_path_factory):
    return build_copy(FIXTURES / "typography-a", tmp_path_factory.mktemp("typography-a"))


@pytest.fixture(scope="session")
def lines(typo_build) -> list[Line]:
    """Every text line of the PDF with its characters' boxes, in reading order."""
    out = []
    with pymupdf.open(typo_build.outputs["pdf"].path) as doc:
        for number, page in enumerate(doc, 1):
            for block in page.get_text("rawdict")["blocks"]:
                for line in block.get("lines", []):
                    out.append(
                        Line(
                            tuple(
                                Char(c["c"], c["bbox"][2] - c["bbox"][0], span["size"], span["font"], number, c["bbox"][0], c["bbox"][2])
                                for span in line["spans"]
                                for c in span["chars"]
                            )
                        )
                    )
    return out


def line_with(lines: list[Line], needle: str) -> Line:
    found = [line for line in lines if needle in line.text]
    assert found, needle
    return found[0]


def quotes_in(line: Line, needle: str) -> list[Char]:
    start = line.text.index(needle)
    return [c for c in line.chars[start : start + len(needle)] if c.char in "“”‘’"]


def is_cjk_face(font: str) -> bool:
    return "CJK" in font


# ---------------------------------------------------------------- item 1: punctuation as typed


@pytest.mark.parametrize(
    "context, needle",
    [
        ("body", "他说：“这是引号。”然后‘单引号’结束"),
        ("bold", "加粗的“引号”与‘单引号’"),
        ("chapter heading", "“引号”与"),
        ("section heading", "小节“标题”"),
        ("table caption", "表题中的“引号”"),
        ("figure caption", "图题中的“引号”"),
        ("table cell", "单元格里的‘引号’"),
        ("footnote", "脚注里的“引号”与‘单引号’"),
    ],
)
def test_quotes_in_chinese_are_full_width_cjk(lines, context, needle):
    """Each “”‘’ in Chinese text is the CJK face's full-width mark: one em (half where ctex compresses), never Latin."""
    quotes = quotes_in(line_with(lines, needle), needle)
    assert len(quotes) >= 2, context
    for quote in quotes:
        assert is_cjk_face(quote.font), (context, quote)
        assert quote.width >= 0.45 * quote.size, (context, quote)


def test_quotes_in_the_contents_are_cjk(lines):
    contents = [line for line in lines if "引号”与" in line.text and line.chars[0].page < 5]
    assert contents and all(is_cjk_face(q.font) for q in quotes_in(contents[0], "“引号”"))


def test_quotes_around_latin_text_stay_latin(lines):
    line = line_with(lines, "He said")
    quotes = quotes_in(line, "“world” and ‘moon’")
    assert len(quotes) == 4
    assert all(not is_cjk_face(q.font) and q.width < 0.5 * q.size for q in quotes)
    # A typed straight quote prints as typed, not as TeX's ” ligature.
    assert '"hello"' in line.text and "'bye'" in line.text


def test_dash_never_breaks_and_ellipsis_is_cjk(lines):
    dash_lines = [line for line in lines if "——" in line.text or line.text.startswith("—") or line.text.endswith("—")]
    assert len(dash_lines) >= 5
    for line in dash_lines:
        assert re.search(r"(^|[^—])—([^—]|$)", line.text) is None, line.text  # no half dash at a line end or start
        assert all(is_cjk_face(c.font) for c in line.chars if c.char == "—")
    ellipsis_line = line_with(lines, "省略号测试")
    ellipses = [c for c in ellipsis_line.chars if c.char in "…⋯"]
    assert len(ellipses) == 4 and all(is_cjk_face(c.font) and abs(c.width - BODY) < 0.5 for c in ellipses)
    assert "......" not in ellipsis_line.text


def test_epub_keeps_the_typed_marks(typo_build):
    with zipfile.ZipFile(typo_build.outputs["epub"].path) as epub:
        text = "".join(epub.read(name).decode("utf-8") for name in epub.namelist() if name.endswith(".xhtml"))
    typed = re.sub(r"<[^>]+>", "", text)  # the characters as read; marks quoting Chinese sit in span.cjk-quote (full width)
    assert "他说：“这是引号。”然后‘单引号’结束" in typed
    assert "——第2项——" in typed and "等等……然后" in typed
    assert re.search(r'<span class="latin">“</span>world<span class="latin">”</span>', text)


# ---------------------------------------------------------------- items 4 and 5: long tables, caption labels


def test_long_table_continues_under_its_label(typo_build):
    pdf = typo_build.outputs["pdf"].path
    text = pdftotext(pdf)
    assert "表2.1" in text and "续表2.1" in text
    pages = text.split("\f")
    for page in pages:
        if "续表2.1" in page:
            after = page.split("续表2.1", 1)[1]
            assert after.lstrip().startswith("序号"), "the repeated header follows the 续表 line"


def test_caption_labels_equal_in_pdf_and_epub(typo_build):
    text = pdftotext(typo_build.outputs["pdf"].path)
    assert re.search(r"表1\.1\s+表题", text) and re.search(r"图1\.1\s+图题", text)
    assert not re.search(r"[图表] [0-9]", text)
    with zipfile.ZipFile(typo_build.outputs["epub"].path) as epub:
        xhtml = "".join(epub.read(name).decode("utf-8") for name in epub.namelist() if name.endswith(".xhtml"))
    assert re.findall(r'caption-label">([^<]*)<', xhtml) == ["表1.1", "图1.1", "表2.1"]


def test_caption_label_setting():
    from bookgen.model.book import Layout

    assert Layout().caption("表", "2.1") == "表2.1"
    assert Layout(caption_label="{name} {number}").caption("图", "A.1") == "图 A.1"


# ---------------------------------------------------------------- items 6 and 11: faces


def test_math_face_is_the_text_faces_companion(lines):
    line = line_with(lines, "行内公式")
    text_fonts = {c.font for c in line_with(lines, "He said").chars if c.char.isalpha()}
    math_fonts = {c.font for c in line.chars if c.char in "𝑃𝑥()"}
    assert text_fonts == {"TeXGyreTermes-Regular"}, text_fonts
    assert len(math_fonts) == 1 and "TeXGyreTermesMath" in math_fonts.pop()
    chinese_in_text = [c for c in line_with(lines, "情感").chars if c.char in "情感概率"]
    assert chinese_in_text and all("NotoSerifCJK" in c.font for c in chinese_in_text)


@pytest.mark.parametrize("needle, latin", [("NLP 模型", "NLP"), ("第1章", "1")])
def test_latin_in_bold_is_the_bold_faces_own(lines, needle, latin):
    bold_lines = [line for line in lines if needle in line.text]
    assert bold_lines
    for line in bold_lines:
        start = line.text.index(needle)
        chars = line.chars[start : start + len(needle)]
        cjk_font = next(c.font for c in chars if ord(c.char) > 0x2E80)
        assert "Bold" in cjk_font
        assert {c.font for c in chars if c.char in latin} == {cjk_font}, line.text


# ---------------------------------------------------------------- item 7: code on the monospace grid


def test_cjk_in_code_is_two_latin_advances(lines):
    latin = line_with(lines, "abcdefghijklmnopqrstuvwx").chars
    start = "".join(c.char for c in latin).index("abcdefghijklmnopqrstuvwx")
    advance = (latin[start + 23].x1 - latin[start].x0) / 24
    runs = [line for line in lines if "一二三四五六七八九十十一" in line.text]
    assert len(runs) == 3  # comment, string, plain block
    for line in runs:
        k = line.text.index("一二三四五六七八九十十一")
        chars = line.chars[k : k + 12]
        assert all(abs(c.width - 2 * advance) < 0.02 for c in chars), [c.width for c in chars]
        assert abs((chars[-1].x1 - chars[0].x0) - 24 * advance) < 0.1


def test_code_comments_are_in_monospaced_kai(lines):
    comment = line_with(lines, "# 一二三四")
    assert {c.font for c in comment.chars if c.char.strip()} == {"LXGWWenKaiMono-Regular"}


def test_log_has_no_overfull_boxes(typo_build):
    logs = list(Path(typo_build.outputs["pdf"].path).parent.glob(".work/latex/**/book.log"))  # the parallel jobs' logs
    assert logs and not [log for log in logs if "Overfull" in log.read_text(encoding="utf-8", errors="replace")]
