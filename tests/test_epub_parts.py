"""The EPUB from per-chapter parts: an edit rewrites its chapter only, and the package is byte for byte a
cold build's; EPUBCheck's verdict kept by the package's hash, run on cold and --strict builds, in the
background after an edit."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from bookgen.epub import parts, verdict
from bookgen.errors import ToolError
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions
from bookgen.verify import EpubReport
from conftest import FIXTURES, SAMPLER

PASSED = EpubReport(0, 0, [])


def epub_build(manuscript: Path, output: Path, **options):
    options.setdefault("verify", False)
    return build(BuildOptions(manuscript=manuscript, output=output, formats=("epub",), **options))


class Writes:
    """The parts pandoc writes (``parts.write_parts`` counted)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.names: list[str] = []
        original = parts.write_parts

        def counting(names, *args, **kwargs):
            self.names += names
            return original(names, *args, **kwargs)

        monkeypatch.setattr(parts, "write_parts", counting)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{text}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def sampler_edit(tmp_path_factory):
    """The sampler built, one section edited and built again; the parts written each time."""
    root = tmp_path_factory.mktemp("parts")
    manuscript = root / "sampler"
    shutil.copytree(SAMPLER, manuscript)
    with pytest.MonkeyPatch.context() as monkeypatch:
        writes = Writes(monkeypatch)
        cold = epub_build(manuscript, root / "build")
        cold_writes = list(writes.names)
        writes.names.clear()
        append(manuscript / "chapters" / "blocks" / "tables.md", "改过的一句：表格之后的新段落。")
        edit = epub_build(manuscript, root / "build")
        edit_writes = list(writes.names)
    return manuscript, root, cold, cold_writes, edit, edit_writes


def test_edit_equals_cold_build(sampler_edit):
    manuscript, root, _cold, _, edit, _ = sampler_edit
    fresh = epub_build(manuscript, root / "fresh")
    assert edit.outputs["epub"].path.read_bytes() == fresh.outputs["epub"].path.read_bytes()


def test_edit_rewrites_only_its_chapter(sampler_edit):
    _manuscript, _root, cold, cold_writes, edit, edit_writes = sampler_edit
    with zipfile.ZipFile(edit.outputs["epub"].path) as epub:
        chapters = sorted(name for name in epub.namelist() if "/text/ch" in name)
        holding = [name for name in chapters if "改过的一句" in epub.read(name).decode()]
    assert len(cold_writes) == len(chapters)  # a cold build writes every part
    assert edit_writes == [Path(holding[0]).name]  # the edit, only the part holding it
    assert "all parts written" in cold.outputs["epub"].detail
    assert f"1 part of {len(chapters)} rewritten" in edit.outputs["epub"].detail
    assert "nav and OPF" not in edit.outputs["epub"].detail


def test_title_change_rewrites_nav_and_opf(tmp_path):
    manuscript = tmp_path / "sampler"
    shutil.copytree(SAMPLER, manuscript)
    epub_build(manuscript, tmp_path / "build")
    yaml_path = manuscript / "book.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace("title: 表格", "title: 三线表"), encoding="utf-8")
    edited = epub_build(manuscript, tmp_path / "build")
    assert "nav and OPF too" in edited.outputs["epub"].detail
    with zipfile.ZipFile(edited.outputs["epub"].path) as epub:
        nav = epub.read("EPUB/nav.xhtml").decode()
        ncx = epub.read("EPUB/toc.ncx").decode()
    assert "三线表" in nav and "三线表" in ncx and "表格</a>" not in nav
    fresh = epub_build(manuscript, tmp_path / "fresh")
    assert edited.outputs["epub"].path.read_bytes() == fresh.outputs["epub"].path.read_bytes()


def test_cross_references_after_an_edit(tmp_path):
    """Links across chapters (the xref book) point into the right files after an edit, as in a cold build."""
    manuscript = tmp_path / "xref"
    shutil.copytree(FIXTURES / "xref", manuscript)
    epub_build(manuscript, tmp_path / "build")
    section = sorted((manuscript / "chapters").rglob("*.md"))[0]
    append(section, "补充的一段文字。")
    edited = epub_build(manuscript, tmp_path / "build")
    fresh = epub_build(manuscript, tmp_path / "fresh")
    assert edited.outputs["epub"].path.read_bytes() == fresh.outputs["epub"].path.read_bytes()
    with zipfile.ZipFile(edited.outputs["epub"].path) as epub:
        names = set(epub.namelist())
        ids = {name: epub.read(name).decode() for name in names if name.endswith(".xhtml")}
    checked = 0
    for name, text in ids.items():
        for target, anchor in re.findall(r'href="(ch\d+\.xhtml)#([^"]+)"', text):
            assert f'id="{anchor}"' in ids[f"EPUB/text/{target}"], (name, target, anchor)
            checked += 1
    assert checked


@pytest.mark.integration
def test_edit_with_the_page_list_equals_cold_build(tmp_path):
    """With the PDF (the EPUB after it, carrying the printed pages' list): an edit that moves no page
    rewrites one part, and the EPUB is the cold build's."""
    manuscript = tmp_path / "a11y"
    shutil.copytree(FIXTURES / "a11y", manuscript)

    def both(output: Path):
        return build(BuildOptions(manuscript=manuscript, output=output, formats=("pdf", "epub"), verify=False))

    both(tmp_path / "build")
    append(manuscript / "chapters" / "text.md", "修改后的一句话。")
    edited = both(tmp_path / "build")
    assert "1 part of 3 rewritten" in edited.outputs["epub"].detail and "page list of" in edited.outputs["epub"].detail
    fresh = both(tmp_path / "fresh")
    assert edited.outputs["epub"].path.read_bytes() == fresh.outputs["epub"].path.read_bytes()


