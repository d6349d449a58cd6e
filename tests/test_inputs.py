"""What an author types either prints right or is stopped at its line (issue #12's Markdown cases)."""

from __future__ import annotations

import shutil
import subprocess
import zipfile

import pytest
from click.testing import CliRunner

from bookgen.cli import main
from conftest import SAMPLER, write_book

BOOK = "title: 书\nslug: t\nchapters:\n  - title: 一\n    file: a.md\n"
SPELLINGS = ["图片/示意 图（一）.png", "<图片/示意 图（一）.png>", "图片/示意%20图（一）.png"]


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.mark.integration
def test_image_file_name_with_spaces_in_every_commonmark_spelling(tmp_path):
    text = "第一段。\n\n" + "\n\n".join(f"![流程图{i}]({src})" for i, src in enumerate(SPELLINGS)) + "\n"
    manuscript = write_book(tmp_path / "m", BOOK, {"a.md": text})
    (manuscript / "图片").mkdir()
    shutil.copy(SAMPLER / "images" / "pipeline.png", manuscript / "图片" / "示意 图（一）.png")
    result = CliRunner().invoke(main, ["build", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    images = subprocess.run(["pdfimages", "-list", str(tmp_path / "b/t.pdf")], capture_output=True, text=True).stdout.splitlines()[2:]
    assert len(images) == 3
    with zipfile.ZipFile(tmp_path / "b/t.epub") as epub:
        xhtml = "".join(epub.read(name).decode() for name in epub.namelist() if name.endswith(".xhtml"))
    assert xhtml.count("<img ") == 3 and "EPUBCheck: 0 errors, 0 warnings" in result.output


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_missing_image_with_spaces_keeps_its_line_in_every_spelling(tmp_path, spelling):
    manuscript = write_book(tmp_path / "m", BOOK, {"a.md": f"第一段。\n\n第二段。\n\n![流程图]({spelling})\n"})
    result = CliRunner().invoke(main, ["build", "--format", "epub", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "m/a.md:5: image '图片/示意 图（一）.png' not found" in result.output
