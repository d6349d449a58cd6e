"""Merge the font subsets that concatenating several XeLaTeX jobs' PDFs leaves in one file (issue #19).

xdvipdfmx embeds every font as a subset: a Type0 font (``/Identity-H``) over one CIDFont whose codes in the
content streams are the original font's CIDs (CID-keyed CFF, ``/CIDFontType0C``: the CIDs of the font's own
ROS, Noto CJK; a name-keyed CFF face such as TeX Gyre Termes is converted to CID-keyed with CID = glyph
index; charstrings without subroutines) or glyph indices (TrueType, ``/CIDToGIDMap /Identity``: glyph
indices kept, unused glyphs emptied, the parts of composite glyphs put in free slots). A code therefore
means the same glyph in every job, so the subsets of one font can be replaced by one program holding the
union of their glyphs without touching a content stream: every reference to the group's fonts is pointed
at one font dictionary, whose program, ``/W`` widths, ToUnicode CMap and ``/CIDSet`` become the union's,
under a new subset tag.

Fonts left alone (listed in the report): simple fonts (Type1, TrueType, Type3: their one-byte codes are
renumbered per subset, so two subsets' codes clash), composite fonts with another CMap than Identity-H or
another kind of program (OpenType wrapper, CFF with subroutines, TrueType with a CIDToGIDMap stream), and
groups whose subsets disagree (a glyph, a width, a Unicode mapping or font-wide data differ: not the same font).
"""

from __future__ import annotations

import array
import enum
import hashlib
import io
import itertools
import re
import struct
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeGuard, cast

import pikepdf
from fontTools.cffLib import CFFFontSet, FDArrayIndex
from fontTools.misc.psCharStrings import T2CharString
from fontTools.ttLib import TTFont
from fontTools.ttLib.sfnt import SFNTWriter
from pikepdf import Array, Dictionary, Name, Stream

_SUBSET_TAG = re.compile(r"^([A-Z]{6})\+(.+)$")
_SIMPLE = {"/Type1", "/MMType1", "/TrueType", "/Type3"}
_TOP_LEVEL = _SIMPLE | {"/Type0"}
# head/hhea/maxp carry the glyph count and checksums, which differ between subsets of one font by design.
_PER_SUBSET_FIELDS = {"checkSumAdjustment", "numGlyphs", "numberOfHMetrics", "indexToLocFormat"}


class Unmerged(enum.Enum):
    """Why a group of subsets of one font was left as it was."""

    SIMPLE_FONT = "simple font: its codes are renumbered in every subset"
    ENCODING = "composite font whose CMap is not Identity-H"
    PROGRAM = "font program of a kind not merged (only CID-keyed CFF without subroutines, TrueType by glyph index)"
    MISMATCH = "the subsets disagree on a glyph, a width, a Unicode mapping or font-wide data"


@dataclass(frozen=True)
class LeftAlone:
    """A font (its /BaseFont without subset tag) of which ``subsets`` subsets stay separate, and why."""

    font: str
    subsets: int
    reason: Unmerged


@dataclass(frozen=True)
class FontMerge:
    """What :func:`merge_font_subsets` did: fonts are the font dictionaries reachable from the document's
    trailer (all kinds), bytes the font program streams' stored (compressed) lengths."""

    fonts_before: int
    fonts_after: int
    bytes_before: int
    bytes_after: int
    left_alone: tuple[LeftAlone, ...]
    retagged: int  # fonts given a fresh subset tag because a different subset had theirs (separate jobs' tags clash)


class _Unmergeable(Exception):
    def __init__(self, reason: Unmerged) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class _Member:
    """One subset: its Type0 dictionary, descendant CIDFont and font descriptor."""

    font: pikepdf.Dictionary
    cidfont: pikepdf.Dictionary
    descriptor: pikepdf.Dictionary
    program_key: str  # /FontFile3 (CFF) or /FontFile2 (TrueType)


