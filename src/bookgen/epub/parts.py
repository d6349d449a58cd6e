"""The EPUB from per-chapter parts: an edit rewrites its chapter's XHTML only, and the package is re-zipped.

The assembled book (``assemble``) is cut where pandoc's EPUB writer splits it into files: before every
heading of the chapter level or above (parts, chapters, front and back matter, 附录). Each piece (a
*part* here) becomes one content document, ``text/chNNN.xhtml``, written by pandoc from that piece
alone (behind a throw-away level-1 heading, so pandoc adds no title heading of its own) and finished
(``package.finish_content``: numbered notes, th scope, MathML alttext …). A part is kept in
``<work>/epub/parts/`` under the digest of everything that reaches its text: its blocks (numbers,
captions, resolved cross-references, citations, index entries and page-break markers are already in
them), its file name, where its links point (an ``#id`` in another part is written as
``chNNN.xhtml#id`` before pandoc sees it), its images' files, the stylesheet, the footnote style,
pandoc and bookgen. A cold build writes every part (``--jobs`` pandoc processes at a time); an edit
writes the parts whose digest changed.

The package's own files (``content.opf``, ``nav.xhtml``, ``toc.ncx``, the cover and title pages, the
stylesheet) come from one pandoc run over the book's *frame*: every part's headings down to the
contents depth and nothing else, so they change only when titles, the outline or the metadata do
(kept as ``frame.epub`` under its own digest). The manifest then gets each part's properties
(``mathml`` …) and images.

The zip is written here, the same way every time: ``mimetype`` first and stored, then the frame's
entries in pandoc's order with the 版权页 after the 书名页, then the parts' images; every entry dated
with the EPUB's date. So a package made after an edit is byte for byte the package a cold build of
the same manuscript makes. That date (also ``dcterms:modified``) is the reproducible build date
(``SOURCE_DATE_EPOCH``, else book.yaml's ``date``), else the time of the manuscript's newest file:
a build date would make every build differ.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from bookgen import __version__
from bookgen.epub.package import NS, OPF, FinishedDocument, finish_content
from bookgen.errors import BookgenError
from bookgen.fsutil import write_atomic
from bookgen.tools import PANDOC_DATA_DIR, pandoc_api_version, pandoc_env, pandoc_identity, pandoc_path, run_tool

PARTS_FORMAT = 1  # raise when a part's making changes: every cached part is then written again
TEXT_DIR = "EPUB/text"
_ATTR_AT = {"Header": 1, "Div": 0, "Span": 0, "CodeBlock": 0, "Code": 0, "Table": 0, "Figure": 0, "Image": 0, "Link": 0}
_MEDIA = re.compile(rb"\.\./media/(file\d+)")
_DUMMY = {"t": "Header", "c": [1, ["bookgen-part", [], []], [{"t": "Str", "c": "part"}]]}


def split_parts(blocks: list[dict], split_level: int) -> list[list[dict]]:
    """The block list cut before every heading of ``split_level`` or above: one list per content document."""
    parts: list[list[dict]] = []
    for block in blocks:
        if not parts or (block["t"] == "Header" and block["c"][0] <= split_level):
            parts.append([])
        parts[-1].append(block)
    return parts


def part_name(index: int) -> str:
    """The content document of the part at ``index`` (0-based), as pandoc names its files."""
    return f"ch{index + 1:03d}.xhtml"


def _elements(value: Any) -> Iterator[dict]:
    if isinstance(value, dict):
        if "t" in value:
            yield value
        for child in value.values():
            yield from _elements(child)
    elif isinstance(value, list):
        for child in value:
            yield from _elements(child)


def _element_id(element: dict) -> str:
    at = _ATTR_AT.get(element["t"])
    if at is None or not isinstance(element.get("c"), list):
        return ""
    attr = element["c"][at]
    return attr[0] if isinstance(attr, list) and attr and isinstance(attr[0], str) else ""


def resolve_links(parts: list[list[dict]]) -> None:
    """In place: every link to ``#id`` of an element in the book becomes ``chNNN.xhtml#id``, the file that
    holds it (the link from the same file too: pandoc writes those so), so each part can be written alone."""
    where: dict[str, str] = {}
    for index, part in enumerate(parts):
        for element in _elements(part):
            element_id = _element_id(element)
            if element_id:
                where.setdefault(element_id, part_name(index))
    for part in parts:
        for element in _elements(part):
            if element["t"] == "Link":
                target = element["c"][2][0]
                if target.startswith("#") and target[1:] in where:
                    element["c"][2][0] = f"{where[target[1:]]}{target}"


def frame_blocks(parts: list[list[dict]], toc_depth: int) -> list[dict]:
    """The book's frame: each part's headings down to ``toc_depth``, what pandoc's nav and OPF are made from."""
    frame = []
    for part in parts:
        for element in part:
            if element["t"] == "Header" and element["c"][0] <= toc_depth:
                frame.append(element)
    return frame


