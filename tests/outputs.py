"""Reading built outputs back with the real tools, for tests: PDF bookmarks and text, EPUB nav and files."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pikepdf

XHTML = "{http://www.w3.org/1999/xhtml}"


def squash(text: str) -> str:
    return " ".join(text.split())


def pdf_bookmarks(pdf: Path) -> list[str]:
    titles: list[str] = []
    with pikepdf.open(pdf) as document, document.open_outline() as outline:

        def walk(items):
            for item in items:
                titles.append(squash(item.title))
                walk(item.children)

        walk(outline.root)
    return titles


def epub_nav(epub: Path) -> list[str]:
    with zipfile.ZipFile(epub) as archive:
        nav_name = next(name for name in archive.namelist() if name.endswith("nav.xhtml"))
        root = ElementTree.fromstring(archive.read(nav_name))
    toc = next(nav for nav in root.iter(f"{XHTML}nav") if nav.get("id") == "toc")
    return [squash("".join(a.itertext())) for a in toc.iter(f"{XHTML}a")]


def epub_texts(epub: Path) -> dict[str, str]:
    with zipfile.ZipFile(epub) as archive:
        return {
            name: archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith((".xhtml", ".opf", ".css", ".ncx"))
        }


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def plain(text: str) -> str:
    """pdftotext output without layout spaces, for finding Chinese phrases."""
    return re.sub(r"\s+", "", text)


def pdf_link_problems(pdf: Path) -> list[str]:
    """Named destinations that point off the page tree, links and bookmarks to names that do not exist."""
    problems = []
    with pikepdf.open(pdf) as document:
        pages = {page.obj.objgen for page in document.pages}
        dests = dict(pikepdf.NameTree(document.Root.Names.Dests).items())
        problems += [f"destination {name} points to no page" for name, dest in dests.items() if dest[0].objgen not in pages]
        for number, page in enumerate(document.pages, 1):
            for annotation in page.obj.get("/Annots", []):
                action = annotation.get("/A")
                if action is not None and action.get("/S") == "/GoTo" and str(action.D) not in dests:
                    problems.append(f"page {number}: link to missing destination {action.D}")
        with document.open_outline() as outline:

            def walk(items):
                for item in items:
                    if item.action is not None and str(item.action.D) not in dests:
                        problems.append(f"bookmark {item.title} goes to missing destination {item.action.D}")
                    walk(item.children)

            walk(outline.root)
    return problems
