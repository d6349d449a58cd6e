"""Cross-references (issue 15): the recogniser, the label table, the check's messages with positions, the
fixture book's PDF and EPUB (texts, links to the right page and file), and the chapter-level update."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pymupdf
import pytest
from click.testing import CliRunner

from bookgen.cli import main
from bookgen.errors import ManuscriptError
from bookgen.model.book import load_book
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions, Format
from bookgen.sources.convert import convert_sources
from bookgen.sources.reading import read_sources
from bookgen.verify import check_epub
from bookgen.xref.kinds import RefKind
from bookgen.xref.table import collect_labels
from conftest import FIXTURES, build_copy, write_book
from outputs import XHTML, pdf_link_problems, pdf_pages, plain
from test_rebuild import ToolCalls

XREF = FIXTURES / "xref"

# ---------------------------------------------------------------- recogniser and table (pandoc only)

BOOK = """title: 书
chapters:
  - title: 一
    sections:
      - title: 甲
        file: a.md
appendices:
  - title: 附
    sections:
      - title: 乙
        id: sec-b
        file: b.md
"""


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run where the manuscript is: messages name files relative to the current directory (m/a.md)."""
    monkeypatch.chdir(tmp_path)


def table_of(root: Path):
    book = load_book(root)
    sources = read_sources(book)
    converted, _ = convert_sources(book, {k: s for k, s in sources.items() if s.written}, root.parent / "cache")
    return book, converted, collect_labels(book, converted)


def test_references_between_chinese_characters_groups_and_bare_forms(tmp_path):
    root = write_book(
        tmp_path / "m",
        BOOK,
        {
            "a.md": "如@fig-a所示，（见@fig-b）由@fig-a.可得；[@fig-a; @fig-b]与[-@fig-b]，邮件 x@fig-a.com，@zhang2020。\n\n"
            "![甲](i.png){#fig-a}\n\n![乙](i.png){#fig-b}\n",
            "b.md": "见@sec-b与@fig-a:\n",
        },
    )
    _, converted, table = table_of(root)
    references = [r["labels"] for node in converted.values() for r in node.xref["references"]]
    assert references == [["fig-a"], ["fig-b"], ["fig-a"], ["fig-a", "fig-b"], ["fig-b"], ["sec-b"], ["fig-a"]]
    forms = [r["form"] for r in converted["sec-1-1"].xref["references"]]
    assert forms == ["normal"] * 4 + ["bare"]
    latex = converted["sec-1-1"].latex
    assert "如\\bookgenref{fig-a}{normal}所示" in latex and "\\bookgenref{fig-a,fig-b}{normal}" in latex
    assert "x@fig-a.com" in latex and "zhang2020" in latex  # an e-mail address and a citation key are no references
    assert [(label, t.form.text, t.form.bare.text) for label, t in table.targets.items()] == [
        ("sec-1-1", "第1.1节", "1.1"),
        ("sec-b", "A.1节", "A.1"),
        ("fig-a", "图1.1", "1.1"),
        ("fig-b", "图1.2", "1.2"),
    ]
    assert [item if isinstance(item, str) else item[1].text for item in table.group(["fig-a", "fig-b", "sec-b"], False)] == [
        "图1.1",
        "、",
        "图1.2",
        "和",
        "A.1节",
    ]


def test_numbering_of_every_kind_per_chapter(tmp_path):
    root = write_book(
        tmp_path / "m",
        BOOK,
        {
            "a.md": '$$x$$ {#eq-a}\n\n$$y$$\n\n$$z$$ {#eq-b}\n\n```python {#lst-a caption="甲"}\nx\n```\n\n'
            "# 小节 {#sec-sub}\n\n![](i.png)\n\n![有标题](i.png)\n\n![有](i.png){#fig-c}\n\n"
            "| a |\n|---|\n| 1 |\n\n: 表 {#tbl-a}\n",
            "b.md": "![附图](i.png){#fig-app}\n",
        },
    )
    _, _, table = table_of(root)
    printed = {label: target.form.text for label, target in table.targets.items()}
    assert printed == {
        "sec-1-1": "第1.1节",
        "sec-b": "A.1节",
        "eq-a": "式(1.1)",
        "eq-b": "式(1.2)",
        "lst-a": "代码1.1",
        "sec-sub": "第1.1.1节",
        "fig-c": "图1.2",
        "tbl-a": "表1.1",
        "fig-app": "图A.1",
    }
    assert {t.kind for t in table.targets.values()} == set(RefKind)


