"""The index and the glossary (issue 18): pinyin order, the index table, the check's messages with
positions, and the fixture book built once in PDF, EPUB and HTML (page numbers against the pages where
each marked term is, ranges, links to the marked places, the glossary everywhere, the chapter update)."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pymupdf
import pytest
from click.testing import CliRunner

from bookgen.cli import main
from bookgen.index.ast import index_blocks
from bookgen.index.collate import sort_key
from bookgen.index.table import collect_index
from bookgen.latex.render import render_latex
from bookgen.model.book import load_book
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions
from bookgen.sources.ast import walk_blocks
from bookgen.sources.convert import convert_sources
from bookgen.sources.reading import read_sources
from bookgen.verify import check_epub
from conftest import FIXTURES, REPO, build_copy, write_book
from outputs import XHTML, pdf_link_problems, pdf_pages, plain
from test_rebuild import ToolCalls

INDEXED = FIXTURES / "index"
AXE = REPO / ".tools" / "node_modules" / "axe-core" / "axe.min.js"  # make deps; the popover test runs it when present


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run where the manuscript is: messages name files relative to the current directory (m/a.md)."""
    monkeypatch.chdir(tmp_path)


# ---------------------------------------------------------------- pinyin order


def test_pinyin_order_of_tricky_entries():
    words = [
        "银行",
        "重庆",
        "长城",
        "重量",
        "长度",
        "銀行",
        "事务",
        "实务",
        "世务",
        "式子",
        "西安",
        "先",
        "ACID",
        "C语言",
        "3D打印",
        "@符号",
        "阿姨",
        "八",
        "曾国藩",
        "資料",
        "资料",
        "Zebra",
    ]
    keys = {word: sort_key(word) for word in words}
    assert keys["重庆"].group == "C" and keys["重庆"].syllables == ("chong", "qing")  # not zhong
    assert keys["银行"].group == "Y" and keys["银行"].syllables == ("yin", "hang")  # not xing
    assert keys["长城"].group == "C" and keys["长城"].syllables == ("chang", "cheng")  # not zhang
    assert keys["銀行"].syllables == ("yin", "hang") and keys["資料"].syllables == keys["资料"].syllables  # traditional characters
    ordered = sorted(words, key=lambda word: keys[word])
    assert (
        ordered.index("长城") < ordered.index("长度") < ordered.index("重庆") < ordered.index("重量") < ordered.index("资料")
    )  # zhong before zi
    # groups: symbols and digits first, then the letters; within a letter syllable by syllable, tone second
    assert [keys[w].group for w in ordered] == sorted(keys[w].group for w in words)
    assert ordered.index("实务") < ordered.index("世务") < ordered.index("式子")  # shí before shì; shi wu before shi zi
    assert {ordered.index("世务"), ordered.index("事务")} == {
        ordered.index("实务") + 1,
        ordered.index("实务") + 2,
    }  # identical pinyin: kept together
    assert ordered.index("西安") < ordered.index("先")  # xi an before xian: syllable by syllable
    # character by character: the entries starting with one character stay together, each character by
    # its syllable, then its tone, then itself (shí 时 before shì 是, though shi fei < shi jian)
    heads = ["是非", "时刻", "世界", "时间", "事务", "世务", "是否"]
    assert sorted(heads, key=sort_key) == ["时间", "时刻", "世界", "世务", "事务", "是非", "是否"]
    assert sort_key("3D打印") < sort_key("10倍速") < sort_key("@符号")  # numbers by their value
    assert ordered[:2] == ["3D打印", "@符号"] and keys["ACID"].group == "A" and keys["C语言"].group == "C"
    assert keys["曾国藩"].group == "C" and sort_key("曾国藩", "zeng guo fan").group == "Z"  # the author's sort= key wins
    # sort= as the issue writes it: syllables together (split as pinyin is), apart, with tone digits or marks
    for written in ("chongqing", "chong qing", "chong2qing4", "chóngqìng", "chong2 qing4"):
        assert sort_key("重庆", written).syllables == ("chong", "qing") and sort_key("重庆", written).group == "C", written
    assert sort_key("重庆", "chóngqìng").tones == (2, 4) and sort_key("重庆", "chongqing") < sort_key("冲突")  # chong qing < chong tu
    assert sort_key("西安", "xian").syllables == ("xi", "an") and sort_key("先", "xian").syllables == ("xian",)
    assert sort_key("绿地", "lǜdì").syllables == ("lv", "di") == sort_key("绿地").syllables and sort_key("ACID", "acid").syllables == (
        "acid",
    )
    assert sort_key("ACID", latin_in_letters=False).group == "" and sort_key("阿姨", latin_in_letters=False).group == "A"


# ---------------------------------------------------------------- the table and the check (pandoc only)

BOOK = """title: 书
glossary: terms.yaml
chapters:
  - title: 一
    sections:
      - title: 甲
        file: a.md
"""


