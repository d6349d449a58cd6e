"""Templates an author overrides: <manuscript>/templates/<same relative path> replaces bookgen's file."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from bookgen.checks import run_checks
from bookgen.errors import ToolError
from bookgen.latex.render import latex_environment, render_latex
from bookgen.model.book import load_book
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions, Format
from bookgen.pipeline.state import inputs_digest
from bookgen.tools import template_dir, template_path
from conftest import write_book

BOOK = "title: 书\nslug: t\nchapters:\n  - title: 一章\n    sections:\n      - title: 一节\n        file: s.md\n"
FONTS = "templates/latex/preamble/fonts.tex_t"


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run where the manuscript is: messages name files relative to the current directory (m/s.md)."""
    monkeypatch.chdir(tmp_path)


def fonts_override(marker: str) -> str:
    """bookgen's fonts partial with one line added."""
    return (template_dir() / "latex/preamble/fonts.tex_t").read_text(encoding="utf-8") + f"% {marker}\n"


def small_book(root: Path, files: dict[str, str] | None = None) -> Path:
    return write_book(root, BOOK, {"s.md": "正文的一段。\n", **(files or {})})


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """A user cache of its own, so that the compiled-template cache starts empty."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache" / "bookgen" / "templates"


def test_a_partial_in_the_manuscript_replaces_bookgens(tmp_path, fresh_cache):
    root = small_book(tmp_path / "m", {FONTS: fonts_override("the author's fonts")})
    book = load_book(root)
    preamble = render_latex(book, {}, {}).main
    assert "% the author's fonts" in preamble  # included from book.tex_t: the include goes through the same loader
    assert preamble.count(r"\setCJKmainfont") == 1  # replaced, not added to
    plain = render_latex(load_book(small_book(tmp_path / "other")), {}, {}).main
    assert "% the author's fonts" not in plain and r"\setCJKmainfont" in plain  # other books keep bookgen's


def test_an_edited_override_is_not_served_from_the_compiled_template_cache(tmp_path, fresh_cache):
    root = small_book(tmp_path / "m")
    override = root / FONTS
    override.parent.mkdir(parents=True)
    for marker in ("first version", "second version"):
        override.write_text(f"% {marker}\n", encoding="utf-8")
        assert latex_environment(root).get_template("preamble/fonts.tex_t").render() == f"% {marker}\n"
    assert list(fresh_cache.iterdir())  # the cache was in use
    override.unlink()  # and bookgen's own partial comes back
    assert r"\setCJKmainfont" in latex_environment(root).get_template("preamble/fonts.tex_t").render(fonts=load_book(root).fonts)


def test_an_override_is_part_of_the_build_inputs(tmp_path):
    root = small_book(tmp_path / "m", {FONTS: fonts_override("one")})
    before = inputs_digest(root, {})
    (root / FONTS).write_text(fonts_override("two, a little longer"), encoding="utf-8")
    assert inputs_digest(root, {}) != before


def test_files_under_templates_are_not_stray_manuscript_files(tmp_path):
    root = small_book(tmp_path / "m", {FONTS: fonts_override("x"), "templates/notes.md": "为什么改了字体。\n", "stray.md": "没人用。\n"})
    report = run_checks(root, tmp_path / "cache", fast=True)
    assert [f.path for f in report.findings if f.code == "S004"] == ["m/stray.md"]


def test_the_epub_stylesheet_can_be_overridden(tmp_path):
    root = small_book(tmp_path / "m")
    assert template_path(root, "epub/book.css") == template_dir() / "epub/book.css"
    css = root / "templates/epub/book.css"
    css.parent.mkdir(parents=True)
    css.write_text("body { color: #123456; }\n", encoding="utf-8")
    assert template_path(root, "epub/book.css") == css


@pytest.mark.integration
def test_override_reaches_the_pdf_and_epub_and_its_edit_rebuilds(tmp_path):
    kai = "\\setCJKmainfont{LXGW WenKai}\n"  # the whole text in 楷
    root = small_book(tmp_path / "m", {FONTS: fonts_override("x") + kai, "templates/epub/book.css": "p { color: #123456; }\n"})
    options = BuildOptions(manuscript=root, output=tmp_path / "b", verify=False, formats=(Format.PDF, Format.EPUB))
    first = build(options)

    def fonts() -> str:
        return subprocess.run(["pdffonts", str(first.outputs["pdf"].path)], capture_output=True, text=True, check=True).stdout

    assert "LXGWWenKai" in fonts() and "NotoSerifCJK" not in fonts()
    with zipfile.ZipFile(first.outputs["epub"].path) as epub:
        assert any("#123456" in epub.read(name).decode() for name in epub.namelist() if name.endswith(".css"))
    assert build(options).up_to_date
    (root / FONTS).write_text(fonts_override("x"), encoding="utf-8")  # back to bookgen's faces
    again = build(options)
    assert not again.up_to_date
    assert "NotoSerifCJK" in fonts()


def formula_findings(root: Path, tmp_path: Path) -> list[tuple[int, str]]:
    report = run_checks(root, tmp_path / "cache", fast=False)
    return [(f.line, f.message) for f in report.findings if f.code == "M001"]


@pytest.mark.integration
def test_formula_check_compiles_in_the_books_own_preamble(tmp_path):
    """M001's TeX run has the book's class and preamble, the author's overrides included: what the book
    typesets compiles there, what it does not fails there (pandoc's MathML is checked on its own)."""
    text = "颜色 $\\textcolor{red}{x}$ 在书中可排。\n\n自定义 $\\R^n$ 要看前言。\n"
    compiled = "does not compile: Undefined control sequence"
    found = formula_findings(small_book(tmp_path / "plain", {"s.md": text}), tmp_path / "a")
    assert [line for line, _ in found] == [1, 3]
    assert compiled not in found[0][1]  # xcolor is the book's (an article preamble had none): only MathML fails
    assert compiled in found[1][1]
    macro = fonts_override("x") + "\\newcommand{\\R}{\\mathbb{R}}\n"
    found = formula_findings(small_book(tmp_path / "defined", {"s.md": text, FONTS: macro}), tmp_path / "b")
    assert [line for line, _ in found] == [1, 3] and not any(compiled in message for _, message in found)


def test_formula_check_without_xelatex_is_one_tool_error(tmp_path, monkeypatch):
    root = small_book(tmp_path / "m", {"s.md": "公式 $x^2$。\n"})
    tools = tmp_path / "bin"  # fontconfig (for the F rules) but no TeX
    tools.mkdir()
    (tools / "fc-list").symlink_to(shutil.which("fc-list"))
    monkeypatch.setenv("PATH", str(tools))
    with pytest.raises(
        ToolError, match=r"^xelatex not found \(install texlive-xetex or run `make deps`\), needed for the book's formulas$"
    ):
        run_checks(root, tmp_path / "cache", fast=False)
