"""Fast rebuilds, correctness only (speed is measured by `make bench`): no-op builds, the conversion cache,
chapter-level PDF updates."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import bookgen.sources.convert
from bookgen.cli import main
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions
from conftest import SAMPLER
from outputs import pdf_bookmarks, pdf_link_problems, pdf_pages, plain

pytestmark = pytest.mark.integration


@pytest.fixture
def workspace(tmp_path):
    shutil.copytree(SAMPLER, tmp_path / "m")
    return tmp_path


def options(workspace: Path, **kw) -> BuildOptions:
    """The sequential build (--jobs 1), whose chapter update these tests follow; parallel: tests/test_parallel.py."""
    return BuildOptions(manuscript=workspace / "m", output=workspace / "b", verify=False, **{"jobs": 1, **kw})


class ToolCalls:
    """Counts the external programs started (pandoc, latexmk, xelatex) while installed."""

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        original = subprocess.Popen
        calls = self.calls

        class Counting(original):
            def __init__(self, args, *a, **kw):
                calls.append(Path(str(args[0] if isinstance(args, (list, tuple)) else args)).name)
                super().__init__(args, *a, **kw)

        monkeypatch.setattr(subprocess, "Popen", Counting)


def test_noop_build_runs_no_pandoc_and_no_tex(workspace, monkeypatch):
    first = build(options(workspace))
    assert not first.up_to_date and first.converted > 0
    calls = ToolCalls(monkeypatch)
    again = build(options(workspace))
    assert again.up_to_date and calls.calls == []
    assert again.outputs["pdf"].path == first.outputs["pdf"].path and again.outputs["pdf"].pages == first.outputs["pdf"].pages
    (workspace / "b" / "sampler.pdf").write_bytes(b"damaged")  # an output changed behind bookgen's back: rebuild
    third = build(options(workspace))
    assert not third.up_to_date and third.converted == 0 and "latexmk" in [Path(c).name for c in calls.calls]


def test_edit_reconverts_only_its_section(workspace):
    first = build(options(workspace, formats=("epub",)))
    sections = first.converted
    path = workspace / "m" / "chapters/basics/paragraphs.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n新增的一段。\n", encoding="utf-8")
    second = build(options(workspace, formats=("epub",)))
    assert (second.converted, second.reused) == (1, sections - 1)


def test_cache_from_another_version_is_not_reused(workspace, monkeypatch):
    first = build(options(workspace, formats=("epub",)))
    (workspace / "m" / "back/thanks.md").write_text("感谢所有读者与编辑。\n", encoding="utf-8")  # defeat the no-op
    monkeypatch.setattr(bookgen.sources.convert, "__version__", "99.0")
    second = build(options(workspace, formats=("epub",)))
    assert second.converted == first.converted and second.reused == 0


def test_damaged_cache_entry_is_converted_again(workspace):
    first = build(options(workspace, formats=("epub",)))
    preface = next(p for p in (workspace / "b/.cache/convert").glob("*.json") if "前言的第一段" in p.read_text(encoding="utf-8"))
    preface.write_text('{"latex": "half-writ', encoding="utf-8")  # as if a build had died mid-write
    (workspace / "m" / "back/thanks.md").write_text("感谢所有读者与编辑。\n", encoding="utf-8")
    second = build(options(workspace, formats=("epub",)))
    assert second.converted == 2 and second.reused == first.converted - 2  # the damaged one and the edited one


def test_clean_removes_cache_and_work(workspace):
    build(options(workspace, formats=("epub",)))
    result = CliRunner().invoke(main, ["clean", "--output", str(workspace / "b")])
    assert result.exit_code == 0
    assert not (workspace / "b/.cache").exists() and not (workspace / "b/.work").exists()
    assert (workspace / "b/sampler.epub").exists()
    assert not build(options(workspace, formats=("epub",))).up_to_date


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def full_build_pages(workspace: Path, name: str) -> list[str]:
    """The same manuscript built from scratch elsewhere: what a chapter update must equal."""
    fresh = build(BuildOptions(manuscript=workspace / "m", output=workspace / name, formats=("pdf",), verify=False))
    assert "chapter update" not in fresh.outputs["pdf"].detail
    return pdf_pages(fresh.outputs["pdf"].path)


def test_chapter_update_splices_one_chapter_and_equals_a_full_build(workspace, monkeypatch):
    said: list[str] = []
    first = build(options(workspace, formats=("pdf",)), said.append)
    assert [m for m in said if m.startswith("XeLaTeX pass")] == ["XeLaTeX pass 1 of the PDF", "XeLaTeX pass 2 of the PDF"]
    original = pdf_pages(first.outputs["pdf"].path)
    tables = workspace / "m/chapters/blocks/tables.md"
    replace_in(tables, "下表比较了几种模型", "下表比较了常见的几种模型")
    calls = ToolCalls(monkeypatch)
    said.clear()
    second = build(options(workspace, formats=("pdf",)), said.append)
    assert "typesetting 第2章 块级元素 alone (one XeLaTeX pass)" in said
    pdf = second.outputs["pdf"].path
    assert "chapter update: 第2章" in second.outputs["pdf"].detail
    assert "latexmk" not in calls.calls and calls.calls.count("xelatex") == 1  # one pass, over that chapter alone
    pages = pdf_pages(pdf)
    assert pages == full_build_pages(workspace, "fresh"), "the spliced PDF reads differently from a full build"
    assert sum("下表比较了常见的几种模型" in plain(page) for page in pages) == 1
    assert pdf_link_problems(pdf) == [] and pdf_bookmarks(pdf) == pdf_bookmarks(first.outputs["pdf"].path)

    replace_in(tables, "下表比较了常见的几种模型", "下表比较了几种模型")  # and back: again one chapter, as before
    third = build(options(workspace, formats=("pdf",)))
    assert "chapter update" in third.outputs["pdf"].detail and pdf_pages(third.outputs["pdf"].path) == original

    replace_in(tables, "下表比较了几种模型", "下表比较了三种模型")  # two chapters at once: the whole book again
    replace_in(workspace / "m/chapters/basics/paragraphs.md", "。", "！")
    fourth = build(options(workspace, formats=("pdf",)))
    assert "XeLaTeX pass" in fourth.outputs["pdf"].detail and "chapter update" not in fourth.outputs["pdf"].detail
    assert pdf_pages(fourth.outputs["pdf"].path) == full_build_pages(workspace, "fresh-2")


def test_chapter_update_falls_back_when_its_pages_change(workspace):
    build(options(workspace, formats=("pdf",)))
    tables = workspace / "m/chapters/blocks/tables.md"
    tables.write_text(tables.read_text(encoding="utf-8") + "\n\n" + "新增的长段落，足以多出一页。" * 150 + "\n", encoding="utf-8")
    grown = build(options(workspace, formats=("pdf",)))
    assert "chapter update" not in grown.outputs["pdf"].detail
    assert pdf_pages(grown.outputs["pdf"].path) == full_build_pages(workspace, "fresh")


def test_print_builds_are_never_spliced(workspace, monkeypatch):
    print_options = dict(formats=("pdf",), profile="print", allow_incomplete=True)
    build(options(workspace, **print_options))
    replace_in(workspace / "m/chapters/blocks/tables.md", "下表比较了几种模型", "下表比较了常见的几种模型")
    calls = ToolCalls(monkeypatch)
    again = build(options(workspace, **print_options))
    assert "chapter update" not in again.outputs["pdf"].detail and "latexmk" in calls.calls