def merge_font_subsets(pdf: pikepdf.Pdf) -> FontMerge:
    """Make every group of subsets of one font in ``pdf`` share one subset holding the union of their glyphs.

    A group is the indirect top-level font dictionaries whose ``/BaseFont`` carries a subset tag (``ABCDEF+``)
    and the same name after it (xdvipdfmx: the PostScript name, plus ``-Identity-H`` for a CFF font). ``pdf``
    is changed in place (save it afterwards: the replaced fonts are no longer referenced and are not
    written). Afterwards every distinct subset has a tag of its own (jobs typeset with fixed dates give
    different fonts the same tag). The text extracts and the pages render as before; the result depends
    only on the input (a new tag is taken from a hash of the program). Raises nothing for fonts it cannot
    merge: they are left as they were and listed in :attr:`FontMerge.left_alone`.
    """
    fonts, references = _scan(pdf)
    bytes_before = _program_bytes(fonts.values())
    groups: dict[str, list[pikepdf.Dictionary]] = {}
    for font in fonts.values():
        tagged = _SUBSET_TAG.match(str(font.get("/BaseFont", "/"))[1:])
        if tagged:
            groups.setdefault(tagged.group(2), []).append(font)
    replacement: dict[tuple[int, int], pikepdf.Dictionary] = {}
    left_alone = []
    for name, group in groups.items():
        if len(group) < 2:
            continue
        try:
            _merge_group(pdf, [_member(font) for font in group])
        except _Unmergeable as error:
            left_alone.append(LeftAlone(name, len(group), error.reason))
            continue
        replacement.update((font.objgen, group[0]) for font in group[1:])
    for container, key, objgen in references:
        if objgen in replacement:
            container[key] = replacement[objgen]
    after, _ = _scan(pdf)
    retagged = _retag_clashes(list(after.values()))
    return FontMerge(len(fonts), len(after), bytes_before, _program_bytes(after.values()), tuple(left_alone), retagged)


def _scan(pdf: pikepdf.Pdf) -> tuple[dict[tuple[int, int], pikepdf.Dictionary], list[tuple[pikepdf.Object, int | str, tuple[int, int]]]]:
    """Indirect top-level font dictionaries reachable from the trailer, in a fixed order, and every place
    (container, key or index, font) that refers to one of them."""
    fonts: dict[tuple[int, int], pikepdf.Dictionary] = {}
    references: list[tuple[pikepdf.Object, int | str, tuple[int, int]]] = []
    seen: set[tuple[int, int]] = set()
    stack: list[pikepdf.Object] = [pdf.trailer]
    while stack:
        container = stack.pop()
        for key, value in _children(container):
            if not isinstance(value, Dictionary | Array | Stream):
                continue
            if value.is_indirect:
                if _is_font(value):
                    fonts.setdefault(value.objgen, value)
                    references.append((container, key, value.objgen))
                if value.objgen in seen:
                    continue
                seen.add(value.objgen)
            stack.append(value)
    return fonts, references


def _children(container: pikepdf.Object) -> Iterator[tuple[int | str, pikepdf.Object]]:
    if isinstance(container, Array):
        yield from enumerate(container)
    else:
        yield from container.items()


def _is_font(obj: pikepdf.Object) -> TypeGuard[pikepdf.Dictionary]:
    return isinstance(obj, Dictionary) and obj.get("/Type") == Name.Font and str(obj.get("/Subtype")) in _TOP_LEVEL


def _program_bytes(fonts: Iterable[pikepdf.Dictionary]) -> int:
    """Stored length of the distinct font programs of ``fonts``."""
    programs = {program.objgen: len(program.read_raw_bytes()) for program in map(_program, fonts) if isinstance(program, Stream)}
    return sum(programs.values())


