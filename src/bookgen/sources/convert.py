"""Stage 3: Markdown → LaTeX fragments and pandoc AST (for the EPUB), one section at a time.

Each section is converted on its own, so its result can be cached under a key made of its text,
the conversion settings and the tool versions: an edit re-converts only the edited section.
All sections that need converting go to one ``pandoc lua`` process per worker.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bookgen import __version__
from bookgen.errors import Location, ManuscriptError, ToolError
from bookgen.fsutil import write_atomic
from bookgen.model.book import Book, Node
from bookgen.sources.reading import Source, source_nodes
from bookgen.tools import PANDOC_DATA_DIR, pandoc_env, pandoc_identity, pandoc_path
from bookgen.xref.kinds import RefKind

# Pandoc's Markdown; "smart" off so “” stay CJK quotes, "latex_macros" off so raw TeX reaches TeX untouched;
# no title block or YAML metadata in a section (a first line "% …" or a "---" block would vanish: it prints);
# ==highlight== marks text (convert.lua prints it in both outputs).
READER = "markdown-smart-latex_macros-pandoc_title_block-yaml_metadata_block+east_asian_line_breaks+mark"
LUA_SCRIPT = PANDOC_DATA_DIR / "convert.lua"
REFS_SCRIPT = PANDOC_DATA_DIR / "refs.lua"  # loaded by convert.lua
INDEX_SCRIPT = PANDOC_DATA_DIR / "index.lua"  # loaded by convert.lua
PANDOC_TIMEOUT = 300


@dataclass(frozen=True)
class Converted:
    """One section in both target forms. ``ast`` is pandoc JSON (a whole document)."""

    latex: str
    ast: dict
    plain: str
    images: tuple[str, ...]
    xref: dict  # refs.lua's summary: {"targets", "references", "citations": [...]} in document order (bookgen.xref),
    # and "index": index.lua's {"marks": [...], "terms": [...]} (bookgen.index)
    unprinted: tuple[str, ...] = ()  # raw HTML tags the PDF cannot render, as typed (the EPUB has them)


@dataclass
class ConvertStats:
    converted: int = 0
    cached: int = 0


def _request_item(book: Book, node: Node, source: Source) -> dict:
    """What pandoc needs to convert one section; also the cache key's content."""
    base = str(PurePosixPath(node.file).parent) if node.file else ""
    return {
        "key": node.id,
        "text": source.text,
        "base": "" if base == "." else base,
        # A section file's "#" is the level below its section (1.1.1); other files keep their levels.
        "shift": 1 if node.kind.is_section else 0,
        "unnumbered": not node.kind.is_section,
        "prefix": node.id + "-",
        "xref_prefixes": [kind.value for kind in RefKind],
        "citations": bool(book.bibliography.files),  # @key is a citation only in a book with a bibliography
    }


