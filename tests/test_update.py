"""The chapter-level update's bookkeeping, without TeX: unit page ranges from the log, which unit changed."""

from __future__ import annotations

from bookgen.latex.document import LatexDocument
from bookgen.latex.log import TypesetResult, UnitPages, unit_pages
from bookgen.latex.update import Manifest

LOG = """(./book.tex
bookgen-unit-begin: titlepages.tex 0 0
(./titlepages.tex [1] [2])
bookgen-unit-end: titlepages.tex 2 2
bookgen-unit-begin: unit-ch-1.tex 3 1
(./unit-ch-1.tex [3] [4] [5])
bookgen-unit-end: unit-ch-1.tex 6 4
"""


def test_unit_pages_in_the_book_and_in_the_run():
    pages = unit_pages(LOG)
    assert pages["titlepages"] == UnitPages(0, 2, 0)
    assert pages["unit-ch-1"] == UnitPages(3, 6, 1) and pages["unit-ch-1"].count == 3  # book pages 4–6, this run's 2–4


def test_unit_pages_ignore_a_unit_that_never_ended():
    assert "unit-ch-2" not in unit_pages(LOG + "bookgen-unit-begin: unit-ch-2.tex 6 4\n! Emergency stop.\n")


def document(**units: str) -> LatexDocument:
    return LatexDocument("\\documentclass{ctexbook}", {f"unit-{name}": text for name, text in units.items()})


def manifest_for(tmp_path, made_from: LatexDocument) -> Manifest:
    (tmp_path / "book.pdf").write_bytes(b"%PDF-1.5 the last full run")
    pages = {stem: UnitPages(i * 2, i * 2 + 2, i * 2) for i, stem in enumerate(made_from.units)}
    manifest = Manifest.of_run(made_from, TypesetResult(tmp_path / "book.pdf", 2, 1.0, units=pages), {})
    manifest.save(tmp_path)
    return Manifest.load(tmp_path)


def test_only_a_single_changed_unit_is_updated_alone(tmp_path):
    manifest = manifest_for(tmp_path, document(a="一", b="二", c="三"))
    assert manifest.changed_unit(document(a="一", b="二", c="三"), tmp_path) is None  # nothing changed
    assert manifest.changed_unit(document(a="一", b="贰", c="三"), tmp_path) == "unit-b"
    assert manifest.changed_unit(document(a="壹", b="贰", c="三"), tmp_path) is None  # two units
    assert manifest.changed_unit(document(a="一", b="二"), tmp_path) is None  # a unit fewer
    changed_preamble = LatexDocument("\\documentclass[zihao=-4]{ctexbook}", document(a="一", b="贰", c="三").units)
    assert manifest.changed_unit(changed_preamble, tmp_path) is None


def test_no_update_when_the_pdf_is_not_the_recorded_one(tmp_path):
    manifest = manifest_for(tmp_path, document(a="一", b="二"))
    (tmp_path / "book.pdf").write_bytes(b"%PDF-1.5 something else, longer")
    assert manifest.changed_unit(document(a="一", b="贰"), tmp_path) is None
    (tmp_path / "units.json").write_text("{half", encoding="utf-8")
    assert Manifest.load(tmp_path) is None
