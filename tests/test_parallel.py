"""Parallel typesetting (issue 19): units as XeLaTeX jobs, merged; the sequential build is the reference."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from bookgen.errors import TypesetError
from bookgen.latex import auxdata
from bookgen.latex.document import LatexUnit
from bookgen.latex.parallel import STATE, UnitRun, chain, opening, split_jobs
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions
from conftest import FIXTURES, SAMPLER, write_book

# --- the page arithmetic -------------------------------------------------------------------------------


def test_folios_shift_in_their_own_style():
    assert auxdata.shift_folio("iii", 2) == "v"
    assert auxdata.shift_folio("xiv", -5) == "ix"
    assert auxdata.shift_folio("37", 4) == "41"
    assert auxdata.shift_folio("A-3", 4) == "A-3"  # a form bookgen does not write: left alone
    assert [auxdata.roman(n) for n in (1, 4, 9, 14, 40, 90, 400, 1994)] == ["i", "iv", "ix", "xiv", "xl", "xc", "cd", "mcmxciv"]
    assert auxdata.folio_value("mcmxciv") == (1994, True) and auxdata.folio_value("ivx") is None


AUX = r"""\relax
\@writefile{toc}{\contentsline {chapter}{\numberline {第\mbox  {2}章\hspace  {.3em}}原理{与}机制}{5}{chapter.2}\protected@file@percent }
\newlabel{ch-2}{{\mbox  {2}}{5}{原理{与}机制}{chapter.2}{}}
\bookgen@ixpage{ix-3}{6}{14}{6}
\@setckpt{unit-ch-2}{
\setcounter{page}{7}
\setcounter{chapter}{2}
\setcounter{bookgenphysical}{15}
}
"""


def test_an_aux_file_moves_to_other_pages():
    moved = auxdata.shift_aux(AUX, auxdata.Shift(folio=10, physical=12))
    assert "}原理{与}机制}{15}{chapter.2}" in moved  # the contents line's page, past a braced title
    assert "{{\\mbox  {2}}{15}{原理{与}机制}" in moved  # the label's page
    assert "\\bookgen@ixpage{ix-3}{16}{26}{16}" in moved  # the index mark: folio, physical page, page counter
    assert auxdata.checkpoint(moved) == {"page": 7, "chapter": 2, "bookgenphysical": 15}  # left to set_checkpoint
    set_ = auxdata.set_checkpoint(moved, {"page": 17, "bookgenphysical": 27})
    assert auxdata.checkpoint(set_) == {"page": 17, "chapter": 2, "bookgenphysical": 27}
    assert auxdata.contents_lines(moved)["toc"] == [
        "\\contentsline {chapter}{\\numberline {第\\mbox  {2}章\\hspace  {.3em}}原理{与}机制}{15}{chapter.2}%"
    ]
    assert auxdata.contents_anchors(AUX) == [("chapter", "chapter.2")]
    assert auxdata.index_marks(moved) == ["\\bookgen@ixpage{ix-3}{16}{26}{16}"]


def test_blank_versos_come_where_latex_puts_them():
    """\\cleardoublepage adds a page at an even folio: \\mainmatter always, then restarts at 1."""
    assert opening([], opens_right=True, folio=4, back_opens_right=False) == (1, 5)
    assert opening([], opens_right=True, folio=5, back_opens_right=False) == (0, 5)
    assert opening([], opens_right=False, folio=4, back_opens_right=False) == (0, 4)
    assert opening(["mainmatter"], opens_right=True, folio=8, back_opens_right=False) == (1, 1)  # roman viii → blank, then 1
    assert opening(["mainmatter"], opens_right=True, folio=9, back_opens_right=False) == (0, 1)
    assert opening(["backmatter"], opens_right=False, folio=30, back_opens_right=True) == (1, 31)
    assert opening(["backmatter"], opens_right=False, folio=30, back_opens_right=False) == (0, 30)


def _run(count: int, page: int, physical: int, opens_right: bool = True, aux: str = "") -> UnitRun:
    return UnitRun("d", "", "p0.pdf", 0, count, {"page": page, "bookgenphysical": physical}, aux, "", opens_right)


def test_the_page_chain_follows_the_units_lengths():
    plan = (
        LatexUnit("titlepages", "front"),
        LatexUnit("contents", "front"),
        LatexUnit("unit-ch-1", "body", "chapter"),
        LatexUnit("unit-ch-2", "body", "chapter"),
    )
    runs = {
        "titlepages": _run(2, 1, 0, opens_right=False),
        "contents": _run(3, 3, 2),  # iii–v
        "unit-ch-1": _run(5, 1, 99),  # typeset at a guessed place: 5 pages, no blank
        "unit-ch-2": _run(3, 2, 0),  # typeset at an even folio: 1 blank + 2 pages
    }
    places = chain(plan, runs, back_opens_right=False, weights={})
    assert places["contents"].before["page"] == 3 and places["contents"].count == 3
    # after v comes a blank vi (\mainmatter), then 1–5; ch-2 opens right at 6: blank 6, pages 7–8
    assert (places["unit-ch-1"].leads, places["unit-ch-1"].folio, places["unit-ch-1"].count) == (1, 1, 6)
    assert places["unit-ch-1"].before["bookgenphysical"] == 5
    assert (places["unit-ch-2"].leads, places["unit-ch-2"].folio, places["unit-ch-2"].count) == (1, 7, 3)
    assert places["unit-ch-2"].before["chapter"] == 1  # from the outline, whatever the guess had


def test_jobs_are_runs_of_consecutive_units_of_about_equal_weight():
    units = [f"u{i}" for i in range(10)]
    weights = {u: 10 for u in units} | {"u0": 1, "u1": 1}
    jobs = split_jobs(units, weights, 2)
    assert [u for job in jobs for u in job.units] == units and len(jobs) == 2
    assert abs(sum(weights[u] for u in jobs[0].units) - sum(weights[u] for u in jobs[1].units)) <= 10
    assert [len(job.units) for job in split_jobs(units[:1], weights, 4)] == [1]


# --- real runs: parallel against sequential ------------------------------------------------------------


def generated_book(root: Path, chapters: int = 7) -> Path:
    """Parts, chapters of a few pages with tables, footnotes and index marks (a 索引 whose pages come from
    every chapter), an appendix and back matter."""
    paragraph = "这是用来填满版面的正文，讲述大模型时代的排版与出版，句子长短不一，标点齐全。" * 6
    table = "| 项目 | 数值 | 说明 |\n|:--|--:|:--|\n| 大模型 | 544 | 成本与训练 |\n| 平台 | 918 | 应用与算法的安全 |\n"
    files = {}
    parts = []
    for p in range(2):
        entries = []
        for _ in range(chapters // 2 + p):
            n = len(files) + 1
            marks = f'本章讨论[事务]{{.index}}与[第{n}个话题]{{.index}}，也谈[锁]{{.index entry="并发!锁"}}。'
            footnote = f"脚注在此[^a{n}]。\n\n[^a{n}]: 第{n}章的脚注。"
            files[f"c{n}.md"] = "\n\n".join([marks] + [paragraph] * (3 + n % 4) + [footnote, table, paragraph, marks]) + "\n"
            entries.append(f"      - title: 第{n}个话题\n        file: c{n}.md\n")
        parts.append(f"  - title: 篇{p + 1}\n    chapters:\n" + "".join(entries))
    files["app.md"] = paragraph + "\n"
    files["thanks.md"] = "感谢。\n"
    files["preface.md"] = paragraph + "\n"
    yaml_text = (
        "title: 并行样书\nslug: par\ndate: '2026-01-01'\nfront:\n  - title: 前言\n    file: preface.md\nparts:\n"
        + "".join(parts)
        + "appendices:\n  - title: 附表\n    file: app.md\nback:\n  - title: 致谢\n    file: thanks.md\n"
    )
    return write_book(root, yaml_text, files)


def built_pair(source: Path, workspace: Path) -> tuple[Path, Path]:
    """The same manuscript built with --jobs 1 (the reference) and --jobs 2."""
    manuscript = workspace / "m"
    shutil.copytree(source, manuscript)
    pdfs = []
    for jobs in (1, 2):
        result = build(BuildOptions(manuscript=manuscript, output=workspace / f"j{jobs}", formats=("pdf",), verify=False, jobs=jobs))
        pdfs.append(result.outputs["pdf"].path)
    return pdfs[0], pdfs[1]


def page_texts(pdf: Path) -> list[str]:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split("\f")


def structure(pdf_path: Path) -> dict:
    """Page labels; bookmarks (depth, title, target page); every link's target page; unresolved names."""
    with pikepdf.open(pdf_path) as pdf:
        pages = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
        names = {str(k): v for k, v in pikepdf.NameTree(pdf.Root.Names.Dests).items()}

        def target(name: object) -> int | None:
            dest = names.get(str(name))
            return pages.get(dest[0].objgen) if dest is not None else None

        bookmarks = []
        with pdf.open_outline() as outline:

            def walk(items, depth):
                for item in items:
                    bookmarks.append((depth, item.title, target(item.action.D), item.is_closed))
                    walk(item.children, depth + 1)

            walk(outline.root, 0)
        links, unresolved = [], []
        for i, page in enumerate(pdf.pages):
            for annotation in page.obj.get("/Annots", []):
                action = annotation.get("/A")
                if action is not None and action.get("/S") == "/GoTo":
                    links.append((i, target(action.D)))
                    if target(action.D) is None:
                        unresolved.append(str(action.D))
                elif action is not None and action.get("/S") == "/URI":
                    links.append((i, str(action.URI)))
        dests_off = [name for name, dest in names.items() if dest[0].objgen not in pages]
        return {
            "labels": [page.label for page in pdf.pages],
            "bookmarks": bookmarks,
            "links": links,
            "unresolved": unresolved,
            "dests_off_pages": dests_off,
        }


