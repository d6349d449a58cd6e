"""Issue 13, PDF items 2, 3, 8, 9, 10, 12: stranded lines, the 版权页, the line grid, contents number
boxes, where units open, margins.

Measured on the built PDFs (PyMuPDF's lines, characters, fonts, drawings and outline; pdftotext) of the
real manuscript, the sampler and one generated book (tests' session fixtures): twelve chapters (第10章
with twelve sections, so 10.12), seven appendices (G.11), sections of the benchmark's generated text with
bold lead-in paragraphs, paragraphs of every length around a line's worth, a `cip:` record and every
版本记录 field, and `layout.open` asking for back matter on rectos.
"""

from __future__ import annotations

import collections
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bookgen.errors import ManuscriptError
from bookgen.model.book import load_book
from conftest import REPO, build_copy, write_book
from outputs import plain

pymupdf = pytest.importorskip("pymupdf")

MM = 72 / 25.4
CJK = "\u3400-\u9fff\uf900-\ufaff"
CLOSING = "。，、；：？！”’）》」』…—"
ISBN = "978-7-111-11111-5"


# ---------------------------------------------------------------- the generated book


def generated_book(root: Path) -> Path:
    """A book of the benchmark's generated text (bench/bench.py) with everything items 2–12 look at."""
    import random

    sys.path.insert(0, str(REPO / "bench"))  # bench/ is not a package
    import bench

    rng = random.Random(13)
    files: dict[str, str] = {}
    chapters = []
    for c in range(1, 13):
        sections = []
        count = 12 if c == 10 else (6 if c <= 2 else 1)
        for s in range(1, count + 1):
            entry = {"title": f"第{c}章的第{s}个问题"}
            if c <= 2:
                entry["file"] = f"c{c}/s{s}.md"
                text = bench.section_text(rng, s)
                leads = "\n\n".join(
                    f"**教训{n}**：{bench.paragraph(rng, 8)[:-1]}\n\n{bench.paragraph(rng, rng.randint(30, 200))}" for n in range(1, 7)
                )
                files[entry["file"]] = f"**教训：快速迭代**\n\n{text}\n{leads}\n"
            sections.append(entry)
        chapters.append({"title": f"生成的第{c}章", "sections": sections})
    # Paragraphs of 36 … 81 characters: the first line holds 38 (2em indent), the others 40, so some end
    # one character into a new line unless their last two characters are tied.
    chapters[2]["sections"][0]["file"] = "lengths.md"
    files["lengths.md"] = "\n\n".join("模" * (n - 1) + "型。" for n in range(36, 82)) + "\n"
    appendices = [
        {"title": f"附录{letter}的标题", "sections": [{"title": f"{letter}节{n}"} for n in range(1, 12 if letter == "G" else 2)]}
        for letter in "ABCDEFG"
    ]
    book = {
        "title": "排版检验",
        "subtitle": "版权页与行格",
        "authors": ["张三", "李四"],
        "publisher": "示例出版社",
        "address": "北京市海淀区示例路1号",
        "edition": 1,
        "printing": 2,
        "date": "2026-01-15",
        "isbn": ISBN,
        "price": "59.00元",
        "slug": "typo-b",
        "cip": {
            "title_line": "排版检验：版权页与行格／张三，李四著．—北京：示例出版社，2026.1",
            "isbn": ISBN,
            "classification": "Ⅰ.①排… Ⅱ.①张…②李… Ⅲ.①排版 Ⅳ.①TS8",
            "number": "（2026）第012345号",
        },
        "layout": {"open": {"back": "right"}},
        "chapters": chapters,
        "appendices": appendices,
        "back": [{"title": "致谢", "file": "back/致谢.md"}, {"title": "后记", "file": "back/后记.md"}],
    }
    files["back/致谢.md"] = "感谢所有读者。\n"
    files["back/后记.md"] = "后记的文字。\n"
    return write_book(root, yaml.safe_dump(book, allow_unicode=True, sort_keys=False), files)


@pytest.fixture(scope="session")
def generated_build(tmp_path_factory):
    return build_copy(generated_book(tmp_path_factory.mktemp("typo-b-src") / "typo-b"), tmp_path_factory.mktemp("typo-b"))


@pytest.fixture(params=["real", "sampler", "generated"])
def any_build(request):
    return request.getfixturevalue(f"{request.param}_build")


# ---------------------------------------------------------------- reading the PDF


