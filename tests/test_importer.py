"""bookgen import: the user's draft reproduces manuscript/, no text lost or invented, other draft shapes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookgen.checks import run_checks
from bookgen.cli import main
from bookgen.errors import ManuscriptError
from bookgen.importer.draft import classify, clean_lines
from bookgen.importer.parse import import_draft
from bookgen.model.book import load_book
from bookgen.textrules import HEADING
from conftest import MANUSCRIPT, USER_DRAFT
from test_textrules import ALL_TOKENS


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def markdown_lines(root: Path) -> Counter:
    return Counter(line for p in root.rglob("*.md") for line in p.read_text(encoding="utf-8").splitlines() if line.strip())


def test_user_draft_reproduces_the_repository_manuscript(tmp_path):
    import_draft(USER_DRAFT, tmp_path / "manuscript", slug="llm-founders")
    assert tree(tmp_path / "manuscript") == tree(MANUSCRIPT)


def test_user_draft_report(tmp_path):
    report = import_draft(USER_DRAFT, tmp_path / "m", slug="llm-founders")
    assert (report.parts, report.chapters, report.sections, report.appendices) == (3, 8, 24, 8)
    assert (report.front, report.back) == (1, 2)
    assert report.sections_with_text == 13
    assert [(r.line, r.text) for r in report.removed] == [(207, "<|assistant|>"), (207, "**开始撰写正文内容**")]
    disagreements = {(n.draft, n.computed) for n in report.numbering}
    assert ("G.1", "F.1") in disagreements and ("附录H", "附录G") in disagreements and ("I.11", "G.11") in disagreements
    assert ("附录K", "(unnumbered)") in disagreements  # 致谢 is back matter
    assert report.truncated == ["chapters/创业失败的反思/失败的原因分析.md"]
    assert report.cjk_per_chapter["第1章 大模型时代的背景与影响"] > 500
    book = load_book(tmp_path / "m")
    assert [n.status for n in book.nodes() if n.status == "truncated"] == ["truncated"]


def test_every_body_line_lands_in_exactly_one_file(tmp_path):
    """No text lost or invented: each content line of the draft's body is in the output as often as in the draft."""
    import_draft(USER_DRAFT, tmp_path / "m")
    lines, _ = clean_lines(USER_DRAFT.read_text(encoding="utf-8"))
    body_start = next(i for i, line in enumerate(lines) if line.text.strip() == "---") + 1
    expected = Counter()
    for line in lines[body_start:]:
        heading = HEADING.match(line.text)
        if line.text.strip() and not (heading and classify(heading.group(2)).kind != "other"):
            expected[line.text] += 1
    abstract = next(line.text for line in lines if line.text.startswith("本文围绕"))
    expected[abstract] += 1
    assert markdown_lines(tmp_path / "m") == expected


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


CHINESE_NUMERALS_NO_PARTS = """\
# 机器学习入门

## 目录

- 第一章 绪论
  - 1.1 背景
  - 1.2 目标
- 第二章 方法
- 后记

# 第一章 绪论

本章的导言。

## 1.1 背景

背景正文。

### 1.1.1 更细的一层

细节。

## 1.2 目标

目标正文。

# 第二章 方法

方法正文。

## 2.1 新增的一节

不在目录里的一节。

# 后记

后记正文。
"""


def test_chinese_numeral_chapters_without_parts(tmp_path):
    report = import_draft(write(tmp_path / "d.md", CHINESE_NUMERALS_NO_PARTS), tmp_path / "m")
    book = load_book(tmp_path / "m")
    assert book.metadata.title == "机器学习入门"
    assert book.numbering.chapter == "chinese"
    assert [n.heading for n in book.nodes()] == ["第一章 绪论", "1.1 背景", "1.2 目标", "第二章 方法", "2.1 新增的一节", "后记"]
    assert (tmp_path / "m/chapters/绪论/index.md").read_text(encoding="utf-8") == "本章的导言。\n"
    assert (tmp_path / "m/chapters/绪论/背景.md").read_text(encoding="utf-8") == "背景正文。\n\n# 更细的一层\n\n细节。\n"
    assert (tmp_path / "m/chapters/方法/index.md").read_text(encoding="utf-8") == "方法正文。\n"
    assert any("新增的一节" in w and "not in the outline" in w for w in report.warnings)
    renumbered = next(n for n in report.numbering if n.draft == "1.1.1")
    assert (renumbered.line, renumbered.computed) == (19, "(numbered by bookgen)")


