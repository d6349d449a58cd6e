"""Complete the package pandoc wrote: what pandoc cannot be told to do.

- the 书名页 and a 版权页 (``templates/epub/titlepage.xhtml``, ``copyright.xhtml``), the contents
  (nav) in the reading order after the front matter, as in the PDF;
- every document's ``<title>`` its numbered heading (第1章 …), not its file name;
- landmarks in Chinese (书名页, 版权页, 目录, 正文, and the 术语表 and 索引 when the book has them) and, with a PDF, the ``page-list`` nav;
- footnote references as superscripts, each note numbered (per chapter, in the book's footnote style)
  with a back-link to its reference;
- table header cells with ``scope``, MathML with ``alttext`` (its TeX);
- the accessibility metadata (``accessibility.Declaration``) in place of pandoc's defaults.

XHTML is parsed and written with lxml. The content documents are finished one by one (``finish_content``, cached
with their part, see ``parts``), the package's own files once per build (``finish_epub``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

import jinja2
from lxml import etree

from bookgen.bibliography.citing import LIST_ID
from bookgen.epub.accessibility import CONFORMS_TO, Declaration
from bookgen.index.ast import GLOSSARY_ID, INDEX_ID
from bookgen.model.book import Book
from bookgen.press.imprint import ImprintLine
from bookgen.tools import template_dir

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
OPF = "http://www.idpf.org/2007/opf"
MATHML = "http://www.w3.org/1998/Math/MathML"
NS = {"x": XHTML, "epub": OPS, "opf": OPF, "m": MATHML}
EPUB_TYPE = f"{{{OPS}}}type"
COPYRIGHT = "text/copyright.xhtml"
TITLE_PAGE = "text/title_page.xhtml"
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_PAGE_ID = re.compile(r"^page-(\d+)$")


@dataclass(frozen=True)
class Finish:
    """What the finishing step adds: the declaration, the 版本记录 lines, where the body starts."""

    declaration: Declaration
    imprint: list[ImprintLine]
    first_body_id: str  # the element id of the first part or chapter: the 正文 landmark


def note_label(number: int, style: str) -> str:
    """A footnote's printed number: 1, 2 … or ①, ② … (to ⑳, then 21 …) as layout.footnote_style says."""
    return chr(0x2460 + number - 1) if style == "circled" and number <= 20 else str(number)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir() / "epub")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _parse(data: bytes) -> etree._ElementTree:
    return etree.ElementTree(etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True)))


def _serialise(tree: etree._ElementTree, doctype: bool = True) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", doctype="<!DOCTYPE html>" if doctype else None)


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _remove(element: etree._Element) -> None:
    """Take ``element`` out, keeping the text that follows it."""
    parent, previous, tail = element.getparent(), element.getprevious(), element.tail or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _set_title(tree: etree._ElementTree, title: str) -> None:
    node = tree.find(".//x:head/x:title", NS)
    if node is not None and title:
        node.text = title


def finish_document(tree: etree._ElementTree, footnote_style: str) -> None:
    """One content document: numbered <title>, superscript noterefs, numbered notes with back-links,
    th scope, MathML alttext."""
    heading = next((element for element in tree.iterfind(".//x:body//*", NS) if etree.QName(element).localname in HEADINGS), None)
    if heading is not None:
        _set_title(tree, _text(heading))
    refs = {}
    for number, ref in enumerate(tree.iterfind(".//x:a[@epub:type='noteref']", NS), 1):
        label = note_label(number, footnote_style)
        for child in list(ref):
            ref.remove(child)
        ref.text = None
        etree.SubElement(ref, f"{{{XHTML}}}sup").text = label
        refs[ref.get("href", "").lstrip("#")] = (ref.get("id", ""), label)
    for note in tree.iterfind(".//x:aside[@epub:type='footnote']", NS):
        ref_id, label = refs.get(note.get("id", ""), ("", ""))
        if not ref_id:
            continue
        first = note.find("x:p", NS)
        if first is None:
            first = etree.Element(f"{{{XHTML}}}p")
            note.insert(0, first)
        back = etree.Element(f"{{{XHTML}}}a", {"href": f"#{ref_id}", "class": "footnote-back", "role": "doc-backlink"})
        back.text = label
        back.tail = "\u3000" + (first.text or "")
        first.text = None
        first.insert(0, back)
    for cell in tree.iterfind(".//x:th", NS):
        if cell.get("scope") is None:
            in_head = cell.getparent() is not None and etree.QName(cell.getparent().getparent()).localname == "thead"
            cell.set("scope", "col" if in_head else "row")
    for math in tree.iterfind(".//m:math", NS):
        annotation = math.find(".//m:annotation[@encoding='application/x-tex']", NS)
        if annotation is not None and annotation.text and not math.get("alttext"):
            math.set("alttext", annotation.text.strip())


def _meta(parent: etree._Element, prop: str, text: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{OPF}}}meta", {"property": prop, **attributes})
    element.text = text
    element.getprevious().tail = "\n    "
    element.tail = "\n  "
    return element


