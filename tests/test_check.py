"""bookgen check: each rule fires where it should (file, line, column), not where it should not, and fixes."""

from __future__ import annotations

import contextlib
import json
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookgen.checks import check_book, run_checks
from bookgen.cli import main
from bookgen.model.book import load_book
from bookgen.sources.convert import convert_sources
from bookgen.sources.reading import read_sources
from conftest import MANUSCRIPT, write_book

BOOK = "title: 书\nslug: t\nchapters:\n  - title: 一章\n    sections:\n      - title: 一节\n        file: s.md\n      - title: 二节\n        file: t.md\n"


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run where the manuscript is: messages name files relative to the current directory (m/s.md)."""
    monkeypatch.chdir(tmp_path)


def findings(tmp_path: Path, text: str, code: str, yaml_text: str = BOOK, fast: bool = True, other: str = "另一节的正文。\n"):
    root = write_book(tmp_path / "m", yaml_text, {"s.md": text, "t.md": other})
    with contextlib.chdir(tmp_path):
        report = run_checks(root, tmp_path / "cache", fast=fast)
    return [(f.path, f.line, f.column) for f in report.findings if f.code == code], report


def positions(tmp_path, text, code, **kw):
    return [(line, column) for _, line, column in findings(tmp_path, text, code, **kw)[0]]


# ---------------------------------------------------------------- structure


def test_s001_schema_error_with_line_and_column(tmp_path):
    found, _ = findings(tmp_path, "正文。\n", "S001", yaml_text=BOOK + "layuot: {}\n")
    assert found == [("m/book.yaml", 10, 1)]


def test_s002_unwritten_and_s003_truncated(tmp_path):
    yaml_text = BOOK.replace("file: t.md", "file: t.md\n        status: truncated")
    assert positions(tmp_path / "a", "", "S002", yaml_text=yaml_text) == [(6, 1)]  # the entry's line in book.yaml
    assert positions(tmp_path / "w", "写好了。\n", "S002", yaml_text=yaml_text) == []
    found, _report = findings(tmp_path / "b", "正文。\n", "S003", yaml_text=yaml_text, other="第一行。\n写到一半，\n")
    assert found == [("m/t.md", 2, 1)]


def test_s004_unused_file_and_s005_duplicate_title(tmp_path):
    root = write_book(
        tmp_path / "m", BOOK.replace("title: 二节", "title: 一节"), {"s.md": "正文。\n", "t.md": "正文二。\n", "stray.md": "没人用。\n"}
    )
    report = run_checks(root, tmp_path / "c", fast=True)
    assert [(f.path, f.line) for f in report.findings if f.code == "S004"] == [("m/stray.md", 1)]
    assert [(f.path, f.line) for f in report.findings if f.code == "S005"] == [("m/book.yaml", 8)]


def test_s006_heading_hierarchy(tmp_path):
    text = "正文。\n\n# 小节\n\n### 跳级\n\n# 1.1 一节\n"
    assert positions(tmp_path, text, "S006") == [(5, 1), (7, 1)]
    assert positions(tmp_path / "ok", "正文。\n\n# 小节\n\n## 更小\n", "S006") == []


def test_s007_draft_number_kept_by_import(tmp_path):
    _, report = findings(tmp_path, "正文。\n", "S007", yaml_text=BOOK.replace("title: 二节", "title: 二节\n        draft_number: G.2"))
    assert [f.message for f in report.findings if f.code == "S007"] == ["the draft numbered '二节' G.2; bookgen prints 1.2"]


# ---------------------------------------------------------------- residue


def test_r001_chat_token_and_fix(tmp_path):
    assert positions(tmp_path, "正文<|assistant|>继续。\n", "R001") == [(1, 3)]
    assert positions(tmp_path / "code", "正文。\n\n```\n<|assistant|>\n```\n\n`<|im_end|>` 是标记。\n", "R001") == []


def test_r002_instruction(tmp_path):
    assert positions(tmp_path, "**开始撰写正文内容**\n\n正文。\n", "R002") == [(1, 1)]
    assert positions(tmp_path / "a", "好的，以下是本节的内容：\n\n正文。\n", "R002") == [(1, 1)]
    assert positions(tmp_path / "b", "开始之前，先说明本节的内容。\n", "R002") == []


def test_r003_mid_sentence_and_r004_repeat(tmp_path):
    assert positions(tmp_path, "第一段完整。\n\n第二段写到一半，\n", "R003") == [(3, 8)]
    assert positions(tmp_path / "ok", "第一段完整。\n\n**教训一**：市场调研的重要性\n", "R003") == []
    para = "这是一段足够长的段落，用来检验重复段落的规则能否找到它的第二次出现。"
    assert positions(tmp_path / "r", f"{para}\n\n中间。\n\n{para}\n", "R004") == [(5, 1)]


# ---------------------------------------------------------------- typography


def test_t001_half_width_punctuation(tmp_path):
    text = "大模型在文本分类,情感分析等任务上表现出色!使用GPU(图形处理器)计算;速度快?\n"
    assert positions(tmp_path, text, "T001") == [(1, 9), (1, 22), (1, 28), (1, 37), (1, 41)]


@pytest.mark.parametrize(
    "text",
    [
        "```python\nx = f(a, b); print(x)\n```\n",
        "公式 $f(x, y)$ 与 $$g(a; b)$$ 不变。\n",
        "链接 [见此](https://example.com/a,b;c) 与 https://x.org/p?q=1,2 不变。\n",
        "This English paragraph keeps its own punctuation: yes, (really); fine!\n",
        "行内代码 `a, b = (1, 2)` 不变。\n",
        "> 引文中，“他说：‘好。’”也是中文标点。\n",
    ],
)
def test_t001_leaves_code_math_urls_english_alone(tmp_path, text):
    assert positions(tmp_path, text, "T001") == []


def test_t002_full_width_letters_and_digits(tmp_path):
    assert positions(tmp_path, "型号ＡＢＣ１２３很好。\n", "T002") == [(1, 3)]


def test_t003_spacing_policy(tmp_path):
    assert positions(tmp_path, "使用 GPU 计算。\n", "T003") == [(1, 3), (1, 7)]
    spaced = BOOK + "check:\n  cjk_latin_spacing: space\n"
    assert positions(tmp_path / "s", "使用GPU计算。\n", "T003", yaml_text=spaced) == [(1, 3), (1, 6)]
    anyway = BOOK + "check:\n  cjk_latin_spacing: any\n"
    assert positions(tmp_path / "a", "使用 GPU计算。\n", "T003", yaml_text=anyway) == []


def test_t004_paired_punctuation(tmp_path):
    assert positions(tmp_path, "他说：“好的。\n\n下一段。\n", "T004") == [(1, 4)]
    assert positions(tmp_path / "m", "书名《大模型」不对。\n", "T004") == [(1, 3), (1, 7)]
    assert positions(tmp_path / "ok", "他说：“《书》（注）「引」”。\n", "T004") == []


def test_t005_doubled_and_t006_ellipsis_dash(tmp_path):
    assert positions(tmp_path, "好。。然后，，继续。\n", "T005") == [(1, 2), (1, 6)]
    assert positions(tmp_path / "e", "等等...还有…以及。。。破折号--与—单个。\n", "T006") == [(1, 3), (1, 8), (1, 11), (1, 17), (1, 20)]
    assert positions(tmp_path / "ok", "正确的省略号……与破折号——都不报。English... and -- stay.\n", "T006") == []


def test_t007_paragraph_without_final_punctuation(tmp_path):
    assert positions(tmp_path, "这是一个足够长的中文段落但是它的最后没有任何标点符号结尾\n", "T007") == [(1, 28)]
    assert positions(tmp_path / "ok", "**教训一**：短标题\n\n- 列表项没有标点也可以\n", "T007") == []


def test_inline_ignore_and_config(tmp_path):
    assert positions(tmp_path, "文本,逗号 <!-- bookgen-ignore: T001 -->\n", "T001") == []
    assert positions(tmp_path / "n", "<!-- bookgen-ignore -->\n文本,逗号\n", "T001") == []
    off = BOOK + "check:\n  disable: [T001]\n"
    assert positions(tmp_path / "d", "文本,逗号\n", "T001", yaml_text=off) == []
    _, report = findings(tmp_path / "s", "文本,逗号\n", "T001", yaml_text=BOOK + "check:\n  severity: {T001: error}\n")
    assert [f.severity.value for f in report.findings if f.code == "T001"] == ["error"]


# ---------------------------------------------------------------- fonts and markup (slow rules)


@pytest.mark.integration
def test_f001_characters_no_font_has(tmp_path):
    found, report = findings(tmp_path, "火箭🚀与𠀀字，𠮷有。\n", "F001", fast=False)
    assert [(line, column) for _, line, column in found] == [(1, 3), (1, 5)]
    assert "U+1F680" in report.findings[[f.code for f in report.findings].index("F001")].message


@pytest.mark.integration
def test_m001_formula_that_does_not_compile(tmp_path):
    text = "好公式 $E = mc^2$。\n\n坏公式：\n\n$$ \\frac{a}{b $$\n\n未定义命令 $\\foo{x}$ 也坏。\n"
    assert positions(tmp_path, text, "M001", fast=False) == [(5, 1), (7, 1)]
    assert positions(tmp_path / "ok", "$$ \\text{例：} \\ P(\\text{情感}|\\text{文本}) = 1 $$\n", "M001", fast=False) == []


def test_m002_unclosed_emphasis(tmp_path):
    assert positions(tmp_path, "这里**没有闭合的加粗。\n", "M002") == [(1, 3)]
    assert positions(tmp_path / "ok", "**“引号”**后接文字，*强调*。\n", "M002") == []


def _png(path: Path, width: int, dpi: int) -> None:
    raw = b"".join(b"\x00" + bytes([128] * width) for _ in range(4))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ppm = round(dpi / 0.0254)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, 4, 8, 0, 0, 0, 0))
        + chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_m003_missing_image_and_m004_low_resolution(tmp_path):
    root = write_book(
        tmp_path / "m", BOOK, {"s.md": "图：\n\n![缺](img/none.png)\n\n![低](img/low.png)\n\n![好](img/ok.png)\n", "t.md": "正文。\n"}
    )
    (root / "img").mkdir()
    _png(root / "img/low.png", 600, 72)  # 600 px at 72 dpi: scaled down to the 148 mm text block → 103 dpi
    _png(root / "img/ok.png", 1200, 600)  # 2 inches at 600 dpi
    report = run_checks(root, tmp_path / "c", fast=True)
    assert [(f.code, f.line) for f in report.findings if f.code in ("M003", "M004")] == [("M003", 3), ("M004", 5)]


# ---------------------------------------------------------------- output, --fix, the real manuscript


def test_fix_then_check_again_finds_none_of_it(tmp_path):
    text = (
        "大模型在文本分类,情感分析上表现出色!使用 GPU 与ＡＢＣ１２３。。<|assistant|>\n\n```\nx = (1, 2)\n```\n\n公式 $f(a,b)$ 不变。\n\n"
        "等等...还有--结尾。\n\n好的，以下是本节的内容：\n"
    )
    root = write_book(tmp_path / "m", BOOK, {"s.md": text, "t.md": "正文。\n"})
    runner = CliRunner()
    dry = runner.invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--fix", "--dry-run"])
    assert "-大模型在文本分类,情感分析" in dry.output and "+大模型在文本分类，情感分析" in dry.output
    assert (root / "s.md").read_text(encoding="utf-8") == text  # --dry-run changes nothing
    fixed = runner.invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--fix"])
    assert fixed.exit_code == 0, fixed.output
    after = (root / "s.md").read_text(encoding="utf-8")
    assert after.startswith("大模型在文本分类，情感分析上表现出色！使用GPU与ABC123。\n")
    assert "x = (1, 2)" in after and "$f(a,b)$" in after
    assert "等等……还有——结尾。" in after and "以下是本节" not in after
    again = run_checks(root, tmp_path / "c2", fast=True)
    assert not [f for f in again.findings if f.code in ("T001", "T002", "T003", "T005", "T006", "R001", "R002")]


def test_json_output_and_exit_codes(tmp_path):
    root = write_book(tmp_path / "m", BOOK, {"s.md": "文本,逗号<|im_end|>\n", "t.md": "正文。\n"})
    result = CliRunner().invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert {"file", "line", "column", "code", "severity", "message", "fix"} <= set(data[0])
    assert any(item["code"] == "R001" and item["severity"] == "error" for item in data)
    usage = CliRunner().invoke(main, ["check", "--manuscript", str(tmp_path / "nowhere")])
    assert usage.exit_code == 2


def test_build_runs_the_error_rules_first(tmp_path):
    root = write_book(tmp_path / "m", BOOK, {"s.md": "正文<|im_end|>\n", "t.md": "正文。\n"})
    result = CliRunner().invoke(main, ["build", "--manuscript", str(root), "--output", str(tmp_path / "b")])
    assert result.exit_code == 2  # a manuscript error
    assert "1 check error;" in result.output and "m/s.md:1:3: R001 chat token <|im_end|>" in result.output
    assert not list((tmp_path / "b").glob("*.pdf"))


@pytest.mark.integration
def test_real_manuscript_check_output(tmp_path):
    result = CliRunner().invoke(main, ["check", "--manuscript", str(MANUSCRIPT), "--output", str(tmp_path / "b"), "--format", "json"])
    assert result.exit_code == 0, result.output  # no errors
    data = json.loads(result.output)
    codes = [item["code"] for item in data]
    assert codes.count("S002") == 60  # unwritten sections, listed
    assert codes.count("S003") == 1 and codes.count("R003") == 1  # the truncated 5.1
    assert codes.count("S007") == 26  # numbers the importer changed: 附录F's G.x, 附录H/J, K/L as back matter
    assert set(codes) <= {"S002", "S003", "S007", "R003", "T003"}  # nothing absurd


def test_build_precheck_runs_the_rules_that_can_give_errors(tmp_path):
    """build's pre-check (errors_only) skips warning-only families, unless book.yaml makes them errors."""

    def precheck_codes(name: str, yaml_text: str) -> list[str]:
        root = write_book(tmp_path / name, yaml_text, {"s.md": "文本,逗号<|assistant|>继续。\n", "t.md": "正文。\n"})
        book = load_book(root)
        sources = read_sources(book)
        converted, _ = convert_sources(book, {k: v for k, v in sources.items() if v.written}, tmp_path / "cache")
        return sorted({f.code for f in check_book(book, sources, converted, fast=True, errors_only=True).findings})

    assert precheck_codes("default", BOOK) == ["R001"]
    assert precheck_codes("promoted", BOOK + "check:\n  severity: {T001: error}\n") == ["R001", "T001"]