@pytest.fixture(scope="module", params=["sampler", "index", "generated"])
def pair(request, tmp_path_factory):
    workspace = tmp_path_factory.mktemp(f"parallel-{request.param}")
    if request.param == "generated":
        source = generated_book(workspace / "src")
    else:
        source = SAMPLER if request.param == "sampler" else FIXTURES / "index"
    return built_pair(source, workspace)


@pytest.mark.integration
def test_the_parallel_pdf_reads_page_for_page_like_the_sequential_one(pair):
    sequential, parallel = pair
    assert page_texts(parallel) == page_texts(sequential)


@pytest.mark.integration
def test_bookmarks_links_destinations_and_page_labels_match(pair):
    sequential, parallel = (structure(pdf) for pdf in pair)
    assert parallel["labels"] == sequential["labels"]  # roman front matter, arabic from the first part
    assert parallel["bookmarks"] == sequential["bookmarks"]  # titles, nesting (chapters under parts), pages
    assert parallel["links"] == sequential["links"]  # every link lands on the same page
    assert parallel["unresolved"] == [] and parallel["dests_off_pages"] == []


def _pieces(output: Path) -> dict[str, str]:
    state = json.loads((output / ".work" / "latex" / STATE).read_text(encoding="utf-8"))
    return {unit: run["piece"] for unit, run in state["runs"].items()}


