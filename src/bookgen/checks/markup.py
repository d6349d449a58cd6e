"""Math and markup: formulas that will not compile or convert, stray emphasis markers, images."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from bookgen.epub.accessibility import has_alt
from bookgen.errors import Location
from bookgen.model.book import Book
from bookgen.model.lengths import Length
from bookgen.sources.ast import walk_blocks
from bookgen.sources.convert import Converted, image_problems, line_of
from bookgen.sources.reading import Source
from bookgen.textrules import CJK_CHAR
from bookgen.tools import PANDOC_DATA_DIR, pandoc_env, pandoc_path, run_tool

from .context import CheckContext
from .model import Fix

MATHML_SCRIPT = PANDOC_DATA_DIR / "mathml.lua"
_ERROR = re.compile(r"^\./formulas\.tex:(\d+): (.*)$", re.MULTILINE)  # -file-line-error
MIN_DPI = 300


def _formulas(elements: list[dict]) -> list[tuple[bool, str]]:
    return [(element["c"][0]["t"] == "DisplayMath", element["c"][1]) for element in elements if element["t"] == "Math"]


def check_markup(
    ctx: CheckContext,
    sources: dict[str, Source],
    converted: dict[str, Converted],
    with_math: bool,
    wanted: Callable[[str], bool] = lambda code: True,
) -> None:
    """M001–M007; ``wanted`` leaves out rules by code (build's pre-check wants only those that give errors)."""
    by_id = {f.node.id: f for f in ctx.files if f.node is not None}
    formulas: list[tuple[str, str, bool, str]] = []  # display path, source text, display?, tex
    checked = {f.node.id for f in ctx.checked if f.node is not None}
    every_formula = with_math and wanted("M001")  # M001 reads all the book's formulas (one XeLaTeX run)
    walk_ast = every_formula or any(wanted(code) for code in ("M002", "M004", "M005", "M006", "M007", "M009"))
    for node_id, result in converted.items():
        if node_id not in checked and not every_formula:
            continue
        source = sources[node_id]
        display = by_id[node_id].display
        elements = list(walk_blocks(result.ast["blocks"])) if walk_ast else []  # one walk for all the rules
        formulas += [(display, source.text, is_display, tex) for is_display, tex in _formulas(elements)]
        if node_id not in checked:
            continue
        if wanted("M003"):
            for message, where in image_problems(ctx.book, source, result):
                ctx.report("M003", display, where.line or 1, 1, message)
        if wanted("M002"):
            _emphasis(ctx, display, source.text, elements)
        if wanted("M006"):
            _underscore_emphasis(ctx, display, source.text, elements)
        if wanted("M004"):
            _image_resolution(ctx, display, source, elements)
        if wanted("M007"):
            for message, where in images_without_alt(ctx.book, source, elements):
                ctx.report("M007", display, where.line or 1, where.column or 1, message)
        if wanted("M008") or wanted("M009"):
            for code, message, where in raw_markup(source.text, result, elements):
                if wanted(code):
                    ctx.report(code, display, where.line or 1, where.column or 1, message)
    if wanted("M005"):
        checked_displays = {f.display for f in ctx.checked}
        for display, text, _, tex in formulas:
            problem = formula_structure(tex) if display in checked_displays else None
            if problem:
                line = line_of(text, tex.strip().split("\n")[0].strip()) or 1
                column = text.split("\n")[line - 1].find(tex.strip().split("\n")[0].strip()) + 1
                ctx.report(
                    "M005", display, line, max(column, 1), f"formula '{' '.join(tex.split())[:40]}' {problem}: TeX would stop far from here"
                )
    if with_math and formulas and wanted("M001"):
        _math(ctx, formulas, converted)


_ENVIRONMENT = re.compile(r"\\(begin|end)\s*\{([^}]*)\}")


def formula_structure(tex: str) -> str | None:
    """What is unclosed in a TeX formula — a brace, \\left without \\right, \\begin{x} without \\end{x} —
    or None. Found without TeX, so the build's pre-check catches what would otherwise end in "File ended
    while scanning use of \\frac" at the end of the chapter (escaped \\{ \\} are not braces)."""
    depth = 0
    plain = re.sub(r"\\[{}]|\\\\", "", tex)
    for char in plain:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return "closes a brace '}' that was never opened"
    if depth:
        return f"leaves {depth} brace{'s' if depth > 1 else ''} '{{' unclosed"
    lefts, rights = len(re.findall(r"\\left(?![A-Za-z])", plain)), len(re.findall(r"\\right(?![A-Za-z])", plain))
    if lefts != rights:
        return f"has {lefts} \\left and {rights} \\right"
    open_environments: list[str] = []
    for side, name in _ENVIRONMENT.findall(plain):
        if side == "begin":
            open_environments.append(name)
        elif not open_environments or open_environments.pop() != name:
            return f"ends \\end{{{name}}} that is not the one open"
    if open_environments:
        return f"leaves \\begin{{{open_environments[-1]}}} without its \\end"
    return None


def _emphasis(ctx: CheckContext, display: str, text: str, elements: list[dict]) -> None:
    for element in elements:
        if element["t"] == "Str" and ("**" in element["c"] or re.search(r"(^|[^\w])\*|\*($|[^\w])", element["c"])):
            line = line_of(text, element["c"]) or 1
            column = text.split("\n")[line - 1].find(element["c"]) + element["c"].find("*") + 1
            ctx.report("M002", display, line, max(column, 1), f"'{element['c']}': the emphasis marker is not closed and prints literally")


_UNDERSCORE_EMPHASIS = re.compile(r"(?<!_)(__?)(?=[^\s_])([^_]*?[^\s_])\1(?!_)")


def _underscore_emphasis(ctx: CheckContext, display: str, text: str, elements: list[dict]) -> None:
    """M006: ``__粗体__`` or ``_斜体_`` touching a Chinese character is not emphasis to pandoc (underscores
    inside a word are literal, and CJK counts as word characters), so it prints with its underscores.
    ``**``/``*`` work there; the fix swaps the markers. Latin identifiers (max_length, __init__) are left alone."""
    lines = text.split("\n")
    for element in elements:
        if element["t"] != "Str" or "_" not in element["c"]:
            continue
        for match in _UNDERSCORE_EMPHASIS.finditer(element["c"]):
            if not CJK_CHAR.search(match.group(0)) and not CJK_CHAR.search(element["c"][max(0, match.start() - 1) : match.end() + 1]):
                continue
            line = line_of(text, match.group(0)) or 1
            start = lines[line - 1].find(match.group(0))
            marker = "**" if len(match.group(1)) == 2 else "*"
            ctx.report(
                "M006",
                display,
                line,
                start + 1,
                f"'{match.group(0)}' prints with its underscores beside Chinese; write {marker}{match.group(2)}{marker}",
                Fix(line, start, start + len(match.group(0)), f"{marker}{match.group(2)}{marker}"),
            )


def raw_markup(text: str, converted: Converted, elements: list[dict]) -> list[tuple[str, str, Location]]:
    """(rule, message, where) for raw markup one output drops: M008 for each raw HTML tag the PDF cannot
    render (convert.lua lists them: ``Converted.unprinted``; sub, sup, ruby, kbd, mark, br, em, … print),
    M009 for raw LaTeX (```\\x`{=latex}``, a bare ``\\newpage``), which the EPUB leaves out. ``where``
    is the first occurrence at or after the previous one (line and 1-based column), or line 1."""
    found = []
    searched_from = 0

    def where(typed: str) -> Location:
        nonlocal searched_from
        at = text.find(typed, searched_from)
        at = at if at >= 0 else text.find(typed)
        if at < 0:
            return Location("", 1, 1)
        searched_from = at + len(typed)
        return Location("", text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at))

    for tag in converted.unprinted:
        first = tag.strip().split("\n")[0]
        found.append(
            (
                "M008",
                f"raw HTML '{first[:40]}' does not print in the PDF (its text does): "
                "use Markdown, or sub, sup, ruby, kbd, mark, br, em, strong, u, s, code",
                where(first),
            )
        )
    searched_from = 0
    for element in elements:
        if element["t"] in ("RawInline", "RawBlock") and element["c"][0] in ("latex", "tex"):
            first = element["c"][1].strip().split("\n")[0]
            found.append(("M009", f"raw LaTeX '{first[:40]}' prints in the PDF only: the EPUB leaves it out", where(first)))
    return found


