"""Citations (issue 17) through the pipeline: recognised by refs.lua beside cross-references, numbered
book-wide, printed into the PDF, the EPUB and the web edition from one model (the same list text in
all three, links that resolve), checked with positions before TeX runs, and the chapter update."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pikepdf
import pymupdf
import pytest
from click.testing import CliRunner

from bookgen.bibliography.citing import book_citations
from bookgen.cli import main
from bookgen.document import assemble_book
from bookgen.latex.render import render_latex
from bookgen.model.book import load_book
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions, Format
from bookgen.sources.ast import walk_blocks
from bookgen.sources.convert import convert_sources
from bookgen.sources.reading import read_sources
from bookgen.verify import check_epub
from conftest import FIXTURES, build_copy, write_book
from outputs import XHTML, pdf_link_problems, pdf_pages, plain
from test_bibliography import stringify
from test_rebuild import ToolCalls

CITATIONS = FIXTURES / "citations"
REFS = (FIXTURES / "bibliography" / "refs.bib").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run where the manuscript is: messages name files relative to the current directory (m/a.md)."""
    monkeypatch.chdir(tmp_path)


def converted_book(root: Path):
    book = load_book(root)
    sources = read_sources(book)
    converted, _ = convert_sources(book, {k: s for k, s in sources.items() if s.written}, root.parent / "cache")
    return book, sources, converted


BOOK = """title: 书
bibliography: refs.bib
chapters:
  - title: 一
    sections:
      - title: 甲
        file: a.md
  - title: 二
    sections:
      - title: 乙
        file: b.md
"""


# ---------------------------------------------------------------- recogniser and numbering (pandoc only)


def test_citations_are_recognised_beside_cross_references(tmp_path):
    root = write_book(
        tmp_path / "m",
        BOOK,
        {
            "a.md": "如张伯伟[@zhang2002]所述，@caplan1993认为；见[@yu2012; @ding2000, 288]与[-@zhang2002]，如@fig-x所示，"
            "[@fig-x; @wang2022]，邮件 me@example.com 不算，`@code` 也不算。\n\n![图](i.png){#fig-x}\n",
            "b.md": "句末@peebles2001.\n",
            "refs.bib": REFS,
        },
    )
    _, _, converted = converted_book(root)
    found = [(c["keys"], c["mode"], c["locators"]) for c in converted["sec-1-1"].xref["citations"]]
    assert found == [
        (["zhang2002"], "paren", [""]),
        (["caplan1993"], "narrative", [""]),
        (["yu2012", "ding2000"], "paren", ["", "288"]),
        (["zhang2002"], "suppress-author", [""]),
        (["wang2022"], "paren", [""]),
    ]
    assert [r["labels"] for r in converted["sec-1-1"].xref["references"]] == [["fig-x"], ["fig-x"]]
    assert converted["sec-2-1"].xref["citations"][0]["keys"] == ["peebles2001"]  # the full stop ends the key
    latex = converted["sec-1-1"].latex
    assert re.search(r"如张伯伟\\bookgencite\{\d+\}所述", latex) and "me@example.com" in latex and "\\texttt{@code}" in latex
    assert "@" not in latex.replace("me@example.com", "").replace("\\texttt{@code}", "")


def test_numbers_follow_first_citation_in_book_order_with_nocite_last(tmp_path):
    root = write_book(
        tmp_path / "m",
        BOOK.replace("bibliography: refs.bib", "bibliography: {files: refs.bib, nocite: [loc]}"),
        {"a.md": "甲[@caplan1993]乙[@zhang2002; @caplan1993]。\n", "b.md": "丙[@yu2012; @zhang2002; @caplan1993]。\n", "refs.bib": REFS},
    )
    book, _, converted = converted_book(root)
    citations = book_citations(book, converted)
    assert citations is not None
    assert [(key, label) for key, label, _ in citations.lists[""].entries_in_order()] == [
        ("caplan1993", "[1]"),
        ("zhang2002", "[2]"),
        ("yu2012", "[3]"),
        ("loc", "[4]"),
    ]
    assert stringify(citations.printed("sec-2-1", int(converted["sec-2-1"].xref["citations"][0]["n"]))) == "[1-3]"


# ---------------------------------------------------------------- checks and the build's pre-check