def _member(font: pikepdf.Dictionary) -> _Member:
    if str(font.Subtype) in _SIMPLE:
        raise _Unmergeable(Unmerged.SIMPLE_FONT)
    if font.get("/Encoding") != Name("/Identity-H"):
        raise _Unmergeable(Unmerged.ENCODING)
    # a Type0 font's one descendant is a CIDFont dictionary, whose /FontDescriptor is a dictionary (ISO 32000-1 §9.7)
    cidfont = cast(pikepdf.Dictionary, font.DescendantFonts[0])
    descriptor = cast(pikepdf.Dictionary, cidfont.FontDescriptor)
    if cidfont.Subtype == Name.CIDFontType0 and descriptor.get("/FontFile3", Dictionary()).get("/Subtype") == Name("/CIDFontType0C"):
        return _Member(font, cidfont, descriptor, "/FontFile3")
    if cidfont.Subtype == Name.CIDFontType2 and "/FontFile2" in descriptor and cidfont.get("/CIDToGIDMap", Name.Identity) == Name.Identity:
        return _Member(font, cidfont, descriptor, "/FontFile2")
    raise _Unmergeable(Unmerged.PROGRAM)


def _merge_group(pdf: pikepdf.Pdf, members: list[_Member]) -> None:
    """Write the union of ``members`` into the first member's dictionaries (raises _Unmergeable first)."""
    first = members[0]
    if len({_signature(member) for member in members}) > 1:
        raise _Unmergeable(Unmerged.MISMATCH)
    programs = [member.descriptor[first.program_key].read_bytes() for member in members]
    unicode = _merge_to_unicode(members)
    if first.program_key == "/FontFile3":
        program, glyph_sets, present = _merge_cff(programs)
    else:
        program, glyph_sets, present = _merge_truetype(programs, [_codes_in_use(member) for member in members])
    widths, default_width = _merge_widths(members, glyph_sets)
    tag = _new_tag(program, str(first.cidfont.BaseFont))
    stream = Stream(pdf, zlib.compress(program, 9))
    stream.Filter = Name.FlateDecode
    if first.program_key == "/FontFile3":
        stream.Subtype = Name("/CIDFontType0C")
    else:
        stream.Length1 = len(program)
    _retag(first.font, tag)
    first.cidfont.DW = default_width
    if widths:
        first.cidfont.W = widths
    elif "/W" in first.cidfont:
        del first.cidfont["/W"]
    first.descriptor[first.program_key] = stream
    if any("/CIDSet" in member.descriptor for member in members):
        first.descriptor.CIDSet = Stream(pdf, zlib.compress(_cid_set(present), 9))
        first.descriptor.CIDSet.Filter = Name.FlateDecode
    if unicode is not None:
        first.font.ToUnicode = Stream(pdf, zlib.compress(_to_unicode_cmap(tag, first, unicode), 9))
        first.font.ToUnicode.Filter = Name.FlateDecode


def _signature(member: _Member) -> tuple:
    """What must be equal for subsets to be of one font and merge into one dictionary."""
    info: pikepdf.Object | dict[str, pikepdf.Object] = member.cidfont.get("/CIDSystemInfo", {})
    descriptor = {
        key: repr(value)
        for key, value in member.descriptor.items()
        if key not in {"/FontName", "/CIDSet"} and not key.startswith("/FontFile")
    }
    return (
        str(member.cidfont.Subtype),
        tuple(str(info.get(key)) for key in ("/Registry", "/Ordering", "/Supplement")),
        "/ToUnicode" in member.font,
        tuple(sorted(descriptor.items())),
    )


def _retag_clashes(fonts: list[pikepdf.Dictionary]) -> int:
    """Give a fresh tag to every subset whose tag a different subset also has (ISO 32000-1 §9.6.4: "different
    subsets in the same PDF file shall have different tags"; jobs with fixed dates reuse tags); returns how many."""
    by_tag: dict[str, dict[tuple[int, int], pikepdf.Dictionary]] = {}
    for font in fonts:
        tagged = _SUBSET_TAG.match(str(font.get("/BaseFont", "/"))[1:])
        if tagged and isinstance(_program(font), Stream):
            by_tag.setdefault(tagged.group(1), {}).setdefault(_program(font).objgen, font)
    clashing = [font for subsets in by_tag.values() if len(subsets) > 1 for font in subsets.values()]
    for font in clashing:
        _retag(font, _new_tag(_program(font).read_raw_bytes(), str(font.BaseFont)))
    return len(clashing)


