"""The EPUB from per-chapter parts: an edit rewrites its chapter's XHTML only, and the package is re-zipped.

The assembled book (``assemble``) is cut where pandoc's EPUB writer splits it into files: before every
heading of the chapter level or above (parts, chapters, front and back matter, 附录). Each piece (a
*part* here) becomes one content document, ``text/chNNN.xhtml``, written by pandoc and finished
(``package.finish_content``: numbered notes, th scope, MathML alttext …). pandoc writes several parts
in one run (one run per core on a cold build, one run for the parts an edit changed), and what it
writes for a part does not depend on the other parts in the run: ``write_parts`` says why. A part is kept in
``<work>/epub/parts/`` under the digest of everything that reaches its text: its blocks (numbers,
captions, resolved cross-references, citations, index entries and page-break markers are already in
them), its file name, where its links point (an ``#id`` in another part is written as
``chNNN.xhtml#id`` before pandoc sees it), its images' files, the stylesheet, the footnote style,
pandoc and bookgen. A cold build writes every part; an edit writes the parts whose digest changed.

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
import struct
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable
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

PARTS_FORMAT = 2  # raise when a part's making changes: every cached part is then written again
TEXT_DIR = "EPUB/text"
_ATTR_AT = {"Header": 1, "Div": 0, "Span": 0, "CodeBlock": 0, "Code": 0, "Table": 0, "Figure": 0, "Image": 0, "Link": 0}
_MEDIA = re.compile(rb"\.\./media/(file\d+(?:\.[A-Za-z0-9]+)?)")
# Every run starts with a throw-away file: a level-1 heading (else pandoc adds the book's title) and a
# highlighted code block (pandoc puts its highlighting CSS into every file of a run that has one: so it
# is in every part, whichever parts share the run).
_LEAD = [
    {"t": "Header", "c": [1, ["bookgen-lead", [], []], [{"t": "Str", "c": "lead"}]]},
    {"t": "CodeBlock", "c": [["", ["python"], []], "lead = 1"]},
]


def _opens(block: dict, split_level: int) -> bool:
    """Does pandoc start a new file at ``block``: a heading of ``split_level`` or above, or a Div that
    begins with one (pandoc makes such a Div a section of its own)?"""
    if block["t"] == "Header":
        return bool(block["c"][0] <= split_level)
    if block["t"] == "Div" and block["c"][1]:
        return _opens(block["c"][1][0], split_level)
    return False


def split_parts(blocks: list[dict], split_level: int) -> list[list[dict]]:
    """The block list cut where pandoc's EPUB writer starts a file: one list per content document."""
    parts: list[list[dict]] = []
    for block in blocks:
        if not parts or _opens(block, split_level):
            parts.append([])
        parts[-1].append(block)
    return parts


def part_name(index: int) -> str:
    """The content document of the part at ``index`` (0-based), as pandoc names its files."""
    return f"ch{index + 1:03d}.xhtml"


def _scan(value: Any, ids: list[str], links: list[dict], images: list[dict]) -> None:
    """Collect the element ids, links and images inside ``value`` (one pass, no generators: it runs over
    the whole book on every build)."""
    if isinstance(value, list):
        for child in value:
            if isinstance(child, (list, dict)):
                _scan(child, ids, links, images)
        return
    kind = value.get("t")
    content = value.get("c")
    if kind is None or kind == "Str" or not isinstance(content, list):
        return
    at = _ATTR_AT.get(kind)
    if at is not None:
        attr = content[at]
        if isinstance(attr, list) and attr and isinstance(attr[0], str):
            if attr[0]:
                ids.append(attr[0])
            elif kind == "Header":
                links.append(value)  # a heading without an id: given one (``resolve_links``)
        if kind == "Link":
            links.append(value)
        elif kind == "Image":
            images.append(value)
    for child in content:
        if isinstance(child, (list, dict)):
            _scan(child, ids, links, images)


@dataclass
class Piece:
    """One part's blocks (links resolved) and the images it shows."""

    blocks: list[dict]
    images: list[str]


def resolve_links(parts: list[list[dict]]) -> list[Piece]:
    """Every link to ``#id`` of an element in the book becomes ``chNNN.xhtml#id`` (in place), the file that
    holds it (the link from the same file too: pandoc writes those so), and every heading without an id
    gets one, so that each part can be written alone."""
    where: dict[str, str] = {}
    found = []
    for index, part in enumerate(parts):
        ids: list[str] = []
        links: list[dict] = []
        images: list[dict] = []
        _scan(part, ids, links, images)
        for element_id in ids:
            where.setdefault(element_id, part_name(index))
        found.append((links, images))
    pieces = []
    for index, (part, (links, images)) in enumerate(zip(parts, found, strict=True)):
        for number, heading in enumerate(link for link in links if link["t"] == "Header"):
            # pandoc would make one from its text, unique in its run: the same part would get another in another run
            heading["c"][1][0] = f"{part_name(index).removesuffix('.xhtml')}-h{number + 1}"
        for link in links:
            if link["t"] != "Link":
                continue
            target = link["c"][2][0]
            if target.startswith("#") and target[1:] in where:
                link["c"][2][0] = f"{where[target[1:]]}{target}"
        pieces.append(Piece(part, [image["c"][2][0] for image in images]))
    return pieces


