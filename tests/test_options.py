"""Declared book.yaml options: types, one validation pass with positions, did-you-mean, files that must
exist, the typed model (Length, Geometry, EntryKind), and the README's reference against the declarations."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bookgen.checks.model import RULES, Severity
from bookgen.cli import main
from bookgen.errors import ManuscriptError
from bookgen.model.book import TOP_LEVEL_KEYS, load_book
from bookgen.model.lengths import Length
from bookgen.model.options import Section, Text, declared
from bookgen.model.outline import ENTRY_OPTIONS, OUTLINE_KEYS, EntryKind
from bookgen.model.settings import SECTIONS, SEVERITY_LEVELS, Metadata
from conftest import REPO, write_book

BOOK = "title: 书\nchapters:\n  - title: 一\n    sections:\n      - title: 节\n        file: s.md\n"


def load_error(tmp_path: Path, yaml_text: str) -> ManuscriptError:
    with pytest.raises(ManuscriptError) as caught:
        load_book(write_book(tmp_path, yaml_text, {"s.md": "正文。\n"}))
    return caught.value


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# ---------------------------------------------------------------- the fixes of issue 11


def test_tex_timeout_zero_means_scale_with_the_book(tmp_path):
    book = load_book(write_book(tmp_path, BOOK + "build:\n  tex_timeout: 0\n"))
    assert book.build.tex_timeout == 0.0
    error = load_error(tmp_path / "neg", BOOK + "build:\n  tex_timeout: -5\n")
    assert "'tex_timeout' must be a non-negative number" in error.message
    assert (error.location.line, error.location.column) == (8, 16)


@pytest.mark.parametrize("command", ["check", "build"])
def test_misspelt_check_key_is_named_with_its_position(tmp_path, command):
    root = write_book(tmp_path / "m", BOOK + "check: {disabel: [T003]}\n", {"s.md": "正文。\n"})
    result = run(command, "--manuscript", str(root), "--output", str(tmp_path / "b"))
    assert result.exit_code == 2, result.output
    # build: "…/m/book.yaml:7:9: message"; check, as every finding: "m/book.yaml:7:9: S001 message"
    assert re.search(r"m/book\.yaml:7:9: (S001 )?unknown key 'disabel' \(did you mean 'disable'\?\)", result.output)
    assert "Traceback" not in result.output and not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "yaml_line, line, column",
    [
        ("print:\n  icc_profile: missing.icc\n", 8, 16),
        ("print:\n  cover_image: images/missing.png\n", 8, 16),
        ("cover: images/missing.png\n", 7, 8),
        ("abstract: front/missing.md\n", 7, 11),
    ],
)
def test_missing_files_book_yaml_names_stop_the_build_before_any_tool(tmp_path, monkeypatch, yaml_line, line, column):
    def no_process(*args, **kwargs):
        raise AssertionError(f"a tool ran: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_process)  # pandoc, TeX, java: every tool starts through Popen
    root = write_book(tmp_path / "m", BOOK + yaml_line, {"s.md": "正文。\n"})
    started = time.monotonic()
    result = run("build", "--profile", "print", "--allow-incomplete", "--manuscript", str(root), "--output", str(tmp_path / "b"))
    assert time.monotonic() - started < 5
    assert result.exit_code == 2, result.output
    assert f"{root / 'book.yaml'}:{line}:{column}: " in result.output and "no such file in the manuscript directory" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "b").exists()


# ---------------------------------------------------------------- one pass, every problem


def test_every_problem_is_reported_in_one_pass_in_order(tmp_path):
    error = load_error(
        tmp_path,
        BOOK + "layout:\n  trim_width: 185\n  punctuation: quanjio\nprint:\n  signature: 0\nfonts: {serif: ''}\ncheck:\n  disabel: []\n",
    )
    lines = str(error).splitlines()
    assert (error.location.line, error.location.column) == (8, 15)
    assert lines[0].endswith(":8:15: 'trim_width' must be a length like 185mm or 10.5bp, not '185'")
    assert [re.match(r".*book\.yaml:(\d+):(\d+): ", line).groups() for line in lines] == [
        ("8", "15"),
        ("9", "16"),
        ("11", "14"),
        ("12", "16"),
        ("14", "3"),
    ]
    assert "'punctuation' must be one of quanjiao, banjiao, kaiming, CCT, plain, not 'quanjio' (did you mean 'quanjiao'?)" in lines[1]
    assert "'signature' must be a positive whole number, not 0" in lines[2]
    assert "'serif' must be text, not empty" in lines[3]
    assert "unknown key 'disabel' (did you mean 'disable'?)" in lines[4]


def test_outline_problems_are_collected_too(tmp_path):
    error = load_error(tmp_path, "title: 书\nchapters:\n  - title: 一\n    status: dratf\n  - titel: 二\n    file: x.txt\n")
    lines = str(error).splitlines()
    assert len(lines) == 4
    assert "status' must be one of draft, truncated, final, not 'dratf' (did you mean 'draft'?)" in lines[0]
    assert ":5:5: unknown key 'titel' in a chapter entry (did you mean 'title'?)" in lines[1]
    assert ":5:5: this chapter entry needs a 'title'" in lines[2]
    assert ":6:11: file 'x.txt' must be a Markdown file ending in .md" in lines[3]


def test_unknown_rule_codes_are_placed(tmp_path):
    root = write_book(tmp_path / "m", BOOK + "check:\n  disable: [T001, T999]\n  severity: {Z001: error}\n", {"s.md": "正文。\n"})
    result = run("check", "--manuscript", str(root))
    assert result.exit_code == 2
    assert "m/book.yaml:8:19: S001 check: unknown rule code 'T999'" in result.output
    assert "m/book.yaml:9:14: S001 check: unknown rule code 'Z001'" in result.output


# ---------------------------------------------------------------- the typed model


def test_length_is_parsed_once():
    length = Length.parse("185mm")
    assert (length.value, length.unit, length.tex(), str(length)) == (185.0, "mm", "185mm", "185mm")
    assert length.bp == pytest.approx(524.409, abs=1e-3) and length.mm == pytest.approx(185)
    assert Length.parse("0.1mm").tex() == "0.1mm" and Length.parse("10.5bp").bp == 10.5
    assert Length.parse("1in").mm == pytest.approx(25.4) and Length.parse("72.27pt").bp == pytest.approx(72)
    for wrong in ("185", "-3mm", "1em", "mm"):
        with pytest.raises(ValueError):
            Length.parse(wrong)


def test_geometry_is_computed_once_from_the_settings(tmp_path):
    book = load_book(
        write_book(
            tmp_path,
            "title: 书\nlayout: {trim_width: 170mm, trim_height: 24cm, font_size: 小四, chars_per_line: 30}\nprint: {bleed: 5mm}\n",
        )
    )
    geometry = book.geometry
    assert geometry is book.geometry
    assert (geometry.trim_width, geometry.trim_height, geometry.bleed) == pytest.approx((170, 240, 5))
    assert geometry.text_width == pytest.approx(30 * 12 / 72 * 25.4)  # 30 characters of 12bp
    assert (geometry.media_width, geometry.media_height) == pytest.approx((170 + 30, 240 + 30))  # bleed and crop-mark margin


def test_entry_kinds_and_text_of_their_own(tmp_path):
    book = load_book(
        write_book(
            tmp_path,
            "title: 书\nparts:\n  - title: 部\n    file: p.md\n    chapters:\n"
            "      - title: 章\n        sections: [节]\n      - title: 空章\nappendices: [附]\n",
        )
    )
    kinds = {node.title: node.kind for node in book.nodes()}
    assert kinds == {
        "部": EntryKind.PART,
        "章": EntryKind.CHAPTER,
        "节": EntryKind.SECTION,
        "空章": EntryKind.CHAPTER,
        "附": EntryKind.APPENDIX,
    }
    assert kinds["部"] == "part"  # a StrEnum: string comparisons keep working
    assert {node.title for node in book.nodes() if node.has_own_text} == {
        "节",
        "空章",
        "附",
    }  # not the part, nor 章 (no file, has sections)
    assert EntryKind.APPENDIX_SECTION.is_section and EntryKind.APPENDIX.is_chapter and not EntryKind.PART.is_chapter


def test_severity_levels_are_the_checks(tmp_path):
    assert set(SEVERITY_LEVELS) == {level.value for level in Severity}
    assert all(re.fullmatch(r"[A-Z]\d{3}", code) for code in RULES)


# ---------------------------------------------------------------- the README against the declarations


def _readme_yaml() -> tuple[str, dict]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"### book\.yaml\n\n```yaml\n(.*?)```", readme, re.S).group(1)
    return block, yaml.safe_load(block)


def test_readme_reference_matches_the_declarations():
    block, data = _readme_yaml()
    assert set(data) == set(TOP_LEVEL_KEYS) - {"chapters"}  # parts or chapters: the block shows parts …
    assert "`chapters:`" in block  # … and names chapters beside it
    for key, option in declared(Metadata).items():
        if not (isinstance(option, Text) and option.required):
            assert data[key] == option.yaml_default(), key
    for name, section in SECTIONS.items():
        assert isinstance(section, Section)
        options = declared(section.settings)
        assert list(data[name]) == list(options), name
        for key, option in options.items():
            assert data[name][key] == option.yaml_default(), f"{name}.{key}"

    entry_keys: set[str] = set()

    def walk(entries: list) -> None:
        for entry in entries:
            entry_keys.update(entry)
            for child in ("chapters", "sections"):
                walk(entry.get(child, []))

    for key in OUTLINE_KEYS:
        walk(data.get(key, []))
    assert entry_keys == set(ENTRY_OPTIONS) | {"chapters", "sections"}


def test_every_option_has_a_description():
    options = [*declared(Metadata).values(), *SECTIONS.values(), *ENTRY_OPTIONS.values()]
    options += [option for section in SECTIONS.values() for option in declared(section.settings).values()]
    assert all(option.description and "\n" not in option.description for option in options)


@pytest.mark.parametrize(
    "typed, hint", [("五好", " (did you mean '五号'?)"), ("小四号", " (did you mean '小四'?)"), ("小5", ""), ("特大", "")]
)
def test_chinese_choice_gets_a_did_you_mean_by_characters(tmp_path, typed, hint):
    """font_size: 五好 → did you mean 五号 (difflib's 0.6 misses one changed character of two; an ambiguous or
    unrelated value gets no guess)."""
    error = load_error(tmp_path, BOOK + f"layout:\n  font_size: {typed}\n")
    assert str(error).endswith(f"'font_size' must be one of 小五, 五号, 小四, 四号, not '{typed}'{hint}")
