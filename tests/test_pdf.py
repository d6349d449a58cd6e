"""The PDF, checked with poppler and pikepdf: fonts, page size, text, structure, metadata."""

from __future__ import annotations

import re
import zipfile

import pikepdf
import pytest

from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions
from bookgen.verify import check_pdf, pdf_info
from conftest import write_book
from outputs import pdf_bookmarks, pdf_pages, plain

pytestmark = pytest.mark.integration

TRIM_BP = (185 * 72 / 25.4, 260 * 72 / 25.4)
ENGLISH_LABELS = re.compile(r"\b(Contents|Chapter|Part|Figure|Table|Appendix|Abstract|Preface)\b")


@pytest.fixture(scope="module", params=["sampler", "real"])
def built(request):
    return request.getfixturevalue(f"{request.param}_build")


def test_fonts_embedded_no_type3_page_size(built):
    report = check_pdf(built.outputs["pdf"].path)
    assert report.problems == []
    assert report.fonts and all(font["embedded"] for font in report.fonts)
    assert not any(font["type"].startswith("Type 3") for font in report.fonts)
    assert abs(report.width_bp - TRIM_BP[0]) < 0.5 and abs(report.height_bp - TRIM_BP[1]) < 0.5
    names = " ".join(font["name"] for font in report.fonts)
    assert "NotoSerifCJK" in names and "NotoSansCJK" in names  # 宋 body, 黑 headings
    assert "TeXGyreTermes-Regular" in names  # Latin beside the CJK body: Times-like, as the math (issue 13 item 6)
    assert "LMRoman" not in names


def test_no_english_labels(built):
    text = "\n".join(pdf_pages(built.outputs["pdf"].path))
    assert not ENGLISH_LABELS.search(text)
    assert "目录" in text


def test_metadata_and_bookmarks(built):
    pdf = built.outputs["pdf"].path
    info = pdf_info(pdf)
    meta = built.book.metadata
    assert info["Title"].startswith(meta.title)
    assert info["Keywords"] == "，".join(meta.keywords)
    assert info["Subject"]  # the abstract
    with pikepdf.open(pdf) as document:
        assert str(document.Root.Lang) == "zh-CN"
        assert "/PageLabels" in document.Root  # roman front matter, arabic body
    with pikepdf.open(pdf) as document, document.open_outline() as outline:
        raw = [item.title for item in outline.root] + [c.title for item in outline.root for c in item.children]
    assert raw and not [title for title in raw if "  " in title]  # one space between number and title, as in the EPUB
    bookmarks = pdf_bookmarks(pdf)
    chapters = [node.heading for node in built.book.nodes() if node.kind == "chapter"]
    assert [
        b for b in bookmarks if b.startswith("第") and b.endswith(tuple(c.split(" ", 1)[1] for c in chapters)) and "部分" not in b
    ] == chapters


def test_blank_pages_carry_no_head_or_folio(built):
    pages = pdf_pages(built.outputs["pdf"].path)
    blank = [i for i, page in enumerate(pages) if not page.strip()]
    assert blank, "twoside openright gives blank versos"
    title = built.book.metadata.title
    for number, page in enumerate(pages):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        only_head = lines and all(re.fullmatch(r"[ivxlc\d]+", line) or title in line for line in lines)
        assert not only_head, f"page {number + 1} has a running head or folio but no text"


def test_chapters_open_on_recto(built):
    pages = pdf_pages(built.outputs["pdf"].path)
    toc_pages = {i for i, page in enumerate(pages) if re.search(r"\. \. \.", page)}  # dot leaders
    for node in built.book.nodes():
        if node.kind in ("chapter", "part"):  # appendices follow on the next page (layout.open, issue 13 item 10)
            heading = plain(node.heading)
            index = next(i for i, page in enumerate(pages) if i not in toc_pages and heading in plain("\n".join(page.splitlines()[:8])))
            assert index % 2 == 0, f"{node.heading} opens on page {index + 1}, a verso"


def test_sampler_text(sampler_build):
    pages = pdf_pages(sampler_build.outputs["pdf"].path)
    text = plain("".join(pages))
    body = text[text.index("第1章段落与强调", text.index("第一部分基础") + 10) :]  # after the TOC
    order = [
        "第一部分基础",
        "第1章段落与强调",
        "1.1段落",
        "1.1.1小节标题",
        "1.2列表与公式",
        "1.3尚未写成的一节",
        "第二部分进阶",
        "第2章块级元素",
        "2.1表格",
        "2.2图片与代码",
        "2.3引用与脚注",
        "附录A工具",
        "A.1命令行",
        "致谢",
    ]
    positions = [text.index(order[0])] + [body.index(item) for item in order[1:]]
    assert positions[1:] == sorted(positions[1:])
    for phrase in [
        "情感",
        "大模型预测概率",
        "推荐概率",
        "双向编码器",
        "计算损失函数（中文注释）",
        "defloss(y,y_hat):",
        "「本节待撰写」",
        "〔本节未完〕",
        "表2.1",
        "图2.1流水线示意图",
        "表A.1命令一览",
        "第一个脚注的内容",
        "百分号50%",
        "美元$5",
        "井号#1",
        "a_b",
        "A&B",
        "**",
        "教训一：市场调研的重要性",
    ]:
        if phrase == "**":
            assert "**" not in text  # emphasis next to CJK punctuation was parsed, not printed
        else:
            assert phrase in text, phrase
    raw = "".join(pages)
    assert "附录A" in raw and "附录 A" not in raw and "第1章" in raw and "第 1 章" not in raw  # numbers as in the EPUB
    # The long table continues on the next page with its header repeated.
    first = next(i for i, p in enumerate(pages) if "第1行" in plain(p))
    last = next(i for i, p in enumerate(pages) if "第70行" in plain(p))
    assert last > first
    assert all("序号" in pages[i] for i in range(first, last + 1))
    # Front matter pages are numbered in roman numerals, the body from 1.
    toc = next(p for p in pages if "目录" in p and "摘要" in p)
    assert re.search(r"摘要\s*\.*\s*iii", toc)
    assert re.search(r"第1章\s*段落与强调\s*\.*\s*3\b", toc)