@dataclass(frozen=True)
class Line:
    page: int  # 1-based, physical
    label: str  # the printed page number (roman in the front matter)
    text: str
    x0: float
    baseline: float
    size: float
    fonts: tuple[str, ...]  # of its non-blank spans, in order
    chars: tuple[tuple[str, float], ...]  # (character, left edge)


def pdf_lines(pdf: Path) -> list[Line]:
    out = []
    with pymupdf.open(pdf) as doc:
        for page in doc:
            for block in page.get_text("rawdict")["blocks"]:
                for line in block.get("lines", []):
                    spans = [s for s in line["spans"] if "".join(c["c"] for c in s["chars"]).strip()]
                    if not spans or line["dir"] != (1.0, 0.0):
                        continue
                    chars = tuple((c["c"], c["bbox"][0]) for s in spans for c in s["chars"] if c["c"].strip())
                    out.append(
                        Line(
                            page.number + 1,
                            page.get_label(),
                            "".join(c for c, _ in chars),
                            line["bbox"][0],
                            round(spans[0]["origin"][1], 2),
                            max(s["size"] for s in spans),
                            tuple(s["font"] for s in spans),
                            chars,
                        )
                    )
    return out


def body_lines(pdf: Path) -> list[Line]:
    """Lines of the main matter (arabic folios) between the running head and the foot."""
    with pymupdf.open(pdf) as doc:
        height = doc[0].rect.height
    return [line for line in pdf_lines(pdf) if line.label.isdigit() and 70 < line.baseline < height - 60]


def last_lines(pdf: Path) -> list[Line]:
    """The last line of the text on each main-matter page that has running text (not a part page)."""
    pages = collections.defaultdict(list)
    for line in body_lines(pdf):
        if line.size >= 10:  # not footnotes
            pages[line.page].append(line)
    return [
        max(lines, key=lambda line: line.baseline)
        for lines in pages.values()
        if not all(all("Bold" in f for f in line.fonts) for line in lines)
    ]


# ---------------------------------------------------------------- item 2: stranded lines


def test_no_paragraph_ends_in_a_line_of_one_character(any_build):
    pdf = any_build.outputs["pdf"].path
    lines = body_lines(pdf)
    left = collections.Counter(round(line.x0) for line in lines).most_common(1)[0][0]
    single = [(line.page, line.text) for line in lines if re.fullmatch(f"[{CJK}][{CLOSING}]*", line.text) and abs(line.x0 - left) < 2]
    assert single == []


def test_no_page_ends_in_a_heading_or_a_lead_in(any_build):
    """A page's last line is never a heading, a bold lead-in paragraph (bold first, no 。！？ at its end)
    or a table caption, with its text on the next page."""
    stranded = [
        (line.page, line.text)
        for line in last_lines(any_build.outputs["pdf"].path)
        if ("Bold" in line.fonts[0] and "Mono" not in line.fonts[0] and not line.text.endswith(("。", "！", "？")))
        or re.match(r"续?表\d", line.text)
    ]
    assert stranded == []


# ---------------------------------------------------------------- item 3: the 版权页


def copyright_page(build) -> str:
    with pymupdf.open(build.outputs["pdf"].path) as doc:
        return doc[1].get_text()


def test_copyright_page_with_a_cip_record(generated_build):
    text = copyright_page(generated_build)
    # The CIP block is in the CJK face, whose glyphs for ① and - are shared with ➀ and U+2011 in the PDF's text.
    compact = plain(text).translate(str.maketrans("➀➁\u2011", "①②-"))
    for phrase in [
        "图书在版编目（CIP）数据",
        "排版检验：版权页与行格／张三，李四著．—北京：示例出版社，2026.1",
        f"ISBN{ISBN}",
        "Ⅰ.①排⋯Ⅱ.①张⋯②李⋯Ⅲ.①排版Ⅳ.①TS8",
        "中国版本图书馆CIP数据核字（2026）第012345号",
        "书名排版检验：版权页与行格",
        "著者张三，李四",
        "出版发行示例出版社",
        "地址北京市海淀区示例路1号",
        "开本787mm×1092mm1/16",
        "版次2026年1月第1版",
        "印次2026年1月第2次印刷",
        f"书号ISBN{ISBN}",
        "定价59.00元",
    ]:
        assert phrase in compact, phrase
    assert compact.index("CIP数据核字") < compact.index("书名排版检验")  # the CIP block above the 版本记录
    with pymupdf.open(generated_build.outputs["pdf"].path) as doc:
        pages = math.ceil(len(doc) / 16) * 16  # the printed edition: whole signatures of 16 pages
    assert f"字数{round(40 * 36 * pages / 1000)}千字" in compact  # a whole number: round(57.6) = 58
    assert f"印张{math.ceil(pages / 16 * 8) / 8:g}" in compact
    assert ".." not in text and "," not in text and "2026-01" not in text