def _headings(blocks: list[dict], toc_depth: int) -> list[dict]:
    kept = []
    for block in blocks:
        if block["t"] == "Header" and block["c"][0] <= toc_depth:
            kept.append(block)
        elif block["t"] == "Div":
            inner = _headings(block["c"][1], toc_depth)
            if inner and block["c"][1][0]["t"] not in ("Header", "Div"):
                inner = [{"t": "Para", "c": []}, *inner]  # it opened no file of its own: neither does its frame
            if inner:
                kept.append({"t": "Div", "c": [block["c"][0], inner]})
    return kept


def frame_blocks(parts: list[list[dict]], toc_depth: int) -> list[dict]:
    """The book's frame: each part's headings down to ``toc_depth`` (in the Divs that hold them), what
    pandoc's nav and OPF are made from."""
    return [block for part in parts for block in _headings(part, toc_depth)]


def newest_change(root: Path) -> int:
    """Seconds since 1970 of the newest file in the manuscript ``root`` (the EPUB's date without a build
    date); hidden files and folders (an editor's swap files, .git) are not the manuscript."""
    newest = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if not name.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
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

    def key(self) -> str:
        return json.dumps(
            {
                "format": PARTS_FORMAT,
                "bookgen": __version__,
                "pandoc": pandoc_identity(),
                "stylesheet": hashlib.sha256(self.stylesheet.read_bytes()).hexdigest(),
                "language": self.language,
                "notes": self.footnote_style,
            },
            sort_keys=True,
        )


@dataclass(frozen=True)
class Packed:
    """A zip entry's data as it goes into the zip: deflated (raw, as zip stores it) or stored."""

    data: bytes
    crc: int
    size: int
    deflated: bool

    @classmethod
    def of(cls, data: bytes, deflated: bool = True) -> Packed:
        if deflated:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)  # zipfile's own default
            packed = packer.compress(data) + packer.flush()
        else:
            packed = data
        return cls(packed, zlib.crc32(data), len(data), deflated)


@dataclass(frozen=True)
class Part:
    """One finished content document, packed for the zip, and what goes into the package with it."""

    name: str  # ch001.xhtml
    document: FinishedDocument  # its ids and page markers (``data`` is empty when it came from the store)
    packed: Packed
    properties: str  # the manifest item's properties (mathml, svg …), "" for none
    media: dict[str, bytes]  # its images: file name in media/ → bytes


def _image_stamps(images: list[str], root: Path) -> list:
    stamps: list = []
    for source in images:
        try:
            stat = (root / source).stat()
            stamps.append([source, stat.st_size, stat.st_mtime_ns])
        except (OSError, ValueError):
            stamps.append([source, None])
    return stamps


def part_digest(name: str, piece: Piece, settings: Settings, key: str) -> tuple[str, int]:
    """The digest of everything that reaches the part's document (its blocks before ``autospace``, which
    is a function of them), and the size of its blocks as JSON."""
    digest = hashlib.sha256(key.encode())
    digest.update(json.dumps([name, _image_stamps(piece.images, settings.resource_root)], ensure_ascii=False).encode())
    text = json.dumps(piece.blocks, ensure_ascii=False).encode()
    digest.update(text)
    return digest.hexdigest(), len(text)


