"""Font subsets of concatenated XeLaTeX jobs merged into one per font (issue #19): real xelatex, pdffonts,
pdftotext and pdftoppm on PDFs typeset with the book's faces."""

from __future__ import annotations

import io
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from fontTools.cffLib import CFFFontSet
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops

from bookgen.latex.fontmerge import FontMerge, LeftAlone, Unmerged, _parse_to_unicode, merge_font_subsets
from conftest import pdftotext

# The faces of templates/latex/preamble/fonts.tex_t with the defaults of model/settings.py's Fonts: CFF
# (Noto CJK, TeX Gyre) and TrueType (LXGW WenKai, Noto Sans Mono) programs, text and math. The accented
# letters in code are composite glyphs in Noto Sans Mono, whose parts xdvipdfmx puts in different slots
# (large, so that a wrong part shows at 50 dpi).
PREAMBLE = r"""\documentclass{ctexbook}
\usepackage{amsmath}
\usepackage{unicode-math}
\setmainfont{TeX Gyre Termes}[BoldFont={Noto Sans CJK SC Bold}]
\setmonofont{Noto Sans Mono}[Scale=MatchLowercase, ItalicFont={LXGW WenKai Mono}]
\setmathfont{TeX Gyre Termes Math}
\setCJKmainfont{Noto Serif CJK SC}[BoldFont={Noto Sans CJK SC Bold}, ItalicFont={LXGW WenKai}]
\setCJKmonofont{Noto Sans Mono CJK SC}
\begin{document}
"""
UNITS = {
    "one": r"""\chapter{天地玄黄}
天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。Typography of the 2nd edition, page 17.
\textbf{粗体 Bold} \emph{强调的楷书} {\Huge\texttt{print("代码", café)}} $E = mc^2 + \int_0^1 x\,dx$
\newpage 寒来暑往，秋收冬藏。fine ligatures: office, efficient.
""",
    "two": r"""\chapter{闰余成岁}
闰余成岁，律吕调阳。云腾致雨，露结为霜。Quick brown fox jumps over the lazy dog.
\textbf{加粗 Heavy} \emph{“引号”与楷体} {\Huge\texttt{\textit{注释 comment} q́ voilà}} $\alpha\beta\gamma = \sqrt{\pi}$
""",
    "three": r"""\chapter{金生丽水}
金生丽水，玉出昆冈。剑号巨阙，珠称夜光。Zebra, xylophone and quartz: 1984.
\textbf{黑体 Strong} \emph{楷书：天地} {\Huge\texttt{naïve résumé}} $\sum_{k=1}^n k^2 = \frac{n(n+1)(2n+1)}{6}$
""",
}


# Fixed dates, as bookgen's builds: xdvipdfmx then draws the same subset tags in every job, for different fonts.
REPRODUCIBLE = os.environ | {"SOURCE_DATE_EPOCH": "1700000000", "FORCE_SOURCE_DATE": "1"}


@dataclass(frozen=True)
class Merged:
    concatenated: Path
    merged: Path
    report: FontMerge


def concatenate(parts: list[Path], target: Path) -> Path:
    """The pages of ``parts`` in one PDF, as the parallel build joins its units' PDFs."""
    with pikepdf.new() as pdf:
        for part in parts:
            pdf.pages.extend(pikepdf.open(part).pages)
        pdf.save(target, deterministic_id=True)
    return target


def merge_file(source: Path, target: Path) -> FontMerge:
    with pikepdf.open(source) as pdf:
        report = merge_font_subsets(pdf)
        pdf.save(target, deterministic_id=True)
    return report


@pytest.fixture(scope="session")
def merged(tmp_path_factory) -> Merged:
    work = tmp_path_factory.mktemp("fontmerge")
    parts = []
    for name, body in UNITS.items():
        (work / f"{name}.tex").write_text(PREAMBLE + body + "\\end{document}\n", encoding="utf-8")
        command = ["xelatex", "-interaction=nonstopmode", f"{name}.tex"]
        subprocess.run(command, cwd=work, env=REPRODUCIBLE, capture_output=True, check=True)
        parts.append(work / f"{name}.pdf")
    concatenated = concatenate(parts, work / "concatenated.pdf")
    return Merged(concatenated, work / "merged.pdf", merge_file(concatenated, work / "merged.pdf"))


def pdffonts(pdf: Path) -> list[tuple[str, str, str, str]]:
    """(name, type, emb, sub) of every font pdffonts lists."""
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    return [
        (match["name"], match["type"], match["emb"], match["sub"])
        for match in (re.match(r"(?P<name>\S+)\s+(?P<type>.+?)\s+Identity-H\s+(?P<emb>\w+)\s+(?P<sub>\w+)", line) for line in lines)
    ]