@pytest.mark.parametrize("name", ["real", "sampler"])
def test_copyright_page_without_cip_prints_the_version_record_only(request, name):
    build = request.getfixturevalue(f"{name}_build")
    text = copyright_page(build)
    compact = plain(text)
    assert "CIP" not in text and ".." not in text and "," not in text and not re.search(r"\d{4}-\d{2}", text)
    meta = build.book.metadata
    assert f"书名{meta.title}：{meta.subtitle}".replace(" ", "") in compact
    assert re.search(r"字数\d+千字", compact)  # a whole number of 千字
    if meta.date:
        assert "版次2026年1月第1版" in compact
    for absent in ("著者", "定价", "书号", "地址") if not meta.authors else ("定价", "书号", "地址"):
        assert absent not in compact, absent


# ---------------------------------------------------------------- item 8: the line grid


def off_grid(pdf: Path) -> tuple[float, int, list[tuple[int, float]]]:
    """(line pitch, pages measured, baselines off the grid) over main-matter pages without a table, a
    figure or a code block (horizontal rules wider than a third of the page, or an image): every
    text line of body size must stand a whole number of pitches from the grid's phase. Display math and
    the placeholder box are blocks of whole lines, centred: their own baselines are not text lines."""
    lines = [line for line in body_lines(pdf) if line.size >= 10]
    with pymupdf.open(pdf) as doc:
        excluded = {
            page.number + 1
            for page in doc
            if page.get_images()
            or any(
                d["rect"].height < 2 and d["rect"].width > page.rect.width / 3 and 70 < d["rect"].y0 < page.rect.height - 60
                for d in page.get_drawings()
            )
        }
    by_page = collections.defaultdict(list)
    for line in lines:
        if not any("Math" in f for f in line.fonts) and not line.text.startswith("「"):
            by_page[line.page].append(line.baseline)
    gaps = collections.Counter(
        round(b - a, 2) for ys in by_page.values() for a, b in zip(sorted(ys), sorted(ys)[1:], strict=False) if 0 < b - a < 20
    )
    pitch = gaps.most_common(1)[0][0]
    measured = {page: ys for page, ys in by_page.items() if page not in excluded and len(ys) > 3}
    phase = collections.Counter(round(y % pitch, 1) for ys in measured.values() for y in ys).most_common(1)[0][0]
    off = [(page, y) for page, ys in measured.items() for y in ys if abs((y - phase) / pitch - round((y - phase) / pitch)) > 0.02]
    return pitch, len(measured), off


def test_baselines_on_the_line_grid(any_build):
    pitch, pages, off = off_grid(any_build.outputs["pdf"].path)
    assert pitch == pytest.approx(10.5 * 1.3 * 1.2, abs=0.1) and pages >= 2
    assert off == []


def test_a_section_heading_takes_four_lines(real_build):
    """From the text line before a section heading (四号) to the one after it: four line pitches."""
    rows = collections.defaultdict(dict)  # page → baseline → largest size on it (0: a block's line)
    for line in body_lines(real_build.outputs["pdf"].path):
        block = line.text.startswith("「") or any("Math" in f for f in line.fonts)  # placeholder box, display math
        rows[line.page][line.baseline] = 0 if block else max(line.size, rows[line.page].get(line.baseline, 0))
    spans = [
        (ys[i + 1] - ys[i - 1]) / (10.5 * 1.3 * 1.2)
        for sizes in rows.values()
        for ys in [sorted(sizes)]
        for i in range(1, len(ys) - 1)
        if sizes[ys[i]] == 14 and sizes[ys[i - 1]] == sizes[ys[i + 1]] == 10.5
    ]
    assert len(spans) > 5 and spans == pytest.approx([4] * len(spans), abs=0.01)


# ---------------------------------------------------------------- item 9: contents