def index_of(root: Path):
    book = load_book(root)
    sources = read_sources(book)
    converted, _ = convert_sources(book, {k: s for k, s in sources.items() if s.written}, root.parent / "cache")
    return book, sources, converted, collect_index(book, converted)


def test_marks_entries_ranges_and_terms(tmp_path):
    root = write_book(
        tmp_path / "m",
        BOOK,
        {
            "terms.yaml": "- term: 大模型\n- key: llm\n  term: 大语言模型\n  english: Large Language Model\n  abbreviation: LLM\n",
            "a.md": '# 两阶段[提交]{.index}\n\n[事务]{.index}与[ACID]{.index entry="事务!ACID 特性"}，[MVCC]{.index see="多版本并发控制"}。'
            '[大模型]{.term}和[LLM]{.term key=llm}，再说[大模型]{.term}。^[注[锁]{.index seealso="事务"}]\n\n'
            '| [B树]{.index entry="索引!B树"} |\n|---|\n| x |\n\n[隔离]{.index start=iso}开始，结束。[]{.index end=iso}\n',
        },
    )
    book, sources, converted, table = index_of(root)
    lines = [
        ("!".join(entry.levels), [(loc.first.id, loc.last.id if loc.last else None) for loc in entry.locators], entry.see, entry.see_also)
        for group in table.groups
        for entry in group.entries
    ]
    assert lines == [
        ("隔离", [("ix-sec-1-1-7", "ix-sec-1-1-8")], [], []),
        ("MVCC", [], ["多版本并发控制"], []),
        ("事务", [("ix-sec-1-1-2", None)], [], []),
        ("事务!ACID 特性", [("ix-sec-1-1-3", None)], [], []),
        ("索引", [], [], []),  # 索 suǒ before 锁 suǒ: the same reading, the characters in a fixed order
        ("索引!B树", [("ix-sec-1-1-6", None)], [], []),
        ("锁", [], [], ["事务"]),
        ("提交", [("ix-sec-1-1-1", None)], [], []),
    ]
    assert [group.letter for group in table.groups] == ["G", "M", "S", "T"]
    assert [(use.key, use.first) for use in table.terms["sec-1-1"]] == [("大模型", True), ("llm", True), ("大模型", False)]
    # a mark never changes the text; LaTeX gets the anchors and the terms' links
    assert converted["sec-1-1"].plain.startswith("两阶段提交\n事务与ACID，MVCC。大模型和LLM，再说大模型。")
    document = render_latex(book, sources, converted)
    chapter = document.units["unit-ch-1"]
    assert "\\bookgenindex{ix-sec-1-1-2}事务" in chapter and "\\bookgentermfirst{gl-" in chapter and "\\bookgentermlink{gl-" in chapter
    assert "\\bookgentermfirst{gl-llm}{LLM}" in chapter
    index = document.units["book-index"]
    assert "\\bookgenindexentry{1}{ACID 特性}{\\bookgenlocators{ix-sec-1-1-3}{}}{}" in index
    assert "\\bookgenindexentry{0}{隔离}{\\bookgenlocators{}{ix-sec-1-1-7/ix-sec-1-1-8}}{}" in index
    # 见 to an entry nothing marks is text (and I007), 另见 to 事务 a link to its line
    tx = next(entry for group in table.groups for entry in group.entries if entry.levels == ("事务",))
    assert "{MVCC}{}{见多版本并发控制}" in index and f"{{锁}}{{}}{{另见\\hyperlink{{{tx.anchor}}}{{事务}}}}" in index
    assert f"\\bookgenindexentry{{0}}{{\\bookgenanchor{{{tx.anchor}}}事务}}" in index
    assert "大语言模型（Large Language Model, LLM）" in document.units["book-glossary"]
    assert list(document.units)[-2:] == ["book-glossary", "book-index"]


