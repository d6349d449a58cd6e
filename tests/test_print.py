"""Print handoff: boxes, sheets, fonts, OutputIntent, cover arithmetic and barcode, reproducibility."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from bookgen.cli import main
from bookgen.errors import ManuscriptError
from bookgen.latex.render import book_context, latex_environment
from bookgen.model.book import load_book
from bookgen.press.cover import isbn_barcode, render_cover
from bookgen.press.figures import CopyrightFigures, spine_width
from bookgen.press.handoff import handoff
from conftest import SAMPLER, write_book
from outputs import pdf_bookmarks, pdf_pages, plain

ISBN = "978-7-121-12345-0"
MM = 72 / 25.4


def print_fixture(workspace: Path) -> Path:
    manuscript = workspace / "sampler"
    shutil.copytree(SAMPLER, manuscript)
    with open(manuscript / "book.yaml", "a", encoding="utf-8") as handle:
        handle.write(f"isbn: {ISBN}\nprice: 59.00元\nprinting: '2'\n")
    return manuscript


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("handoff")
    manuscript = print_fixture(workspace)
    return handoff(manuscript, workspace / "build", allow_incomplete=True), manuscript


# ---------------------------------------------------------------- arithmetic and validation (unit)


def copyright_page(book, total: int, work: Path) -> CopyrightFigures | None:
    """The book's 版权页 typeset alone for ``total`` physical pages (as TeX's previous pass would give them)."""
    env = latex_environment(book.root)
    context = book_context(book, {})
    page = env.get_template("front/copyright.tex_t").render(context)
    work.mkdir()
    (work / "page.tex").write_text(
        env.get_template("preamble.tex_t").render(context)
        + f"\\begin{{document}}\n\\gdef\\bookgentotalpages{{{total}}}\n{page}\\end{{document}}\n",
        encoding="utf-8",
    )
    subprocess.run(["xelatex", "-no-pdf", "-interaction=nonstopmode", "page.tex"], cwd=work, capture_output=True, check=True)
    return CopyrightFigures.of_run(work)


@pytest.mark.integration
def test_sheets_characters_and_spine(tmp_path):
    """印张 and 字数 are computed by TeX on the 版权页 only; bookgen reads back what it printed."""
    book = load_book(write_book(tmp_path, "title: 书\n"))
    sheets = {total: copyright_page(book, total, tmp_path / str(total)) for total in (64, 49)}
    # the printed edition's pages: made up to whole 16-page signatures, as the print interior is padded
    assert sheets[64].printed_sheets == 4 and sheets[49].printed_sheets == 4
    assert sheets[64].thousand_characters == sheets[49].thousand_characters == 92  # 40 字 × 36 行 × 64 页 ÷ 1000 = 92.16
    pairs = load_book(write_book(tmp_path / "pairs", "title: 书\nprint: {signature: 2}\n"))  # sheets to the eighth
    eighths = {total: copyright_page(pairs, total, tmp_path / f"pairs-{total}") for total in (49, 51)}
    assert eighths[49].printed_sheets == 3.125 and eighths[51].printed_sheets == 3.25  # 50 and 52 pages ÷ 16
    assert spine_width(320, book) == pytest.approx(16.0)  # 320 pages ÷ 2 × 0.1 mm
    odd = load_book(write_book(tmp_path / "odd", "title: 书\nlayout: {trim_width: 150mm, trim_height: 200mm}\n"))
    assert copyright_page(odd, 64, tmp_path / "odd-64") == CopyrightFigures(None, 92)  # no 开本: no 印张
    assert CopyrightFigures.of_run(tmp_path / "nothing") is None


def test_cover_gets_plain_values_and_lays_itself_out(tmp_path):
    """Python passes millimetres, bar modules and digits; cover.tex_t computes the panels and writes the TeX."""
    code = isbn_barcode(ISBN)
    assert code.digits == "9787121123450" and code.modules == 95 and len(code.bars) == 30
    assert [bar.start for bar in code.bars if bar.guard] == [0, 2, 46, 48, 92, 94]
    book = load_book(write_book(tmp_path, f"title: 排版 样书\nauthors: [张三]\npublisher: 示例出版社\nisbn: {ISBN}\n"))
    tex = render_cover(book, 400, "简介。")
    assert "paperwidth=396.0mm, paperheight=266.0mm" in tex  # 2 × 185 + 400 ÷ 2 × 0.1 + 2 × 3
    assert "shift={(188.0, 3.0)}" in tex and "shift={(208.0, 3.0)}" in tex  # spine and front panel
    assert "{排\\\\版\\\\样\\\\书}" in tex and "{张\\\\三}" in tex  # lettered top to bottom, spaces dropped
    assert r"{9\enspace 787121\enspace 123450}" in tex
    assert r"\bfseries\fontsize{14.0}{" in tex  # 14 pt at most on a 20 mm spine
    assert r"\begin{scope}[shift={(O)}, shift={(188.0" not in render_cover(book, 40, "")  # no lettering under 3 mm


def test_wrong_isbn_names_the_expected_check_digit(tmp_path):
    with pytest.raises(ManuscriptError, match=r"has the check digit 1; it should be 0") as caught:
        load_book(write_book(tmp_path, "title: 书\nisbn: 978-7-121-12345-1\n"))
    assert (caught.value.location.line, caught.value.location.column) == (2, 7)
    with pytest.raises(ManuscriptError, match="must be an ISBN-13"):
        load_book(write_book(tmp_path / "b", "title: 书\nisbn: 12345\n"))


def test_print_build_is_strict_unless_allowed(tmp_path):
    manuscript = print_fixture(tmp_path)
    result = CliRunner().invoke(
        main, ["build", "--profile", "print", "--format", "pdf", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")]
    )
    assert result.exit_code == 2
    assert "a print build is strict (--allow-incomplete overrides): 1 unwritten and 1 truncated sections" in result.output


# ---------------------------------------------------------------- the handoff package (integration)


@pytest.mark.integration
def test_interior_boxes_sheets_and_keys(package):
    pack, _ = package
    with zipfile.ZipFile(pack.path) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["manifest.json", "preflight.json", "preflight.txt", "sampler-cover.pdf", "sampler-print.pdf", "sampler.epub"]
        )
    interior = pack.path.parents[1] / "sampler-print.pdf"
    with pikepdf.open(interior) as pdf:
        assert len(pdf.pages) % 16 == 0
        for page in pdf.pages:
            trim = [float(v) for v in page.obj.TrimBox]
            bleed = [float(v) for v in page.obj.BleedBox]
            media = [float(v) for v in page.obj.MediaBox]
            assert trim[2] - trim[0] == pytest.approx(185 * MM, abs=0.2) and trim[3] - trim[1] == pytest.approx(260 * MM, abs=0.2)
            assert [round(b - t, 1) for b, t in zip(bleed, trim, strict=False)] == [
                round(-3 * MM, 1),
                round(-3 * MM, 1),
                round(3 * MM, 1),
                round(3 * MM, 1),
            ]
            assert media[0] <= bleed[0] and media[2] >= bleed[2]  # crop marks outside the bleed
            assert not [a for a in page.obj.get("/Annots", []) if a.get("/Subtype") == "/Link"]
        assert str(pdf.docinfo["/GTS_PDFXVersion"]) == "PDF/X-4" and str(pdf.docinfo["/Trapped"]) == "/False"
        intent = pdf.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFX" and len(intent.DestOutputProfile.read_bytes()) > 1000
        assert pdf.pdf_version >= "1.6"
    fonts = subprocess.run(["pdffonts", str(interior)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(" yes yes " in line and "+" in line.split()[0] for line in fonts)
    assert "第1章 段落与强调" in pdf_bookmarks(interior)  # bookmarks kept
    copyright_page = plain(pdf_pages(interior)[1])
    for phrase in ["开本787mm×1092mm1/16", f"印张{len(pdf_pages(interior)) // 16}", "字数", "定价59.00元", "第2次印刷", f"ISBN{ISBN}"]:
        assert phrase in copyright_page, phrase


@pytest.mark.integration
def test_cover_width_and_barcode(package, tmp_path):
    pack, _ = package
    cover = pack.path.parents[1] / "sampler-cover.pdf"
    pages = pack.manifest["pages"]
    with pikepdf.open(cover) as pdf:
        media = [float(v) for v in pdf.pages[0].MediaBox]
    spine = pages / 2 * 0.1
    assert (media[2] - media[0]) / MM == pytest.approx(2 * 185 + spine + 2 * 3, abs=0.05)
    assert (media[3] - media[1]) / MM == pytest.approx(260 + 6, abs=0.05)
    assert pack.manifest["spine_mm"] == round(spine, 2)
    subprocess.run(["pdftoppm", "-r", "400", "-gray", "-png", str(cover), str(tmp_path / "c")], check=True)
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(next(tmp_path.glob("c*.png")))], capture_output=True, text=True, check=False
    ).stdout.split()
    assert decoded == [ISBN.replace("-", "")]


@pytest.mark.integration
def test_manifest_and_reports(package):
    pack, _ = package
    manifest = pack.manifest
    assert manifest["preflight_passed"] and manifest["epubcheck"].startswith("EPUBCheck: 0 errors, 0 warnings")
    assert manifest["printed_sheets"] == manifest["pages"] / 16
    assert manifest["thousand_characters"] == round(40 * 36 * manifest["pages"] / 1000)  # whole 千字, as the 版权页 prints
    assert manifest["incomplete"] == ["unwritten: 1.3 尚未写成的一节", "truncated: 2.3 引用与脚注"]
    assert set(manifest["tools"]) >= {"bookgen", "pandoc", "xetex", "epubcheck"}
    with zipfile.ZipFile(pack.path) as archive:
        for name, entry in manifest["files"].items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == entry["sha256"]
        text = archive.read("preflight.txt").decode()
        assert text.startswith("INCOMPLETE (handed off with --allow-incomplete): 1 unwritten and 1 truncated")
        assert "FAIL" not in text and json.loads(archive.read("preflight.json"))["passed"]


@pytest.mark.integration
def test_two_builds_are_byte_identical(package, tmp_path):
    pack, manuscript = package
    again = handoff(manuscript, tmp_path / "build", allow_incomplete=True)
    for name in ("sampler-print.pdf", "sampler-cover.pdf", "sampler.epub"):
        first = (pack.path.parents[1] / name).read_bytes()
        second = (tmp_path / "build" / name).read_bytes()
        assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest(), name
    assert pack.path.read_bytes() == again.path.read_bytes()
    # again into the same output, nothing changed: an up-to-date build, the EPUB's kept verdict; same package
    third = handoff(manuscript, tmp_path / "build", allow_incomplete=True)
    assert third.path.read_bytes() == again.path.read_bytes()


@pytest.mark.integration
def test_preflight_command_fails_a_screen_pdf(sampler_build, package):
    _, manuscript = package
    screen = sampler_build.outputs["pdf"].path
    result = CliRunner().invoke(main, ["preflight", str(screen), "--manuscript", str(manuscript), "--format", "json"])
    assert result.exit_code == 1
    failed = {check["name"] for check in json.loads(result.output)["checks"] if not check["passed"]}
    assert "OutputIntent (GTS_PDFX) with an ICC profile" in failed
    assert any(name.startswith("page count a multiple") for name in failed)
    said = CliRunner().invoke(main, ["preflight", str(screen), "--manuscript", str(manuscript)])
    assert said.exit_code == 1 and said.output.count("\n") == 1 and "this is a screen PDF" in said.output
    assert "--profile print" in said.output and "FAIL" not in said.output
    assert json.loads(result.output)["screen_pdf"] is True
    good = CliRunner().invoke(
        main,
        [
            "preflight",
            str(package[0].path.parents[1] / "sampler-print.pdf"),
            "--cover",
            str(package[0].path.parents[1] / "sampler-cover.pdf"),
            "--manuscript",
            str(manuscript),
        ],
    )
    assert good.exit_code == 0, good.output
    assert "preflight: 23 passed, 0 failed" in good.output


def test_preflight_reads_the_title_without_rewriting_it(sampler_build):
    from bookgen.press.preflight import preflight

    screen = sampler_build.outputs["pdf"].path
    report = preflight(screen, load_book(SAMPLER))
    title = next(check for check in report.checks if check.name == "PDF metadata (Title)")
    assert title.passed and "Title=排版样书" in title.evidence


def test_preflight_of_a_file_that_is_no_pdf_is_one_line(tmp_path):
    book_yaml = write_book(tmp_path / "m", "title: 书\n") / "book.yaml"
    result = CliRunner().invoke(main, ["preflight", str(book_yaml), "--manuscript", str(tmp_path / "m")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.count("\n") == 1 and "book.yaml: not a PDF pikepdf can read" in result.output


@pytest.mark.integration
def test_the_price_stands_clear_of_the_barcode(package):
    """定价 beside the barcode's white box, not under its digits (where nothing showed)."""
    pack, _ = package
    cover = pack.path.parents[1] / "sampler-cover.pdf"
    words = subprocess.run(["pdftotext", "-bbox", str(cover), "-"], capture_output=True, text=True, check=True).stdout
    boxes = {
        m.group(5): tuple(float(m.group(i)) for i in range(1, 5))
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)</word>', words)
    }
    price = next(box for word, box in boxes.items() if word.startswith("定价"))
    barcode = [box for word, box in boxes.items() if word == "ISBN" or (word.isdigit() and len(word) in (1, 6))]
    assert barcode
    left = min(box[0] for box in barcode)
    assert price[2] < left  # the price ends left of the barcode's ISBN line and digits