def test_words_come_from_book_yaml(tmp_path):
    yaml_text = BOOK + "crossref:\n  figure: 插图\n  section: '§{}'\n  appendix_section: '附{}'\n  conjunction: 与\n"
    root = write_book(tmp_path / "m", yaml_text, {"a.md": "![甲](i.png){#fig-a}\n\n# 小 {#sec-x}\n", "b.md": "[@fig-a; @sec-x; @sec-b]\n"})
    _, _, table = table_of(root)
    assert [item if isinstance(item, str) else item[1].text for item in table.group(["fig-a", "sec-x", "sec-b"], False)] == [
        "插图1.1",
        "、",
        "§1.1.1",
        "与",
        "附A.1",
    ]
    with pytest.raises(ManuscriptError) as caught:
        load_book(write_book(tmp_path / "bad", BOOK + "crossref:\n  section: 第节\n  lists: [figures, tabels]\n"))
    assert "'第节' must hold '{}' once" in caught.value.message and "did you mean 'tables'" in caught.value.message
    assert (caught.value.location.line, caught.value.location.column) == (14, 12)


# ---------------------------------------------------------------- the check, with positions

ERRORS = {
    "book.yaml": BOOK.replace("chapters:\n  - title: 一\n", "chapters:\n  - title: 一\n    id: sec-one\n")
    + "front:\n  - title: 前言\n    id: sec-preface\n    file: front.md\n",
    "front.md": "前言。\n",
    "a.md": "正文如@fig-archh所示。\n\n![架构](i.png){#fig-arch}\n\n![另一个](i.png){#fig-arch}\n\n![](i.png){#fig-none}\n\n"
    "| a |\n|---|\n| 1 |\n\n: 表 {#fig-table}\n\n![名字](i.png){#fig-架构}\n\n见@fig-架构和@fig-table，以及 {#fig arch} 和@sec-one。\n",
    "b.md": "引用@tbl-missing与[@fig-arch; @eq-nothing]。\n",
}


def test_check_reports_every_problem_with_its_position(tmp_path):
    files = dict(ERRORS)
    root = write_book(tmp_path / "m", files.pop("book.yaml"), files)
    result = CliRunner().invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--format", "json"])
    found = [
        f"{f['file']}:{f['line']}:{f['column']}: {f['code']} {f['message']}" for f in json.loads(result.output) if f["code"].startswith("X")
    ]
    assert found == [
        "m/book.yaml:12:13: X003 label #sec-b is never referenced",
        "m/book.yaml:16:9: X006 label #sec-preface is on 前言, which has no number",
        "m/a.md:1:4: X001 unknown reference @fig-archh (did you mean @fig-arch?)",
        "m/a.md:5:15: X002 duplicate label #fig-arch (also defined at m/a.md:3:14)",
        "m/a.md:7:12: X006 label #fig-none is on an image without a caption: a figure is an image with a caption, alone in its paragraph",
        "m/a.md:13:6: X004 label #fig-table is on a table: a table's label starts with tbl-",
        "m/a.md:15:14: X003 label #fig-架构 is never referenced",
        "m/a.md:15:14: X005 label #fig-架构 cannot be referenced: a label is ASCII letters, digits, '-', '_' and ':'",
        "m/a.md:17:2: X005 '@fig-架…' is not a reference: a label is ASCII letters, digits, '-', '_' and ':', and '架' ends it",
        "m/a.md:17:25: X005 label '#fig arch' contains a space: a label is ASCII letters, digits, '-', '_' and ':'",
        "m/b.md:1:3: X001 unknown reference @tbl-missing",
        "m/b.md:1:28: X001 unknown reference @eq-nothing",
    ]


