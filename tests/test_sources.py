import pytest

from bookgen.errors import ManuscriptError
from bookgen.model.book import load_book
from bookgen.sources.reading import read_sources
from conftest import write_book

YAML = "title: 书\nchapters:\n  - title: 一\n    sections:\n      - title: 节\n        file: a.md\n"


def test_missing_and_blank_files_are_unwritten(tmp_path):
    book = load_book(write_book(tmp_path, YAML))
    assert not read_sources(book)["sec-1-1"].written
    (tmp_path / "a.md").write_text(" \n\n", encoding="utf-8")
    assert not read_sources(book)["sec-1-1"].written
    (tmp_path / "a.md").write_text("\ufeff正文\r\n第二行\r\n", encoding="utf-8")
    source = read_sources(book)["sec-1-1"]
    assert source.written and source.text == "正文\n第二行\n"


def test_gbk_is_detected_not_mangled(tmp_path):
    book = load_book(write_book(tmp_path, YAML))
    (tmp_path / "a.md").write_bytes("第一行\n中文内容".encode("gbk"))
    with pytest.raises(ManuscriptError, match=r"GBK/GB18030-encoded") as caught:
        read_sources(book)
    assert caught.value.location.line == 1
    assert str(caught.value.location.path).endswith("a.md")


def test_binary_garbage_is_refused(tmp_path):
    book = load_book(write_book(tmp_path, YAML))
    (tmp_path / "a.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ManuscriptError, match="binary data"):
        read_sources(book)


def test_abstract_file_is_read_and_converted_without_a_front_entry(tmp_path):
    """`abstract: front/摘要.md` that no outline entry names: its text reaches every output (all of them
    take it from abstract_text), whether or not it is also a front entry."""
    from bookgen.sources.convert import abstract_text, convert_sources

    for yaml_text in (YAML, "front:\n  - title: 摘要\n    file: front/摘要.md\n" + YAML):
        root = write_book(
            tmp_path / str(len(yaml_text)),
            "abstract: front/摘要.md\n" + yaml_text,
            {"a.md": "正文。\n", "front/摘要.md": "本书**讲述**排版。\n\n第二段。\n"},
        )
        book = load_book(root)
        sources = read_sources(book)
        converted, _ = convert_sources(book, sources, tmp_path / "cache")
        assert abstract_text(book, converted) == "本书讲述排版。 第二段。"
