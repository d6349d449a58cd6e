"""Math and markup: formulas that will not compile or convert, stray emphasis markers, images."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from bookgen.epub.accessibility import has_alt
from bookgen.errors import Location
from bookgen.latex.typeset import tex_environment
from bookgen.model.book import FONT_SIZES, Book, dimension_bp
from bookgen.sources.assemble import walk_blocks
from bookgen.sources.convert import Converted, image_problems, line_of
from bookgen.sources.reading import Source
from bookgen.tools import PANDOC_DATA_DIR, pandoc_env, pandoc_path, require

from .context import CheckContext

MATHML_SCRIPT = PANDOC_DATA_DIR / "mathml.lua"
_ERROR = re.compile(r"^\./formulas\.tex:(\d+): (.*)$", re.M)
MIN_DPI = 300


def _formulas(elements: list[dict]) -> list[tuple[bool, str]]:
    return [(element["c"][0]["t"] == "DisplayMath", element["c"][1]) for element in elements if element["t"] == "Math"]


def check_markup(ctx: CheckContext, sources: dict[str, Source], converted: dict[str, Converted], with_math: bool,
                 wanted: Callable[[str], bool] = lambda code: True) -> None:
    """M001–M005; ``wanted`` leaves out rules by code (build's pre-check wants only those that give errors)."""
    by_id = {f.node.id: f for f in ctx.files if f.node is not None}
    formulas: list[tuple[str, str, bool, str]] = []  # display path, source text, display?, tex
    walk_ast = (with_math and wanted("M001")) or wanted("M002") or wanted("M004") or wanted("M005")
    for node_id, result in converted.items():
        source = sources[node_id]
        display = by_id[node_id].display
        if wanted("M003"):
            for message, where in image_problems(ctx.book, source, result):
                ctx.report("M003", display, where.line or 1, 1, message)
        elements = list(walk_blocks(result.ast["blocks"])) if walk_ast else []  # one walk for all three rules
        if wanted("M002"):
            _emphasis(ctx, display, source.text, elements)
        if wanted("M004"):
            _image_resolution(ctx, display, source, elements)
        if wanted("M005"):
            for message, where in images_without_alt(ctx.book, source, elements):
                ctx.report("M005", display, where.line or 1, where.column or 1, message)
        formulas += [(display, source.text, is_display, tex) for is_display, tex in _formulas(elements)]
    if with_math and formulas and wanted("M001"):
        _math(ctx, formulas)


def _emphasis(ctx: CheckContext, display: str, text: str, elements: list[dict]) -> None:
    for element in elements:
        if element["t"] == "Str" and ("**" in element["c"] or re.search(r"(^|[^\w])\*|\*($|[^\w])", element["c"])):
            line = line_of(text, element["c"]) or 1
            column = text.split("\n")[line - 1].find(element["c"]) + element["c"].find("*") + 1
            ctx.report("M002", display, line, max(column, 1), f"'{element['c']}': the emphasis marker is not closed and prints literally")


def images_without_alt(book: Book, source: Source, elements: list[dict]) -> list[tuple[str, Location]]:
    """Images of a section (its AST ``elements``) with no alternative text, at their ``![`` in the Markdown:
    an EPUB reader's screen reader has nothing to say for them (EPUB Accessibility 1.1, WCAG 1.1.1).
    A caption counts (pandoc makes it the alt text); an empty one does not."""
    found = []
    display = Path(book.root.name) / (source.node.file or "")
    searched_from = 0
    for element in elements:
        if element["t"] != "Image" or has_alt(element):
            continue
        src = element["c"][2][0]
        empty = re.compile(r"!\[\s*\]\([^)]*" + re.escape(Path(src).name))
        match = empty.search(source.text, searched_from) or empty.search(source.text)
        if match:
            searched_from = match.end()
            line = source.text.count("\n", 0, match.start()) + 1
            where = Location(display, line, match.start() - source.text.rfind("\n", 0, match.start()))
        else:
            where = Location(display, line_of(source.text, Path(src).name) or 1, 1)
        message = f"image '{src}' has no alternative text: write it between the brackets, ![描述]({Path(src).name}), or give {{alt=\"…\"}}"
        found.append((message, where))
    return found


def _image_resolution(ctx: CheckContext, display: str, source: Source, elements: list[dict]) -> None:
    layout = ctx.book.layout
    text_width_in = layout.chars_per_line * FONT_SIZES[layout.font_size][1] / 72
    for element in elements:
        if element["t"] != "Image":
            continue
        src = element["c"][2][0]
        path = ctx.book.root / src
        if not path.is_file():
            continue
        from PIL import Image  # here: most books' pre-checks meet no image

        try:
            with Image.open(path) as image:
                pixels = image.size[0]
                native_dpi = float((image.info.get("dpi") or (72, 72))[0]) or 72.0
        except OSError:
            continue  # not a raster image (PDF, SVG): resolution does not apply
        width = dict(element["c"][0][2]).get("width", "")
        if width.endswith("%"):
            printed_in = text_width_in * float(width[:-1]) / 100
        elif re.match(r"^\d+(\.\d+)?(mm|cm|in|pt|bp)$", width):
            printed_in = dimension_bp(width) / 72
        else:
            printed_in = min(pixels / native_dpi, text_width_in)  # natural size, scaled down to the text block
        dpi = pixels / printed_in
        if dpi < MIN_DPI:
            line = line_of(source.text, Path(src).name) or 1
            ctx.report("M004", display, line, 1, f"image '{src}' prints at {dpi:.0f} dpi ({pixels} px over {printed_in * 25.4:.0f} mm); print needs {MIN_DPI}")


def _math(ctx: CheckContext, formulas: list[tuple[str, str, bool, str]]) -> None:
    def place(index: int) -> tuple[str, int]:
        display, text, _, tex = formulas[index]
        return display, line_of(text, tex.strip().split("\n")[0].strip()) or 1

    problems: dict[int, str] = {}  # one finding per formula: a TeX error first, else a MathML failure
    fonts = ctx.book.fonts
    lines = [r"\documentclass{article}", r"\usepackage{amsmath}", r"\usepackage{unicode-math}", r"\usepackage{xeCJK}",
             rf"\setmathfont{{{fonts.math}}}", rf"\setCJKmainfont{{{fonts.serif_cjk}}}", r"\begin{document}"]
    starts = []
    for _, _, is_display, tex in formulas:
        starts.append(len(lines) + 1)
        body = tex.replace("\n", " ")
        lines.append(rf"\setbox0\vbox{{\hsize=15cm \[{body}\]}}" if is_display else rf"\setbox0\hbox{{\({body}\)}}")
    lines.append(r"\end{document}")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "formulas.tex").write_text("\n".join(lines) + "\n", encoding="utf-8")
        proc = subprocess.run([require("xelatex", "texlive-xetex"), "-no-pdf", "-interaction=nonstopmode", "-file-line-error",
                               "-no-shell-escape", "formulas.tex"], cwd=tmp, env=tex_environment(Path(tmp)), capture_output=True, timeout=300)
        log = Path(tmp, "formulas.log").read_text(encoding="utf-8", errors="replace") if Path(tmp, "formulas.log").exists() else ""
    for match in _ERROR.finditer(log):
        tex_line = int(match.group(1))
        index = next((i for i in range(len(starts) - 1, -1, -1) if starts[i] <= tex_line), None)
        if index is not None and index not in problems:
            problems[index] = f"does not compile: {match.group(2).strip()}"
    request = json.dumps({"formulas": [{"display": d, "tex": t} for _, _, d, t in formulas]}, ensure_ascii=False)
    proc = subprocess.run([pandoc_path(), "lua", str(MATHML_SCRIPT)], input=request.encode(), capture_output=True, timeout=120, env=pandoc_env())
    if proc.returncode == 0:
        for index, ok in enumerate(json.loads(proc.stdout)):
            if not ok and index not in problems:
                problems[index] = "cannot be turned into MathML: the EPUB would show raw TeX"
    for index, problem in sorted(problems.items()):
        display, line = place(index)
        ctx.report("M001", display, line, 1, f"formula '{formulas[index][3].strip()[:40]}' {problem}")