def images_without_alt(book: Book, source: Source, elements: list[dict]) -> list[tuple[str, Location]]:
    """Images of a section (its AST ``elements``) with no alternative text, at their ``![`` in the Markdown:
    an EPUB reader's screen reader has nothing to say for them (EPUB Accessibility 1.1, WCAG 1.1.1).
    A caption counts (pandoc makes it the alt text); an empty one does not."""
    found = []
    display = book.display(source.node.file or "")
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
    text_width_in = ctx.book.geometry.text_width / 25.4
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
            printed_in = Length.parse(width).inches
        else:
            printed_in = min(pixels / native_dpi, text_width_in)  # natural size, scaled down to the text block
        dpi = pixels / printed_in
        if dpi < MIN_DPI:
            line = line_of(source.text, Path(src).name) or 1
            ctx.report(
                "M004",
                display,
                line,
                1,
                f"image '{src}' prints at {int(dpi)} dpi ({pixels} px over {printed_in * 25.4:.0f} mm); print needs {MIN_DPI}",
            )


def _math(ctx: CheckContext, formulas: list[tuple[str, str, bool, str]], converted: dict[str, Converted]) -> None:
    """M001: each formula through the book's own class and preamble (one XeLaTeX run for all) and through
    pandoc's MathML writer (one run for all); one finding per formula, a TeX error first.

    Raises ToolError when XeLaTeX or pandoc is missing, times out, or pandoc fails.
    """
    # Jinja, pylatex and the TeX runner are imported only when there is math to check.
    from bookgen.latex.render import FORMULA_MARK, render_formulas
    from bookgen.latex.typeset import tex_environment

    def place(index: int) -> tuple[str, int]:
        display, text, _, tex = formulas[index]
        return display, line_of(text, tex.strip().split("\n")[0].strip()) or 1

    problems: dict[int, str] = {}
    document = render_formulas(ctx.book, converted, [(is_display, tex) for _, _, is_display, tex in formulas])
    formula_of_line = {
        number: int(line.rsplit(FORMULA_MARK, 1)[1]) for number, line in enumerate(document.split("\n"), 1) if FORMULA_MARK in line
    }
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "formulas.tex").write_text(document, encoding="utf-8")
        run_tool(
            ["xelatex", "-no-pdf", "-interaction=nonstopmode", "-file-line-error", "-no-shell-escape", "formulas.tex"],
            "the book's formulas",
            check=False,
            cwd=Path(tmp),
            env=tex_environment(Path(tmp)),
            timeout=300,
            package="texlive-xetex",
        )
        log = Path(tmp, "formulas.log").read_text(encoding="utf-8", errors="replace") if Path(tmp, "formulas.log").exists() else ""
    for match in _ERROR.finditer(log):
        index = formula_of_line.get(int(match.group(1)))  # errors in the preamble are the build's to report
        if index is not None and index not in problems:
            problems[index] = f"does not compile: {match.group(2).strip()}"
    request = json.dumps({"formulas": [{"display": d, "tex": t} for _, _, d, t in formulas]}, ensure_ascii=False)
    proc = run_tool([pandoc_path(), "lua", str(MATHML_SCRIPT)], "the book's formulas", input=request, timeout=120, env=pandoc_env())
    for index, ok in enumerate(json.loads(proc.stdout)):
        if not ok and index not in problems:
            problems[index] = "cannot be turned into MathML: the EPUB would show raw TeX"
    for index, problem in sorted(problems.items()):
        display, line = place(index)
        ctx.report("M001", display, line, 1, f"formula '{' '.join(formulas[index][3].split())[:40]}' {problem}")  # one line