def finish_package(tree: etree._ElementTree, declaration: Declaration, body_file: str) -> None:
    """content.opf: the accessibility metadata, the 版权页 in manifest and spine, the nav before the body."""
    metadata = tree.find("opf:metadata", NS)
    for old in metadata.iterfind("opf:meta", NS):
        if (old.get("property") or "").startswith("schema:"):
            metadata.remove(old)
    for mode in declaration.access_modes:
        _meta(metadata, "schema:accessMode", mode)
    _meta(metadata, "schema:accessModeSufficient", ",".join(declaration.sufficient))
    for feature in declaration.features:
        _meta(metadata, "schema:accessibilityFeature", feature)
    _meta(metadata, "schema:accessibilityHazard", "none")
    _meta(metadata, "schema:accessibilitySummary", declaration.summary)
    if declaration.conforms:
        _meta(metadata, "dcterms:conformsTo", CONFORMS_TO)
    if declaration.certified_by:
        _meta(metadata, "a11y:certifiedBy", declaration.certified_by, id="certifier")
        if declaration.certifier_credential:
            _meta(metadata, "a11y:certifierCredential", declaration.certifier_credential, refines="#certifier")
    if declaration.page_source:
        _meta(metadata, "pageBreakSource", declaration.page_source)
    manifest = tree.find("opf:manifest", NS)
    etree.SubElement(manifest, f"{{{OPF}}}item", {"id": "copyright_xhtml", "href": COPYRIGHT, "media-type": "application/xhtml+xml"})
    spine = tree.find("opf:spine", NS)
    ids = {item.get("href"): item.get("id") for item in manifest}
    refs = list(spine)
    title_ref = next((ref for ref in refs if ref.get("idref") == ids.get(TITLE_PAGE)), None)
    copyright_ref = etree.Element(f"{{{OPF}}}itemref", {"idref": "copyright_xhtml"})
    if title_ref is not None:
        title_ref.addnext(copyright_ref)
    else:
        spine.insert(0, copyright_ref)
    body_ref = next((ref for ref in refs if ref.get("idref") == ids.get(body_file)), None)
    nav_ref = etree.Element(f"{{{OPF}}}itemref", {"idref": ids.get("nav.xhtml", "nav")})
    if body_ref is not None:
        body_ref.addprevious(nav_ref)
    else:
        spine.append(nav_ref)
    for reference in tree.iterfind("opf:guide/opf:reference", NS):
        reference.set("title", {"cover": "封面", "toc": "目录"}.get(reference.get("type", ""), reference.get("title", "")))


def finish_nav(
    tree: etree._ElementTree,
    has_cover: bool,
    body_href: str,
    pages: list[tuple[int, str, str]],
    bibliography_href: str = "",
    index: tuple[str, str] | None = None,
    glossary: tuple[str, str] | None = None,
) -> None:
    """nav.xhtml: <title> 目录, the landmarks in Chinese (参考文献 at ``bibliography_href`` when the book has
    its list, the 术语表 as ``glossary`` and the 索引 as ``index``: (href, title); EPUB 3 Structural
    Semantics' ``glossary`` and ``index``), and the page list (physical, folio, href) when given."""
    _set_title(tree, "目录")
    for spacer in list(tree.iterfind(".//x:span[@class='autospace']", NS)):  # nav labels are text only (EPUBCheck)
        _remove(spacer)
    body = tree.find("x:body", NS)
    for nav in body.iterfind("x:nav", NS):
        if nav.get(EPUB_TYPE) in ("landmarks", "page-list"):
            body.remove(nav)
    entries = ([("text/cover.xhtml", "cover", "封面")] if has_cover else []) + [
        (TITLE_PAGE, "titlepage", "书名页"),
        (COPYRIGHT, "copyright-page", "版权页"),
        ("nav.xhtml#toc", "toc", "目录"),
        (body_href, "bodymatter", "正文"),
    ]
    entries += [(bibliography_href, "bibliography", "参考文献")] if bibliography_href else []
    entries += [(glossary[0], "glossary", glossary[1])] if glossary else []
    entries += [(index[0], "index", index[1])] if index else []
    body.append(_nav_list("landmarks", "landmarks", "导航标记", [(href, label, {EPUB_TYPE: kind}) for href, kind, label in entries]))
    if pages:
        body.append(_nav_list("page-list", "page-list", "页码", [(href, folio, {}) for _, folio, href in pages], role="doc-pagelist"))


def _nav_list(kind: str, nav_id: str, heading: str, links: list[tuple[str, str, dict]], role: str = "") -> etree._Element:
    nav = etree.Element(f"{{{XHTML}}}nav", {EPUB_TYPE: kind, "id": nav_id, "hidden": "hidden", **({"role": role} if role else {})})
    etree.SubElement(nav, f"{{{XHTML}}}h2").text = heading
    ordered = etree.SubElement(nav, f"{{{XHTML}}}ol")
    for href, label, attributes in links:
        link = etree.SubElement(etree.SubElement(ordered, f"{{{XHTML}}}li"), f"{{{XHTML}}}a", {"href": href, **attributes})
        link.text = label
    return nav