ERRORS = {
    "a.md": "引文。\n如张伯伟[@zhang2020]所述，@zhang2002认为。\n",
    "b.md": "见[@caplan1993; @noyear]。\n",
    "refs.bib": "@book{zhang2002, author = {张伯伟}, title = {全唐五代诗格汇考}, publisher = {江苏古籍出版社}, year = {2002}}\n"
    "@article{noyear, author = {李四}, title = {无年份}, journal = {某刊}}\n"
    "@book{spare, title = {备用}, publisher = {某社}, year = {2000}}\n"
    "@book{broken, title = {乙, year = {2002}\n\n"
    "@article{caplan1993, author = {Caplan, Priscilla}, title = {Cataloging}, journal = {Review}, year = {1993}}\n"
    "@book{zhang2002, title = {重复}, publisher = {某社}, year = {2002}}\n",
}


def test_check_reports_every_citation_problem_with_its_position(tmp_path):
    files = dict(ERRORS)
    root = write_book(tmp_path / "m", BOOK, files)
    result = CliRunner().invoke(main, ["check", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--format", "json"])
    found = [
        f"{f['file']}:{f['line']}:{f['column']}: {f['code']} {f['message']}" for f in json.loads(result.output) if f["code"].startswith("C")
    ]
    assert found == [
        "m/a.md:2:6: C001 unknown citation @zhang2020 (did you mean @zhang2002?)",
        "m/refs.bib:2:1: C004 entry 'noyear' ([J]) lacks year/date (issued), which GB/T 7714 requires",
        "m/refs.bib:3:1: C005 entry 'spare' is never cited (add it to nocite to list it)",
        "m/refs.bib:4:1: C002 entry 'broken': the value of 'title' is not closed",
        "m/refs.bib:7:1: C003 duplicate citation key 'zhang2002' (first in refs.bib:1)",
    ]


@pytest.mark.parametrize("no_check", [False, True])
def test_unknown_citation_stops_the_build_before_tex(tmp_path, monkeypatch, no_check):
    root = write_book(tmp_path / "m", BOOK, {"a.md": "第一段。\n\n如张伯伟[@zhang2020]所述。\n", "b.md": "乙。\n", "refs.bib": REFS})
    calls = ToolCalls(monkeypatch)
    result = CliRunner().invoke(
        main, ["build", "--manuscript", str(root), "--output", str(tmp_path / "b"), "--no-verify", *(["--no-check"] if no_check else [])]
    )
    assert result.exit_code == 2, result.output  # a manuscript error either way
    assert re.search(r"m/a\.md:3:6: (C001 )?unknown citation @zhang2020 \(did you mean @zhang2002\?\)", result.output)
    assert "xelatex" not in calls.calls and "latexmk" not in calls.calls and not list((tmp_path / "b").glob("*.pdf"))


# ---------------------------------------------------------------- author-date and per-chapter lists (no TeX)


def test_author_date_forms_are_the_same_in_latex_and_the_book_document(tmp_path):
    root = write_book(
        tmp_path / "m",
        BOOK.replace("bibliography: refs.bib", "bibliography: {files: refs.bib, style: author-date}"),
        {"a.md": "如张伯伟[@zhang2002]所述，@caplan1993认为，另见[@zhang2002b; @myburg2014]。\n", "b.md": "乙。\n", "refs.bib": REFS},
    )
    book, sources, converted = converted_book(root)
    document = assemble_book(book, sources, converted)
    text = "".join(stringify([e]) for e in walk_blocks(document.blocks) if e["t"] == "Span" and "citation" in e["c"][0][1])
    assert text == "(张伯伟，2002b)Caplan (1993)(张伯伟，2002a; Myburg et al., 2014)"
    latex = render_latex(book, sources, converted)
    assert "张伯伟，\\bookgenlink{ref-zhang2002}" not in latex.units["unit-ch-1"]  # the link holds name and year
    assert "\\bookgenlink{ref-zhang2002}{张伯伟，2002b}" in latex.units["unit-ch-1"]
    assert "\\begin{bookgenreferences}{}" in latex.units["bibliography"]  # no labels: a 2em hanging indent
    listed = [key for key, _, _ in book_citations(book, converted).lists[""].entries_in_order()]
    assert listed == ["zhang2002b", "zhang2002", "caplan1993", "myburg2014"]  # Chinese first, then by author


def test_place_chapter_puts_a_list_at_the_end_of_each_chapter(tmp_path):
    root = write_book(
        tmp_path / "m",
        BOOK.replace("bibliography: refs.bib", "bibliography: {files: refs.bib, place: chapter}"),
        {"a.md": "甲[@caplan1993]乙[@zhang2002]。\n", "b.md": "丙[@zhang2002]。\n", "refs.bib": REFS},
    )
    book, sources, converted = converted_book(root)
    latex = render_latex(book, sources, converted)
    assert "bibliography" not in latex.units  # no list at the end of the book
    second = latex.units["unit-ch-2"]
    assert "\\bookgenchapterreferences{参考文献}" in second and "\\bookgenreference{ref-ch-2-zhang2002}{{[}1{]}}" in second
    assert "\\bookgenlink{ref-ch-2-zhang2002}{1}" in second  # numbered again from 1 in 第2章
    document = assemble_book(book, sources, converted)
    headings = [(e["c"][0], e["c"][1][0]) for e in document.blocks if e["t"] == "Header"]
    assert (2, "bookgen-bibliography-ch-1") in headings and (2, "bookgen-bibliography-ch-2") in headings


# ---------------------------------------------------------------- the fixture book, built once in every format


@pytest.fixture(scope="module")
def citations_build(tmp_path_factory):
    return build_copy(CITATIONS, tmp_path_factory.mktemp("citations"), formats=(Format.PDF, Format.EPUB, Format.HTML))


@pytest.fixture(scope="module")
def expected_list(citations_build):
    """The formatter's list for the fixture: (anchor, label + text) in order."""
    book = citations_build.book
    sources = read_sources(book)
    converted, _ = convert_sources(
        book, {k: s for k, s in sources.items() if s.written}, citations_build.outputs["pdf"].path.parent / ".cache"
    )
    bibliography = book_citations(book, converted).lists[""]
    return [(f"ref-{key}", label + stringify(inlines)) for key, label, inlines in bibliography.entries_in_order()]


FORMS = [
    "如张伯伟[1]所述",
    "张伯伟[1]认为",
    "程根伟[2]32的研究",
    "见文献[1]与[3-5]：",
    "Caplan[8]讨论",
    "Myburg等[9]测定",
    "另见[10]288与[11]。",
    "此前的[8,9]结论",
    "地图[19]各有",
    "一书[20]，与前文[1]同年",
]


def _list_text(text: str) -> str:
    """The entries of a list page's text: from the first [1] on, without running heads and folios."""
    text = re.sub(r"^\s*(参考文献\s+)?\d+\s*$", "", text, flags=re.M)
    return plain(text[text.index("[1]") :])


def test_the_list_reads_the_same_in_pdf_epub_and_html(citations_build, expected_list):
    expected = "".join(plain(text) for _, text in expected_list)
    assert len(expected_list) == 21 and expected_list[-1][1].startswith("[21]博伯尔")  # 20 cited, nocite bobo2023 last
    pages = pdf_pages(citations_build.outputs["pdf"].path)
    first = next(i for i, page in enumerate(pages) if "[1] 张伯伟" in page)
    last = next(i for i, page in enumerate(pages) if "[21]" in page)
    assert _list_text("\n".join(pages[first : last + 1]))[: len(expected)] == expected
    with zipfile.ZipFile(citations_build.outputs["epub"].path) as archive:
        xhtml = next(archive.read(n).decode() for n in archive.namelist() if 'id="bookgen-bibliography"' in archive.read(n).decode())
    references = next(div for div in ElementTree.fromstring(xhtml).iter(f"{XHTML}div") if div.get("class") == "references")
    assert plain("".join(references.itertext())) == expected
    site = citations_build.outputs["html"].path.parent
    holding = [p for p in site.glob("*.html") if 'id="bookgen-bibliography"' in p.read_text(encoding="utf-8")]
    assert [p.name for p in holding] == ["bookgen-bibliography.html"]  # 参考文献: a page of its own, as each back-matter entry
    page = holding[0].read_text(encoding="utf-8")
    html_list = re.search(r'<div class="references">(.*?)</div>', page, re.S).group(1)
    assert plain(re.sub(r"<[^>]+>", "", html_list)).replace("&amp;", "&") == expected


def test_pdf_prints_every_citation_form_and_links_each_to_its_entry(citations_build, expected_list):
    pdf = citations_build.outputs["pdf"].path
    text = plain("".join(pdf_pages(pdf)))
    assert [form for form in FORMS if form not in text] == [] and "@" not in text and "??" not in text
    assert citations_build.warnings == []  # no line of the list sticks out (URLs and DOIs break), no missing glyph (1∶25 000)
    assert pdf_link_problems(pdf) == []
    with pikepdf.open(pdf) as document:
        names = set(dict(pikepdf.NameTree(document.Root.Names.Dests).items()))
    assert {anchor for anchor, _ in expected_list} <= names
    labels = {anchor: text[: text.index("]") + 1] for anchor, text in expected_list}
    checked = 0
    with pymupdf.open(pdf) as document:
        entry_page = {}  # [n] → the page its entry starts on
        for page in document:
            for label in re.findall(r"^\[\d+\]", page.get_text(), re.M):
                entry_page.setdefault(label, page.number)
        for page in document:
            for link in page.get_links():
                name = link.get("nameddest") or ""
                if name.startswith("ref-") and page.number < min(entry_page.values()):
                    assert link["page"] == entry_page[labels[name]], f"{name} on page {page.number} goes to page {link['page']}"
                    checked += 1
    assert checked >= 25


def test_epub_and_html_citations_link_to_entries(citations_build):
    epub = citations_build.outputs["epub"].path
    with zipfile.ZipFile(epub) as archive:
        files = {Path(n).name: ElementTree.fromstring(archive.read(n)) for n in archive.namelist() if n.endswith(".xhtml")}
    ids = {name: {e.get("id") for e in root.iter() if e.get("id")} for name, root in files.items()}
    links = [a.get("href") for root in files.values() for a in root.iter(f"{XHTML}a") if "#ref-" in (a.get("href") or "")]
    assert len(links) >= 25
    for href in links:
        target, _, anchor = href.rpartition("#")
        assert anchor in ids[target], href
    landmarks = next(nav for nav in files["nav.xhtml"].iter(f"{XHTML}nav") if nav.get("id") == "landmarks")
    assert [a.text for a in landmarks.iter(f"{XHTML}a") if a.get("{http://www.idpf.org/2007/ops}type") == "bibliography"] == ["参考文献"]
    body = plain("".join("".join(root.itertext()) for root in files.values()))
    assert [form for form in FORMS if form not in body] == []
    report = check_epub(epub)
    assert (report.errors, report.warnings) == (0, 0), report.messages
    site = citations_build.outputs["html"].path.parent
    pages = {p.name: p.read_text(encoding="utf-8") for p in site.glob("*.html")}
    page_ids = {name: set(re.findall(r'id="([^"]+)"', text)) for name, text in pages.items()}
    html_links = [(name, href) for name, text in pages.items() for href in re.findall(r'href="([^"]*#ref-[^"]+)"', text)]
    assert len(html_links) >= 25
    for name, href in html_links:
        target, _, anchor = href.rpartition("#")
        assert anchor in page_ids[target or name], (name, href)
    html_text = plain(re.sub(r"<[^>]+>", "", "".join(pages.values())))
    assert [form for form in FORMS if form not in html_text] == []


# ---------------------------------------------------------------- the chapter-level update


def test_chapter_update_splices_unless_the_numbering_changes(tmp_path, monkeypatch):
    build_copy(CITATIONS, tmp_path, formats=("pdf",), jobs=1)  # the sequential build's chapter update
    manuscript = tmp_path / "citations"
    options = BuildOptions(manuscript=manuscript, output=tmp_path / "build", formats=("pdf",), verify=False, jobs=1)

    # 第2章: an edit that cites nothing new; no number moves, the chapter is spliced in.
    types = manuscript / "chapters/types.md"
    types.write_text(types.read_text(encoding="utf-8").replace("各有著录格式", "各有其著录格式"), encoding="utf-8")
    calls = ToolCalls(monkeypatch)
    spliced = build(options)
    assert "chapter update: 第2章" in spliced.outputs["pdf"].detail
    assert calls.calls.count("xelatex") == 1 and "latexmk" not in calls.calls
    text = plain("".join(pdf_pages(spliced.outputs["pdf"].path)))
    assert "地图[19]各有其著录格式" in text and pdf_link_problems(spliced.outputs["pdf"].path) == []

    # 第1章 cites a new entry first: every number after it moves, in 第2章 and the list too: the whole book.
    chinese = manuscript / "chapters/chinese.md"
    chinese.write_text("先引[@bobo2023]。\n\n" + chinese.read_text(encoding="utf-8"), encoding="utf-8")
    calls.calls.clear()
    moved = build(options)
    assert "chapter update" not in moved.outputs["pdf"].detail and "latexmk" in calls.calls
    text = plain("".join(pdf_pages(moved.outputs["pdf"].path)))
    assert "先引[1]" in text and "如张伯伟[2]所述" in text and "地图[20]各有其著录格式" in text and "[1]博伯尔" in text
