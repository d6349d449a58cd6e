"""The accessible EPUB (issues 13 and 14): Ace by DAISY, the accessibility metadata, the printed pages'
list against the PDF, the title and copyright pages, notes, and the XHTML as a real browser lays it out."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from bookgen.epub.accessibility import Contents, declare
from bookgen.epub.assemble import AUTOSPACE, autospace
from bookgen.epub.pagemap import PageMap, ParagraphPages, PrintedPage, page_breaks
from bookgen.model.book import load_book
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions
from bookgen.press.figures import CopyrightFigures
from bookgen.press.imprint import imprint, month_date
from bookgen.verify import check_epub
from conftest import FIXTURES, REPO, SAMPLER, write_book

A11Y = FIXTURES / "a11y"
ACE = REPO / ".tools" / "node_modules" / ".bin" / "ace-puppeteer"
CHROMIUM = Path("/usr/bin/chromium")
NS = {"x": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf", "m": "http://www.w3.org/1998/Math/MathML"}


def _copy_and_build(source: Path, workspace: Path, **options):
    manuscript = workspace / source.name
    shutil.copytree(source, manuscript)
    return build(BuildOptions(manuscript=manuscript, output=workspace / "build", **options))


@pytest.fixture(scope="session")
def a11y_build(tmp_path_factory):
    """The accessibility fixture in both formats (EPUBCheck on): the EPUB carries the PDF's page list."""
    return _copy_and_build(A11Y, tmp_path_factory.mktemp("a11y"))


