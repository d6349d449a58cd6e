"""The EPUB: EPUBCheck, and the same order, titles and numbers as the PDF."""

from __future__ import annotations

import re

import pytest

from bookgen.verify import check_epub
from outputs import epub_nav, epub_texts, pdf_bookmarks

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["sampler", "real"])
def built(request):
    return request.getfixturevalue(f"{request.param}_build")


def test_epubcheck_passes_without_warnings(built):
    report = check_epub(built.outputs["epub"].path)
    assert (report.errors, report.warnings) == (0, 0), report.messages


def test_nav_matches_pdf_bookmarks(built):
    nav = epub_nav(built.outputs["epub"].path)
    bookmarks = [b for b in pdf_bookmarks(built.outputs["pdf"].path) if b != "目录"]
    assert nav == bookmarks
    expected = []
    for node in built.book.nodes():
        if node.kind == "appendix" and "附录" not in expected:
            expected.append("附录")  # the appendices' group line
        expected.append(node.heading)
    assert nav == expected


def test_package_metadata(built):
    files = epub_texts(built.outputs["epub"].path)
    opf = next(text for name, text in files.items() if name.endswith(".opf"))
    meta = built.book.metadata
    assert "<dc:language>zh-CN</dc:language>" in opf
    assert f">{meta.identifier()}</dc:identifier>" in opf
    assert "<dc:title" in opf and meta.title in opf
    for keyword in meta.keywords:
        assert f">{keyword}</dc:subject>" in opf
    assert "<dc:description>" in opf
    assert all('lang="zh-CN"' in text for name, text in files.items() if name.endswith(".xhtml"))
    css = next(text for name, text in files.items() if name.endswith(".css") and "text-indent" in text)
    assert re.search(r"p \{ text-indent: 2em; margin: 0; \}", css)
    assert not re.search(r"body \{[^}]*font-size", css)
    assert not re.search(r">(Table of Contents|Title Page|Cover|Chapter|Contents)<", "".join(files.values()))


def test_sampler_content(sampler_build):
    files = epub_texts(sampler_build.outputs["epub"].path)
    body = "".join(text for name, text in files.items() if name.endswith(".xhtml"))
    assert "<math" in body and "大模型预测概率" in body  # MathML, Chinese inside \text{}
    assert "「本节待撰写」" in body and "〔本节未完〕" in body
    assert "图2.1" in body and "表2.1" in body and "表A.1" in body
    assert 'class="number">1.1.1</span>' in body  # sub-headings numbered as in the PDF
    assert "计算损失函数（中文注释）" in body
    assert "这一行在源文件里换了行，但排出来不应多出空格。" in body  # a line break in Chinese adds no space
    opf = next(text for name, text in files.items() if name.endswith(".opf"))
    assert 'properties="cover-image"' in opf  # book.yaml's cover image


def test_identifier_is_stable(sampler_build, tmp_path):
    """The same book gives the same identifier from build to build."""
    first = epub_texts(sampler_build.outputs["epub"].path)
    opf = next(text for name, text in first.items() if name.endswith(".opf"))
    identifier = re.search(r"<dc:identifier[^>]*>([^<]+)<", opf).group(1)
    assert identifier == sampler_build.book.metadata.identifier()
    assert identifier.startswith("urn:uuid:")


def test_each_body_says_its_matter(built):
    """EPUB 3 Structural Semantics: 前言 and 摘要 frontmatter, 致谢, 索引 … backmatter, the rest bodymatter."""
    files = epub_texts(built.outputs["epub"].path)
    matters = {}
    for name, text in files.items():
        section = re.search(r'<section id="[^"]*" class="level\d ([\w-]+)', text)
        body = re.search(r'<body epub:type="(\w+)"', text)
        if name.endswith(".xhtml") and section and body:
            matters.setdefault(section.group(1), set()).add(body.group(1))
    assert matters["front"] == {"frontmatter"} and matters["back"] == {"backmatter"}
    assert matters["chapter"] == {"bodymatter"} and matters.get("part", {"bodymatter"}) == {"bodymatter"}