def page_count(pdf: Path) -> int:
    with pikepdf.open(pdf) as document:
        return len(document.pages)


@pytest.mark.integration
def test_one_embedded_subset_per_font(merged):
    before, after = pdffonts(merged.concatenated), pdffonts(merged.merged)
    untagged = [name.split("+", 1)[1] for name, *_ in after]
    assert len(before) > 2 * len(after)  # nearly every job embedded nearly every face
    assert sorted(untagged) == sorted(set(untagged)) and {"CID Type 0C", "CID TrueType"} <= {kind for _, kind, *_ in after}
    assert {name.split("+", 1)[1] for name, *_ in before} == set(untagged)
    assert all(re.fullmatch(r"[A-Z]{6}\+\S+", name) and (emb, sub) == ("yes", "yes") for name, _, emb, sub in after)
    assert len({name[:6] for name, *_ in after}) == len(after)  # one tag per subset
    assert len({name[:6] for name, *_ in before}) < len(before)  # where the jobs' tags clashed
    assert merged.report.fonts_before == len(before) and merged.report.fonts_after == len(after)
    assert merged.report.left_alone == ()


@pytest.mark.integration
def test_merged_file_is_smaller(merged):
    assert merged.report.bytes_after < merged.report.bytes_before
    assert merged.merged.stat().st_size < merged.concatenated.stat().st_size


@pytest.mark.integration
def test_every_page_reads_the_same(merged):
    pages = page_count(merged.concatenated)
    assert pages == page_count(merged.merged) > 3

    for page in range(1, pages + 1):
        assert pdftotext(merged.merged, page, page) == pdftotext(merged.concatenated, page, page), page
    assert "“引号”与楷体" in pdftotext(merged.merged, pages - 1, pages - 1)


@pytest.mark.integration
def test_every_page_renders_the_same(merged, tmp_path):
    for name, pdf in (("before", merged.concatenated), ("after", merged.merged)):
        subprocess.run(["pdftoppm", "-r", "50", "-gray", str(pdf), str(tmp_path / name)], check=True)
    renders = sorted(tmp_path.glob("before-*.pgm"))
    assert len(renders) == page_count(merged.merged)
    for before in renders:
        after = tmp_path / before.name.replace("before", "after")
        difference = ImageChops.difference(Image.open(before), Image.open(after)).histogram()
        assert sum(difference[32:]) <= 10, before.name  # a few pixels of antialiasing noise at most


@pytest.mark.integration
def test_merged_file_is_well_formed_and_each_cidset_lists_its_fonts_glyphs(merged):
    """PDF/A-1 (ISO 19005-1 6.3.5): a CIDSet identifies the CIDs in the program; xdvipdfmx's own fonts pass."""
    with pikepdf.open(merged.merged) as pdf:
        assert pdf.check_pdf_syntax() == []  # qpdf's own check (the qpdf command is not installed here)
        descriptors = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary) and "/CIDSet" in obj]
        assert {"/FontFile2", "/FontFile3"} <= {key for descriptor in descriptors for key in descriptor}
        for descriptor in descriptors:
            cidset = descriptor.CIDSet.read_bytes()
            listed = {index * 8 + bit for index, byte in enumerate(cidset) for bit in range(8) if byte & 0x80 >> bit}
            assert listed == glyphs_in(descriptor), descriptor.FontName


def glyphs_in(descriptor: pikepdf.Dictionary) -> set[int]:
    """The CIDs of the glyphs in a CIDFont's program, as xdvipdfmx lists them (TrueType: every index but 0)."""
    if "/FontFile3" in descriptor:
        fontset = CFFFontSet()
        fontset.decompile(io.BytesIO(descriptor.FontFile3.read_bytes()), None)
        return {0 if name == ".notdef" else int(name[3:]) for name in fontset.topDictIndex[0].charset}
    return set(range(1, TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()))["maxp"].numGlyphs))


@pytest.mark.integration
def test_merge_is_deterministic(merged, tmp_path):
    merge_file(merged.concatenated, tmp_path / "again.pdf")
    assert (tmp_path / "again.pdf").read_bytes() == merged.merged.read_bytes()


@pytest.mark.integration
def test_subsets_that_disagree_on_a_width_are_left_alone(merged):
    with pikepdf.open(merged.concatenated) as pdf:
        fonts = [font for page in pdf.pages for font in page.Resources.Font.values()]
        termes = next(font for font in fonts if "TeXGyreTermes-Regular" in str(font.BaseFont)).DescendantFonts[0]
        termes.W = pikepdf.Array([item if isinstance(item, int) else [width + 1 for width in item] for item in termes.W])
        report = merge_font_subsets(pdf)
    assert report.left_alone == (LeftAlone("TeXGyreTermes-Regular-Identity-H", len(UNITS), Unmerged.MISMATCH),)
    assert report.fonts_after == merged.report.fonts_after + len(UNITS) - 1