def _program(font: pikepdf.Dictionary) -> pikepdf.Object:
    """The font program stream of a font (the font dictionary itself for a Type3 font, which has none)."""
    descriptor: pikepdf.Object | dict[str, pikepdf.Object] = font.get("/DescendantFonts", [font])[0].get("/FontDescriptor", {})
    return next((descriptor[key] for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor), font)


def _retag(font: pikepdf.Dictionary, tag: str) -> None:
    """Put ``tag`` in place of the subset tag of a font, its CIDFont and their font descriptor."""
    for dictionary, key in _names(font):
        dictionary[key] = Name("/" + tag + "+" + _untagged(str(dictionary[key])))


def _untagged(name: str) -> str:
    """A subset-tagged PDF name (``/ABCDEF+Font``) without its slash and subset tag."""
    tagged = _SUBSET_TAG.match(name[1:])
    if tagged is None:
        raise ValueError(f"font name without a subset tag: {name}")
    return tagged.group(2)


def _names(font: pikepdf.Dictionary) -> Iterator[tuple[pikepdf.Object, str]]:
    """(dictionary, key) of each subset-tagged name of a font: its /BaseFont, its CIDFont's, /FontName."""
    descendants = list(font.get("/DescendantFonts", []))
    descriptors = [holder.FontDescriptor for holder in descendants or [font] if "/FontDescriptor" in holder]
    candidates = [(font, "/BaseFont")] + [(cidfont, "/BaseFont") for cidfont in descendants]
    for dictionary, key in candidates + [(descriptor, "/FontName") for descriptor in descriptors]:
        if _SUBSET_TAG.match(str(dictionary.get(key, "/"))[1:]):
            yield dictionary, key


def _new_tag(program: bytes, name: str) -> str:
    """Six capital letters from a hash of the merged program: a fresh subset tag, the same for the same input."""
    digest = int.from_bytes(hashlib.sha256(program + name.encode()).digest()[:8], "big")
    letters = []
    for _ in range(6):
        digest, letter = divmod(digest, 26)
        letters.append(chr(ord("A") + letter))
    return "".join(letters)