ENGLISH = """\
Title: Deep Learning Notes

Keywords: learning, notes

Abstract: A short book.

## Contents

### Part I Foundations

#### Chapter 1 Basics

##### 1.1 Tensors

### Appendix A Tools

##### A.1 Command line

---

## Part I Foundations

### Chapter 1 Basics

#### 1.1 Tensors

Tensors are arrays.

### Appendix A Tools

#### A.1 Command line

```bash
# Chapter 9 is not a heading
## 9.1 neither is this
ls -l
```

| tool | use |
|------|-----|
| ls   | list |
"""


def test_english_headings_appendix_with_code_and_table(tmp_path):
    import_draft(write(tmp_path / "d.md", ENGLISH), tmp_path / "m")
    book = load_book(tmp_path / "m")
    assert book.metadata.title == "Deep Learning Notes"
    assert book.metadata.keywords == ("learning", "notes")
    assert [n.heading for n in book.nodes()] == [
        "摘要",
        "第一部分 Foundations",
        "第1章 Basics",
        "1.1 Tensors",
        "附录A Tools",
        "A.1 Command line",
    ]
    cli = (tmp_path / "m/appendices/Tools/Command-line.md").read_text(encoding="utf-8")
    assert "# Chapter 9 is not a heading\n## 9.1 neither is this" in cli and "| ls   | list |" in cli


def test_no_outline_uses_the_body_headings(tmp_path):
    draft = "# 书名\n\n## 第1章 开始\n\n### 1.1 第一节\n\n正文一。\n\n## 第2章 继续\n\n### 2.1 第二节\n\n正文二。\n"
    import_draft(write(tmp_path / "d.md", draft), tmp_path / "m")
    book = load_book(tmp_path / "m")
    assert [n.heading for n in book.nodes()] == ["第1章 开始", "1.1 第一节", "第2章 继续", "2.1 第二节"]
    assert (tmp_path / "m/chapters/继续/第二节.md").read_text(encoding="utf-8") == "正文二。\n"


def test_chat_artifacts_removed_and_listed(tmp_path):
    draft = (
        "# 书\n\n## 目录\n\n### 第1章 一\n\n#### 1.1 节\n\n---\n\n<|im_start|>assistant\n好的，以下是本书的正文：\n\n"
        "### 第1章 一\n\n#### 1.1 节\n\n正文。<|im_end|>\n"
    )
    report = import_draft(write(tmp_path / "d.md", draft), tmp_path / "m")
    assert [(r.line, r.reason) for r in report.removed] == [(11, "chat token"), (12, "writing instruction"), (18, "chat token")]
    assert (tmp_path / "m/chapters/一/节.md").read_text(encoding="utf-8") == "正文。\n"


def test_refuses_to_overwrite_without_force(tmp_path):
    draft = write(tmp_path / "d.md", CHINESE_NUMERALS_NO_PARTS)
    import_draft(draft, tmp_path / "m")
    (tmp_path / "m/notes.md").write_text("作者自己的笔记", encoding="utf-8")
    with pytest.raises(ManuscriptError, match="use --force"):
        import_draft(draft, tmp_path / "m")
    (tmp_path / "m/chapters/绪论/背景.md").write_text("改过的", encoding="utf-8")
    import_draft(draft, tmp_path / "m", force=True)
    assert (tmp_path / "m/chapters/绪论/背景.md").read_text(encoding="utf-8").startswith("背景正文。")
    assert (tmp_path / "m/notes.md").read_text(encoding="utf-8") == "作者自己的笔记"  # never deleted