def test_real_manuscript_text(real_build):
    text = plain("".join(pdf_pages(real_build.outputs["pdf"].path)))
    for number in range(1, 9):
        assert f"第{number}章" in text
    assert text.count("「本节待撰写」") == 60
    assert "创业者应该密切关注市场环境的变化，" in text
    assert "〔本节未完〕" in text
    assert "(情感|文本)=sigmoid(大模型预测概率)" in text  # P is set as math italic U+1D443
    for residue in ("<|assistant|>", "开始撰写正文内容", "assistant"):
        assert residue not in text
    assert "附录G技术术语解释" in text  # the draft's 附录H, renumbered


def test_cold_build_takes_two_passes_and_the_copyright_page_counts_all_pages(built):
    """The seeded contents give the first round its final length: two rounds of parallel jobs (the second
    typesets what moved and the contents with their pages), and 字数 from every page of the printed edition
    (the pages made up to whole signatures, as the print interior is padded)."""
    assert " in 2 rounds on 2 cores" in built.outputs["pdf"].detail
    pages = pdf_pages(built.outputs["pdf"].path)
    layout, signature = built.book.layout, built.book.press.signature
    printed = -(-len(pages) // signature) * signature
    expected = layout.chars_per_line * layout.lines_per_page * printed / 1000
    assert f"{round(expected)}千字" in plain(pages[1])  # a whole number of 千字 (issue 13, item 3)


CAPTIONED = """title: 表题测试
slug: cap
front:
  - title: 前言
    file: pre.md
chapters:
  - title: 第一章
    file: c1.md
appendices:
  - title: 附表
    file: a.md
back:
  - title: 后记
    file: post.md
"""


@pytest.mark.integration
@pytest.mark.parametrize("jobs", [1, 2])
def test_captions_outside_the_chapters_are_unnumbered_as_in_the_epub(tmp_path, jobs):
    """Front and back matter tables: no 表A.2 running on from the appendices, not in the 表目录."""
    table = "| 项目 | 数值 |\n|:--|--:|\n| 甲 | 1 |\n\n: 表题{}\n"
    files = {name: f"正文。\n\n{table.format(n)}" for n, name in zip("甲乙丙丁", ["pre.md", "c1.md", "a.md", "post.md"], strict=True)}
    manuscript = write_book(tmp_path / "m", CAPTIONED, files)
    result = build(BuildOptions(manuscript=manuscript, output=tmp_path / "b", verify=False, jobs=jobs))
    text = plain("".join(pdf_pages(result.outputs["pdf"].path)))
    assert "表1.1表题乙" in text and "表A.1表题丙" in text  # numbered in the chapter and the appendix
    assert "表A.2" not in text and "表A.0" not in text
    assert text.count("表题甲") == 1 and text.count("表题丁") == 1  # unnumbered, and neither is in the 表目录
    with zipfile.ZipFile(result.outputs["epub"].path) as epub:
        xhtml = "".join(epub.read(n).decode() for n in epub.namelist() if n.endswith(".xhtml"))
    assert "<caption>表题甲</caption>" in xhtml and "<caption>表题丁</caption>" in xhtml


PART_BOOK = "title: 篇测试\nslug: pt\nparts:\n  - title: 第一篇\n    file: p1.md\n    chapters:\n      - title: 一章\n        file: c1.md\n"


@pytest.mark.integration
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_parts_text_is_on_the_part_page(tmp_path, jobs):
    """The part's own text under its title (README: "optional text on the part page"), then a blank verso."""
    manuscript = write_book(tmp_path / "m", PART_BOOK, {"p1.md": "本篇导言：这一篇讲述基础。\n", "c1.md": "正文。\n"})
    result = build(BuildOptions(manuscript=manuscript, output=tmp_path / "b", formats=("pdf",), verify=False, jobs=jobs))
    pages = [plain(page) for page in pdf_pages(result.outputs["pdf"].path)]
    part = next(i for i, page in enumerate(pages) if "第一篇" in page and "目录" not in page)
    assert "本篇导言" in pages[part] and pages[part + 1] == "" and "第1章" in pages[part + 2]