def test_contents_titles_start_in_one_column(generated_build):
    """Chapter titles (第1章 … 第12章, 附录A … 附录G) start at one x, and so do section titles (1.1 … 10.12)."""
    rows = collections.defaultdict(list)  # (page, baseline) → the contents line's pieces, left to right
    for line in pdf_lines(generated_build.outputs["pdf"].path):
        if not line.label.isdigit():
            rows[line.page, line.baseline].append(line)
    columns = collections.defaultdict(set)
    for pieces in rows.values():
        pieces.sort(key=lambda line: line.x0)
        number = re.fullmatch(r"(第\d+章|附录[A-G])|[0-9A-G]+\.\d+", pieces[0].text)
        if number and len(pieces) > 1:
            columns["chapter" if number.group(1) else "section", pieces[0].page % 2].add(round(pieces[1].x0, 1))  # recto, verso
    assert {"第10章", "10.12", "G.11"} <= {line.text for pieces in rows.values() for line in pieces}
    assert len(columns) == 4 and all(len(xs) == 1 for xs in columns.values()), columns


# ---------------------------------------------------------------- item 10: where units open


def openings(pdf: Path) -> tuple[list[tuple[str, int]], set[int]]:
    """(outline entry, physical page) for parts, chapters, appendices, back matter; the blank pages."""
    with pymupdf.open(pdf) as doc:
        blank = {page.number + 1 for page in doc if not page.get_text().strip()}
        toc = [(title, page) for level, title, page in doc.get_toc() if level <= 2 and title != "附录"]
    return toc, blank


def test_chapters_open_on_rectos_appendices_and_back_matter_on_the_next_page(real_build):
    toc, blank = openings(real_build.outputs["pdf"].path)
    for title, page in toc:
        if re.match(r"第.+(部分|章)", title):
            assert page % 2 == 1, title
        elif title.startswith("附录") or title in ("致谢", "关于作者"):
            assert page - 1 not in blank, title
    assert len(blank) <= 8  # 16 of 49 pages before


def test_layout_open_puts_back_matter_on_rectos(generated_build):
    toc, blank = openings(generated_build.outputs["pdf"].path)
    back = [page for title, page in toc if title in ("致谢", "后记")]
    assert len(back) == 2 and all(page % 2 == 1 for page in back)
    appendices = [page for title, page in toc if title.startswith("附录")]
    assert appendices and not any(page - 1 in blank for page in appendices[1:])


def test_layout_open_takes_right_or_any(tmp_path):
    book = write_book(tmp_path / "m", "title: 书\nlayout:\n  open:\n    chapter: left\nchapters: [一章]\n")
    with pytest.raises(ManuscriptError, match="'chapter' must be one of right, any"):
        load_book(book)
    book = write_book(tmp_path / "n", "title: 书\nlayout:\n  open:\n    appendix: right\nchapters: [一章]\n")
    assert load_book(book).layout.open.appendix == "right" and load_book(book).layout.open.back == "any"


def test_cip_needs_its_four_fields_and_dates_are_iso(tmp_path):
    book = write_book(tmp_path / "m", f"title: 书\ncip:\n  isbn: {ISBN}\n  title_line: 书\nchapters: [一章]\n")
    with pytest.raises(ManuscriptError, match="'cip' needs 'classification'"):
        load_book(book)
    book = write_book(tmp_path / "n", "title: 书\ndate: 2026年1月\nchapters: [一章]\n")
    with pytest.raises(ManuscriptError, match="'date' must be a date like 2026-01-15"):
        load_book(book)


# ---------------------------------------------------------------- item 12: margins


def test_inner_margin_is_a_little_larger_than_the_outer(real_build):
    """订口 20 mm, 切口 the rest of the trim (185 − 20 − 40 × 10.5 bp = 16.8 mm), on rectos and versos."""
    sides = collections.defaultdict(lambda: [1e9, 0.0])
    with pymupdf.open(real_build.outputs["pdf"].path) as doc:
        width = doc[0].rect.width
    for line in body_lines(real_build.outputs["pdf"].path):
        if line.size == 10.5:
            edges = sides[line.page % 2]
            edges[0] = min(edges[0], line.chars[0][1])
            edges[1] = max(edges[1], max(x for c, x in line.chars if re.match(f"[{CJK}]", c)) + 10.5)  # 1 字 = 10.5 bp
    (recto_left, recto_right), (verso_left, verso_right) = sides[1], sides[0]
    assert recto_left / MM == pytest.approx(20, abs=0.1) and (width - verso_right) / MM == pytest.approx(20, abs=0.1)
    assert verso_left / MM == pytest.approx(16.83, abs=0.1) and (width - recto_right) / MM == pytest.approx(16.83, abs=0.1)