def _store(store: Path, digest: str, part: Part) -> None:
    folder = store / digest
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}.", dir=store))
    try:
        (tmp / "document.deflated").write_bytes(part.packed.data)
        for media_name, data in part.media.items():
            (tmp / f"media-{media_name}").write_bytes(data)
        info = {
            "ids": sorted(part.document.ids),
            "pages": part.document.pages,
            "properties": part.properties,
            "media": sorted(part.media),
            "crc": part.packed.crc,
            "size": part.packed.size,
        }
        (tmp / "part.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another build stored it first, or the disk is full: the part is still good


def _load(store: Path, digest: str, name: str) -> Part | None:
    folder = store / digest
    try:
        info = json.loads((folder / "part.json").read_text(encoding="utf-8"))
        document = FinishedDocument(b"", frozenset(info["ids"]), tuple((page[0], page[1], page[2]) for page in info["pages"]))
        packed = Packed((folder / "document.deflated").read_bytes(), int(info["crc"]), int(info["size"]), True)
        media = {media_name: (folder / f"media-{media_name}").read_bytes() for media_name in info["media"]}
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return Part(name, document, packed, info["properties"], media)


FIXED_DATE = 315532800  # 1980-01-01: what pandoc writes is then a function of its input only


def _pandoc(command: list[str], source: Path, subject: str) -> None:
    env = pandoc_env()
    env["SOURCE_DATE_EPOCH"] = str(FIXED_DATE)
    run_tool([pandoc_path(), "--from=json", "--to=epub3", str(source), *command], subject, timeout=600, env=env)


def write_parts(names: list[str], blocks: list[list[dict]], split_level: int, settings: Settings, scratch: Path) -> list[Part]:
    """One pandoc run writes these parts (each its own file, after the lead file), then each is finished.

    What a part's file holds does not depend on the other parts in the run: notes and code lines are
    numbered per file, links were resolved before (``resolve_links``), the highlighting CSS is in every
    file (``_LEAD``), and images, which pandoc numbers per run, are renamed by their content here."""
    stem = names[0].removesuffix(".xhtml")
    source, output = scratch / f"{stem}.json", scratch / f"{stem}.epub"
    document = {"pandoc-api-version": pandoc_api_version(), "meta": {}, "blocks": [*_LEAD, *(block for part in blocks for block in part)]}
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
    )
    made = []
    with zipfile.ZipFile(output) as written:
        opf = etree.fromstring(written.read("EPUB/content.opf"))
        renamed: dict[bytes, tuple[str, bytes]] = {}

        def rename(match: re.Match) -> bytes:
            original = match.group(1)
            if original not in renamed:
                data = written.read(f"EPUB/media/{original.decode()}")
                suffix = PurePosixPath(original.decode()).suffix.lower()
                renamed[original] = (f"image-{hashlib.sha256(data).hexdigest()[:16]}{suffix}", data)
            return f"../media/{renamed[original][0]}".encode()

        files = [entry for entry in written.namelist() if re.fullmatch(r"EPUB/text/ch\d+\.xhtml", entry)]
        if len(files) != len(names) + 1:
            raise BookgenError(f"pandoc wrote {len(files) - 1} files for {len(names)} EPUB parts: bookgen cuts the book differently")
        for index, name in enumerate(names):
            inside = f"text/ch{index + 2:03d}.xhtml"
            raw = written.read(f"EPUB/{inside}")
            item = opf.find(f"opf:manifest/opf:item[@href='{inside}']", NS)
            properties = (item.get("properties") or "") if item is not None else ""
            used = sorted(set(_MEDIA.findall(raw)))
            raw = _MEDIA.sub(rename, raw)
            media = dict(renamed[original] for original in sorted(used))
            finished = finish_content(raw, settings.footnote_style)
            made.append(Part(name, finished, Packed.of(finished.data), properties, media))
    source.unlink(missing_ok=True)
    output.unlink(missing_ok=True)
    return made


def _batches(missing: list[int], sizes: list[int], jobs: int) -> list[list[int]]:
    """``missing`` cut into at most ``jobs`` runs of consecutive parts of about the same size."""
    count = max(1, min(jobs, len(missing)))
    total = sum(sizes[index] for index in missing)
    batches: list[list[int]] = [[]]
    done = 0
    for index in missing:
        if batches[-1] and len(batches) < count and done >= total * len(batches) / count:
            batches.append([])
        batches[-1].append(index)
        done += sizes[index]
    return batches


@dataclass
class PartsRun:
    """What making the parts did: the parts in order and how many were written (the rest came from the store)."""

    parts: list[Part]
    written: list[str]


def make_parts(
    pieces: list[Piece],
    split_level: int,
    settings: Settings,
    store: Path,
    jobs: int,
    before_writing: Callable[[list[dict]], None] = lambda blocks: None,
    cancel: threading.Event | None = None,
) -> PartsRun:
    """Every part from the store when its digest is there, else written by pandoc (``jobs`` at a time),
    its blocks first given to ``before_writing`` (the EPUB's own spacing, a function of the blocks)."""
    store.mkdir(parents=True, exist_ok=True)
    key = settings.key()
    names = [part_name(index) for index in range(len(pieces))]
    digests, sizes = [], []
    for name, piece in zip(names, pieces, strict=True):
        digest, size = part_digest(name, piece, settings, key)
        digests.append(digest)
        sizes.append(size)
    found: list[Part | None] = [_load(store, digest, name) for digest, name in zip(digests, names, strict=True)]
    missing = [index for index, part in enumerate(found) if part is None]
    if missing:
        scratch = Path(tempfile.mkdtemp(prefix=".parts.", dir=store))
        try:

            def job(batch: list[int]) -> list[Part]:
                if cancel is not None and cancel.is_set():
                    raise BookgenError("stopped")
                for index in batch:
                    before_writing(pieces[index].blocks)
                made = write_parts([names[i] for i in batch], [pieces[i].blocks for i in batch], split_level, settings, scratch)
                for index, part in zip(batch, made, strict=True):
                    _store(store, digests[index], part)
                return made

            batches = _batches(missing, sizes, jobs)
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(batches)) as pool:
                for batch, made in zip(batches, pool.map(job, batches), strict=True):
                    for index, part in zip(batch, made, strict=True):
                        found[index] = part
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    keep = set(digests)
    for old in store.iterdir():  # parts of earlier versions: the store holds the current book's only
        if old.name not in keep and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    made_parts = [part for part in found if part is not None]
    return PartsRun(made_parts, [names[index] for index in missing])


