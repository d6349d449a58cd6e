"""Finding the manuscript from wherever the author stands, the check's summary, complete help texts."""

from __future__ import annotations

import contextlib

import click
import pytest
from click.testing import CliRunner

from bookgen.cli import locate_project, main
from conftest import write_book

BOOK = (
    "title: 书\nslug: t\nchapters:\n  - title: 一\n    sections:\n      - title: 甲\n        file: chapters/a.md\n"
    "      - title: 乙\n      - title: 丙\n      - title: 丁\n"
)


def project(tmp_path):
    write_book(tmp_path / "manuscript", BOOK, {"chapters/a.md": "第一段。\n"})
    return tmp_path


@pytest.mark.parametrize("start", [".", "manuscript", "manuscript/chapters"])
def test_book_yaml_found_from_the_project_and_from_inside_the_manuscript(tmp_path, monkeypatch, start):
    root = project(tmp_path)
    monkeypatch.chdir(root / start)
    manuscript, output = locate_project(None, None)
    assert (manuscript / "book.yaml").resolve() == (root / "manuscript" / "book.yaml").resolve()
    assert output.resolve() == (root / "build").resolve()  # beside the manuscript, never inside it
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "not found" not in result.output and "0 errors" in result.output


def test_no_book_yaml_anywhere_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 2 and "no book.yaml here, in ./manuscript or in any parent directory" in result.output
    with pytest.raises(click.UsageError):
        locate_project(tmp_path / "nothing", None)


def test_check_folds_infos_into_one_count_per_rule(tmp_path):
    root = project(tmp_path)
    args = ["check", "--manuscript", str(root / "manuscript"), "--output", str(root / "build")]
    folded = CliRunner().invoke(main, args).output
    assert "3 × S002" in folded and "--verbose lists them" in folded
    assert "S002 unwritten" not in folded.replace("3 × S002 ", "")  # no line per unwritten section
    listed = CliRunner().invoke(main, [*args, "--verbose"]).output
    assert listed.count(": S002 ") == 3 and "3 × S002" not in listed
    assert folded.strip().splitlines()[-1] == listed.strip().splitlines()[-1] == "0 errors, 0 warnings, 3 infos"


def test_help_is_complete_and_not_cut_off():
    runner = CliRunner()
    top = runner.invoke(main, ["--help"], terminal_width=80).output
    commands = top.split("Commands:")[1]
    assert "..." not in commands and "…\n" not in commands
    for name, command in main.commands.items():
        assert name in top
        assert runner.invoke(main, [name, "--help"]).exit_code == 0
        for param in command.params:
            if isinstance(param, click.Option) and "--help" not in param.opts:
                assert param.help, f"bookgen {name} {param.opts[0]} has no help text"


TYPO_BOOK = "title: 书\nslug: t\nchapters:\n  - title: 到来\n    file: chapters/到来.md\n  - title: 其他\n    file: chapters/其他.md\n"


def test_mistyped_file_name_is_an_error_with_did_you_mean(tmp_path):
    root = write_book(tmp_path / "m", TYPO_BOOK, {"chapters/到來.md": "写好的正文。\n"})
    result = CliRunner().invoke(main, ["build", "--manuscript", str(root), "--output", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "book.yaml:5:11: file 'chapters/到来.md' does not exist; did you mean 'chapters/到來.md'" in result.output
    assert "其他" not in result.output  # a plainly missing file is a section not yet written, not an error
    assert not (tmp_path / "b").exists()


def test_plainly_missing_file_is_listed_by_name_in_the_summary(tmp_path):
    root = write_book(tmp_path / "m", TYPO_BOOK, {"chapters/到来.md": "写好的正文。\n"})
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(
            main, ["build", "--format", "epub", "--no-verify", "--manuscript", str(root), "--output", str(tmp_path / "b")]
        )
    assert result.exit_code == 0, result.output
    assert "missing file: m/chapters/其他.md (第2章 其他, printed as unwritten)" in result.output  # as every message names files


@pytest.mark.parametrize(
    "wanted, existing, typo",
    [
        ("chapters/到来.md", "chapters/到來.md", True),  # simplified/traditional slip
        ("chapters/到来/节一.md", "chapters/到來/节一.md", True),  # in a folder name
        ("chapters/两阶段提交.md", "chapters/两阶段提交协议.md", True),
        ("chapters/其他.md", "chapters/到來.md", False),
        ("chapters/a.md", "chapters/b.md", False),
        ("front/前言.md", "back/后记.md", False),
    ],
)
def test_what_counts_as_a_typo_in_a_file_name(wanted, existing, typo):
    from bookgen.model.outline import _typo_of

    assert _typo_of(wanted, existing) is typo


@pytest.mark.parametrize("where", ["inside", "elsewhere"])
def test_paths_in_messages_are_the_same_in_every_command(tmp_path, monkeypatch, where):
    root = write_book(tmp_path / "m1", "title: 书\nslug: t\nlayuot: {}\n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path if where == "inside" else tmp_path / "elsewhere")
    expected = "m1/book.yaml:3:1" if where == "inside" else f"{root}/book.yaml:3:1"  # relative below here, else absolute
    for command in (["check"], ["build", "--format", "epub"], ["handoff"]):
        output = CliRunner().invoke(main, [*command, "--manuscript", str(root), "--output", str(tmp_path / "b")]).output
        assert f"{expected}: " in output, (command, output)
        assert f" {expected}" in output or output.startswith(expected) or f"error: {expected}" in output


def test_build_reports_every_check_error_at_once_missing_images_included(tmp_path):
    root = write_book(
        tmp_path / "m",
        TYPO_BOOK.replace("到来.md", "a.md").replace("其他.md", "b.md"),
        {"chapters/a.md": "正文<|im_end|>\n\n![图](nothere.png)\n", "chapters/b.md": "正文。\n"},
    )
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["build", "--format", "epub", "--manuscript", str(root), "--output", str(tmp_path / "b")])
    assert result.exit_code == 2 and "2 check errors" in result.output
    assert "m/chapters/a.md:1:3: R001" in result.output and "m/chapters/a.md:3:1: M003" in result.output


def test_a_cover_without_isbn_is_refused_before_anything_is_typeset(tmp_path, monkeypatch):
    root = write_book(tmp_path / "m", TYPO_BOOK.replace("到来.md", "a.md"), {"chapters/a.md": "正文。\n"})
    started = []
    monkeypatch.setattr("subprocess.Popen.__init__", lambda self, *a, **k: started.append(a) or (_ for _ in ()).throw(OSError("no")))
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(
            main, ["build", "--format", "cover", "--allow-incomplete", "--manuscript", str(root), "--output", str(tmp_path / "b")]
        )
    assert result.exit_code == 2 and "m/book.yaml: a cover needs the book's ISBN" in result.output and not started