def _cid_set(cids: set[int]) -> bytes:
    """A /CIDSet bitmap (bit 7 of byte 0 is CID 0) of the CIDs present in a font program (PDF/A-1, ISO 19005-1
    6.3.5: all of them, used or not)."""
    bitmap = bytearray(max(cids) // 8 + 1)
    for cid in cids:
        bitmap[cid // 8] |= 0x80 >> (cid % 8)
    return bytes(bitmap)


# ---- font programs -------------------------------------------------------------------------------------


def _merge_cff(programs: list[bytes]) -> tuple[bytes, list[set[int]], set[int]]:
    """Union of CID-keyed CFF subsets by CID; each glyph keeps its charstring and its own font dict (Private).

    Returns the program, each subset's CIDs and the union's CIDs."""
    fontsets = []
    for program in programs:
        fontset = CFFFontSet()
        fontset.decompile(io.BytesIO(program), None)
        top = fontset.topDictIndex[0]
        if not hasattr(top, "ROS") or len(top.GlobalSubrs) or any(hasattr(fd.Private, "Subrs") for fd in top.FDArray):
            raise _Unmergeable(Unmerged.PROGRAM)
        fontsets.append(fontset)
    if len({_top_dict_key(fontset.topDictIndex[0]) for fontset in fontsets}) > 1:
        raise _Unmergeable(Unmerged.MISMATCH)
    glyphs: dict[int, tuple[bytes, int]] = {}  # CID → (charstring, index in font_dicts)
    font_dicts: dict[str, tuple[int, object]] = {}  # key → (index in the union's FDArray, font dict), as met
    glyph_sets = []
    for fontset in fontsets:
        top = fontset.topDictIndex[0]
        local = [_font_dict_key(font_dict) for font_dict in top.FDArray]
        cids = set()
        for gid, glyph_name in enumerate(top.charset):
            cid = 0 if glyph_name == ".notdef" else int(glyph_name.removeprefix("cid"))
            key = local[top.FDSelect[gid]]
            font_dicts.setdefault(key, (len(font_dicts), top.FDArray[top.FDSelect[gid]]))
            glyph = (top.CharStrings.charStringsIndex[gid].bytecode, font_dicts[key][0])
            if glyphs.setdefault(cid, glyph) != glyph:
                raise _Unmergeable(Unmerged.MISMATCH)
            cids.add(cid)
        glyph_sets.append(cids)
    fontset = fontsets[0]
    top = fontset.topDictIndex[0]
    order = sorted(glyphs)
    fd_array = FDArrayIndex()
    fd_array.items = [font_dict for _, font_dict in font_dicts.values()]
    names = [".notdef" if cid == 0 else f"cid{cid:05d}" for cid in order]
    top.charset = names
    top.CharStrings.charStrings = {name: gid for gid, name in enumerate(names)}
    top.CharStrings.charStringsIndex.items = [
        T2CharString(bytecode=glyphs[cid][0], private=fd_array.items[glyphs[cid][1]].Private) for cid in order
    ]
    top.FDSelect.gidArray = [glyphs[cid][1] for cid in order]
    top.FDSelect.format = 3  # ranges: the compact form for glyphs sorted by CID
    top.FDArray = fd_array
    top.CIDCount = max(other.topDictIndex[0].CIDCount for other in fontsets)
    out = io.BytesIO()
    fontset.compile(out, TTFont(recalcBBoxes=False))  # keep the FontBBox: it is the whole font's
    return out.getvalue(), glyph_sets, set(order)


def _top_dict_key(top) -> str:
    per_subset = {"charset", "CharStrings", "FDSelect", "FDArray", "CIDCount"}
    return repr(sorted((key, value) for key, value in top.rawDict.items() if key not in per_subset))


def _font_dict_key(font_dict) -> str:
    private = sorted(font_dict.Private.rawDict.items())
    return repr((sorted((key, value) for key, value in font_dict.rawDict.items() if key != "Private"), private))


def _merge_truetype(programs: list[bytes], in_use: list[set[int]]) -> tuple[bytes, list[set[int]], set[int]]:
    """Union of TrueType subsets by glyph index. Returns the program, each subset's glyphs shown by glyph index
    and the CIDs for the union's /CIDSet.

    xdvipdfmx keeps the glyph index of every glyph the text shows, but puts the components of a composite
    glyph (the 'e' and the accent of 'é') that the text does not show in the lowest free indices: such a
    slot holds different glyphs in different subsets. A glyph is taken as shown at its index when no
    composite of its subset uses it or ``in_use`` (the codes of its /W and ToUnicode) names it. Shown
    glyphs keep their index; every other component goes where the union already has its outline, else to
    its own index if that is free, else to a fresh index past the font's glyphs; composites are rewritten
    to point at their components' new indices (parts before wholes).
    """
    fonts = [TTFont(io.BytesIO(program)) for program in programs]
    if len({_truetype_key(font) for font in fonts}) > 1:
        raise _Unmergeable(Unmerged.MISMATCH)
    outlines = [_outlines(font) for font in fonts]
    horizontal = [_horizontal_metrics(font) for font in fonts]
    shown = []  # per subset: glyph index → outline (b"" for a shown empty glyph, e.g. a space)
    for glyphs, codes in zip(outlines, in_use, strict=True):
        components = {gid for data in glyphs.values() for _, gid in _components(data)}
        shown.append({gid: glyphs.get(gid, b"") for gid in sorted((glyphs.keys() - components) | codes | {0})})
    union: dict[int, bytes] = {}
    metrics: dict[int, tuple[int, int]] = {}  # union index → (advance, left side bearing) from its subset

    def put(gid: int, data: bytes, font: int, own: int) -> None:
        if union.setdefault(gid, data) != data:
            raise _Unmergeable(Unmerged.MISMATCH)
        metrics.setdefault(gid, horizontal[font](own))

    for font, own in enumerate(shown):
        for gid, data in own.items():
            if not _composite(data):
                put(gid, data, font, gid)
    reserved = {gid for own in shown for gid, data in own.items() if _composite(data)}
    where = {data: gid for gid, data in sorted(union.items(), reverse=True) if data}  # outline → lowest index
    fresh = itertools.count(max(font["maxp"].numGlyphs for font in fonts))

    def place(gid: int, glyphs: dict[int, bytes], own: dict[int, bytes], relocation: dict[int, int], font: int) -> None:
        """Put a component the text does not show, after its own components."""
        relocation[gid] = gid  # provisional: a malformed font's cycle ends here
        for _, part in _components(glyphs[gid]):
            if part in glyphs and part not in own and part not in relocation:
                place(part, glyphs, own, relocation, font)
        data = _patched(glyphs[gid], relocation)
        if data not in where:
            where[data] = gid if gid not in union and gid not in reserved else next(fresh)
        relocation[gid] = where[data]
        put(where[data], data, font, gid)

    for font, (glyphs, own) in enumerate(zip(outlines, shown, strict=True)):
        relocation: dict[int, int] = {}
        for gid in sorted(glyphs.keys() - own.keys()):
            if gid not in relocation:
                place(gid, glyphs, own, relocation, font)
        for gid, data in own.items():
            if _composite(data):
                put(gid, _patched(data, relocation), font, gid)
    count = max(union) + 1
    glyf, offsets = bytearray(), array.array("I")
    for gid in range(count):
        offsets.append(len(glyf))
        data = union.get(gid, b"")
        glyf += data + bytes(-len(data) % 4)  # each glyph on a 4-byte boundary
    offsets.append(len(glyf))
    if sys.byteorder == "little":
        offsets.byteswap()
    base = fonts[0].reader
    tables = {tag: base[tag] for tag in base.tables} | {
        "glyf": bytes(glyf),
        "loca": offsets.tobytes(),  # long offsets
        "hmtx": b"".join(struct.pack(">Hh", *metrics.get(gid, (0, 0))) for gid in range(count)),
        "head": _set_fields(base["head"], (8, 0, 4), (50, 1, 2)),  # checkSumAdjustment (the writer's), indexToLocFormat
        "hhea": _set_fields(base["hhea"], (34, count, 2)),  # numberOfHMetrics
        "maxp": _set_fields(base["maxp"], (4, count, 2)),  # numGlyphs
    }
    out = io.BytesIO()
    writer = SFNTWriter(out, len(tables), base.sfntVersion)
    for tag in sorted(tables):
        writer[tag] = tables[tag]
    writer.close()
    # every glyph index but 0 is in the /CIDSet, as xdvipdfmx writes it for a TrueType subset
    return out.getvalue(), [set(glyphs) for glyphs in shown], set(range(1, count))


def _set_fields(table: bytes, *fields: tuple[int, int, int]) -> bytes:
    """``table`` with each (byte offset, value, size) written big-endian."""
    data = bytearray(table)
    for offset, value, size in fields:
        data[offset : offset + size] = value.to_bytes(size, "big")
    return bytes(data)


def _horizontal_metrics(font: TTFont):
    """Glyph index → (advance width, left side bearing), from the raw hmtx table."""
    long_count = font["hhea"].numberOfHMetrics
    values = array.array("h", font.reader["hmtx"])
    if sys.byteorder == "little":
        values.byteswap()

    def metric(gid: int) -> tuple[int, int]:
        if gid < long_count:
            return values[2 * gid] & 0xFFFF, values[2 * gid + 1]
        return values[2 * long_count - 2] & 0xFFFF, values[long_count + gid]

    return metric


_ARG_WORDS, _SCALE, _MORE_COMPONENTS, _XY_SCALE, _TWO_BY_TWO = 0x0001, 0x0008, 0x0020, 0x0040, 0x0080


def _composite(data: bytes) -> bool:
    return int.from_bytes(data[:2], "big", signed=True) < 0


def _components(data: bytes) -> Iterator[tuple[int, int]]:
    """(byte offset, glyph index) of each component of a composite glyph's glyf data (OpenType glyf table)."""
    position = 10  # past numberOfContours and the bounding box
    while _composite(data):
        flags = int.from_bytes(data[position : position + 2], "big")
        yield position + 2, int.from_bytes(data[position + 2 : position + 4], "big")
        position += 8 if flags & _ARG_WORDS else 6
        position += 2 if flags & _SCALE else 4 if flags & _XY_SCALE else 8 if flags & _TWO_BY_TWO else 0
        if not flags & _MORE_COMPONENTS:
            return


def _patched(data: bytes, relocation: dict[int, int]) -> bytes:
    """Glyf data with its components' glyph indices moved as ``relocation`` says."""
    patched = bytearray(data)
    for offset, gid in _components(data):
        patched[offset : offset + 2] = relocation.get(gid, gid).to_bytes(2, "big")
    return bytes(patched)


def _codes_in_use(member: _Member) -> set[int]:
    """The codes a subset's /W and ToUnicode CMap name: glyphs its text shows."""
    codes = set(_parse_widths(member.cidfont.get("/W", [])))
    if "/ToUnicode" in member.font:
        codes |= _parse_to_unicode(member.font.ToUnicode.read_bytes()).keys()
    return codes


def _outlines(font: TTFont) -> dict[int, bytes]:
    """Glyph index → glyf data of the non-empty glyphs, read from the raw loca and glyf tables (fast: a
    subset keeps every glyph index of the font, tens of thousands for a CJK face, nearly all empty)."""
    offsets = array.array("I" if font["head"].indexToLocFormat else "H", font.reader["loca"])
    if sys.byteorder == "little":
        offsets.byteswap()
    unit = 1 if font["head"].indexToLocFormat else 2
    glyf = font.reader["glyf"]
    return {gid: glyf[offsets[gid] * unit : offsets[gid + 1] * unit] for gid in range(len(offsets) - 1) if offsets[gid + 1] > offsets[gid]}


def _truetype_key(font: TTFont) -> str:
    """What must be equal in TrueType subsets of one font: every table but the glyphs and their counts."""
    tables = []
    for tag in sorted(font.keys()):
        if tag in {"GlyphOrder", "glyf", "loca", "hmtx"}:
            continue
        if tag in {"head", "hhea", "maxp"}:
            fields = vars(font[tag])
            tables.append((tag, sorted((k, repr(v)) for k, v in fields.items() if k not in _PER_SUBSET_FIELDS)))
        else:
            tables.append((tag, font.getTableData(tag)))
    return repr(tables)


# ---- widths and Unicode ------------------------------------------------------------------------------------


def _merge_widths(members: list[_Member], glyph_sets: list[set[int]]) -> tuple[pikepdf.Array, object]:
    """The union's /W array and /DW: the first member's /DW, and every CID whose width differs from it.

    A glyph a subset shows has its width in /W or else /DW; two subsets giving one CID different widths
    are not of the same font (mismatch)."""
    default = members[0].cidfont.get("/DW", 1000)
    merged: dict[int, object] = {}
    for member, glyphs in zip(members, glyph_sets, strict=True):
        widths = _parse_widths(member.cidfont.get("/W", []))
        member_default = member.cidfont.get("/DW", 1000)
        for cid in glyphs | widths.keys():
            width = widths.get(cid, member_default)
            if merged.setdefault(cid, width) != width:
                raise _Unmergeable(Unmerged.MISMATCH)
    runs: list[tuple[int, list]] = []  # ``c [w1 w2 …]`` entries over consecutive CIDs
    for cid in sorted(cid for cid, width in merged.items() if width != default):
        if not runs or cid != runs[-1][0] + len(runs[-1][1]):
            runs.append((cid, []))
        runs[-1][1].append(merged[cid])
    return Array([item for first, widths in runs for item in (first, Array(widths))]), default


def _parse_widths(array) -> dict[int, object]:
    """A CIDFont's /W array (``c [w1 w2 …]`` and ``cfirst clast w`` entries) as CID → width."""
    items = list(array)
    widths: dict[int, object] = {}
    index = 0
    while index < len(items):
        first = int(items[index])
        if isinstance(items[index + 1], Array):
            widths.update((first + offset, width) for offset, width in enumerate(items[index + 1]))
            index += 2
        else:
            widths.update((cid, items[index + 2]) for cid in range(first, int(items[index + 1]) + 1))
            index += 3
    return widths


_CMAP_TOKEN = re.compile(rb"<([0-9A-Fa-f\s]*)>|([\[\]]|beginbfchar|endbfchar|beginbfrange|endbfrange)")


def _merge_to_unicode(members: list[_Member]) -> dict[int, bytes] | None:
    """CID → UTF-16BE text of the union, or None when the fonts have no ToUnicode CMap."""
    if "/ToUnicode" not in members[0].font:
        return None
    merged: dict[int, bytes] = {}
    for member in members:
        for cid, text in _parse_to_unicode(member.font.ToUnicode.read_bytes()).items():
            if merged.setdefault(cid, text) != text:
                raise _Unmergeable(Unmerged.MISMATCH)
    return merged


def _parse_to_unicode(cmap: bytes) -> dict[int, bytes]:
    """The bfchar and bfrange mappings of a ToUnicode CMap (PDF 1.7 §9.10.3) as code → UTF-16BE bytes.

    Hex strings become bytes, keywords and brackets str (so ``<5B>`` is never taken for ``[``)."""
    tokens: list[bytes | str] = [
        keyword.decode() if keyword else bytes.fromhex(re.sub(rb"\s", b"", digits).decode())
        for digits, keyword in _CMAP_TOKEN.findall(cmap)
    ]
    mapping: dict[int, bytes] = {}
    index = 0
    while index < len(tokens):
        section, index = tokens[index], index + 1
        if section == "beginbfchar":
            while tokens[index] != "endbfchar":
                mapping[int.from_bytes(_hex(tokens[index]), "big")] = _hex(tokens[index + 1])
                index += 2
        elif section == "beginbfrange":
            while tokens[index] != "endbfrange":
                low, high, target = tokens[index : index + 3]
                codes = range(int.from_bytes(_hex(low), "big"), int.from_bytes(_hex(high), "big") + 1)
                if target == "[":
                    close = tokens.index("]", index)
                    mapping.update(zip(codes, map(_hex, tokens[index + 3 : close]), strict=False))
                    index = close + 1
                else:
                    start = _hex(target)
                    first = int.from_bytes(start, "big")
                    mapping.update((code, (first + n).to_bytes(len(start), "big")) for n, code in enumerate(codes))
                    index += 3
    return mapping


def _hex(token: bytes | str) -> bytes:
    """A ToUnicode CMap token where the syntax has a hex string (a code or UTF-16BE text)."""
    if isinstance(token, str):
        raise ValueError(f"ToUnicode CMap: hex string expected, found {token!r}")
    return token


def _to_unicode_cmap(tag: str, member: _Member, mapping: dict[int, bytes]) -> bytes:
    """A ToUnicode CMap in xdvipdfmx's layout, bfchar entries in blocks of 100 (the CMap limit)."""
    name = f"{tag}+{_untagged(str(member.cidfont.BaseFont))}-UTF16"
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        f"/CMapName /{name} def",
        "/CMapType 2 def",
        "/CIDSystemInfo <<",
        "  /Registry (Adobe)",
        "  /Ordering (UCS)",
        "  /Supplement 0",
        ">> def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    codes = sorted(mapping)
    for start in range(0, len(codes), 100):
        block = codes[start : start + 100]
        lines.append(f"{len(block)} beginbfchar")
        lines.extend(f"<{code:04X}> <{mapping[code].hex().upper()}>" for code in block)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end", ""]
    return "\n".join(lines).encode("ascii")