# ---------------------------------------------------------------- the frame and the package


def make_frame(frame: list[dict], metadata: Path, options: list[str], work_dir: Path, key: str, cover: Path | None) -> tuple[Path, bool]:
    """pandoc's package over the book's frame (``frame.epub``), written again only when its digest changed
    (``key``: the settings', with the stylesheet's hash). Its date is fixed (``package_date`` sets the
    EPUB's). Returns its path and whether it was written."""
    document = {"pandoc-api-version": pandoc_api_version(), "meta": {}, "blocks": frame}
    text = json.dumps(document, ensure_ascii=False)
    cover_stamp = None
    if cover is not None:
        stat = cover.stat()
        cover_stamp = [str(cover), stat.st_size, stat.st_mtime_ns]
    digest = hashlib.sha256(
        json.dumps(
            [text, metadata.read_text(encoding="utf-8"), options, key, cover_stamp],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()
    made, stamp = work_dir / "frame.epub", work_dir / "frame.key"
    try:
        if made.is_file() and stamp.read_text(encoding="utf-8") == digest:
            return made, False
    except OSError:
        pass
    source = work_dir / "frame.json"
    source.write_text(text, encoding="utf-8")
    command = [f"--metadata-file={metadata}", *options]
    if cover is not None:
        command.append(f"--epub-cover-image={cover}")
    tmp = work_dir / "frame.tmp.epub"
    _pandoc([*command, "--output", str(tmp)], source, "the EPUB")
    os.replace(tmp, made)
    write_atomic(stamp, digest)
    return made, True


def package_date(opf: bytes, epoch: int) -> bytes:
    """content.opf with ``dcterms:modified`` the EPUB's date."""
    stamp = datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(rb'(<meta property="dcterms:modified">)[^<]*(</meta>)', lambda match: match.group(1) + stamp + match.group(2), opf)


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
    for media_name in sorted({media_name for part in parts for media_name in part.media}):
        added = etree.SubElement(
            manifest,
            f"{{{OPF}}}item",
            {"id": re.sub(r"[^A-Za-z0-9_-]", "_", media_name), "href": f"media/{media_name}", "media-type": _media_type(media_name)},
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


def _dos_time(epoch: int) -> tuple[int, int]:
    year, month, day, hour, minute, second = datetime.fromtimestamp(max(epoch, 315532800), tz=UTC).timetuple()[:6]  # from 1980
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def zip_package(target: Path, order: list[str], data: dict[str, bytes | Packed], epoch: int) -> None:
    """The package as a zip: entries in ``order`` (``mimetype`` first and stored, the rest deflated), all
    dated ``epoch``. Written here, not by zipfile, so that parts packed in an earlier build go in as
    they are: the same bytes as packing them again, without the time."""
    time, date = _dos_time(epoch)
    central = bytearray()
    offset = 0
    with open(target, "wb") as out:
        for name in order:
            value = data[name]
            packed = value if isinstance(value, Packed) else Packed.of(value, deflated=name != "mimetype")
            method = 8 if packed.deflated else 0
            encoded = name.encode("utf-8")
            flags = 0 if encoded.isascii() else 0x800  # UTF-8 names
            fields = struct.pack("<HHHHHIIIHH", 20, flags, method, time, date, packed.crc, len(packed.data), packed.size, len(encoded), 0)
            out.write(b"PK\x03\x04" + fields + encoded)
            out.write(packed.data)
            central += (
                b"PK\x01\x02" + struct.pack("<H", (3 << 8) | 20) + fields + struct.pack("<HHHII", 0, 0, 0, 0o100644 << 16, offset) + encoded
            )
            offset += 30 + len(encoded) + len(packed.data)
        out.write(central)
        out.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(order), len(order), len(central), offset, 0))


def frame_files(frame: Path) -> tuple[list[str], dict[str, bytes]]:
    with zipfile.ZipFile(frame) as archive:
        order = [info.filename for info in archive.infolist()]
        return order, {name: archive.read(name) for name in order}