def newest_change(root: Path) -> int:
    """Seconds since 1970 of the newest file in the manuscript ``root`` (the EPUB's date without a build date)."""
    newest = 0
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            try:
                newest = max(newest, int(os.stat(os.path.join(dirpath, name)).st_mtime))
            except OSError:
                continue
    return newest


# ---------------------------------------------------------------- the parts


@dataclass(frozen=True)
class Settings:
    """What every part's writing depends on besides its own blocks."""

    stylesheet: Path
    resource_root: Path
    language: str
    footnote_style: str

    def key(self) -> dict:
        return {
            "format": PARTS_FORMAT,
            "bookgen": __version__,
            "pandoc": pandoc_identity(),
            "stylesheet": hashlib.sha256(self.stylesheet.read_bytes()).hexdigest(),
            "language": self.language,
            "notes": self.footnote_style,
        }


@dataclass(frozen=True)
class Part:
    """One finished content document and what goes into the package with it."""

    name: str  # ch001.xhtml
    document: FinishedDocument
    properties: str  # the manifest item's properties (mathml, svg …), "" for none
    media: dict[str, bytes]  # its images: file name in media/ → bytes


def _image_stamps(part: list[dict], root: Path) -> list:
    stamps = []
    for element in _elements(part):
        if element["t"] == "Image":
            source = element["c"][2][0]
            try:
                stat = (root / source).stat()
                stamps.append([source, stat.st_size, stat.st_mtime_ns])
            except (OSError, ValueError):
                stamps.append([source, None])
    return stamps


def part_digest(name: str, part: list[dict], settings: Settings, key: dict) -> str:
    text = json.dumps(
        {"key": key, "name": name, "blocks": part, "images": _image_stamps(part, settings.resource_root)},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _store(store: Path, digest: str, part: Part) -> None:
    folder = store / digest
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}.", dir=store))
    try:
        (tmp / "document.xhtml").write_bytes(part.document.data)
        for media_name, data in part.media.items():
            (tmp / f"media-{media_name}").write_bytes(data)
        info = {
            "ids": sorted(part.document.ids),
            "pages": part.document.pages,
            "properties": part.properties,
            "media": sorted(part.media),
        }
        (tmp / "part.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")  # last: marks it complete
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another build stored it first, or the disk is full: the part is still good


def _load(store: Path, digest: str, name: str) -> Part | None:
    folder = store / digest
    try:
        info = json.loads((folder / "part.json").read_text(encoding="utf-8"))
        document = FinishedDocument(
            (folder / "document.xhtml").read_bytes(),
            frozenset(info["ids"]),
            tuple((page[0], page[1], page[2]) for page in info["pages"]),
        )
        media = {media_name: (folder / f"media-{media_name}").read_bytes() for media_name in info["media"]}
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return Part(name, document, info["properties"], media)


def _pandoc(command: list[str], source: Path, subject: str, epoch: int) -> None:
    env = pandoc_env()
    env["SOURCE_DATE_EPOCH"] = str(epoch)
    run_tool([pandoc_path(), "--from=json", "--to=epub3", str(source), *command], subject, timeout=600, env=env)


def write_part(name: str, part: list[dict], split_level: int, settings: Settings, scratch: Path, epoch: int) -> Part:
    """pandoc writes ``part`` alone (behind a throw-away heading, its own second file), then it is finished."""
    stem = name.removesuffix(".xhtml")
    source, output = scratch / f"{stem}.json", scratch / f"{stem}.epub"
    document = {"pandoc-api-version": pandoc_api_version(), "meta": {}, "blocks": [_DUMMY, *part]}
    source.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    _pandoc(
        [
            "--metadata=title:part",
            f"--metadata=lang:{settings.language}",
            f"--css={settings.stylesheet}",
            f"--split-level={split_level}",
            "--toc-depth=1",
            f"--resource-path={settings.resource_root}",
            "--mathml",
            f"--data-dir={PANDOC_DATA_DIR}",
            "--output",
            str(output),
        ],
        source,
        "the EPUB",
        epoch,
    )
    with zipfile.ZipFile(output) as written:
        names = written.namelist()
        raw = written.read(f"{TEXT_DIR}/ch002.xhtml")
        opf = etree.fromstring(written.read("EPUB/content.opf"))
        media = {
            PurePosixPath(entry).name: written.read(entry) for entry in names if entry.startswith("EPUB/media/") and not entry.endswith("/")
        }
    item = opf.find("opf:manifest/opf:item[@href='text/ch002.xhtml']", NS)
    properties = (item.get("properties") or "") if item is not None else ""
    # its images, named for this part (pandoc numbers them from 0 in every run)
    raw = _MEDIA.sub(lambda match: b"../media/" + stem.encode() + b"-" + match.group(1), raw)
    media = {f"{stem}-{media_name}": data for media_name, data in media.items()}
    source.unlink(missing_ok=True)
    output.unlink(missing_ok=True)
    return Part(name, finish_content(raw, settings.footnote_style), properties, media)


