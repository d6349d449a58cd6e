"""Footnote marks in the book's style print with real glyphs (circled digits come from the CJK face)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bookgen.cli import main
from conftest import pdftotext, write_book

BOOK = "title: 书\nslug: f\nlayout:\n  footnote_style: circled\nchapters:\n  - title: 一\n    file: a.md\n"


@pytest.mark.integration
def test_circled_footnote_marks_have_glyphs(tmp_path):
    manuscript = write_book(tmp_path / "m", BOOK, {"a.md": "正文一[^1]，正文二[^2]。\n\n[^1]: 注一。\n[^2]: 注二。\n"})
    result = CliRunner().invoke(
        main, ["build", "--format", "pdf", "--strict", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")]
    )
    assert result.exit_code == 0 and "no glyph" not in result.output, result.output
    text = pdftotext(tmp_path / "b" / "f.pdf")
    assert any(mark in text for mark in "①➀") and any(mark in text for mark in "②➁")  # the CJK face's circled digits