@pytest.mark.parametrize(
    "formula, problem",
    [
        (r"$x^2 + \frac{1}{2$", "leaves 1 brace '{' unclosed"),  # the issue's instance
        (r"$\sqrt{2$", "leaves 1 brace '{' unclosed"),
        (r"$a}$", "closes a brace '}' that was never opened"),
        (r"$\left( x$", r"has 1 \left and 0 \right"),
        (r"$$\begin{aligned} a &= b$$", r"leaves \begin{aligned} without its \end"),
    ],
)
def test_m005_unclosed_formula_found_without_tex_at_its_position(tmp_path, formula, problem):
    found, report = findings(tmp_path, f"第一段。\n\n公式 {formula} 在这里。\n", "M005")
    assert found == [("m/s.md", 3, 5 if not formula.startswith("$$") else 6)]
    assert problem in next(f.message for f in report.findings if f.code == "M005")


def test_m005_leaves_closed_formulas_alone(tmp_path):
    found, _ = findings(
        tmp_path, "公式 $\\{x\\} + \\frac{1}{2} + \\left( y \\right)$ 与 $$\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}$$\n", "M005"
    )
    assert found == []


@pytest.mark.integration
def test_unclosed_formula_stops_the_build_at_its_line_with_or_without_the_check(tmp_path):
    manuscript = write_book(
        tmp_path / "m", BOOK, {"s.md": "第一段。\n\n公式 $x^2 + \\frac{1}{2$ 在这里。\n\n后面的段落。\n", "t.md": "乙。\n"}
    )
    checked = CliRunner().invoke(main, ["build", "--format", "pdf", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")])
    assert checked.exit_code == 2 and "m/s.md:3:5: M005" in checked.output
    unchecked = CliRunner().invoke(
        main, ["build", "--format", "pdf", "--no-check", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")]
    )
    assert unchecked.exit_code == 1
    assert "bookgen: error: m/s.md:3:11: File ended while scanning use of \\frac" in unchecked.output  # not book.tex:NNN


@pytest.mark.parametrize(
    "text, column, fixed",
    [
        ("这里有__下划线加粗__紧跟正文。\n", 4, "这里有**下划线加粗**紧跟正文。\n"),  # the issue's instance
        ("还有_斜体_字。\n", 3, "还有*斜体*字。\n"),
        ("__开头加粗__后文。\n", 1, "**开头加粗**后文。\n"),
        ("前文__NLP__后文。\n", 3, "前文**NLP**后文。\n"),  # Latin inside, Chinese around
    ],
)
def test_m006_underscore_emphasis_beside_chinese_and_its_fix(tmp_path, text, column, fixed):
    found, _ = findings(tmp_path, text, "M006")
    assert found == [("m/s.md", 1, column)]
    result = CliRunner().invoke(main, ["check", "--manuscript", str(tmp_path / "m"), "--output", str(tmp_path / "b"), "--fix"])
    assert (tmp_path / "m" / "s.md").read_text(encoding="utf-8") == fixed, result.output


def test_m006_leaves_identifiers_and_latin_emphasis_alone(tmp_path):
    text = "变量 max_length 和 __init__ 方法，`a__b__c` 与 $x_1 + y_2$，英文 __bold__ here，[链接](http://a.b/c__d__e)。\n"
    assert findings(tmp_path, text, "M006")[0] == []


def test_s004_abstract_file_is_used(tmp_path):
    """The file book.yaml's `abstract:` names is the book's text, not a stray file, and the rules read it."""
    root = write_book(
        tmp_path / "m", "abstract: front/摘要.md\n" + BOOK, {"s.md": "正文。\n", "t.md": "正文二。\n", "front/摘要.md": "本书讲述排版,\n"}
    )
    report = run_checks(root, tmp_path / "c", fast=True)
    assert [f for f in report.findings if f.code == "S004"] == []
    assert ("m/front/摘要.md", 1) in [(f.path, f.line) for f in report.findings if f.code.startswith("T")]


def test_s008_title_with_its_own_number_and_its_fix(tmp_path):
    """第1章 开篇, 1.1 起点, 附录A 工具 print 第1章 第1章 开篇 …: a warning at the title in book.yaml, and --fix
    keeps the bare title (the importer's patterns, which strip such numbers from drafts)."""
    yaml_text = (
        "title: 书\nchapters:\n  - title: 第1章 开篇\n    sections:\n      - title: '1.1 起点'\n        file: s.md\n"
        "      - 1.2：终点\n  - title: 第2章 3.5 倍速之谜\nappendices:\n  - title: 附录A 工具\n    file: a.md\n"
    )
    root = write_book(tmp_path / "m", yaml_text, {"s.md": "正文。\n", "a.md": "附录。\n"})
    report = run_checks(root, tmp_path / "c", fast=True)
    assert [(f.path, f.line, f.column) for f in report.findings if f.code == "S008"] == [
        ("m/book.yaml", 3, 12),
        ("m/book.yaml", 5, 17),
        ("m/book.yaml", 7, 9),
        ("m/book.yaml", 8, 12),
        ("m/book.yaml", 10, 12),
    ]
    assert "bookgen prints 第1章 before it; give 'title: 开篇'" in next(f.message for f in report.findings if f.code == "S008")
    result = CliRunner().invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--fix"])
    assert (root / "book.yaml").read_text(encoding="utf-8") == (
        "title: 书\nchapters:\n  - title: 开篇\n    sections:\n      - title: '起点'\n        file: s.md\n"
        "      - 终点\n  - title: 3.5 倍速之谜\nappendices:\n  - title: 工具\n    file: a.md\n"
    ), result.output
    assert [f for f in run_checks(root, tmp_path / "c", fast=True).findings if f.code == "S008"] == []
    assert [f for f in findings(tmp_path / "ok", "正文。\n", "S008")[1].findings if f.code == "S008"] == []


def test_m004_shows_a_resolution_just_below_300_below_it(tmp_path):
    """1499 px over 127 mm is 299.8 dpi: the message says 299 (floored), never 'prints at 300 dpi … needs 300'."""
    root = write_book(tmp_path / "m", BOOK, {"s.md": "图：\n\n![低](img/low.png){width=127mm}\n", "t.md": "正文。\n"})
    (root / "img").mkdir()
    _png(root / "img/low.png", 1499, 72)
    report = run_checks(root, tmp_path / "c", fast=True)
    assert [f.message for f in report.findings if f.code == "M004"] == [
        "image 'img/low.png' prints at 299 dpi (1499 px over 127 mm); print needs 300"
    ]


def test_counts_in_summaries_are_singular_for_one(tmp_path):
    """'1 error, 1 warning, 1 info' and 'fixed 1 file', never '1 errors' or '1 files'."""
    from bookgen.wording import counted

    assert [counted(n, "error") for n in (0, 1, 2)] == ["0 errors", "1 error", "2 errors"]
    assert counted(1, "appendix", "appendices") == "1 appendix" and counted(3, "appendix", "appendices") == "3 appendices"
    root = write_book(tmp_path / "m", BOOK + "      - title: 三节\n", {"s.md": "正文,继续。\n\n<|im_end|>\n", "t.md": "另一段。\n"})
    result = CliRunner().invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b")])
    assert result.output.splitlines()[-1] == "1 error, 1 warning, 1 info", result.output
    result = CliRunner().invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--fix"])
    assert "fixed 1 file; checking again" in result.output and result.output.splitlines()[-1] == "0 errors, 0 warnings, 1 info"


def test_kept_findings_give_what_a_full_check_gives(tmp_path):
    """check_book with a cache_dir keeps the per-file rules' findings and re-checks only edited files: after an
    edit, after a settings change, its findings (positions, messages, fixes) equal a full check's, book-wide
    rules (R004 duplicates, X001 unknown references) included."""
    paragraph = "这一段足够长，用来检查重复的段落会不会在另一个文件里被认出来。"
    yaml_text = BOOK.replace("file: t.md", "file: t.md\n      - title: 三节\n        file: u.md")
    root = write_book(
        tmp_path / "m",
        yaml_text,
        {
            "s.md": "文本,逗号<|assistant|>继续。\n\n见 @fig-a 。\n\n### 跳级\n",
            "t.md": f"{paragraph}\n\n$x^{{2$ 和 ![图](img/none.png)\n",
            "u.md": "第三节,正文 {#tbl-a b} 。\n",
        },
    )
    kept_file = tmp_path / "cache" / "check.json"

    def both(errors_only: bool = False) -> list:
        book = load_book(root)
        sources = read_sources(book)
        converted, _ = convert_sources(book, {k: v for k, v in sources.items() if v.written}, tmp_path / "convert")
        full = check_book(book, sources, converted, fast=True, errors_only=errors_only).findings
        kept = check_book(book, sources, converted, fast=True, errors_only=errors_only, cache_dir=tmp_path / "cache").findings
        assert kept == full
        return full

    first = both()
    assert {"R001", "T001", "X001", "S006", "M005", "M003", "X005"} <= {f.code for f in first}
    assert both() == first  # from the kept findings alone
    kept = json.loads(kept_file.read_text(encoding="utf-8"))
    kept["m/u.md"][1][0][4] = "kept, not checked again"  # proves which files the next check reads from the kept ones
    kept_file.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    # s.md gains the paragraph t.md has (R004 moves to t.md, unedited) and the label s.md refers to
    (root / "s.md").write_text(
        f"插一行。\n\n{paragraph}\n\n文本,逗号<|assistant|>继续。\n\n见 @fig-a 。\n\n![图](x.png){{#fig-a}}\n", encoding="utf-8"
    )
    book = load_book(root)
    sources = read_sources(book)
    converted, _ = convert_sources(book, {k: v for k, v in sources.items() if v.written}, tmp_path / "convert")
    incremental = check_book(book, sources, converted, fast=True, cache_dir=tmp_path / "cache").findings
    assert "kept, not checked again" in [f.message for f in incremental]  # u.md was not checked again
    assert [(f.path, f.code) for f in incremental if f.code == "R004"] == [("m/t.md", "R004")]
    full = check_book(book, sources, converted, fast=True).findings
    assert [f for f in incremental if f.path != "m/u.md"] == [f for f in full if f.path != "m/u.md"]
    assert "X001" not in {f.code for f in full}
    # a rule's settings change: every file is checked again
    (root / "book.yaml").write_text(yaml_text + "check:\n  severity: {T001: error}\n", encoding="utf-8")
    assert "kept, not checked again" not in [f.message for f in both()]
    assert both(errors_only=True) == both(errors_only=True)