def test_a_mark_on_a_line_of_its_own_prints_no_line(tmp_path):
    """[]{.index end=…} as a paragraph of its own joins the paragraph before it, a start mark the one after it;
    beside a code block or a heading it is set between the blocks; the last characters' tie looks past it."""
    root = write_book(
        tmp_path / "m",
        BOOK,
        {
            "terms.yaml": "- term: 大模型\n",
            "a.md": "[大模型]{.term}。\n\n[]{.index start=r entry=范围}\n\n范围从这里开始，到这里为止。\n\n中间一段。\n\n"
            "[]{.index end=r}\n\n```\ncode\n```\n\n[]{.index entry=代码}\n\n## 标题\n\n"
            "最后一段。\n\n[]{.index end=s} []{.index start=s entry=又}\n",
        },
    )
    book, sources, converted, table = index_of(root)
    blocks = converted["sec-1-1"].ast["blocks"]
    assert [block["t"] for block in blocks] == ["Para", "Para", "Para", "CodeBlock", "Div", "Header", "Para", "Div"]
    assert blocks[1]["c"] == [
        {"t": "Span", "c": [["ix-sec-1-1-1", ["index-mark"], []], []]},
        {"t": "Str", "c": "范围从这里开始，到这里为止。"},
    ]
    assert blocks[2]["c"][-1] == {"t": "Span", "c": [["ix-sec-1-1-2", ["index-mark"], []], []]}
    assert blocks[4]["c"][0] == ["ix-sec-1-1-3", ["index-mark"], []]
    latex = render_latex(book, sources, converted).units["unit-ch-1"]
    paragraphs = [p for p in latex.split("\n\n") if "\\bookgenpara{s}" in p]
    assert len(paragraphs) == 4  # no paragraph of marks alone
    assert (
        "\\bookgenindex{ix-sec-1-1-1}范围从这里开始，到这里为" in latex
        and "中间一\\xeCJKnobreak{}段。\\bookgenindex{ix-sec-1-1-2}" in latex
    )
    assert "\\end{verbatim}\n\n\\bookgenindex{ix-sec-1-1-3}\n\n\\subsubsection" in latex
    assert [
        (entry.text, [(loc.first.id, loc.last and loc.last.id) for loc in entry.locators]) for g in table.groups for entry in g.entries
    ] == [
        ("代码", [("ix-sec-1-1-3", None)]),
        ("范围", [("ix-sec-1-1-1", "ix-sec-1-1-2")]),
        ("又", []),
    ]
    assert [problem.code for problem in table.problems] == ["I004", "I004"]  # end=s before its start; start=s never closed


def test_marks_and_terms_leave_the_spacing_as_it_was(tmp_path):
    """xeCJK's space between Chinese and Latin, and its glue between two characters, are the same with a mark or
    a term link beside them as without (the mark's nodes once hid xeCJK's own: 使用ACID, 与LLM也)."""
    text = "使用{ACID}特性，数据的{一致性}，版本{MVCC}控制，{ACID}{特性}。与{LLM}也，再{LLM}之。"
    plain_text = text.replace("{", "").replace("}", "")
    marked = re.sub(r"\{([^}]+)\}", lambda m: f"[{m[1]}]{{.term}}" if m[1] == "LLM" else f"[{m[1]}]{{.index}}", text)
    root = write_book(
        tmp_path / "m",
        BOOK.replace("glossary: terms.yaml", "glossary: {file: terms.yaml, bold_first: false}"),
        {"terms.yaml": "- term: LLM\n", "a.md": f"{plain_text}\n\n{marked}\n"},
    )
    result = build(BuildOptions(manuscript=root, output=tmp_path / "b", formats=("pdf",), verify=False))
    with pymupdf.open(result.outputs["pdf"].path) as document:
        lines = [
            [(char["c"], round(char["origin"][0], 1)) for span in line["spans"] for char in span["chars"]]
            for page in document
            for block in page.get_text("rawdict")["blocks"]
            for line in block.get("lines", [])
            if "使用" in "".join(char["c"] for span in line["spans"] for char in span["chars"])
        ]
    assert len(lines) == 2 and [c for c, _ in lines[0]] == [c for c, _ in lines[1]]
    assert max(abs(a - b) for (_, a), (_, b) in zip(lines[0], lines[1], strict=True)) < 0.3, lines
    assert dict(lines[0])["A"] - dict(lines[0])["用"] > 11  # 用 and ACID a quarter em apart


PAGE_RULE = r"""\documentclass{article}
\usepackage{xeCJK}
\usepackage{hyperref}
\newcounter{bookgenphysical}
\newcommand*\bookgenanchor[1]{}
PREAMBLE
\makeatletter
\bookgen@ixpage{a}{3}{9}{3}\bookgen@ixpage{b}{4}{10}{4}\bookgen@ixpage{c}{5}{11}{5}\bookgen@ixpage{d}{5}{11}{5}
\bookgen@ixpage{e}{7}{13}{7}\bookgen@ixpage{v}{vii}{7}{7}\bookgen@ixpage{w}{viii}{8}{8}\bookgen@ixpage{x}{1}{9}{1}
\bookgen@ix{old}{1}{2}\bookgen@ixpage{a}{6}{12}{6}
\makeatother
\begin{document}
CASES
\end{document}
"""


