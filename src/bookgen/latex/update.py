r"""Chapter-level PDF updates: typeset only the unit that changed and splice its pages into the last PDF.

A unit is what ``render`` puts in a file of its own and ``\include``s: a chapter, an appendix, a
part page, a front or back matter entry. After every full run, ``units.json`` in the work directory
records what ``book.pdf`` was made from (each file's digest) and where each unit's pages are. When
the next screen build differs from it in one unit file only, that unit is typeset alone
(``\includeonly``, with the book's .aux files: one XeLaTeX pass over its own pages), and its pages
replace the old ones only when nothing the rest of the book depends on moved: the unit's .aux file
(its labels, its contents lines, the counters it hands on, the page counter among them) must come out
byte for byte the same, and so must its page range. Otherwise the whole book is typeset.

The pages are replaced in place (same page objects), so bookmarks, page labels and links into the
unit stay valid; the unit's named destinations are moved to their new positions.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bookgen.fsutil import atomic_path, file_stamp, write_atomic
from bookgen.latex.document import LatexDocument
from bookgen.latex.log import TypesetResult, UnitPages
from bookgen.latex.typeset import JOBNAME

if TYPE_CHECKING:
    import pikepdf

MANIFEST = "units.json"


def _digests(document: LatexDocument) -> dict[str, str]:
    return {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in document.files().items()}


@dataclass
class Manifest:
    """What the work directory's ``book.pdf`` was made from, and where each unit's pages are in it."""

    files: dict[str, str]  # file name → digest of its text
    pages: dict[str, UnitPages]
    pdf: list[int] | None  # size and mtime of book.pdf
    warnings: dict[str, list[str]] = field(default_factory=dict)  # unit (or "") → the TeX warnings it gave
    spliced: bool = False  # the PDF is newer than latexmk's own records

    @classmethod
    def load(cls, work_dir: Path) -> Manifest | None:
        try:
            data = json.loads((work_dir / MANIFEST).read_text(encoding="utf-8"))
            pages = {unit: UnitPages(*span) for unit, span in data["pages"].items()}
            return cls(data["files"], pages, data["pdf"], data.get("warnings", {}), data.get("spliced", False))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, work_dir: Path) -> None:
        data = {
            "files": self.files,
            "pages": {unit: [p.first, p.end, p.output_first] for unit, p in self.pages.items()},
            "pdf": file_stamp(work_dir / f"{JOBNAME}.pdf"),
            "warnings": self.warnings,
            "spliced": self.spliced,
        }
        write_atomic(work_dir / MANIFEST, json.dumps(data, ensure_ascii=False, indent=1))

    @classmethod
    def of_run(cls, document: LatexDocument, made: TypesetResult, warnings: dict[str, list[str]]) -> Manifest:
        return cls(_digests(document), made.units, None, warnings)

    def spliced_in(self, document: LatexDocument, unit: str, warnings: list[str], work_dir: Path) -> None:
        """Record that ``unit``'s new pages are in book.pdf (the other units' pages and warnings stand)."""
        self.files = _digests(document)
        self.warnings[unit] = warnings
        self.spliced = True
        self.save(work_dir)

    def changed_unit(self, document: LatexDocument, work_dir: Path) -> str | None:
        """The one unit whose file differs, when nothing else does and book.pdf is the one recorded."""
        if self.pdf is None or file_stamp(work_dir / f"{JOBNAME}.pdf") != self.pdf:
            return None
        files = _digests(document)
        if files.keys() != self.files.keys():
            return None
        changed = [name for name, digest in files.items() if digest != self.files[name]]
        unit = changed[0].removesuffix(".tex") if len(changed) == 1 else None
        return unit if unit in self.pages else None


@dataclass
class UnitUpdate:
    """The outcome of trying to update one unit: ``made`` when its pages were spliced, else why not."""

    unit: str | None
    made: TypesetResult | None = None
    reason: str = ""
    splice_seconds: float = 0.0


def update_unit(document: LatexDocument, work_dir: Path, typeset_alone: Callable[[str], TypesetResult | None]) -> UnitUpdate:
    """Typeset the one changed unit alone and splice it into ``book.pdf``, if the rules above allow."""
    manifest = Manifest.load(work_dir)
    unit = manifest.changed_unit(document, work_dir) if manifest else None
    if manifest is None or unit is None:
        return UnitUpdate(None, reason="more than one unit changed (or no previous full run)")
    aux = work_dir / f"{unit}.aux"
    before = aux.read_bytes() if aux.exists() else b""
    try:
        made = typeset_alone(unit)
    except BaseException:
        aux.write_bytes(before)  # interrupted: the next run finds the .aux as the last full run left it
        raise
    old = manifest.pages[unit]
    new = made.units.get(unit) if made else None
    reason = ""
    if made is None or new is None:
        reason = "TeX failed on the unit alone"
    elif (new.first, new.count) != (old.first, old.count):
        reason = f"it now takes {new.count} pages, not {old.count}"
    elif (aux.read_bytes() if aux.exists() else b"") != before:
        reason = "its labels, contents lines or counters changed"
    if reason or made is None or new is None:
        aux.write_bytes(before)  # the full run starts from the state the last one left
        return UnitUpdate(unit, reason=reason)
    started = time.monotonic()
    total = splice(work_dir / f"{JOBNAME}.pdf", made.pdf, new)
    whole = TypesetResult(
        work_dir / f"{JOBNAME}.pdf", made.passes, made.seconds, made.missing_glyphs, made.overfull, {**manifest.pages, unit: old}, total
    )
    return UnitUpdate(unit, whole, splice_seconds=time.monotonic() - started)


def splice(book_pdf: Path, unit_pdf: Path, pages: UnitPages) -> int:
    """Replace book pages ``pages.first…`` with the unit run's pages ``pages.output_first…``, in place;
    the book's page count."""
    import pikepdf  # here: a cold build does not need it

    with pikepdf.open(book_pdf) as book, pikepdf.open(unit_pdf) as unit:
        targets = [book.pages[pages.first + i].obj for i in range(pages.count)]
        sources = [unit.pages[pages.output_first + i].obj for i in range(pages.count)]
        moved = {}
        for target, source in zip(targets, sources, strict=False):
            # A parentless copy of the new page (copying its /Parent would pull in the whole other book).
            bare = unit.make_indirect(pikepdf.Dictionary({key: value for key, value in source.items() if key != "/Parent"}))
            copied = book.copy_foreign(bare)
            for key in list(target.keys()):
                if key not in ("/Parent", "/Type"):
                    del target[key]
            for key, value in copied.items():
                if key != "/Type":
                    target[key] = value
            for annotation in target.get("/Annots", []):
                if "/P" in annotation:
                    annotation.P = target
            moved[source.objgen] = target
        _move_destinations(book, unit, moved, {t.objgen for t in targets})
        with atomic_path(book_pdf) as tmp:
            book.save(tmp, stream_decode_level=pikepdf.StreamDecodeLevel.none, deterministic_id=True)
        return len(book.pages)


def _move_destinations(book: pikepdf.Pdf, unit: pikepdf.Pdf, moved: dict, replaced: set) -> None:
    """Named destinations on the unit's pages point to where the new run put them."""
    import pikepdf

    if "/Names" not in unit.Root or "/Dests" not in unit.Root.Names or "/Names" not in book.Root or "/Dests" not in book.Root.Names:
        return
    book_dests = pikepdf.NameTree(book.Root.Names.Dests)
    for name, dest in pikepdf.NameTree(unit.Root.Names.Dests).items():
        page = dest[0] if isinstance(dest, pikepdf.Array) and len(dest) else None
        if page is None or page.objgen not in moved:
            continue  # a page of this run outside the unit
        old = book_dests.get(name)
        if old is not None and isinstance(old, pikepdf.Array) and old[0].objgen not in replaced:
            continue  # a name some other part of the book owns
        book_dests[name] = pikepdf.Array([moved[page.objgen], *list(dest)[1:]])  # the page, then /XYZ x y zoom