def _read(epub: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(epub) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _opf(files: dict[str, bytes]) -> etree._Element:
    return _xml(next(data for name, data in files.items() if name.endswith(".opf")))


def _meta(opf: etree._Element, prop: str) -> list[str]:
    return [meta.text for meta in opf.iterfind(".//opf:meta", NS) if meta.get("property") == prop]


# ---------------------------------------------------------------- Ace by DAISY


@pytest.mark.integration
@pytest.mark.parametrize("book", ["sampler", "real", "a11y"])
def test_ace_finds_no_violations(book, request, tmp_path):
    if not ACE.exists():
        pytest.fail("Ace by DAISY is not installed: make deps installs it into .tools/")
    epub = request.getfixturevalue(f"{book}_build").outputs["epub"].path
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PUPPETEER_SKIP_DOWNLOAD": "1", "PUPPETEER_EXECUTABLE_PATH": str(CHROMIUM)}
    subprocess.run([str(ACE), "--silent", "--force", "--outdir", str(tmp_path / "ace"), str(epub)], env=env, check=True, timeout=600)
    report = json.loads((tmp_path / "ace" / "report.json").read_text(encoding="utf-8"))
    violations = [
        (subject["earl:testSubject"]["url"], found["earl:test"]["dct:title"], found["earl:test"]["earl:impact"])
        for subject in report["assertions"]
        for found in subject["assertions"]
    ]
    assert violations == []
    assert report["earl:result"]["earl:outcome"] == "pass"
    assert report["properties"]["hasPageBreaks"]  # every one of the three was built with its PDF


# ---------------------------------------------------------------- metadata


@pytest.mark.integration
def test_accessibility_metadata_is_present_and_true(a11y_build):
    files = _read(a11y_build.outputs["epub"].path)
    opf = _opf(files)
    features = set(_meta(opf, "schema:accessibilityFeature"))
    assert {
        "tableOfContents",
        "readingOrder",
        "structuralNavigation",
        "MathML",
        "alternativeText",
        "printPageNumbers",
        "pageNavigation",
        "displayTransformability",
    } <= features
    summary = _meta(opf, "schema:accessibilitySummary")[0]
    assert "MathML" in summary and "页码" in summary and "图片均有文字说明" in summary and "ISBN 978-7-111-00001-3" in summary
    assert _meta(opf, "dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    assert _meta(opf, "a11y:certifiedBy") == ["示例出版社无障碍组"]
    assert _meta(opf, "pageBreakSource") == ["urn:isbn:9787111000013"]
    titles = {title.text: title.get("id") for title in opf.iterfind(".//{http://purl.org/dc/elements/1.1/}title")}
    assert _meta(opf, "title-type") == ["main", "subtitle"] and "页码、图表与公式" in titles
    report = check_epub(a11y_build.outputs["epub"].path)
    assert (report.errors, report.warnings) == (0, 0), report.messages


def test_declaration_claims_only_what_the_book_has(tmp_path):
    book = load_book(write_book(tmp_path / "b", "title: 书\nslug: b\nchapters: [一]\n"))
    plain = declare(book, Contents(), 0)
    assert not {"MathML", "alternativeText", "printPageNumbers", "pageNavigation"} & set(plain.features)
    assert plain.conforms and plain.page_source == "" and plain.certified_by == ""
    missing_alt = declare(book, Contents(images=2, images_without_alt=1), 5)
    assert not missing_alt.conforms and "alternativeText" not in missing_alt.features
    assert "1 幅图片缺少文字说明" in missing_alt.summary and "符合" not in missing_alt.summary
    assert missing_alt.sufficient == ("textual", "visual") and missing_alt.page_source == "书（印刷版）"


# ---------------------------------------------------------------- the page list


def _page_text(pdf: Path, page: int, layout: bool = False) -> str:
    command = ["pdftotext", "-f", str(page), "-l", str(page)] + (["-layout"] if layout else []) + [str(pdf), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _plain(element: etree._Element) -> str:
    """The element's text without math (pdftotext and MathML spell formulas differently) and spaces."""
    copy = etree.fromstring(etree.tostring(element))
    for math in copy.iterfind(".//m:math", NS):
        math.getparent().remove(math)
    return re.sub(r"\s", "", "".join(copy.itertext()))


@pytest.mark.integration
def test_page_list_matches_the_pdf(a11y_build):
    files = _read(a11y_build.outputs["epub"].path)
    pdf = a11y_build.outputs["pdf"].path
    nav = _xml(files["EPUB/nav.xhtml"])
    links = nav.findall(".//x:nav[@id='page-list']//x:a", NS)
    assert len(links) >= 10
    assert links[0].text == "iii"  # 前言: roman folios in the front matter
    squashed = {page: re.sub(r"\s", "", _page_text(pdf, page)) for page in range(1, a11y_build.outputs["pdf"].pages + 1)}
    for link in links:
        name, fragment = link.get("href").split("#")
        document = _xml(files[f"EPUB/{name}"])
        marker = document.find(f".//*[@id='{fragment}']")
        assert marker.get("role") == "doc-pagebreak" and marker.get("aria-label") == link.text
        physical = int(fragment.removeprefix("page-"))
        paragraph = _plain(marker.getparent())
        starts_here, ends_here = paragraph[:8] in squashed[physical], paragraph[-8:] in squashed[physical]
        assert starts_here or ends_here, (link.text, paragraph[:20])
        if not starts_here:  # the page starts inside this paragraph, begun on an earlier page
            assert any(paragraph[:8] in squashed[page] for page in range(1, physical))
        folio_lines = [line.split() for line in _page_text(pdf, physical, layout=True).splitlines() if line.strip()]
        assert any(words[0] == link.text or words[-1] == link.text for words in folio_lines), link.text


@pytest.mark.integration
def test_no_page_list_without_a_current_pdf(a11y_build, tmp_path):
    epub_only = _copy_and_build(A11Y, tmp_path / "fresh", formats=("epub",), verify=False)
    stale_dir = tmp_path / "stale"
    shutil.copytree(a11y_build.outputs["pdf"].path.parent.parent, stale_dir)  # manuscript and build, PDF current
    section = stale_dir / "a11y" / "chapters" / "text.md"
    section.write_text(section.read_text(encoding="utf-8").replace("第1段开头", "第一段开头"), encoding="utf-8")
    stale = build(BuildOptions(manuscript=stale_dir / "a11y", output=stale_dir / "build", formats=("epub",), verify=False))
    for result in (epub_only, stale):
        files = _read(result.outputs["epub"].path)
        documents = b"".join(data for name, data in files.items() if name.endswith(".xhtml"))
        assert b"doc-pagebreak" not in documents and b'epub:type="page-list"' not in documents
        opf = _opf(files)
        assert "printPageNumbers" not in _meta(opf, "schema:accessibilityFeature") and not _meta(opf, "pageBreakSource")
        imprint_page = files["EPUB/text/copyright.xhtml"].decode("utf-8")
        assert "书名" in imprint_page and not re.search("开本|印张|字数", imprint_page)


def test_page_breaks_go_where_pages_start():
    def pages(first: int, last: int) -> ParagraphPages:
        return ParagraphPages(PrintedPage(first, str(first)), PrintedPage(last, str(last)))

    page_map = PageMap(
        {"a:1": pages(1, 1), "a:2": pages(1, 2), "a:3": pages(2, 2), "a:4": pages(3, 5), "a:5": pages(5, 5)}, Path("x.pdf"), 5
    )
    breaks = page_breaks(["a:1", "a:2", "a:3", "a:4", "a:5"], page_map)
    # page 2 starts inside a:2; page 4 lies inside a:4 (no marker); page 5 starts inside a:4 too
    assert {key: [page.physical for page in value] for key, value in breaks.items()} == {"a:1": [1], "a:2": [2], "a:4": [3, 5]}


# ---------------------------------------------------------------- title page, 版权页, documents


@pytest.mark.integration
def test_title_copyright_landmarks_and_titles(a11y_build):
    files = _read(a11y_build.outputs["epub"].path)
    nav = _xml(files["EPUB/nav.xhtml"])
    landmarks = {
        link.get("{http://www.idpf.org/2007/ops}type"): (link.text, link.get("href"))
        for link in nav.findall(".//x:nav[@id='landmarks']//x:a", NS)
    }
    assert [landmarks[kind][0] for kind in ("titlepage", "copyright-page", "toc", "bodymatter")] == ["书名页", "版权页", "目录", "正文"]
    assert landmarks["bodymatter"][1].endswith("#ch-1")
    imprint_page = files["EPUB/text/copyright.xhtml"].decode("utf-8")
    lines = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", imprint_page)
    assert [label for label, _ in lines] == ["书名", "著者", "出版发行", "地址", "开本", "印张", "字数", "版次", "印次", "书号", "定价"]
    values = dict(lines)
    assert values["书名"] == "无障碍样书：页码、图表与公式" and values["著者"] == "王五，赵六"  # as the PDF's 版权页 prints it
    assert values["版次"] == "2026年1月第1版" and values["印次"] == "2026年1月第2次印刷"
    assert re.fullmatch(r"\d+千字", values["字数"]) and values["开本"] == "787mm×1092mm 1/16"
    titles = {name: _xml(data).findtext(".//x:title", namespaces=NS) for name, data in files.items() if name.endswith(".xhtml")}
    assert "第1章 连续的正文" in titles.values() and "第2章 图表、公式与代码" in titles.values()
    assert not any(re.fullmatch(r"ch\d+\.xhtml", title or "") for title in titles.values())
    chapter = next(
        data.decode("utf-8") for data in files.values() if b"\xe5\x9b\xbe\xe8\xa1\xa8\xe3\x80\x81" in data and b"<section" in data
    )
    assert '<th scope="col">' in chapter and 'alttext="E = mc^2"' in chapter and 'lang="en"' in chapter
    notes = re.findall(r'<a href="#fnref(\d)" class="footnote-back" role="doc-backlink">(\d)</a>', chapter)
    assert notes == [("1", "1"), ("2", "2")]
    assert re.search(r'epub:type="noteref"[^>]*><sup>1</sup></a>', chapter)


def test_imprint_prints_only_what_the_book_gives(tmp_path):
    book = load_book(write_book(tmp_path / "b", "title: 书\nslug: b\nchapters: [一]\n"))
    assert [(line.label, line.value) for line in imprint(book, None)] == [("书名", "书")]
    printed = CopyrightFigures(printed_sheets=6.25, thousand_characters=144.0)  # what the PDF's 版权页 printed for 100 pages
    assert [line.label for line in imprint(book, printed)] == ["书名", "开本", "印张", "字数"]
    assert imprint(book, printed)[2].value == "6.25" and imprint(book, printed)[3].value == "144千字"
    assert month_date("2026-01-15") == "2026年1月" and month_date("2026") == "2026年"


def test_autospace_between_chinese_and_latin():
    blocks = [
        {
            "t": "Para",
            "c": [
                {"t": "Str", "c": "使用GPT模型"},
                {"t": "Strong", "c": [{"t": "Str", "c": "AI"}]},
                {"t": "Str", "c": "工具"},
                {"t": "Span", "c": [["", ["number"], []], [{"t": "Str", "c": "第1章"}]]},
            ],
        }
    ]
    autospace(blocks)
    texts = [
        inline["c"] if inline["t"] == "Str" else inline["c"][1] if inline["t"] == "RawInline" else inline["t"] for inline in blocks[0]["c"]
    ]
    assert texts == ["使用", AUTOSPACE, "GPT", AUTOSPACE, "模型", AUTOSPACE, "Strong", AUTOSPACE, "工具", "Span"]
    assert blocks[0]["c"][-1]["c"][1] == [{"t": "Str", "c": "第1章"}]  # labels keep their form


# ---------------------------------------------------------------- colours


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_code_colours_meet_wcag_aa_in_light_and_dark():
    css = (REPO / "templates" / "epub" / "book.css").read_text(encoding="utf-8")
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    for scheme in (light, dark):
        ground = re.search(r"div\.sourceCode, pre \{ background-color: #([0-9a-f]{6}); color: #([0-9a-f]{6})", scheme)
        colours = re.findall(r"code span\.[a-z]{2}[^{]*\{ color: #([0-9a-f]{6})", scheme)
        assert ground and len(colours) >= 9
        for colour in colours + [ground.group(2)]:
            assert _contrast(colour, ground.group(1)) >= 4.5, colour
    assert _contrast("595959", "ffffff") >= 4.5 and _contrast("b3b3b3", "121212") >= 4.5  # .truncated in both schemes


# ---------------------------------------------------------------- alt text


def test_check_warns_and_strict_refuses_an_image_without_alt(tmp_path):
    from bookgen.checks import run_checks

    manuscript = tmp_path / "sampler"
    shutil.copytree(SAMPLER, manuscript)
    yaml = (manuscript / "book.yaml").read_text(encoding="utf-8")
    (manuscript / "book.yaml").write_text(
        re.sub(r" *status: truncated\n", "", yaml).replace(
            "          - title: 尚未写成的一节\n            file: chapters/basics/todo.md\n", ""
        ),
        encoding="utf-8",
    )
    figures = manuscript / "chapters" / "blocks" / "figures.md"
    figures.write_text(figures.read_text(encoding="utf-8") + "\n![](../../images/pipeline.png)\n", encoding="utf-8")
    line = figures.read_text(encoding="utf-8").split("\n").index("![](../../images/pipeline.png)") + 1
    with contextlib.chdir(tmp_path):  # messages name files relative to where bookgen runs
        findings = [f for f in run_checks(manuscript, tmp_path / "cache").findings if f.code == "M007"]
    assert [(f.path, f.line, f.column, f.severity.value) for f in findings] == [("sampler/chapters/blocks/figures.md", line, 1, "warning")]
    from bookgen.errors import ManuscriptError

    with pytest.raises(ManuscriptError) as caught:
        build(BuildOptions(manuscript=manuscript, output=tmp_path / "build", formats=("epub",), strict=True, verify=False))
    assert "no alternative text" in caught.value.message
    assert (Path(caught.value.location.path).name, caught.value.location.line, caught.value.location.column) == ("figures.md", line, 1)


# ---------------------------------------------------------------- a real browser


@pytest.mark.integration
def test_browser_layout(a11y_build, browser, tmp_path):
    with zipfile.ZipFile(a11y_build.outputs["epub"].path) as archive:
        archive.extractall(tmp_path)
    text = tmp_path / "EPUB" / "text"
    chapter = next(path for path in sorted(text.glob("ch*.xhtml")) if "图表、公式" in path.read_text(encoding="utf-8"))
    page = browser.new_page(viewport={"width": 800, "height": 1000})
    page.goto((text / "title_page.xhtml").as_uri())
    title = page.evaluate("""() => { const h = document.querySelector('h1.title').getBoundingClientRect();
        const range = document.createRange(); range.selectNodeContents(document.querySelector('h1.title'));
        const t = range.getBoundingClientRect(); const body = document.body.getBoundingClientRect();
        return {text: (t.left + t.right) / 2, body: (body.left + body.right) / 2, align: getComputedStyle(document.querySelector('h1.title')).textAlign}; }""")
    assert title["align"] == "center" and abs(title["text"] - title["body"]) < 2
    page.goto(chapter.as_uri())
    measured = page.evaluate("""() => {
        const math = document.querySelector('math[display="block"]');
        const inner = math.firstElementChild.getBoundingClientRect(); const box = math.parentElement.getBoundingClientRect();
        const sup = document.querySelector('a.footnote-ref sup'); const para = sup.closest('p');
        const quote = [...document.querySelectorAll('p')].find(p => p.textContent.includes('“这是引号。”'));
        // ‘ after 后: no neighbouring punctuation, so no compression (text-spacing-trim) applies
        const mark = [...quote.querySelectorAll('span.cjk-quote')].find(span => span.textContent === '‘');
        return {mathCentre: (inner.left + inner.right) / 2, boxCentre: (box.left + box.right) / 2,
                supAlign: getComputedStyle(sup).verticalAlign, supSize: parseFloat(getComputedStyle(sup).fontSize),
                supTop: sup.getBoundingClientRect().top, paraSize: parseFloat(getComputedStyle(para).fontSize),
                paraTop: para.getBoundingClientRect().top, quoteWidth: mark.getBoundingClientRect().width,
                quoteSize: parseFloat(getComputedStyle(quote).fontSize),
                mtextFont: getComputedStyle(document.querySelector('mtext')).fontFamily}; }""")
    assert abs(measured["mathCentre"] - measured["boxCentre"]) < 2  # display math centred
    assert measured["supAlign"] == "super" and measured["supSize"] < measured["paraSize"]  # noterefs superscript
    assert measured["quoteWidth"] >= 0.9 * measured["quoteSize"]  # ‘ full-width, not a Latin quote (≈ 0.3 em)
    assert measured["mtextFont"].startswith('"Noto Serif CJK SC"')  # Chinese in formulas in the body face
    page.close()