def test_cli_import_with_json_report(tmp_path):
    result = CliRunner().invoke(main, ["import", str(USER_DRAFT), "--output", str(tmp_path / "m"), "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert "removed chat token" in result.output and "truncated (ends mid-sentence)" in result.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["sections_with_text"] == 13 and data["truncated"]
    again = CliRunner().invoke(main, ["import", str(USER_DRAFT), "--output", str(tmp_path / "m")])
    assert again.exit_code == 2 and "use --force" in again.output


def test_chat_tokens_of_every_family_removed_and_check_finds_no_r001(tmp_path):
    """Issue 11: a draft with <|eom_id|>, <|eot_id|>, <|im_end|>, a Llama 3 role header or [/INST] imports
    with each removal reported, and `bookgen check` on the result reports no R001."""
    draft = (
        "# 书\n\n## 第1章 一\n\n### 1.1 节\n\n"
        "<|start_header_id|>assistant<|end_header_id|>\n"
        "第一段。<|eom_id|>\n\n"
        "第二段。<|eot_id|>\n\n"
        "[/INST]第三段。<|im_end|>\n"
    )
    report = import_draft(write(tmp_path / "d.md", draft), tmp_path / "m")
    assert [(r.line, r.text, r.reason) for r in report.removed] == [
        (7, "<|start_header_id|>assistant<|end_header_id|>", "chat token"),
        (8, "<|eom_id|>", "chat token"),
        (10, "<|eot_id|>", "chat token"),
        (12, "[/INST]", "chat token"),
        (12, "<|im_end|>", "chat token"),
    ]
    assert (tmp_path / "m/chapters/一/节.md").read_text(encoding="utf-8") == "第一段。\n\n第二段。\n\n第三段。\n"
    checked = run_checks(tmp_path / "m", tmp_path / "cache", fast=True)
    assert not [f for f in checked.findings if f.code == "R001"]


@pytest.mark.parametrize("token", ALL_TOKENS)
def test_chat_token_siblings_removed(tmp_path, token):
    draft = f"# 书\n\n## 第1章 一\n\n### 1.1 节\n\n{token}\n正文。\n\n```\n{token}\n```\n"
    report = import_draft(write(tmp_path / "d.md", draft), tmp_path / "m")
    assert [(r.line, r.text) for r in report.removed] == [(7, token)]
    text = (tmp_path / "m/chapters/一/节.md").read_text(encoding="utf-8")
    assert text == f"正文。\n\n```\n{token}\n```\n"  # the one in code is the author's example
    checked = run_checks(tmp_path / "m", tmp_path / "cache", fast=True)
    assert not [f for f in checked.findings if f.code == "R001"]


CUT_OFF_MIDDLE = """\
# 分布式事务

## 目录
### 第3章 协议
#### 3.1 两阶段提交
#### 3.2 三阶段提交
#### 3.3 列表结尾
#### 3.4 表格结尾
#### 3.5 完整结尾

### 第3章 协议
#### 3.1 两阶段提交
协调者宕机后，参与者会一直阻塞，这正是
#### 3.2 三阶段提交
三阶段提交引入了预提交阶段、
#### 3.3 列表结尾
要点如下：

- 超时机制
- 预提交阶段
#### 3.4 表格结尾
| 协议 | 阶段 |
|---|---|
| 2PC | 2 |
#### 3.5 完整结尾
这一节写完了。
"""


@pytest.mark.parametrize(
    "cut, expected",
    [
        ("协调者宕机后，参与者会一直阻塞，这正是", True),  # the instance: stops on a CJK character, next heading follows
        ("三阶段提交引入了预提交阶段、", True),  # stops on a pause mark
        ("一直阻塞，", True),
        ("要点如下：\n\n- 超时机制\n- 预提交阶段", False),  # a list legitimately ends without punctuation
        ("| 协议 | 阶段 |\n|---|---|\n| 2PC | 2 |", False),
        ("```\ncode\n```", False),
        ("这一节写完了。", False),
        ("他说：“好”", False),
    ],
)
def test_cut_off_sections_in_the_middle_of_the_draft(cut, expected):
    from bookgen.importer.parse import cut_off

    assert cut_off(cut, last_in_draft=False) is expected


def test_section_cut_off_before_the_next_heading_is_marked_and_reported(tmp_path):
    report = import_draft(write(tmp_path / "d.md", CUT_OFF_MIDDLE), tmp_path / "m")
    assert sorted(report.truncated) == ["chapters/协议/三阶段提交.md", "chapters/协议/两阶段提交.md"]
    statuses = {n.title: n.status for n in load_book(tmp_path / "m").nodes()}
    assert statuses["两阶段提交"] == statuses["三阶段提交"] == "truncated"
    assert statuses["列表结尾"] == statuses["表格结尾"] == statuses["完整结尾"] == "draft"
    text = (tmp_path / "m/chapters/协议/两阶段提交.md").read_text(encoding="utf-8")
    assert text.endswith("这正是\n")  # nothing lost or invented
