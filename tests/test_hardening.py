"""Hard to break: safe TeX, confined paths, errors in the author's terms, nothing lost, huge and odd input."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bookgen.cli import main
from bookgen.errors import BuildLockedError
from bookgen.fsutil import build_lock
from bookgen.model.book import load_book
from conftest import write_book

BOOK = "title: 书\nslug: t\nchapters:\n  - title: 一\n    sections:\n      - title: 节\n        file: s.md\n"


def build(manuscript: Path, out: Path, *extra: str):
    return CliRunner().invoke(
        main, ["build", "--format", "pdf", "--no-verify", "--manuscript", str(manuscript), "--output", str(out), *extra]
    )


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.integration
@pytest.mark.parametrize(
    "payload, expected",
    [
        ("\\input{/etc/passwd}", "TeX may not read '/etc/passwd"),
        ("\\input{../../../../../../etc/hostname}", "TeX may not read"),
        ("\\newread\\r \\openin\\r=/etc/hostname \\read\\r to\\x \\x", None),
        ("\\newwrite\\w \\immediate\\openout\\w=../../escaped.tex \\immediate\\write\\w{hi}\\immediate\\closeout\\w", "TeX may not write"),
        ("\\immediate\\write18{touch PWNED}", ""),
    ],
)
def test_raw_tex_cannot_escape(tmp_path, payload, expected):
    manuscript = write_book(tmp_path / "m", BOOK, {"s.md": f"正文。\n\n{payload}\n\n结束。\n"})
    before = tree_digest(manuscript)
    result = build(manuscript, tmp_path / "b")
    if expected == "":
        assert result.exit_code == 0, result.output  # shell escape is off: \write18 does nothing
    else:
        assert result.exit_code == 1
        assert "m/s.md:3:" in result.output
        if expected:
            assert expected in result.output
    assert not list(tmp_path.rglob("PWNED")) and not list(tmp_path.rglob("escaped.tex"))
    assert not (tmp_path.parent / "escaped.tex").exists()
    for pdf in (tmp_path / "b").glob("*.pdf"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "root:" not in text and os.uname().nodename not in text
    assert tree_digest(manuscript) == before  # the manuscript is never written by a build


def test_image_paths_are_confined(tmp_path):
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"\x89PNG")
    for ref, message in [
        ("../secret.png", "lies outside the manuscript"),
        ("/etc/passwd", "lies outside the manuscript"),
        ("link/secret.png", "through a symbolic link"),
        ("https://example.com/a.png", "is a URL"),
        ("none.png", "not found"),
    ]:
        manuscript = write_book(tmp_path / ref.replace("/", "_").replace(":", ""), BOOK, {"s.md": f"正文。\n\n![图]({ref})\n"})
        (manuscript / "link").symlink_to(tmp_path)
        result = build(manuscript, manuscript.parent / "out")
        assert result.exit_code in (1, 2), (ref, result.output)  # the check's M003 stops it first
        assert "/s.md:3:" in result.output and f"image '{ref}'" in result.output and message in result.output


def test_a_second_build_is_refused_while_one_runs(tmp_path):
    with build_lock(tmp_path / "b"), pytest.raises(BuildLockedError, match="another build is running"), build_lock(tmp_path / "b"):
        pass
    with build_lock(tmp_path / "b"):  # released afterwards
        pass


@pytest.mark.integration
def test_sigterm_mid_typesetting_leaves_the_good_pdf(tmp_path):
    manuscript = write_book(tmp_path / "m", BOOK, {"s.md": "第一版。\n"})
    out = tmp_path / "b"
    assert build(manuscript, out).exit_code == 0
    good = (out / "t.pdf").read_bytes()
    (manuscript / "s.md").write_text("第二版，在排版时被打断。\n\n\\def\\x{\\x}\\x\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "bookgen",
        "build",
        "--format",
        "pdf",
        "--no-verify",
        "--manuscript",
        str(manuscript),
        "--output",
        str(out),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    tex = out / ".work/latex/book.tex"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "第二版" not in tex.read_text(encoding="utf-8"):
        time.sleep(0.2)
    time.sleep(2)  # xelatex is now looping in \x
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 130, output
    assert "interrupted" in output and "Traceback" not in output
    assert (out / "t.pdf").read_bytes() == good
    assert not [p for p in out.rglob("*.tmp")]
    pids = [pid for pid in os.listdir("/proc") if pid.isdigit()]
    for pid in pids:
        with contextlib.suppress(OSError):
            assert not Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(out), "TeX left running"
    (manuscript / "s.md").write_text("第二版。\n", encoding="utf-8")
    assert build(manuscript, out).exit_code == 0  # the next build succeeds
    assert (out / "t.pdf").read_bytes() != good


def test_huge_section_is_refused_quickly(tmp_path):
    manuscript = write_book(tmp_path / "m", BOOK, {"s.md": "很长的段落。" * 300_000})  # 5.4 MB
    result = build(manuscript, tmp_path / "b")
    assert result.exit_code == 2 and "m/s.md: section file is 5.1 MB; split it" in result.output


def test_ten_thousand_entries_load(tmp_path):
    chapters = "".join(f"  - title: 第{i}个\n    sections:\n" + "".join(f"      - 节{i}-{j}\n" for j in range(9)) for i in range(1000))
    book = load_book(write_book(tmp_path, "title: 大书\nchapters:\n" + chapters))
    assert len(list(book.nodes())) == 10_000
    assert [n.heading for n in book.nodes()][-1] == "1000.9 节999-8"


@pytest.mark.integration
def test_two_thousand_sections_build(tmp_path):
    sections = "".join(f"      - title: 节{j}\n        file: s/{j}.md\n" for j in range(2000))
    files = {f"s/{j}.md": f"第{j}节的正文，含公式 $x_{{{j}}}$。\n" for j in range(2000)}
    manuscript = write_book(tmp_path / "m", f"title: 书\nslug: t\nchapters:\n  - title: 一\n    sections:\n{sections}", files)
    result = CliRunner().invoke(main, ["build", "--format", "epub", "--manuscript", str(manuscript), "--output", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "EPUBCheck: 0 errors, 0 warnings" in result.output


def test_missing_glyph_is_an_error_under_strict(tmp_path):
    manuscript = write_book(tmp_path / "m", BOOK, {"s.md": "正文🚀火箭。\n"})
    relaxed = build(manuscript, tmp_path / "b", "--no-check")
    assert relaxed.exit_code == 0 and "m/s.md:1: '🚀' (U+1F680) has no glyph" in relaxed.output
    strict = build(manuscript, tmp_path / "b2", "--no-check", "--strict")
    assert strict.exit_code == 1 and "1 characters have no glyph in the book's fonts" in strict.output
    assert not (tmp_path / "b2" / "t.pdf").exists()


@pytest.mark.integration
def test_missing_glyph_says_what_the_page_shows_and_print_refuses_it(tmp_path):
    manuscript = write_book(tmp_path / "m", BOOK, {"s.md": "正文🚀火箭。\n"})
    relaxed = build(manuscript, tmp_path / "b", "--no-check")
    assert "prints as an empty box (the font's .notdef glyph)" in relaxed.output and "prints as nothing" not in relaxed.output
    printed = build(manuscript, tmp_path / "b2", "--no-check", "--profile", "print", "--allow-incomplete")
    assert printed.exit_code == 1 and "would print as empty boxes" in printed.output
    assert not (tmp_path / "b2" / "t-print.pdf").exists()


def test_tex_timeout_from_book_yaml(tmp_path):
    book = load_book(write_book(tmp_path, BOOK + "build:\n  tex_timeout: 30\n"))
    assert book.build.tex_timeout == 30.0
