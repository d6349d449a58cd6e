"""The book.yaml model: outline, numbering, and errors that point at the author's line."""

from pathlib import Path

import pytest

from bookgen.errors import ManuscriptError
from bookgen.model.book import load_book
from bookgen.model.lengths import Length
from conftest import MANUSCRIPT, write_book

OUTLINE = """\
title: 书
parts:
  - title: 甲部
    chapters:
      - title: 第一个章
        sections: [一节, 二节]
      - title: 第二个章
  - title: 乙部
    chapters:
      - title: 第三个章
        sections:
          - title: 三节
            file: c3/s1.md
appendices:
  - title: 附一
    sections: [附节]
  - title: 附二
back:
  - title: 致谢
    file: back/thanks.md
"""


def test_outline_is_numbered_in_the_drafts_style(tmp_path):
    book = load_book(write_book(tmp_path, OUTLINE))
    headings = [node.heading for node in book.nodes()]
    assert headings == [
        "第一部分 甲部",
        "第1章 第一个章",
        "1.1 一节",
        "1.2 二节",
        "第2章 第二个章",
        "第二部分 乙部",
        "第3章 第三个章",
        "3.1 三节",
        "附录A 附一",
        "A.1 附节",
        "附录B 附二",
        "致谢",
    ]


def test_chinese_chapter_numbers_are_a_setting(tmp_path):
    book = load_book(write_book(tmp_path, OUTLINE + "numbering:\n  chapter: chinese\n"))
    chapters = [node.heading for node in book.nodes() if node.kind == "chapter"]
    assert chapters == ["第一章 第一个章", "第二章 第二个章", "第三章 第三个章"]
    assert [n.number for n in book.nodes() if n.kind == "section"] == ["1.1", "1.2", "3.1"]


def test_books_without_parts(tmp_path):
    book = load_book(write_book(tmp_path, "title: 书\nchapters:\n  - title: 一\n  - title: 二\n    sections: [节]\n"))
    assert not book.has_parts
    assert [n.heading for n in book.nodes()] == ["第1章 一", "第2章 二", "2.1 节"]


def test_defaults_and_metadata(tmp_path):
    book = load_book(write_book(tmp_path, "title: 书\nauthors: 张三\n"))
    assert book.metadata.language == "zh-CN"
    assert book.metadata.authors == ("张三",)
    assert book.layout.trim_width == Length.parse("185mm") and book.layout.trim_height == Length.parse("260mm")
    assert book.metadata.publisher == ""  # unknown metadata stays empty
    # A stable identifier without an ISBN, the ISBN's when there is one.
    assert book.metadata.identifier() == load_book(tmp_path).metadata.identifier()
    assert book.metadata.identifier().startswith("urn:uuid:")


@pytest.mark.parametrize(
    "yaml_text, message, line, column",
    [
        ("title: 书\nlayuot:\n  trim_width: 185mm\n", "unknown key 'layuot' in book.yaml (did you mean 'layout'?)", 2, 1),
        ("title: 书\nlayout:\n  trim_widht: 185mm\n", "did you mean 'trim_width'?", 3, 3),
        ("title: 书\nlayout:\n  chars_per_line: forty\n", "'chars_per_line' must be a positive whole number", 3, 19),
        ("title: 书\nlayout:\n  trim_width: 185\n", "must be a length like 185mm", 3, 15),
        ("title: 书\nchapters:\n  - title: 一\n    file: ../outside.md\n", "leads out of the manuscript directory", 4, 11),
        ("title: 书\nchapters:\n  - title: 一\n    file: /etc/passwd.md\n", "is an absolute path", 4, 11),
        ("title: 书\nchapters:\n  - title: 一\n    id: x\n  - title: 二\n    id: x\n", "duplicate id 'x' (also used on line 3)", 6, 9),
        ("title: 书\nchapters:\n  - titel: 一\n", "unknown key 'titel' in a chapter entry (did you mean 'title'?)", 3, 5),
        ("title: 书\nchapters: [\n", "YAML syntax error", 3, 1),
        ("title: 书\ntitle: 又一个\n", "duplicate key 'title'", 2, 1),
        ("subtitle: 副\n", "book.yaml needs a 'title'", 1, 1),
        ("title: 书\nnumbering:\n  chapter: roman\n", "'chapter' must be one of arabic, chinese", 3, 12),
        ("title: 书\nparts: []\nchapters: []\n", "either 'parts'", 3, 1),
    ],
)
def test_errors_name_file_line_and_column(tmp_path, yaml_text, message, line, column):
    with pytest.raises(ManuscriptError) as caught:
        load_book(write_book(tmp_path, yaml_text))
    error = caught.value
    assert message in error.message
    assert Path(error.location.path).name == "book.yaml"
    assert (error.location.line, error.location.column) == (line, column)
    assert str(error).startswith(f"{error.location.path}:{line}:{column}: ")


def test_symlink_out_of_the_manuscript_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("secret", encoding="utf-8")
    root = write_book(tmp_path / "book", "title: 书\nchapters:\n  - title: 一\n    file: link/secret.md\n")
    (root / "link").symlink_to(outside)
    with pytest.raises(ManuscriptError, match="through a symbolic link"):
        load_book(root)


def test_missing_book_yaml(tmp_path):
    with pytest.raises(ManuscriptError, match=r"book\.yaml not found"):
        load_book(tmp_path)


def test_the_real_manuscript_outline():
    book = load_book(MANUSCRIPT)
    nodes = list(book.nodes())
    assert [n.heading for n in nodes if n.kind == "part"] == [
        "第一部分 大模型时代概述",
        "第二部分 创业者的教训与反思",
        "第三部分 启示与再出发",
    ]
    assert len([n for n in nodes if n.kind == "chapter"]) == 8
    assert [n.number for n in nodes if n.kind == "appendix"] == [f"附录{c}" for c in "ABCDEFGH"]  # the draft's A–F, H, J renumbered
    assert [n.title for n in book.back] == ["致谢", "关于作者"]
    assert [n.title for n in book.front] == ["摘要"]
    assert all(not any(ch.isdigit() for ch in n.title[:3]) for n in nodes)  # titles carry no hand-written numbers
