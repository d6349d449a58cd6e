"""What an author types either prints right or is stopped at its line (issue #12's Markdown cases)."""

from __future__ import annotations

import shutil
import subprocess
import zipfile

import pytest
from click.testing import CliRunner

from bookgen.cli import main
from conftest import SAMPLER, write_book

BOOK = "title: 书\nslug: t\nchapters:\n  - title: 一\n    file: a.md\n"
SPELLINGS = ["图片/示意 图（一）.png", "<图片/示意 图（一）.png>", "图片/示意%20图（一）.png"]


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.mark.integration
def test_image_file_name_with_spaces_in_every_commonmark_spelling(tmp_path):
    text = "第一段。\n\n" + "\n\n".join(f"![流程图{i}]({src})" for i, src in enumerate(SPELLINGS)) + "\n"
    manuscript = write_book(tmp_path / "m", BOOK, {"a.md": text})
    (manuscript / "图片").mkdir()
    shutil.copy(SAMPLER / "images" / "pipeline.png", manuscript / "图片" / "示意 图（一）.png")
    result = CliRunner().invoke(main, ["build", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    images = subprocess.run(["pdfimages", "-list", str(tmp_path / "b/t.pdf")], capture_output=True, text=True).stdout.splitlines()[2:]
    assert len(images) == 3
    with zipfile.ZipFile(tmp_path / "b/t.epub") as epub:
        xhtml = "".join(epub.read(name).decode() for name in epub.namelist() if name.endswith(".xhtml"))
    assert xhtml.count("<img ") == 3 and "EPUBCheck: 0 errors, 0 warnings" in result.output


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_missing_image_with_spaces_keeps_its_line_in_every_spelling(tmp_path, spelling):
    manuscript = write_book(tmp_path / "m", BOOK, {"a.md": f"第一段。\n\n第二段。\n\n![流程图]({spelling})\n"})
    result = CliRunner().invoke(main, ["build", "--format", "epub", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "m/a.md:5:1: M003 image '图片/示意 图（一）.png' not found" in result.output  # with every other check error


# Items 1–7: every Markdown construct of bookgen's dialect, built once in PDF and EPUB.
CONSTRUCTS = """% 不是标题块
他说“好”
然后走了。链接[这里](https://example.com)
后面是正文。这是**重点**
后面。这是*斜体*
后面。代码`x`
后面。脚注[^1]
后面。公式$x$
后面。行首
**粗体**接着，English
中文保留空格。

[^1]: 注。

```python
# 这是一个很长的中文注释这是一个很长的中文注释这是一个很长的中文注释这是一个很长的中文注释尾巴在此
print("一二三")
```

```bash
echo "a very long shell line that goes on and on past the right margin of the page, and on" | tail -n 1 # 末尾
```

```
没有语言的代码块也一样折行没有语言的代码块也一样折行没有语言的代码块也一样折行没有语言的代码块结尾
```

- [ ] 待办
- [x] 完成

~~删除线~~ [下划线]{.underline} [高亮]{.mark} ==标亮== [小型大写]{.smallcaps} H~2~O x^2^ [类]{.foo}

术语
:   定义

| 一行
| 二行

(@) 例一
(@) 例二

`\\LaTeX`{=latex} 与 <span>HTML</span>

::: warning
提示块
:::

水H<sub>2</sub>O 与 x<sup>3</sup>，<ruby>曌<rt>zhào</rt></ruby>，甲<br>乙，<kbd>Ctrl</kbd>，<mark>标记</mark>，<abbr title="x">缩写</abbr>

速度公式 $速度 = 路程 / 时间$ 与 $\\text{已有} + 文字$ 结束。

$$面积 = 长 \\times 宽$$

<table><tr><td>格子</td></tr></table>

| 列 | 值 |
|---|---|
| SOME_VERY_LONG_IDENTIFIER_THAT_GOES_ON_AND_ON_AND_ON_FOREVER_AND_EVER_MORE | 值 |

正文 SOME_VERY_LONG_IDENTIFIER_THAT_GOES_ON_AND_ON_AND_ON_FOREVER_AND_EVER_MORE_AND_MORE 正文。

网址 <https://example.com/路径/文件?查询=值> 结束。

## 配置 SOME_LONG_IDENTIFIER_IN_A_HEADING

末段。
"""


@pytest.fixture(scope="module")
def constructs(tmp_path_factory):
    """(build result, build directory, check result) for a book of CONSTRUCTS: one build, PDF and EPUB."""
    root = tmp_path_factory.mktemp("constructs")
    manuscript = write_book(root / "m", BOOK, {"a.md": CONSTRUCTS})
    runner = CliRunner()
    result = runner.invoke(main, ["build", "--format", "pdf", "--manuscript", str(manuscript), "--output", str(root / "b")])
    epub = runner.invoke(main, ["build", "--format", "epub", "--manuscript", str(manuscript), "--output", str(root / "b")])
    check = runner.invoke(main, ["check", "--manuscript", str(manuscript)])
    with zipfile.ZipFile(root / "b/t.epub") as book:
        xhtml = "".join(book.read(name).decode() for name in book.namelist() if name.endswith(".xhtml"))
    text = subprocess.run(["pdftotext", str(root / "b/t.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    return result, epub, check, text, xhtml, root / "b"


@pytest.mark.integration
def test_every_construct_builds_in_pdf_and_epub_without_warnings(constructs):
    result, epub, _, _, _, _ = constructs
    assert result.exit_code == 0 and "0 warnings" in result.output, result.output
    assert epub.exit_code == 0 and "EPUBCheck: 0 errors, 0 warnings" in epub.output, epub.output


@pytest.mark.integration
def test_line_breaks_after_cjk_side_markup_vanish_in_both_outputs(constructs):
    _, _, _, text, xhtml, build = constructs
    flat = text.replace("\n", "")
    for joined in ("“好”然后", "这里后面", "重点后面", "斜体后面"):
        assert joined in flat, joined
    tex = (build / ".work/latex/unit-ch-1.tex").read_text(encoding="utf-8")
    assert "\\texttt{x}后面" in tex and "\\footnote{注。}后面" in tex and "\\(x\\)后" in tex  # pdftotext spaces around them
    assert "块他说" in flat and "行首粗体接着" in flat and "English 中文" in flat
    assert "行首<strong>粗体</strong>" in xhtml and "English 中文" in xhtml
    for tag in ("</strong>后面", "</em>后面", "</a>后面", "”</span>然后"):
        assert tag in xhtml, tag
    assert '</code><span class="autospace"/>后面' in xhtml and "</sup></a>后面。公式" in xhtml


@pytest.mark.integration
def test_highlighted_code_wraps_and_copies_without_spaces(constructs):
    _, _, _, text, _, _ = constructs
    compact = "".join(text.replace("⌋", "").replace("↪", "").split())
    for end in ("中文注释尾巴在此", "|tail-n1#末尾", "没有语言的代码块结尾"):  # each block's end is on the page, wrapped
        assert end in compact, end
    assert text.count("↪") >= 3  # the continuation mark
    assert 'print("一二三")' in text


@pytest.mark.integration
def test_markdown_constructs_print_in_the_pdf(constructs):
    _, _, _, text, xhtml, _ = constructs
    for printed in ("% 不是标题块", "删除线", "下划线", "高亮", "标亮", "小型大写", "术语", "定义", "一行", "二行", "例一", "提示块", "类"):
        assert printed in text, printed
    assert "☐" not in text and "待办" in text and "完成" in text
    assert "==" not in text
    for element in ("<del>删除线</del>", "<mark>高亮</mark>", "<mark>标亮</mark>", "<sub>2</sub>", "<sup>2</sup>"):
        assert element in xhtml, element


@pytest.mark.integration
def test_raw_html_with_a_typographic_meaning_prints_in_the_pdf(constructs):
    _, _, check, text, xhtml, build = constructs
    tex = (build / ".work/latex/unit-ch-1.tex").read_text(encoding="utf-8")
    assert "H\\textsubscript{2}O" in tex and "x\\textsuperscript{3}" in tex
    assert "\\bookgenruby{曌}{zhào}" in tex and "甲\\\\" in tex and "\\bookgenkbd{Ctrl}" in tex and "\\bookgenmark{标}" in tex
    assert "zhào" in text and "曌" in text
    assert "<ruby>曌<rt>zhào</rt></ruby>" in xhtml and "甲<br/>" in xhtml
    abbr, latex, table = (
        next(n for n, line in enumerate(CONSTRUCTS.splitlines(), 1) if typed in line) for typed in ("<abbr", "LaTeX", "<table>")
    )
    assert f"m/a.md:{abbr}:{CONSTRUCTS.splitlines()[abbr - 1].index('<abbr') + 1}: M008 raw HTML '<abbr title" in check.output
    assert f"m/a.md:{table}:1: M008 raw HTML '<table>" in check.output
    assert "M008 raw HTML '<span" not in check.output and "M008 raw HTML '<kbd" not in check.output
    assert f"m/a.md:{latex}:2: M009 raw LaTeX '\\LaTeX'" in check.output


@pytest.mark.integration
def test_cjk_in_math_prints_in_the_body_face_in_both_outputs(constructs):
    _, _, _, text, xhtml, _ = constructs
    assert "速度 = 路程/时间" in text and "已有 + 文字" in text and "面积 = 长 × 宽" in text
    assert '<mtext mathvariant="normal">速度</mtext>' in xhtml and '<mtext mathvariant="normal">文字</mtext>' in xhtml


@pytest.mark.integration
def test_long_identifiers_break_after_underscores(constructs):
    result, _, _, text, _, build = constructs
    assert "sticks out" not in result.output
    lines = [line for line in text.splitlines() if ("SOME_" in line or "FOREVER_" in line) and "配置" not in line]
    assert len(lines) >= 4 and all(line.rstrip().endswith("_") or "值" in line or "正文" in line for line in lines)
    tex = (build / ".work/latex/unit-ch-1.tex").read_text(encoding="utf-8")
    assert "{配置 SOME\\_LONG\\_IDENTIFIER\\_IN\\_A\\_HEADING}" in tex  # a heading (and its bookmark) stays whole


@pytest.mark.integration
def test_url_with_chinese_is_percent_encoded_and_printed_without_spacing(constructs):
    import pikepdf

    _, _, _, text, _, build = constructs
    assert "https://example.com/路径/文件?查询=值" in text
    with pikepdf.open(build / "t.pdf") as pdf:
        uris = [str(annot.A.URI) for page in pdf.pages for annot in page.get("/Annots", []) if "/A" in annot and "/URI" in annot.A]
    assert "https://example.com/%E8%B7%AF%E5%BE%84/%E6%96%87%E4%BB%B6?%E6%9F%A5%E8%AF%A2=%E5%80%BC" in uris
    assert all(uri.isascii() for uri in uris)


@pytest.mark.integration
def test_a_line_that_still_sticks_out_names_its_markdown_line_and_fails_strict(tmp_path):
    text = "第一段。\n\n正文 `" + "A" * 90 + "` 正文。\n"
    manuscript = write_book(tmp_path / "m", BOOK, {"a.md": text})
    args = ["build", "--format", "pdf", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "m/a.md:3: a line sticks out" in result.output, result.output
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code != 0 and "m/a.md:3: a line sticks out" in strict.output and "strict and print builds" in strict.output


@pytest.mark.integration
def test_ruby_prints_its_reading_centred_above_the_character(constructs):
    import pymupdf

    *_, build = constructs
    with pymupdf.open(build / "t.pdf") as pdf:
        for page in pdf:
            reading = page.search_for("zhào")
            base = page.search_for("曌")
            if reading and base:
                break
    (reading_box,), (base_box,) = reading, base
    assert reading_box.y1 <= base_box.y0 + 1  # above it, on no line of its own
    assert abs((reading_box.x0 + reading_box.x1) / 2 - (base_box.x0 + base_box.x1) / 2) < 1.5  # centred


def test_markdown_line_finds_a_paragraph_by_its_text_without_markup():
    from bookgen.latex.log import markdown_line

    tex = "\\chapter{一}\n\\bookgenpara{s}{ch-1:1}正文 SOME\\_\\bookgenbreak{}VERY\\_\\bookgenbreak{}LONG 正文。\\bookgenpara{e}{ch-1:1}\n"
    markdown = "第一段。\n\n正文 SOME_VERY_LONG 正文。\n"
    assert markdown_line(tex, 2, markdown) == 3
    assert markdown_line(tex, 9, markdown) is None