@pytest.mark.integration
def test_edits_typeset_only_the_units_they_move(tmp_path):
    manuscript = generated_book(tmp_path / "m")
    out = tmp_path / "b"

    def rebuild(jobs: int = 2, output: Path = out):
        return build(BuildOptions(manuscript=manuscript, output=output, formats=("pdf",), verify=False, jobs=jobs))

    rebuild()
    before = _pieces(out)
    assert rebuild().up_to_date  # nothing changed: no TeX, no merge
    good = page_texts(out / "par.pdf")
    (out / "par.pdf").write_bytes(b"damaged")  # the output spoilt behind bookgen's back: merged again, no TeX
    again = rebuild()
    assert not again.up_to_date and again.outputs["pdf"].detail.startswith("0 XeLaTeX jobs") and _pieces(out) == before
    assert page_texts(out / "par.pdf") == good
    # a word changed in chapter 3: that unit alone, one job
    chapter = manuscript / "c3.md"
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("这是用来", "这是拿来", 1), encoding="utf-8")
    result = rebuild()
    after = _pieces(out)
    assert {u for u in after if after[u] != before[u]} == {"unit-ch-3"}
    assert result.outputs["pdf"].detail.startswith("1 XeLaTeX job")
    # a page more in chapter 3: it, the units after it (the 索引 among them: its pages move and it lists
    # them), the contents and the 版权页 (the page count)
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n\n" + "又一段很长的补充文字。" * 120 + "\n", encoding="utf-8")
    before = after
    rebuild()
    after = _pieces(out)
    moved = {u for u in after if after[u] != before[u]}
    plan = list(after)
    later = set(plan[plan.index("unit-ch-3") :])  # its folios move: the chapters after it, the 索引 …
    assert moved == later | {"contents", "titlepages"} and "book-index" in later
    reference = rebuild(jobs=1, output=tmp_path / "seq")
    assert page_texts(out / "par.pdf") == page_texts(reference.outputs["pdf"].path)


@pytest.mark.integration
def test_a_tex_error_in_one_job_stops_the_build_and_keeps_the_pdf(tmp_path):
    manuscript = generated_book(tmp_path / "m")
    out = tmp_path / "b"
    build(BuildOptions(manuscript=manuscript, output=out, formats=("pdf",), verify=False, jobs=2))
    good = (out / "par.pdf").read_bytes()
    (manuscript / "c1.md").write_text("第一段。\n\n第二段有一个 \\foo 命令。\n", encoding="utf-8")
    last = sorted(manuscript.glob("c*.md"))[-1]
    last.write_text(last.read_text(encoding="utf-8") + "\n末章也改了。\n", encoding="utf-8")  # a second job
    with pytest.raises(TypesetError) as failed:
        build(BuildOptions(manuscript=manuscript, output=out, formats=("pdf",), verify=False, jobs=2, check=False))
    assert str(failed.value.location).endswith("c1.md:3:8") and "Undefined control sequence" in str(failed.value)
    assert (out / "par.pdf").read_bytes() == good