@dataclass(frozen=True)
class FinishedDocument:
    """One content document as the package holds it, and what the package-wide finishing reads from it:
    the ids it holds (the 正文, 参考文献 and 索引 landmarks point into the files holding theirs) and its
    printed pages' markers (physical page, folio, id) for the page list."""

    data: bytes
    ids: frozenset[str]
    pages: tuple[tuple[int, str, str], ...]


_MATTER = {"front": "frontmatter", "back": "backmatter"}  # the kind bookgen puts on a heading → the body's epub:type


def _set_matter(tree: etree._ElementTree) -> None:
    """The body's ``epub:type`` by the division of its first section (EPUB 3 Structural Semantics:
    frontmatter, bodymatter, backmatter): pandoc calls every body bodymatter but for a few epub:types of
    its own, and a 前言, 致谢 or 索引 is none of those."""
    body = tree.find("x:body", NS)
    first = next(body.iterfind(".//x:section", NS), None) if body is not None else None
    if body is None or first is None:
        return
    for kind, matter in _MATTER.items():
        if kind in first.get("class", "").split():
            body.set(EPUB_TYPE, matter)


def finish_content(raw: bytes, footnote_style: str) -> FinishedDocument:
    """A chapter's XHTML as pandoc wrote it → finished (``finish_document``, the body's matter), with its
    ids and page markers."""
    tree = _parse(raw)
    finish_document(tree, footnote_style)
    _set_matter(tree)
    pages = []
    for element in tree.iterfind(".//x:span[@role='doc-pagebreak']", NS):
        match = _PAGE_ID.match(element.get("id", ""))
        if match:
            pages.append((int(match.group(1)), element.get("aria-label", ""), element.get("id", "")))
    ids = frozenset(element.get("id") for element in tree.iterfind(".//*[@id]"))
    return FinishedDocument(_serialise(tree), ids, tuple(pages))


def finish_epub(data: dict[str, bytes], order: list[str], book: Book, finish: Finish, documents: dict[str, FinishedDocument]) -> list[str]:
    """Complete the package's files ``data`` (zip name → bytes, in place) as the module docstring says;
    ``documents`` are the finished content documents by package-relative name (``text/ch001.xhtml``),
    already in ``data``. Returns the zip's entry order: ``order`` with the 版权页 after the 书名页."""
    env = _environment()
    meta = book.metadata
    root = PurePosixPath(next(name for name in data if name.endswith(".opf"))).parent
    body_file, bibliography_href, pages, index, glossary = "", "", [], None, None
    for relative in sorted(documents):
        document = documents[relative]
        if finish.first_body_id in document.ids:
            body_file = relative
        if LIST_ID in document.ids:
            bibliography_href = f"{relative}#{LIST_ID}"
        if INDEX_ID in document.ids:
            index = (f"{relative}#{INDEX_ID}", book.index.title)
        if GLOSSARY_ID in document.ids:
            glossary = (f"{relative}#{GLOSSARY_ID}", book.glossary.title)
        pages += [(physical, folio, f"{relative}#{element_id}") for physical, folio, element_id in document.pages]
    cover_name = f"{root}/text/cover.xhtml"
    if cover_name in data:
        cover = _parse(data[cover_name])
        _set_title(cover, "封面")
        for svg in cover.iterfind(".//{http://www.w3.org/2000/svg}svg"):
            svg.set("role", "img")
            svg.set("aria-label", f"封面：{meta.title}")
        data[cover_name] = _serialise(cover)
    values = {
        "title": meta.title,
        "subtitle": meta.subtitle,
        "authors": meta.authors,
        "publisher": meta.publisher,
        "language": meta.language,
        "imprint": finish.imprint,
        "rights": meta.rights,
    }
    title_name = f"{root}/{TITLE_PAGE}"
    data[title_name] = env.get_template("titlepage.xhtml").render(values).encode("utf-8")
    copyright_name = f"{root}/{COPYRIGHT}"
    data[copyright_name] = env.get_template("copyright.xhtml").render(values).encode("utf-8")
    opf_name = f"{root}/content.opf"
    opf = _parse(data[opf_name])
    finish_package(opf, finish.declaration, body_file)
    # lxml names new elements with the metadata element's "opf:" prefix; the default namespace is the same
    data[opf_name] = re.sub(rb"<(/?)opf:(meta|item|itemref)\b", rb"<\1\2", _serialise(opf, doctype=False))
    nav_name = f"{root}/nav.xhtml"
    nav = _parse(data[nav_name])
    body_href = f"{body_file}#{finish.first_body_id}" if body_file else "nav.xhtml#toc"
    finish_nav(nav, cover_name in data, body_href, sorted(pages), bibliography_href, index, glossary)
    data[nav_name] = _serialise(nav)
    at = order.index(title_name) + 1
    return [*order[:at], copyright_name, *order[at:]]