@pytest.mark.parametrize("no_check", [False, True])
def test_unknown_reference_stops_the_build_before_tex(tmp_path, monkeypatch, no_check):
    root = write_book(tmp_path / "m", BOOK, {"a.md": "第一段。\n\n如@fig-archh所示。\n\n![架构](i.png){#fig-arch}\n", "b.md": "乙。\n"})
    shutil.copy(XREF / "images/pipeline.png", root / "i.png")
    calls = ToolCalls(monkeypatch)
    result = CliRunner().invoke(
        main, ["build", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--no-verify", *(["--no-check"] if no_check else [])]
    )
    assert result.exit_code == 2, result.output  # a manuscript error, found by the pre-check or before TeX
    assert re.search(r"m/a\.md:3:2: (X001 )?unknown reference @fig-archh \(did you mean @fig-arch\?\)", result.output)
    assert "xelatex" not in calls.calls and "latexmk" not in calls.calls and not list((tmp_path / "b").glob("*.pdf"))


# ---------------------------------------------------------------- the fixture book, built once


@pytest.fixture(scope="module")
def xref_build(tmp_path_factory):
    return build_copy(XREF, tmp_path_factory.mktemp("xref"))


@pytest.fixture(scope="module")
def xref_table(xref_build):
    book = xref_build.book
    sources = read_sources(book)
    converted, _ = convert_sources(book, {k: s for k, s in sources.items() if s.written}, xref_build.outputs["pdf"].path.parent / ".cache")
    return collect_labels(book, converted)


PHRASES = [
    "如图1.2所示",
    "见表3.1",
    "式(2.4)",
    "第3.2节",
    "第1.1.1节",
    "由式(2.4)可得",
    "（见表1.1）",
    "第1章的架构",
    "第二部分（第二部分）",
    "附录A和A.1节",
    "如图A.1和表A.1",
    "代码2.1所示",
    "（式(2.2)和式(2.3)）",
    "即(2.4)。",
    "图号1.2是",
    "图1.2、图A.1和图3.1",
    "计算（图1.2）60%",
    "估算依据A.1节中的数据",
    "参见图1.2中的训练环节",
    "与图1.2对应",
    "训练循环（最小化式(2.4)）",
]


def test_pdf_prints_every_reference(xref_build):
    text = plain("".join(pdf_pages(xref_build.outputs["pdf"].path)))
    missing = [phrase for phrase in PHRASES if phrase not in text]
    assert missing == [] and "??" not in text and "@" not in text


def test_pdf_captions_and_equation_numbers_equal_the_table(xref_build, xref_table):
    pages = [plain(page) for page in pdf_pages(xref_build.outputs["pdf"].path)]
    body = "".join(page for page in pages if "目录" not in page)
    captions = {
        "fig-pipeline": "数据流水线",
        "tbl-cost": "成本构成",
        "tbl-metrics": "评估指标",
        "fig-errors": "误差分布",
        "fig-dist": "数据分布",
        "tbl-data": "数据集规模",
        "lst-train": "训练循环",
    }
    for label, caption in captions.items():
        assert xref_table.targets[label].form.text + caption in body, label
    assert "图1.1数据流水线的早期草图" in body and "代码2.2评估循环" in body  # unlabelled captions are numbered too
    assert "图目录" in "".join(pages) and "图A.1数据分布" in "".join(pages) and "表目录" in "".join(pages)


def _target_pages(pdf: Path) -> dict[str, int]:
    """Where the fixture's objects and headings are: printed form → 0-based page, found by their own text."""
    snippets = {
        "图1.2": "图1.2数据流水线",
        "1.2": "图1.2数据流水线",
        "表1.1": "表1.1成本构成",
        "表3.1": "表3.1评估指标",
        "图3.1": "图3.1误差分布",
        "图A.1": "图A.1数据分布",
        "表A.1": "表A.1数据集规模",
        "代码2.1": "代码2.1训练循环",
        "第1.1节": "1.1总体结构",
        "第3.2节": "3.2误差分析",
        "第1.1.1节": "1.1.1组件",
        "第1章": "第1章架构",
        "附录A": "附录A数据",
        "A.1节": "A.1数据表",
    }
    pages = [plain(page) for page in pdf_pages(pdf)]
    found = {form: next(i for i, page in enumerate(pages) if snippet in page and "目录" not in page) for form, snippet in snippets.items()}
    with pymupdf.open(pdf) as document:
        for number in range(1, 5):  # equation numbers at the right margin
            page = next(i for i, p in enumerate(document) if any(r.x0 > p.rect.width * 0.6 for r in p.search_for(f"(2.{number})")))
            found[f"式(2.{number})"] = found[f"(2.{number})"] = page
    return found


def test_pdf_links_land_on_the_right_page(xref_build):
    pdf = xref_build.outputs["pdf"].path
    expected = _target_pages(pdf)
    checked = 0
    with pymupdf.open(pdf) as document:
        for page in document:
            for link in page.get_links():
                text = "".join(page.get_textbox(link["from"]).split())
                forms = [form for form in expected if form in text]
                if not forms or "目录" in plain(page.get_text()):
                    continue
                form = max(forms, key=len)
                assert link["page"] == expected[form], f"page {page.number}: link {text!r} goes to page {link['page']}"
                checked += 1
    assert checked >= 40
    assert pdf_link_problems(pdf) == []


def test_epub_links_resolve_to_ids_in_the_right_files(xref_build, xref_table):
    epub = xref_build.outputs["epub"].path
    with zipfile.ZipFile(epub) as archive:
        files = {Path(name).name: ElementTree.fromstring(archive.read(name)) for name in archive.namelist() if name.endswith(".xhtml")}
    ids = {name: {e.get("id") for e in root.iter() if e.get("id")} for name, root in files.items()}
    links = [(name, a) for name, root in files.items() for a in root.iter(f"{XHTML}a") if a.get("class") == "xref"]
    assert len(links) >= 40
    for name, link in links:
        target_file, _, anchor = link.get("href").rpartition("#")
        target_file = target_file or name
        assert anchor in ids[target_file], link.get("href")
        target = xref_table.targets[anchor]
        assert "".join(link.itertext()) in (target.form.text, target.form.bare.text)
        # the file holding the id is the one holding the object's number or the entry's heading
        assert target.form.number in "".join(files[target_file].itertext())
    body = "".join("".join(root.itertext()) for root in files.values())
    assert all(phrase.replace("60%", "") in re.sub(r"\s+", "", body) for phrase in PHRASES)
    assert "图目录" in body and "图A.1\u3000数据分布" in body and "代码2.1\u3000训练循环" in body and "(2.4)" in body
    report = check_epub(epub)
    assert (report.errors, report.warnings) == (0, 0), report.messages
    # 如图1.2所示 as in the PDF: no CJK–Latin spacing inside a reference or at its ends
    with zipfile.ZipFile(epub) as archive:
        raw = "".join(archive.read(name).decode() for name in archive.namelist() if name.endswith(".xhtml"))
    references = re.findall(r'<span class="xref">.*?</span>', raw)
    assert references and not [ref for ref in references if "autospace" in ref]
    assert not re.search(
        r'autospace"\s*(?:/>|></span>)<span class="xref">|<span class="xref">(?:(?!</span>).)*</span><span class="autospace"', raw
    )


def test_web_edition_prints_and_links_every_reference(tmp_path):
    """The web edition reads the same assembled document as the EPUB: same phrases, links to the page
    that holds the label (pages cut by chapter), 图目录 included."""
    result = build_copy(XREF, tmp_path, formats=(Format.HTML,))
    site = result.outputs["html"].path.parent
    pages = {page.name: page.read_text(encoding="utf-8") for page in site.glob("*.html")}
    ids = {name: set(re.findall(r'id="([^"]+)"', text)) for name, text in pages.items()}
    links = [(name, href) for name, text in pages.items() for href in re.findall(r'<a href="([^"]+)" class="xref"', text)]
    assert len(links) >= 40
    for name, href in links:
        target_page, _, anchor = href.rpartition("#")
        assert anchor in ids[target_page or name], (name, href)
    body = re.sub(r"<[^>]+>|\s+", "", "".join(pages.values()))
    assert all(phrase.replace("60%", "") in body for phrase in PHRASES) and "图目录" in body


# ---------------------------------------------------------------- the chapter-level update


def test_chapter_update_with_a_cross_chapter_reference(tmp_path, monkeypatch):
    first = build_copy(XREF, tmp_path, formats=("pdf",), jobs=1)  # the sequential build's chapter update
    manuscript = tmp_path / "xref"
    options = BuildOptions(manuscript=manuscript, output=tmp_path / "build", formats=("pdf",), verify=False, jobs=1)

    # An edit in 第3章, which refers to 图1.2 and 第1.1节: nothing moves, the chapter is spliced in.
    errors = manuscript / "chapters/eval/errors.md"
    errors.write_text(errors.read_text(encoding="utf-8").replace("误差的分布如", "误差的分布情况如"), encoding="utf-8")
    calls = ToolCalls(monkeypatch)
    spliced = build(options)
    assert "chapter update: 第3章" in spliced.outputs["pdf"].detail
    assert calls.calls.count("xelatex") == 1 and "latexmk" not in calls.calls
    text = plain("".join(pdf_pages(spliced.outputs["pdf"].path)))
    assert "误差的分布情况如图3.1所示" in text and "来自第1.1节描述" in text and pdf_link_problems(spliced.outputs["pdf"].path) == []

    # An edit in 第1章 that adds a figure before 图1.2, which 第2章, 第3章 and 附录A refer to: the whole book.
    overview = manuscript / "chapters/arch/overview.md"
    overview.write_text(
        overview.read_text(encoding="utf-8").replace(
            "系统由三层组成。", "系统由三层组成。\n\n![新图](../../images/pipeline.png){width=20%}\n"
        ),
        encoding="utf-8",
    )
    calls.calls.clear()
    moved = build(options)
    assert "chapter update" not in moved.outputs["pdf"].detail and "latexmk" in calls.calls
    pages = pdf_pages(moved.outputs["pdf"].path)
    text = plain("".join(pages))
    assert (
        "如图1.3所示" in text and "回到正文：图1.3与第1.1节" in text and "图1.2数据流水线的早期草图" in text and "如图1.2所示" not in text
    )
    fresh = build(BuildOptions(manuscript=manuscript, output=tmp_path / "fresh", formats=("pdf",), verify=False))
    assert pages == pdf_pages(fresh.outputs["pdf"].path) and first.outputs["pdf"].pages <= moved.outputs["pdf"].pages


def test_check_reports_at_words_that_are_no_reference(tmp_path):
    """@ch-2, @app-a, @intro: an outline entry's id without the sec- prefix is an error telling the fix;
    any other @word is a warning in a book without bibliography (with one it is a citation: C001's)."""
    yaml_text = BOOK.replace("      - title: 甲\n", "      - title: 甲\n        id: intro\n")
    text = "见@ch-1与@intro，附录@app-a。\n\n`@ch-1` 与 mail@example.com，见@sec-b，@fig-甲。\n\n@todo: 补写。\n"
    root = write_book(tmp_path / "m", yaml_text, {"a.md": text, "b.md": "乙。\n"})
    result = CliRunner().invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--format", "json"])
    found = [(f["line"], f["column"], f["code"], f["severity"]) for f in json.loads(result.output) if f["code"] in ("X007", "X008")]
    assert found == [(1, 2, "X007", "error"), (1, 8, "X007", "error"), (1, 17, "X007", "error"), (5, 1, "X008", "warning")]
    messages = [f["message"] for f in json.loads(result.output) if f["code"] in ("X007", "X008")]
    assert "give the entry `id: sec-intro` to refer to it" in messages[1]
    assert messages[3] == "@todo is neither a cross-reference nor a citation (no bibliography:); it prints literally"
    assert result.exit_code != 0
    with_bibliography = write_book(
        tmp_path / "n",
        yaml_text + "bibliography:\n  files: [refs.bib]\n",
        {
            "a.md": "@todo: 补写。\n",
            "b.md": "乙。\n",
            "refs.bib": "@book{k, title={T}, author={A}, year={2000}, publisher={P}, address={X}}\n",
        },
    )
    result = CliRunner().invoke(
        main, ["check", "--manuscript", str(with_bibliography), "--output", str(tmp_path / "c"), "--format", "json"]
    )
    assert [f["code"] for f in json.loads(result.output) if f["code"] in ("X008", "C001")] == ["C001"]
