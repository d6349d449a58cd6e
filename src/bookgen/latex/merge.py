"""One PDF from the parallel jobs' pieces: pages in book order, one outline, named destinations, links,
page labels and the document's metadata, as a whole-book XeLaTeX run writes them.

Each piece is a job's PDF (``latex/parallel``); a unit's pages are taken from the piece of its last
run. Named destinations are taken with the pages they point to; a name two pieces both define (the
per-page ``page.N`` anchors, anchors numbered by a counter each job starts afresh) keeps its plain
name in the first and is renamed in the others, together with the links and bookmarks of those
pieces that use it, so every link goes where it went in its own piece. The bookmarks are nested by
level across pieces (a chapter under the part a previous piece opened), the levels coming from the
contents lines of the units' .aux files (part −1, chapter 0, section 1 … as hyperref numbers them),
and the back matter starts again at the root (book.tex's ``\\bookmarksetup{startatroot}``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from bookgen.fsutil import atomic_path
from bookgen.latex.fontmerge import merge_font_subsets

LEVELS = {"part": -1, "chapter": 0, "section": 1, "subsection": 2, "subsubsection": 3}


@dataclass(frozen=True)
class PageSpan:
    """Pages of one unit: ``count`` pages from ``first`` of ``piece`` (the first ``blank_taken`` of them
    blank), after ``blanks`` new blank pages; ``back`` when the unit belongs to the back matter. Blank
    pages take the folio after the page before them (a \\mainmatter blank is still roman), the unit's
    first page has folio ``folio``."""

    unit: str
    piece: Path
    first: int
    count: int
    blanks: int = 0
    back: bool = False
    style: str = "/D"  # the folios' /PageLabels style: /D arabic, /r roman
    folio: int = 1  # the folio of the unit's first page after the blank ones
    blank_taken: int = 0  # of the ``count`` pages, the blank ones the unit opens with


@dataclass
class _Source:
    pdf: pikepdf.Pdf
    label: str  # a suffix for the names it must rename
    dests: dict[str, pikepdf.Object]  # its named destinations: [page /XYZ left top zoom]
    renamed: dict[str, str]  # its names that another piece took first → their new names


def _name(value: object) -> str | None:
    return str(value) if isinstance(value, pikepdf.String | pikepdf.Name) else None


def merge_pieces(spans: list[PageSpan], levels: dict[str, int], target: Path, deterministic: bool = True) -> int:
    """Write the book ``target`` from ``spans`` (book order); ``levels``: anchor name → bookmark level
    (names not in it: 0); ``deterministic``: the file ID from the content (reproducible builds).
    Returns the page count."""
    merged = pikepdf.new()
    sources: dict[Path, _Source] = {}
    owner: dict[str, str] = {}  # merged name → the piece label that defines it
    new_dests: dict[str, pikepdf.Object] = {}
    label_runs: list[tuple[str, int]] = []
    page_of: dict[tuple[str, tuple[int, int]], pikepdf.Page] = {}  # (piece label, page objgen) → merged page
    taken: list[tuple[_Source, pikepdf.Page, pikepdf.Page]] = []  # (source, source page, merged page)
    outline_items: list[tuple[_Source, pikepdf.Object, int, bool]] = []

    try:
        for span in spans:
            if span.piece not in sources:
                pdf = pikepdf.open(span.piece)
                dests = {}
                if "/Names" in pdf.Root and "/Dests" in pdf.Root.Names:
                    dests = {str(k): v for k, v in pikepdf.NameTree(pdf.Root.Names.Dests).items()}
                sources[span.piece] = _Source(pdf, f"p{len(sources)}", dests, {})
            source = sources[span.piece]
            content = [source.pdf.pages[span.first + i] for i in range(span.count)]
            for _ in range(span.blanks):
                model = content[0] if content else source.pdf.pages[0]
                merged.add_blank_page(page_size=(float(model.mediabox[2]), float(model.mediabox[3])))
                blank = merged.pages[-1]
                for box in ("/TrimBox", "/BleedBox", "/CropBox", "/ArtBox"):
                    if box in model.obj:
                        blank.obj[box] = pikepdf.Array(list(model.obj[box]))
                style, number = label_runs[-1] if label_runs else (span.style, 0)
                label_runs.append((style, number + 1))
            for index, page in enumerate(content):
                merged.pages.append(page)
                copy = merged.pages[-1]
                page_of[(source.label, page.obj.objgen)] = copy
                taken.append((source, page, copy))
                if index < span.blank_taken:
                    style, number = label_runs[-1] if label_runs else (span.style, 0)
                    label_runs.append((style, number + 1))
                else:
                    label_runs.append((span.style, span.folio + index - span.blank_taken))
            # the outline items whose destination is on the span's pages
            on_pages = {page.obj.objgen for page in content}
            for item, depth in _walk(source.pdf):
                on = _dest_page(source, item)
                if on is not None and on.objgen in on_pages:
                    outline_items.append((source, item, depth, span.back))
        # named destinations of the taken pages; clashes renamed in the later piece
        for source in sources.values():
            for name, dest in source.dests.items():
                if not isinstance(dest, pikepdf.Array) or not len(dest) or (source.label, dest[0].objgen) not in page_of:
                    continue
                on_page = page_of[(source.label, dest[0].objgen)]
                final = name
                if name in owner and owner[name] != source.label:
                    final = f"{name}@{source.label}"
                    source.renamed[name] = final
                owner[final] = source.label
                new_dests[final] = pikepdf.Array(
                    [
                        on_page.obj,
                        *[merged.copy_foreign(v) if isinstance(v, pikepdf.Object) and v.is_indirect else v for v in list(dest)[1:]],
                    ]
                )
        _links(taken)
        merged.Root.Names = merged.make_indirect(pikepdf.Dictionary(Dests=merged.make_indirect(pikepdf.Dictionary())))
        tree = pikepdf.NameTree.new(merged)
        for name in sorted(new_dests):
            tree[name] = new_dests[name]
        merged.Root.Names.Dests = tree.obj
        _outline(merged, outline_items, levels)
        _labels(merged, label_runs)
        first = next(iter(sources.values()), None)
        if first is not None:
            for key in ("/Lang", "/ViewerPreferences", "/PageMode"):
                if key in first.pdf.Root:
                    value = first.pdf.Root[key]
                    is_container = isinstance(value, pikepdf.Dictionary | pikepdf.Array)
                    merged.Root[key] = merged.copy_foreign(first.pdf.make_indirect(value)) if is_container else value
            merged.Root.OpenAction = pikepdf.Array([merged.pages[0].obj, pikepdf.Name.Fit])
            for key, value in first.pdf.docinfo.items():
                merged.docinfo[key] = value
        merge_font_subsets(merged)  # one subset per font, not one per job
        with atomic_path(target) as tmp:
            merged.save(tmp, deterministic_id=deterministic, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return len(merged.pages)
    finally:
        for source in sources.values():
            source.pdf.close()


def _walk(pdf: pikepdf.Pdf) -> list[tuple[pikepdf.Object, int]]:
    """Every outline item of ``pdf`` with its depth below the root, in reading order."""
    out: list[tuple[pikepdf.Object, int]] = []

    def visit(item: pikepdf.Object | None, depth: int) -> None:
        while item is not None:
            out.append((item, depth))
            if "/First" in item:
                visit(item.First, depth + 1)
            item = item.get("/Next")

    if "/Outlines" in pdf.Root and "/First" in pdf.Root.Outlines:
        visit(pdf.Root.Outlines.First, 0)
    return out


def _target_name(item: pikepdf.Object) -> str | None:
    if "/A" in item and item.A.get("/S") == pikepdf.Name.GoTo:
        return _name(item.A.get("/D"))
    return _name(item.get("/Dest"))


def _dest_page(source: _Source, item: pikepdf.Object) -> pikepdf.Object | None:
    name = _target_name(item)
    dest = source.dests.get(name) if name else None
    return dest[0] if isinstance(dest, pikepdf.Array) and len(dest) else None


def _links(taken: list[tuple[_Source, pikepdf.Page, pikepdf.Page]]) -> None:
    """Links that name a destination their piece had to rename use the new name."""
    for source, _, copy in taken:
        if not source.renamed:
            continue
        for annotation in copy.obj.get("/Annots", []):
            action = annotation.get("/A")
            if action is not None and action.get("/S") == pikepdf.Name.GoTo:
                name = _name(action.get("/D"))
                if name in source.renamed:
                    action.D = pikepdf.String(source.renamed[name])
            name = _name(annotation.get("/Dest"))
            if name in source.renamed:
                annotation.Dest = pikepdf.String(source.renamed[name])


def _outline(merged: pikepdf.Pdf, items: list[tuple[_Source, pikepdf.Object, int, bool]], levels: dict[str, int]) -> None:
    """The bookmarks, nested by level: a piece's top items get their level from ``levels``, the items
    below them one more per step down; the back matter starts at the root again."""
    root = pikepdf.Dictionary(Type=pikepdf.Name.Outlines)
    root_ref = merged.make_indirect(root)
    stack: list[tuple[float, pikepdf.Dictionary]] = [(float("-inf"), root_ref)]
    children: dict[tuple[int, int], list[pikepdf.Dictionary]] = {root_ref.objgen: []}
    open_items: dict[tuple[int, int], bool] = {}
    top_level = 0.0
    in_back = False
    for source, item, depth, back in items:
        if back and not in_back:
            in_back = True
            del stack[1:]
        name = _target_name(item)
        if depth == 0:
            top_level = levels.get(name or "", 0)
        level = top_level + depth
        while len(stack) > 1 and stack[-1][0] >= level:
            stack.pop()
        parent = stack[-1][1]
        new = merged.make_indirect(pikepdf.Dictionary(Title=pikepdf.String(str(item.Title)), Parent=parent))
        final = source.renamed.get(name or "", name)
        if final is not None:
            new.A = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.String(final))
        open_items[new.objgen] = int(item.get("/Count", 0)) >= 0
        children.setdefault(parent.objgen, []).append(new)
        children[new.objgen] = []
        stack.append((level, new))

    def link(node: pikepdf.Dictionary) -> int:
        """Chain the node's children; the items visible below it when it is open."""
        kids = children.get(node.objgen, [])
        visible = 0
        for previous, kid in itertools.pairwise(kids):
            kid.Prev = previous
            previous.Next = kid
        for kid in kids:
            below = link(kid)
            visible += 1 + (below if open_items.get(kid.objgen, True) else 0)
        if kids:
            node.First, node.Last = kids[0], kids[-1]
            if node.objgen != root_ref.objgen:
                node.Count = visible if open_items.get(node.objgen, True) else -visible
        return visible

    total = link(root_ref)
    root_ref.Count = total
    merged.Root.Outlines = root_ref


def _labels(merged: pikepdf.Pdf, runs: list[tuple[str, int]]) -> None:
    """/PageLabels (PDF 32000-1 §12.4.2): a new range wherever the style changes or the numbers do not run on."""
    nums: list[object] = []
    previous: tuple[str, int] | None = None
    for index, (style, number) in enumerate(runs):
        if previous is None or style != previous[0] or number != previous[1] + 1:
            entry = pikepdf.Dictionary(S=pikepdf.Name(style))
            if number != 1:
                entry.St = number
            nums += [index, entry]
        previous = (style, number)
    merged.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(nums))