def two_subsets(kind: str) -> pikepdf.Pdf:
    """Two pages, each with its own subset (``AAAAAA+Face``, ``BBBBBB+Face``) of a font of ``kind``."""
    pdf = pikepdf.new()
    for tag in ("AAAAAA", "BBBBBB"):
        name = pikepdf.Name(f"/{tag}+Face")
        if kind == "simple":
            font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=name)
        else:
            program = pdf.make_stream(b"", Subtype=pikepdf.Name("/OpenType"))
            descriptor = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor, FontName=name, FontFile3=program)
            cidfont = pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.CIDFontType0,
                BaseFont=name,
                FontDescriptor=pdf.make_indirect(descriptor),
            )
            font = pikepdf.Dictionary(
                Type=pikepdf.Name.Font,
                Subtype=pikepdf.Name.Type0,
                BaseFont=name,
                Encoding=pikepdf.Name("/Identity-H" if kind == "opentype" else "/UniGB-UCS2-H"),
                DescendantFonts=pikepdf.Array([pdf.make_indirect(cidfont)]),
            )
        page = pdf.add_blank_page()
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pdf.make_indirect(font)))
    return pdf


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("simple", Unmerged.SIMPLE_FONT), ("cmap", Unmerged.ENCODING), ("opentype", Unmerged.PROGRAM)],
)
def test_fonts_that_cannot_be_merged_are_left_alone_and_counted(kind, reason):
    with two_subsets(kind) as pdf:
        report = merge_font_subsets(pdf)
        assert report == FontMerge(2, 2, 0, 0, (LeftAlone("Face", 2, reason),), retagged=0)
        assert [str(page.Resources.Font.F1.BaseFont) for page in pdf.pages] == ["/AAAAAA+Face", "/BBBBBB+Face"]


def test_to_unicode_cmaps_are_read_in_every_form():
    cmap = b"""1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar
<0003> <005B>
<0004> <D835DC00>
endbfchar
2 beginbfrange
<0010> <0012> <0061>
<0020> <0021> [<005D> <4E00>]
endbfrange"""
    assert _parse_to_unicode(cmap) == {
        3: b"\x00[",
        4: "\U0001d400".encode("utf-16-be"),
        0x10: b"\x00a",
        0x11: b"\x00b",
        0x12: b"\x00c",
        0x20: b"\x00]",
        0x21: "一".encode("utf-16-be"),
    }


def test_different_subsets_with_one_tag_get_tags_of_their_own():
    pdf = pikepdf.new()
    for name in ("Foo", "Bar"):
        program = pdf.make_stream(name.encode())
        descriptor = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name(f"/AAAAAA+{name}"), FontFile=program)
        font = pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name(f"/AAAAAA+{name}"), FontDescriptor=descriptor
        )
        pdf.add_blank_page().Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pdf.make_indirect(font)))
    assert merge_font_subsets(pdf).retagged == 2
    fonts = [page.Resources.Font.F1 for page in pdf.pages]
    names = [str(font.BaseFont) for font in fonts]
    assert [name[8:] for name in names] == ["Foo", "Bar"] and len({name[:7] for name in names}) == 2
    assert all(re.fullmatch(r"/[A-Z]{6}\+\w+", name) and name != "/AAAAAA+" + name[8:] for name in names)
    assert [str(font.FontDescriptor.FontName) for font in fonts] == names


@pytest.mark.integration
def test_fonts_used_in_a_form_xobject_are_merged_too(merged, tmp_path):
    source = tmp_path / "form.pdf"
    with pikepdf.open(merged.concatenated) as pdf:
        page = pdf.pages[-1]  # unit three, drawn through a form XObject that holds its resources
        form = page.as_form_xobject()
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fx=form))
        page.obj.Contents = pdf.make_stream(b"q /Fx Do Q")
        pdf.save(source)
    report = merge_file(source, tmp_path / "merged.pdf")
    names = [name.split("+", 1)[1] for name, *_ in pdffonts(tmp_path / "merged.pdf")]
    assert sorted(names) == sorted(set(names)) == sorted({name.split("+", 1)[1] for name, *_ in pdffonts(source)})
    assert report.fonts_after == len(names) and report.left_alone == ()
    assert pdftotext(tmp_path / "merged.pdf") == pdftotext(source)