def cache_key(item: dict) -> str:
    digest = hashlib.sha256()
    scripts = [script.read_text(encoding="utf-8") for script in (LUA_SCRIPT, REFS_SCRIPT, INDEX_SCRIPT)]
    for part in (__version__, pandoc_identity(), READER, *scripts):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(json.dumps(item, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def convert_sources(book: Book, sources: dict[str, Source], cache_dir: Path, jobs: int = 2) -> tuple[dict[str, Converted], ConvertStats]:
    """Converted sections by node id, from the cache where possible."""
    stats = ConvertStats()
    results: dict[str, Converted] = {}
    pending: list[tuple[dict, Path]] = []
    for node_id, source in sources.items():
        if not source.written:
            continue
        item = _request_item(book, source.node, source)
        entry_path = cache_dir / "convert" / f"{cache_key(item)}.json"
        cached = _read_cache(entry_path)
        if cached is not None:
            results[node_id] = cached
            stats.cached += 1
        else:
            pending.append((item, entry_path))
    if pending:
        chunks = [pending[i::jobs] for i in range(min(jobs, len(pending)))]
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            for chunk_result in pool.map(_run_pandoc, [[item for item, _ in chunk] for chunk in chunks]):
                for key, converted in chunk_result.items():
                    if isinstance(converted, str):
                        node = sources[key].node
                        raise ManuscriptError(f"pandoc cannot convert this section: {converted}", Location(book.display(node.file or "")))
                    results[key] = converted
        for item, entry_path in pending:
            converted = results[item["key"]]
            entry = {
                "latex": converted.latex,
                "ast": converted.ast,
                "plain": converted.plain,
                "images": converted.images,
                "xref": converted.xref,
                "unprinted": converted.unprinted,
            }
            write_atomic(entry_path, json.dumps(entry, ensure_ascii=False))  # not asdict(): it deep-copies the AST
            stats.converted += 1
    # in the sources' (reading) order, whichever came from the cache: what walks them in this order (the
    # 图目录 and 表目录) must not print differently after an edit
    return {node_id: results[node_id] for node_id in sources if node_id in results}, stats


def _read_cache(path: Path) -> Converted | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Converted(data["latex"], data["ast"], data["plain"], tuple(data["images"]), data["xref"], tuple(data["unprinted"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged entry: convert again


def _run_pandoc(items: list[dict]) -> dict[str, Converted | str]:
    """Converted sections by key; a section pandoc cannot convert maps to its error message."""
    request = json.dumps({"reader": READER, "items": items}, ensure_ascii=False)
    try:
        proc = subprocess.run(
            [pandoc_path(), "lua", str(LUA_SCRIPT)],
            input=request.encode("utf-8"),
            capture_output=True,
            timeout=PANDOC_TIMEOUT,
            env=pandoc_env(),
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"pandoc did not finish converting {len(items)} sections within {PANDOC_TIMEOUT} s") from None
    if proc.returncode != 0:
        raise ToolError("pandoc failed: " + proc.stderr.decode("utf-8", "replace").strip().splitlines()[0])
    reply = json.loads(proc.stdout)
    out: dict[str, Converted | str] = {}
    for key, result in reply["items"].items():
        if "error" in result:
            out[key] = result["error"].strip().splitlines()[0]
            continue
        out[key] = Converted(
            result["latex"], json.loads(result["ast"]), result["plain"], tuple(result["images"]), result["xref"], tuple(result["unprinted"])
        )
    return out


def image_problems(book: Book, source: Source, converted: Converted) -> list[tuple[str, Location]]:
    """Images a section shows that are not files inside the manuscript: (message, where)."""
    display = book.display(source.node.file or "")
    root = book.root.resolve()
    problems = []
    for src in converted.images:
        where = Location(display, image_line(source.text, src))
        if "://" in src:
            problems.append((f"image '{src}' is a URL; put the file into the manuscript (books are built offline)", where))
        elif src.startswith("/") or src.startswith(".."):
            problems.append((f"image '{src}' lies outside the manuscript directory", where))
        elif not (book.root / src).resolve().is_relative_to(root):
            problems.append((f"image '{src}' leads out of the manuscript directory (through a symbolic link)", where))
        elif not (book.root / src).is_file():
            problems.append((f"image '{src}' not found", where))
    return problems


def image_line(text: str, src: str) -> int | None:
    """The line of ``text`` that shows the image ``src`` (a manuscript path): its file name as typed,
    percent-encoded (示意%20图.png) or inside <…> — every spelling CommonMark allows."""
    name = PurePosixPath(src).name
    for spelling in (name, urllib.parse.quote(name), name.replace(" ", "%20")):
        line = line_of(text, spelling)
        if line:
            return line
    return None


def line_of(text: str, needle: str) -> int | None:
    """The first line of ``text`` that contains ``needle`` (to point at a construct pandoc found)."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return None


def abstract_text(book: Book, converted: dict[str, Converted]) -> str:
    """The abstract as plain text: inline in book.yaml, or its Markdown file as converted (an outline
    entry's or a file of its own: sources.reading.source_nodes); '' for an unwritten file."""
    abstract = book.metadata.abstract
    for node in source_nodes(book):
        if node.file == abstract and node.id in converted:
            return " ".join(converted[node.id].plain.split())
    return "" if abstract.endswith(".md") else abstract
