"""External tools: every failure (missing binary, non-zero exit, time-out) is one ToolError naming the tool
and the file; EPUBCheck's verdict is typed."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from bookgen.errors import ToolError
from bookgen.tools import run_tool
from bookgen.verify import EpubReport, check_epub, pdf_info


def test_missing_binary_names_tool_file_and_package():
    with pytest.raises(ToolError) as caught:
        run_tool(["bookgen-no-such-tool", "x"], Path("book/s.md"), package="poppler-utils")
    assert str(caught.value) == "bookgen-no-such-tool not found (install poppler-utils or run `make deps`), needed for book/s.md"


def test_non_zero_exit_quotes_the_last_stderr_line():
    with pytest.raises(ToolError, match=r"^false failed on out/book.pdf \(exit 1\): no message$"):
        run_tool(["false"], Path("out/book.pdf"))
    with pytest.raises(ToolError, match=r"^sh failed on a.pdf \(exit 3\): second$"):
        run_tool(["sh", "-c", "echo first >&2; echo second >&2; exit 3"], "a.pdf")
    assert run_tool(["false"], "a.pdf", check=False).returncode == 1  # the caller reads the exit itself


def test_time_out_stops_the_tool():
    begun = time.monotonic()
    with pytest.raises(ToolError, match=r"^sleep took longer than 0.5 s on slow.pdf and was stopped$"):
        run_tool(["sleep", "30"], "slow.pdf", timeout=0.5)
    assert time.monotonic() - begun < 10


def test_output_that_is_not_utf8_does_not_raise():
    assert run_tool(["printf", r"\377ok"], "x").stdout.endswith("ok")


def test_poppler_missing_is_a_tool_error_naming_the_pdf(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError, match=r"^pdfinfo not found \(install poppler-utils or run `make deps`\), needed for .*book.pdf$"):
        pdf_info(tmp_path / "book.pdf")


def test_poppler_failure_is_a_tool_error_naming_the_pdf(tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"not a pdf")
    with pytest.raises(ToolError, match=r"^pdfinfo failed on .*broken.pdf \(exit \d+\)"):
        pdf_info(broken)


def test_epub_report_passed_from_counts():
    assert EpubReport(0, 0, []).passed
    assert not EpubReport(0, 1, ["WARNING RSC-017 a.xhtml: …"]).passed
    assert not EpubReport(1, 0, ["FATAL PKG-008 book.epub: …"], fatal=1).passed


@pytest.mark.skipif(not shutil.which("java"), reason="needs a Java runtime")
def test_epubcheck_on_a_broken_file_reports_instead_of_raising(tmp_path):
    broken = tmp_path / "broken.epub"
    broken.write_bytes(b"not a zip")
    report = check_epub(broken)
    assert report.fatal >= 1 and report.errors >= report.fatal and not report.passed
    assert any(message.startswith("FATAL ") for message in report.messages)


def test_java_missing_is_a_tool_error_naming_the_epub(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError, match=r"^java not found \(install a Java runtime .*\), needed for .*book.epub$"):
        check_epub(tmp_path / "book.epub")