def test_the_page_rule_of_the_pdf_index(tmp_path):
    """What \\bookgenlocators prints for marks on known pages (name, folio, physical page, page counter): a
    page once; three or more consecutive pages as a range; two as two unless a range spans them; a range
    and the pages next to it as one range; roman front matter never joined to page 1; unknown marks
    (the first pass) left out; a mark typeset again later (a long table's repeated head) keeps its first
    page; an .aux line of the earlier format read without harm."""
    cases = {
        "a,b,c,d|": "3–5",  # four marks on three consecutive pages
        "a,b|": "3，4",
        "|a/b": "3–4",  # the author's range over two pages
        "c|a/b": "3–5",  # a range and the next page
        "a,e|": "3，7",
        "v,w,x|": "vii，viii，1",  # physically consecutive, but viii and 1 are not consecutive numbers
        "a,unknown|": "3",
    }
    preamble = re.sub(r"<#.*?#>", "", (REPO / "templates/latex/preamble/index.tex_t").read_text(encoding="utf-8"), flags=re.S)
    lines = "\n".join(f"\\noindent[\\bookgenlocators{{{case.split('|')[0]}}}{{{case.split('|')[1]}}}]\\par" for case in cases)
    (tmp_path / "t.tex").write_text(PAGE_RULE.replace("PREAMBLE", preamble).replace("CASES", lines), encoding="utf-8")
    subprocess.run(["xelatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path, capture_output=True, check=True)
    printed = re.findall(r"\[(.*?)\]", plain("".join(pdf_pages(tmp_path / "t.pdf"))))
    assert dict(zip(cases, printed, strict=True)) == cases


def test_glossary_as_an_appendix_and_words_from_book_yaml(tmp_path):
    yaml_text = BOOK.replace(
        "glossary: terms.yaml\n",
        "glossary: {file: terms.yaml, place: appendix, title: 名词解释, bold_first: false}\n"
        "index: {title: 名词索引, latin: symbols, symbols: 其他}\n",
    )
    root = write_book(
        tmp_path / "m", yaml_text, {"terms.yaml": "- term: 大模型\n", "a.md": "[大模型]{.term}与[ACID]{.index}、[阿姨]{.index}。\n"}
    )
    book, sources, converted, table = index_of(root)
    assert [group.letter for group in table.groups] == ["", "A"]
    document = render_latex(book, sources, converted)
    assert "\\bookgentermlink{" in document.units["unit-ch-1"] and "\\bookgentermfirst" not in document.units["unit-ch-1"]
    assert list(document.units)[-2:] == ["book-glossary", "book-index"]
    assert "\\bookgenappendixgroup{附录}\n\\chapter{名词解释}" in document.units["book-glossary"]
    assert "\\bookgenindexgroup{其他}" in document.units["book-index"] and "名词索引" in document.units["book-index"]
    assert "\\appendix\n\\include{book-glossary}" in document.main


def test_section_locators_in_the_epub_and_web_edition(tmp_path):
    """index.locators: section labels each locator with its section's number, a section once per entry,
    a range over two sections as 1.1–1.2; number: 1, 2, 3 … per entry."""
    two_sections = BOOK.replace("        file: a.md\n", "        file: a.md\n      - title: 乙\n        file: b.md\n")
    files = {
        "terms.yaml": "- term: 大模型\n",
        "a.md": "[大模型]{.term}：[事务]{.index}与[事务]{.index}。[锁]{.index start=r}开始。\n",
        "b.md": "又是[事务]{.index}。结束。[]{.index end=r}\n",
    }
    for locators, expected in (("section", {"事务": " 1.1，1.2", "锁": " 1.1–1.2"}), ("number", {"事务": " 1，2，3", "锁": " 1"})):
        root = write_book(tmp_path / locators, two_sections + f"index: {{locators: {locators}}}\n", files)
        book = load_book(root)
        sources = read_sources(book)
        converted, _ = convert_sources(book, {k: v for k, v in sources.items() if v.written}, tmp_path / "cache")
        entries = {}
        for entry in walk_blocks(index_blocks(book, converted).index):
            if entry["t"] == "Div" and "index-entry" in entry["c"][0][1]:
                inlines = entry["c"][1][0]["c"]
                entries[inlines[0]["c"]] = "".join(
                    inline["c"] if inline["t"] == "Str" else "".join(i["c"] for i in inline["c"][1]) for inline in inlines[1:]
                ).replace("\u2003", " ")
        assert entries == expected, locators


GLOSSARY_ERRORS = "- term: 大模型\n  definition: 很大的模型。\n- term: 向量\n- key: 大模型\n  term: 巨型模型\n"


def test_check_reports_every_problem_with_its_position(tmp_path):
    root = write_book(
        tmp_path / "m",
        BOOK,
        {
            "terms.yaml": GLOSSARY_ERRORS,
            "a.md": "正文[大模型]{.term}与[小模型]{.term}。\n\n`[代码]{.term}`不算。[事务]{.index start=tx}开始。\n\n"
            '结束[]{.index end=ty}。[x]{.index entry="a!b!c!d"}\n\n'
            '[MVCC]{.index see="多版本并发控制"}与[锁]{.index seealso="事务"}，[乐观锁]{.index seealso="锁!乐观"}。\n',
        },
    )
    result = CliRunner().invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--format", "json"])
    found = [
        f"{f['file']}:{f['line']}:{f['column']}: {f['code']} {f['message']}" for f in json.loads(result.output) if f["code"].startswith("I")
    ]
    assert found == [
        "m/a.md:1:16: I001 term '小模型' is not in the glossary",
        "m/a.md:3:17: I004 index range start=tx is never closed by end=tx",
        "m/a.md:5:3: I004 index range end=ty has no start=ty before it",
        "m/a.md:5:21: I005 index entry 'a!b!c!d' must have one to 3 levels separated by '!'",
        "m/a.md:7:1: I007 index see='多版本并发控制' names an entry that nothing marks",
        "m/a.md:7:55: I007 index seealso='锁!乐观' names an entry that nothing marks",
        "m/terms.yaml:3:9: I002 glossary term '向量' is never used in the text",
        "m/terms.yaml:4:8: I003 glossary key '大模型' is given twice (also at m/terms.yaml:1:3)",
    ]


def test_a_term_missing_from_the_glossary_stops_the_build_before_tex(tmp_path, monkeypatch):
    root = write_book(tmp_path / "m", BOOK, {"terms.yaml": "- term: 大模型\n", "a.md": "[小模型]{.term}。\n"})
    calls = ToolCalls(monkeypatch)
    result = CliRunner().invoke(main, ["build", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--no-verify"])
    assert result.exit_code == 2 and "m/a.md:1:1: I001 term '小模型' is not in the glossary" in result.output
    assert "xelatex" not in calls.calls and "latexmk" not in calls.calls


# ---------------------------------------------------------------- the fixture book, built once


@pytest.fixture(scope="module")
def indexed_build(tmp_path_factory):
    return build_copy(INDEXED, tmp_path_factory.mktemp("indexed"), formats=("pdf", "epub", "html"))


@pytest.fixture(scope="module")
def indexed_table(indexed_build):
    book = indexed_build.book
    sources = read_sources(book)
    converted, _ = convert_sources(
        book, {k: s for k, s in sources.items() if s.written}, indexed_build.outputs["pdf"].path.parent / ".cache"
    )
    return collect_index(book, converted)


def _index_column_lines(pdf: Path) -> list[str]:
    """The lines of the PDF's 索引 in reading order (left column, then right, page by page), spaces removed;
    PyMuPDF gives an entry and its page numbers as consecutive lines."""
    lines: list[str] = []
    with pymupdf.open(pdf) as document:
        start = next(i for i, page in enumerate(document) if "符号与数字" in page.get_text())
        for page in list(document)[start:]:
            if "感谢所有读者" in page.get_text():
                break
            middle = page.rect.width / 2
            for column in (pymupdf.Rect(0, 0, middle, page.rect.height), pymupdf.Rect(middle, 0, page.rect.width, page.rect.height)):
                lines += ["".join(line.split()) for line in page.get_text("text", clip=column).splitlines()]
    return lines


def _index_lines(pdf: Path) -> dict[str, str]:
    """The PDF's 索引 as {entry text without spaces: its locators}."""
    lines = _index_column_lines(pdf)
    return {previous: line for previous, line in itertools.pairwise(lines) if re.fullmatch(r"[0-9ivx，–]+", line)}


def _joined(pages: list[int]) -> str:
    """Page numbers as the index prints them: runs of three or more consecutive pages as 12–15, others one by one."""
    runs: list[list[int]] = []
    for page in sorted(set(pages)):
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    return "，".join(f"{run[0]}–{run[-1]}" if len(run) >= 3 else "，".join(map(str, run)) for run in runs)


def _pages_with(pdf: Path, phrase: str, before: str = "符号与数字") -> list[str]:
    """Folios (page labels) of the pages before the index (the page holding ``before``) where pdftotext finds
    ``phrase``."""
    texts = [plain(text) for text in pdf_pages(pdf)]
    end = next(i for i, text in enumerate(texts) if before in text)
    with pymupdf.open(pdf) as document:
        return [document[i].get_label() for i in range(end) if phrase in texts[i]]


def test_pdf_index_pages_are_where_the_terms_are(indexed_build):
    pdf = indexed_build.outputs["pdf"].path
    assert " in 2 rounds " in indexed_build.outputs["pdf"].detail  # a cold build: the index's pages need no third round
    pages = pdf_pages(pdf)
    text = plain("".join(pages))
    # a mark never changes the printed text
    for phrase in ("事务是数据库的基本概念", "两阶段提交协议", "数据流水线示意", "脚注里的死锁需要检测", "B树平衡的多路查找树"):
        assert phrase in text, phrase
    index = _index_lines(pdf)
    for term, phrase in [
        ("重庆", "重庆、长城"),
        ("死锁", "脚注里的死锁"),
        ("流水线", "数据流水线示意"),
        ("提交", "两阶段提交协议"),
        ("B树", "B树平衡"),
        ("数据库", "本书讨论数据库"),
    ]:
        expected = _pages_with(pdf, phrase)
        assert len(expected) == 1 and index[term] == expected[0], (term, index.get(term), expected)
    # 事务 is marked on its section's first page (twice), again twice on a later page, then in 第2章: pages merged,
    # two pages next to each other printed as two (1，2)
    tx_pages = sorted(
        {int(p) for phrase in ("事务是数据库的基本概念", "再谈事务", "分布式事务", "实务、事务") for p in _pages_with(pdf, phrase)}
    )
    assert index["事务"] == _joined(tx_pages) and len(tx_pages) >= 3 and "–" not in index["事务"]
    assert any(b == a + 1 for a, b in itertools.pairwise(tx_pages))
    # 一致性: four marks on four consecutive pages print as one range
    consistency = [int(_pages_with(pdf, f"{name}第1段。")[0]) for name in "甲乙丙丁"]
    assert consistency == list(range(consistency[0], consistency[0] + 4)) and index["一致性"] == f"{consistency[0]}–{consistency[-1]}"
    # the ranges: from the page of its start to the page of its end; 并发访问's range (its marks paragraphs of
    # their own) and a mark on the next page join
    first, last = _pages_with(pdf, "隔离级别决定了")[0], _pages_with(pdf, "隔离级别的讨论到此为止")[0]
    assert int(last) > int(first) and index["隔离级别"] == f"{first}–{last}"
    start, end, single = (int(_pages_with(pdf, phrase)[0]) for phrase in ("乙第6段。", "丙第2段。", "丁第2段。"))
    assert start + 1 == end and single == end + 1 and index["并发访问"] == f"{start}–{single}"
    assert "MVCC见多版本并发控制" in text and "锁另见多版本并发控制" in text
    # pinyin order and groups in the PDF as in the table
    squashed = "".join(_index_column_lines(pdf))
    order = [
        "符号与数字",
        "3D打印",
        "阿姨",
        "并发访问",
        "C语言",
        "长城",
        "长度",
        "朝阳",
        "重庆",
        "多版本并发控制",
        "隔离级别",
        "事务",
        "ACID特性",
        "原子性",
        "数据库",
        "死锁",
        "一致性",
        "銀行",
        "银行",
        "曾国藩",
        "重量",
    ]
    positions = [squashed.find(word) for word in order]
    assert -1 not in positions and positions == sorted(positions), list(zip(order, positions, strict=True))
    assert pdf_link_problems(pdf) == []


def test_pdf_index_page_numbers_are_links_to_the_marks(indexed_build):
    pdf = indexed_build.outputs["pdf"].path
    with pymupdf.open(pdf) as document:
        index_page = next(page for page in document if "符号与数字" in page.get_text())
        links = [link for link in index_page.get_links() if link.get("kind") == pymupdf.LINK_NAMED or "nameddest" in link]
        assert len(links) >= 20
        for link in links:
            label = index_page.get_textbox(link["from"]).strip().strip("，")
            target = document[link["page"]]
            assert target.get_label() == label or label in target.get_text(), (label, link["page"])


def test_glossary_in_the_pdf_with_links_and_bold_first_uses(indexed_build):
    pdf = indexed_build.outputs["pdf"].path
    text = plain("".join(pdf_pages(pdf)))
    assert "术语表" in text and "人工智能（ArtificialIntelligence,AI）" in text and "大语言模型（LargeLanguageModel,LLM）" in text
    assert text.index("大模型参数规模") < text.index("大语言模型（") < text.index("人工智能（") < text.index("事务（Transaction）")
    with pymupdf.open(pdf) as document:
        glossary_page = next(i for i, page in enumerate(document) if "参数规模很大的模型的俗称" in plain(page.get_text()))
        first = document[next(i for i, page in enumerate(document) if "也常常需要事务" in plain(page.get_text()))]
        term_links = [link for link in first.get_links() if link.get("page") == glossary_page]
        assert len(term_links) >= 2
        # 另见 on a line of its own, a link to the entry it names
        page = document[glossary_page]
        assert "让机器表现出智能行为的学科。\n另见：大语言模型" in page.get_text()
        see = [
            link
            for link in page.get_links()
            if "另见" not in page.get_textbox(link["from"]) and "大语言模型" in page.get_textbox(link["from"])
        ]
        assert see and see[0]["page"] == glossary_page
    # first uses bold in each chapter (人工智能 in 前言, 大模型 and LLM in 第1章, 大模型 and 人工智能 again in 第2章), later ones not
    with pymupdf.open(pdf) as document:
        spans = [
            span
            for page in list(document)[:glossary_page]
            for block in page.get_text("dict")["blocks"]
            for line in block.get("lines", [])
            for span in line["spans"]
        ]
    bold = [
        span["text"].strip()
        for span in spans
        if (span["flags"] & 16 or "Bold" in span["font"]) and span["text"].strip() in ("大模型", "LLM", "人工智能")
    ]
    assert sorted(bold) == ["LLM", "人工智能", "人工智能", "大模型", "大模型"]  # 前言 is a unit of its own
    second = "".join(span["text"] for span in spans if not span["flags"] & 16)
    assert "页码合并。大模型" in "".join(second.split())  # the second use: in the running text's face


def test_epub_index_and_glossary_link_to_the_marked_places(indexed_build, indexed_table):
    epub = indexed_build.outputs["epub"].path
    with zipfile.ZipFile(epub) as archive:
        files = {Path(name).name: ElementTree.fromstring(archive.read(name)) for name in archive.namelist() if name.endswith(".xhtml")}
    ids = {name: {e.get("id"): e for e in root.iter() if e.get("id")} for name, root in files.items()}
    index_file = next(name for name, known in ids.items() if "bookgen-index" in known)
    entries = [e for e in files[index_file].iter(f"{XHTML}div") if "index-entry" in (e.get("class") or "")]
    expected = [entry for group in indexed_table.groups for entry in group.entries]
    assert [re.sub(r"[ \n]+", "", "".join(e.itertext())).split("\u2003")[0] for e in entries] == [
        entry.text.replace(" ", "") for entry in expected
    ]
    checked = 0
    for element, entry in zip(entries, expected, strict=True):
        links = [a for a in element.iter(f"{XHTML}a") if a.get("class") == "locator"]
        for see in (a for a in element.iter(f"{XHTML}a") if a.get("class") == "see"):  # 见 / 另见 lead to an entry
            assert "index-entry" in ids[index_file][see.get("href").rpartition("#")[2]].get("class")
        assert ["".join(a.itertext()) for a in links] == [str(n) for n in range(1, len(entry.locators) + 1)]
        for link, locator in zip(links, entry.locators, strict=True):
            target_file, _, anchor = link.get("href").rpartition("#")
            target = ids[target_file or index_file].get(anchor)
            assert anchor == locator.first.id and target is not None
            marked = "".join(target.itertext())
            assert (
                marked in (entry.text, locator.first.levels[-1] if locator.first.levels else "") or entry.text.startswith(marked) or marked
            )
            checked += 1
    assert checked >= 25
    nav = next(root for name, root in files.items() if name == "nav.xhtml")
    landmarks = {
        a.get("{http://www.idpf.org/2007/ops}type"): a.get("href")
        for a in nav.iter(f"{XHTML}a")
        if a.get("{http://www.idpf.org/2007/ops}type")
    }
    assert landmarks["index"].endswith("#bookgen-index")
    assert landmarks["glossary"].endswith("#bookgen-glossary")  # EPUB 3 Structural Semantics' glossary
    body = "".join(squashed_text(root) for root in files.values())
    assert "人工智能（ArtificialIntelligence,AI）" in body and "另见：大语言模型" in body
    terms = [(name, a) for name, root in files.items() for a in root.iter(f"{XHTML}a") if a.get("class") == "term"]
    assert len(terms) >= 5
    for name, link in terms:
        target_file, _, anchor = link.get("href").rpartition("#")
        assert "glossary-entry" in ids[target_file or name][anchor].get("class") and link.get("title")
    report = check_epub(epub)
    assert (report.errors, report.warnings) == (0, 0), report.messages


def squashed_text(element) -> str:
    return re.sub(r"\s+", "", "".join(element.itertext()))


def test_html_index_and_glossary_pages(indexed_build, indexed_table):
    site = indexed_build.outputs["html"].path.parent
    index_html = (site / "bookgen-index.html").read_text(encoding="utf-8")
    glossary_html = (site / "bookgen-glossary.html").read_text(encoding="utf-8")
    entries = re.findall(r'<div id="ixe-\w+" class="index-entry level-\d">\s*<p>(.*?)</p>', index_html, re.S)
    expected = [entry for group in indexed_table.groups for entry in group.entries]
    assert len(entries) == len(expected)
    for html, entry in zip(entries, expected, strict=True):
        hrefs = re.findall(r'href="([^"]+)" class="locator"', html)
        assert [href.rpartition("#")[2] for href in hrefs] == [locator.first.id for locator in entry.locators]
        for href in hrefs:
            page, _, anchor = href.partition("#")
            assert f'id="{anchor}"' in (site / page).read_text(encoding="utf-8")
    mvcc = next(entry for entry in expected if entry.levels == ("多版本并发控制",))
    assert f'锁\u2003另见<a href="#{mvcc.anchor}" class="see">多版本并发控制</a>' in index_html and f'id="{mvcc.anchor}"' in index_html
    assert "人工智能（Artificial Intelligence, AI）" in glossary_html and 'id="gl-llm"' in glossary_html
    chapter = (site / "ch-1.html").read_text(encoding="utf-8")
    assert (
        '<a href="bookgen-glossary.html#gl-llm" class="term" data-heading="大语言模型（Large Language Model, LLM）" data-glossary="术语表"'
        ' title="在大规模文本上训练的语言模型，参见人工智能。"><strong>LLM</strong></a>'
    ) in chapter


def test_html_term_definition_in_a_popover_on_hover_focus_and_tap(indexed_build, browser, tmp_path):
    """The web edition's glossary terms show their definition in a popover (book.js): on hover, on keyboard
    focus (described by it, Escape closes it), on a tap (a second tap follows the link); no axe violation."""
    page_url = (indexed_build.outputs["html"].path.parent / "ch-1.html").as_uri()
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_url)
    visible = page.locator(".term-tip:not([hidden])")
    llm = page.locator('a.term[href$="#gl-llm"]').first
    assert llm.get_attribute("title") is None  # the popover replaces the browser's tooltip
    llm.hover()
    assert visible.count() == 1
    assert visible.inner_text().split("\n") == ["大语言模型（Large Language Model, LLM）", "在大规模文本上训练的语言模型，参见人工智能。"]
    box, tip = llm.bounding_box(), visible.bounding_box()
    assert box and tip and tip["y"] >= box["y"] + box["height"] and tip["x"] >= 0 and tip["x"] + tip["width"] <= 1100
    visible.hover()  # the pointer can move onto the popover
    page.wait_for_timeout(400)
    assert visible.count() == 1
    page.screenshot(path=str(tmp_path / "hover.png"))
    page.mouse.move(1, 1)
    page.wait_for_timeout(400)
    assert visible.count() == 0
    # keyboard: Tab reaches the term, focus shows the popover, which describes it; Escape closes it
    page.locator("body").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('a.term')"):
            break
    assert visible.count() == 1
    described = page.evaluate("document.getElementById(document.activeElement.getAttribute('aria-describedby')).textContent")
    assert described == "大模型参数规模很大的模型的俗称。"  # the heading and the definition, not the hint for touch
    if AXE.is_file():
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate("async () => (await axe.run(document)).violations.map(v => ({id: v.id, impact: v.impact}))")
        assert [v for v in violations if v["impact"] in ("serious", "critical")] == []
    page.keyboard.press("Escape")
    assert visible.count() == 0 and page.evaluate("document.activeElement.matches('a.term')")
    page.keyboard.press("Enter")  # the link still leads to the entry
    page.wait_for_url("**/bookgen-glossary.html#gl-*")
    page.close()
    # touch: the first tap shows the definition, a tap elsewhere closes it, a second tap follows the link
    phone = browser.new_context(viewport={"width": 375, "height": 700}, has_touch=True, is_mobile=True)
    page = phone.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_url)
    visible = page.locator(".term-tip:not([hidden])")
    term = page.locator("a.term").first
    term.tap()
    assert visible.count() == 1 and page.url == page_url and "再点一下词语，转到术语表" in visible.inner_text()
    tip = visible.bounding_box()
    assert tip and tip["x"] >= 0 and tip["x"] + tip["width"] <= 375
    page.screenshot(path=str(tmp_path / "tap.png"))
    page.locator("h1").first.tap()
    assert visible.count() == 0
    term.tap()
    term.tap()
    page.wait_for_url("**/bookgen-glossary.html#gl-*")
    phone.close()
    assert errors == []


# ---------------------------------------------------------------- the chapter-level update


def test_chapter_update_falls_back_when_an_indexed_term_moves_page(tmp_path, monkeypatch):
    build_copy(INDEXED, tmp_path, formats=("pdf",), jobs=1)  # the sequential build's chapter update
    manuscript = tmp_path / "index"
    options = BuildOptions(manuscript=manuscript, output=tmp_path / "build", formats=("pdf",), verify=False, jobs=1)
    places = manuscript / "chapters/places.md"

    # An edit that moves no index mark to another page: 第2章 alone, spliced in.
    places.write_text(places.read_text(encoding="utf-8").replace("读音都容易弄错", "读音都很容易弄错"), encoding="utf-8")
    calls = ToolCalls(monkeypatch)
    spliced = build(options)
    assert "chapter update: 第2章" in spliced.outputs["pdf"].detail and calls.calls.count("xelatex") == 1

    # An edit in 第1章 that moves 回滚 (and 事务) to an earlier page, in as many pages: the unit's .aux
    # changes (its marks' pages), so the whole book is typeset and the index prints the new page.
    tx = manuscript / "chapters/tx.md"
    before = _index_lines(spliced.outputs["pdf"].path)["回滚"]
    tx.write_text(re.sub(r"甲第[1-4]段。[^\n]*\n\n", "", tx.read_text(encoding="utf-8")), encoding="utf-8")
    calls.calls.clear()
    moved = build(options)
    pdf = moved.outputs["pdf"].path
    assert "chapter update" not in moved.outputs["pdf"].detail and "latexmk" in calls.calls
    assert moved.outputs["pdf"].pages == spliced.outputs["pdf"].pages
    index = _index_lines(pdf)
    assert index["回滚"] == _pages_with(pdf, "回滚也在这里")[0] != before
    fresh = build(BuildOptions(manuscript=manuscript, output=tmp_path / "fresh", formats=("pdf",), verify=False))
    assert pdf_pages(pdf) == pdf_pages(fresh.outputs["pdf"].path)