@dataclass
class PartsRun:
    """What making the parts did: the parts in order and how many were written (the rest came from the store)."""

    parts: list[Part]
    written: list[str]


def make_parts(
    parts: list[list[dict]],
    split_level: int,
    settings: Settings,
    store: Path,
    epoch: int,
    jobs: int,
    cancel: threading.Event | None = None,
) -> PartsRun:
    """Every part from the store when its digest is there, else written by pandoc (``jobs`` at a time)."""
    store.mkdir(parents=True, exist_ok=True)
    key = settings.key()
    names = [part_name(index) for index in range(len(parts))]
    digests = [part_digest(name, part, settings, key) for name, part in zip(names, parts, strict=True)]
    found: list[Part | None] = [_load(store, digest, name) for digest, name in zip(digests, names, strict=True)]
    missing = [index for index, part in enumerate(found) if part is None]
    if missing:
        scratch = Path(tempfile.mkdtemp(prefix=".parts.", dir=store))
        try:

            def job(index: int) -> Part:
                if cancel is not None and cancel.is_set():
                    raise BookgenError("stopped")
                made = write_part(names[index], parts[index], split_level, settings, scratch, epoch)
                _store(store, digests[index], made)
                return made

            with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(jobs, len(missing)))) as pool:
                for index, made in zip(missing, pool.map(job, missing), strict=True):
                    found[index] = made
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    keep = set(digests)
    for old in store.iterdir():  # parts of earlier versions: the store holds the current book's only
        if old.name not in keep and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    made_parts = [part for part in found if part is not None]
    return PartsRun(made_parts, [names[index] for index in missing])


# ---------------------------------------------------------------- the frame and the package


def make_frame(frame: list[dict], metadata: Path, options: list[str], work_dir: Path, epoch: int, cover: Path | None) -> tuple[Path, bool]:
    """pandoc's package over the book's frame (``frame.epub``), written again only when its digest changed.
    Returns its path and whether it was written."""
    document = {"pandoc-api-version": pandoc_api_version(), "meta": {}, "blocks": frame}
    text = json.dumps(document, ensure_ascii=False)
    cover_stamp = None
    if cover is not None:
        stat = cover.stat()
        cover_stamp = [str(cover), stat.st_size, stat.st_mtime_ns]
    digest = hashlib.sha256(
        json.dumps(
            [text, metadata.read_text(encoding="utf-8"), options, epoch, cover_stamp, pandoc_identity(), __version__, PARTS_FORMAT],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()
    made, key = work_dir / "frame.epub", work_dir / "frame.key"
    try:
        if made.is_file() and key.read_text(encoding="utf-8") == digest:
            return made, False
    except OSError:
        pass
    source = work_dir / "frame.json"
    source.write_text(text, encoding="utf-8")
    command = [f"--metadata-file={metadata}", *options]
    if cover is not None:
        command.append(f"--epub-cover-image={cover}")
    tmp = work_dir / "frame.tmp.epub"
    _pandoc([*command, "--output", str(tmp)], source, "the EPUB", epoch)
    os.replace(tmp, made)
    write_atomic(key, digest)
    return made, True


def package_manifest(opf: bytes, parts: list[Part]) -> bytes:
    """The frame's content.opf with each part's properties and its images in the manifest."""
    tree = etree.fromstring(opf)
    manifest = tree.find("opf:manifest", NS)
    by_href = {item.get("href"): item for item in manifest}
    for part in parts:
        item = by_href.get(f"text/{part.name}")
        if item is None:
            raise BookgenError(f"the EPUB's frame has no {part.name}: its files and the book's parts differ")
        if part.properties:
            item.set("properties", part.properties)
        elif "properties" in item.attrib:
            del item.attrib["properties"]
        for media_name in sorted(part.media):
            kind = _media_type(media_name)
            added = etree.SubElement(
                manifest,
                f"{{{OPF}}}item",
                {"id": re.sub(r"[^A-Za-z0-9_-]", "_", media_name), "href": f"media/{media_name}", "media-type": kind},
            )
            added.tail = "\n  "
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


_MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


def _media_type(name: str) -> str:
    return _MEDIA_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def zip_package(target: Path, order: list[str], data: dict[str, bytes], epoch: int) -> None:
    """The package as a zip: entries in ``order`` (``mimetype`` first and stored, the rest deflated), all dated ``epoch``."""
    stamp = datetime.fromtimestamp(max(epoch, 315532800), tz=UTC).timetuple()[:6]  # zip dates start in 1980
    with zipfile.ZipFile(target, "w") as archive:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data[name])


def frame_files(frame: Path) -> tuple[list[str], dict[str, bytes]]:
    with zipfile.ZipFile(frame) as archive:
        order = [info.filename for info in archive.infolist()]
        return order, {name: archive.read(name) for name in order}
