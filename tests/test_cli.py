"""The command line: help, version, exit codes, one-line errors, nothing lost on failure."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookgen import __version__
from bookgen.cli import main
from conftest import SAMPLER, write_book


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run where the manuscript is: messages name files relative to the current directory (m/s.md)."""
    monkeypatch.chdir(tmp_path)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_version_and_help():
    assert run("--version").output.strip() == f"bookgen, version {__version__}"
    for command in ([], ["build"], ["import"]):
        result = run(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_yaml_error_is_one_line_exit_2(tmp_path):
    write_book(tmp_path / "m", "title: 书\nlayuot: {}\n")
    result = run("build", "--manuscript", str(tmp_path / "m"), "--output", str(tmp_path / "b"))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "book.yaml:2:1: unknown key 'layuot'" in lines[0] and "did you mean 'layout'" in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "b").exists()  # nothing written for a book that does not load


def test_debug_shows_the_exception(tmp_path):
    write_book(tmp_path / "m", "title: 书\nlayuot: {}\n")
    result = run("--debug", "build", "--manuscript", str(tmp_path / "m"))
    assert result.exception is not None and type(result.exception).__name__ == "ManuscriptError"


def test_strict_lists_unwritten_and_truncated(tmp_path):
    shutil.copytree(SAMPLER, tmp_path / "m")
    result = run("build", "--strict", "--manuscript", str(tmp_path / "m"), "--output", str(tmp_path / "b"))
    assert result.exit_code == 2
    assert "1 unwritten and 1 truncated sections" in result.output
    assert "unwritten: 1.3 尚未写成的一节" in result.output and "truncated: 2.3 引用与脚注" in result.output


TEX_BOOK = "title: 书\nslug: t\nchapters:\n  - title: 一\n    sections:\n      - title: 节\n        file: s.md\n"


@pytest.mark.integration
def test_tex_error_maps_to_markdown_line_and_keeps_the_good_pdf(tmp_path):
    manuscript = write_book(tmp_path / "m", TEX_BOOK, {"s.md": "第一段。\n\n第二段。\n"})
    out = tmp_path / "b"
    good = run("build", "--format", "pdf", "--no-verify", "--manuscript", str(manuscript), "--output", str(out))
    assert good.exit_code == 0, good.output
    before = (out / "t.pdf").read_bytes()
    (manuscript / "s.md").write_text("第一段。\n\n第二段有一个 \\foo 命令。\n", encoding="utf-8")
    bad = run("build", "--format", "pdf", "--no-verify", "--manuscript", str(manuscript), "--output", str(out))
    assert bad.exit_code == 1
    message = bad.output.strip().splitlines()[0]
    assert message.startswith("bookgen: error: m/s.md:3:8: Undefined control sequence")  # file, line and column
    assert "\\foo" in message and "book.log" in message
    assert (out / "t.pdf").read_bytes() == before  # the previous good PDF is untouched
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    (manuscript / "s.md").write_text("第一段。\n\n第二段改好了。\n", encoding="utf-8")
    again = run("build", "--format", "pdf", "--no-verify", "--manuscript", str(manuscript), "--output", str(out))
    assert again.exit_code == 0 and (out / "t.pdf").read_bytes() != before


def _processes_in(directory: Path) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(directory):
                    found.append(int(pid))
            except OSError:
                continue
    return found


@pytest.mark.integration
def test_endless_tex_loop_is_stopped_and_named(tmp_path):
    manuscript = write_book(tmp_path / "m", TEX_BOOK, {"s.md": "开始。\n\n\\def\\x{\\x}\\x\n"})
    out = tmp_path / "b"
    result = run("build", "--format", "pdf", "--tex-timeout", "8", "--manuscript", str(manuscript), "--output", str(out))
    assert result.exit_code == 1
    assert "did not finish within 8 s" in result.output and "m/s.md" in result.output
    assert _processes_in(out) == []  # no TeX left behind
    assert not (out / "t.pdf").exists()


@pytest.mark.integration
def test_time_limit_names_the_line_even_when_started_with_sigint_ignored(tmp_path):
    """A background job of a script starts with SIGINT ignored; TeX must still stop with its line."""
    manuscript = write_book(tmp_path / "m", TEX_BOOK, {"s.md": "开始。\n\n\\def\\x{\\x}\\x\n"})
    command = [
        sys.executable,
        "-m",
        "bookgen",
        "build",
        "--format",
        "pdf",
        "--no-check",
        "--tex-timeout",
        "8",
        "--manuscript",
        str(manuscript),
        "--output",
        str(tmp_path / "b"),
    ]
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=120, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)
    )
    assert proc.returncode == 1 and "m/s.md:3:5: XeLaTeX did not finish within 8 s" in proc.stderr, proc.stderr