# ---------------------------------------------------------------- EPUBCheck


def test_verdict_kept_by_hash(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(verdict, "check_epub", lambda path: calls.append(path) or PASSED)
    epub = tmp_path / "a.epub"
    epub.write_bytes(b"one")
    assert verdict.verify_kept(epub, tmp_path / "work") == (PASSED, False)
    assert verdict.verify_kept(epub, tmp_path / "work") == (PASSED, True)
    epub.write_bytes(b"two")
    assert verdict.verify_kept(epub, tmp_path / "work") == (PASSED, False)
    assert len(calls) == 2


def test_epubcheck_runs_on_cold_builds_and_its_verdict_is_kept(tmp_path, monkeypatch):
    """A cold build runs the real EPUBCheck; a build making the same package (here: --strict, another
    option) reports the kept verdict and runs none."""
    calls = []
    real = verdict.check_epub
    monkeypatch.setattr(verdict, "check_epub", lambda path: calls.append(path) or real(path))
    manuscript = tmp_path / "a11y"
    shutil.copytree(FIXTURES / "a11y", manuscript)
    cold = epub_build(manuscript, tmp_path / "build", verify=True)
    assert cold.outputs["epub"].detail.startswith("EPUBCheck: 0 errors, 0 warnings,")
    assert len(calls) == 1
    again = epub_build(manuscript, tmp_path / "build", verify=True, strict=True)
    assert again.outputs["epub"].detail.startswith("EPUBCheck: 0 errors, 0 warnings (verdict kept)")
    assert len(calls) == 1


def test_edit_is_checked_in_the_background_strict_waits(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(verdict, "check_epub", lambda path: PASSED)
    queued = []
    monkeypatch.setattr("bookgen.epub.builder.check_in_background", lambda epub, work: queued.append(epub))
    manuscript = tmp_path / "a11y"
    shutil.copytree(FIXTURES / "a11y", manuscript)
    epub_build(manuscript, tmp_path / "build", verify=True)
    append(manuscript / "chapters" / "text.md", "又一段。")
    edited = epub_build(manuscript, tmp_path / "build", verify=True)
    assert "EPUBCheck: running in the background" in edited.outputs["epub"].detail
    assert edited.outputs["epub"].epubcheck is None  # never reported as verified
    assert queued == [edited.outputs["epub"].path]
    append(manuscript / "chapters" / "text.md", "再一段。")
    strict = epub_build(manuscript, tmp_path / "build", verify=True, strict=True)
    assert strict.outputs["epub"].detail.startswith("EPUBCheck: 0 errors, 0 warnings,")
    assert len(queued) == 1


def test_background_worker_keeps_its_verdict_for_the_next_build(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(verdict, "check_epub", lambda path: EpubReport(0, 1, ["WARNING RSC-017 x: something"]))
    queued = []
    monkeypatch.setattr("bookgen.epub.builder.check_in_background", lambda epub, work: queued.append((epub, work)))
    manuscript = tmp_path / "a11y"
    shutil.copytree(FIXTURES / "a11y", manuscript)
    epub_build(manuscript, tmp_path / "build", verify=True)  # cold: checked now (a warning, kept)
    append(manuscript / "chapters" / "text.md", "又一段。")
    epub_build(manuscript, tmp_path / "build", verify=True)
    epub, work = queued[-1]
    queue = work / verdict.QUEUE
    queue.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(epub, queue / "pending.epub")
    verdict._work(work)  # what the background process does
    assert verdict.cached_verdict(work, verdict.epub_digest(epub)) is not None
    append(manuscript / "chapters" / "text.md", "再一段。")
    after = epub_build(manuscript, tmp_path / "build", verify=True)
    assert any("on the previous EPUB: 0 errors, 1 warnings" in warning for warning in after.warnings)


def test_invalid_package_fails_a_cold_build(tmp_path, monkeypatch):
    monkeypatch.setattr(verdict, "check_epub", lambda path: EpubReport(1, 0, ["ERROR RSC-005 EPUB/nav.xhtml: broken"]))
    manuscript = tmp_path / "a11y"
    shutil.copytree(FIXTURES / "a11y", manuscript)
    with pytest.raises(ToolError, match="does not pass EPUBCheck"):
        epub_build(manuscript, tmp_path / "build", verify=True)
    assert not (tmp_path / "build" / "a11y.epub").exists()  # nothing put in place


def test_parts_are_cut_where_pandoc_starts_a_file():
    """Before every heading of the chapter level or above, and before a Div that opens with one (pandoc
    makes it a section of its own); a heading deeper in a Div opens nothing."""

    def heading(level, name):
        return {"t": "Header", "c": [level, [name, [], []], [{"t": "Str", "c": name}]]}

    text = {"t": "Para", "c": [{"t": "Str", "c": "正文"}]}
    inside = {"t": "Div", "c": [["", [], []], [text, heading(2, "deep")]]}
    opening = {"t": "Div", "c": [["", [], []], [heading(2, "div"), text]]}
    blocks = [heading(1, "part"), heading(2, "a"), text, inside, opening, heading(3, "a-1"), heading(2, "b")]
    cut = parts.split_parts(blocks, 2)
    assert [len(part) for part in cut] == [1, 3, 2, 1]
    frame = parts.frame_blocks(cut, 3)
    assert frame[2]["t"] == "Div" and frame[2]["c"][1][0] == {"t": "Para", "c": []}  # opens no file in the frame either
    assert parts.split_parts(frame, 2).__len__() == len(cut)
