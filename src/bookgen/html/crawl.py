"""Crawl a built site: every relative link, image and script must name a file of the site, and every
``#fragment`` an id on the page it points to.

The pages are bookgen's own output (pandoc's and Jinja's HTML, attributes always double-quoted), so
attributes are found with regular expressions: ten times quicker than an HTML parser on a long book,
which matters to ``bookgen serve``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

_ID = re.compile(r'<[a-zA-Z][^<>]*?\sid="([^"]*)"')
_URL = re.compile(r'<(?:a|link)\s[^<>]*?\bhref="([^"]*)"|<(?:img|script|source)\s[^<>]*?\bsrc="([^"]*)"')


def page_links(text: str) -> tuple[set[str], list[str]]:
    """A page's ids and the URLs it refers to (a/link href, img/script/source src), entities decoded."""
    ids = {html.unescape(value) for value in _ID.findall(text)}
    urls = [html.unescape(href or src) for href, src in _URL.findall(text)]
    return ids, urls


def crawl(site: Path, beside: frozenset[str] = frozenset()) -> list[str]:
    """Broken links of the site's top-level pages, as ``page.html: link URL → why``; [] when none.

    ``beside``: files the published folder will hold that ``site`` does not (the book's PDF and EPUB).
    """
    pages = {path.name: page_links(path.read_text(encoding="utf-8")) for path in sorted(site.glob("*.html"))}
    verdicts: dict[tuple[str, str], str] = {}  # the pages share one folder: a URL means the same on each
    problems = []
    for name, (_, urls) in pages.items():
        for url in dict.fromkeys(urls):
            key = (url, name if url.startswith("#") or not url else "")
            if key not in verdicts:
                verdicts[key] = "" if url in beside else _verdict(site, pages, name, url)
            if verdicts[key]:
                problems.append(f"{name}: link {url} {verdicts[key]}")
    return problems


def _verdict(site: Path, pages: dict[str, tuple[set[str], list[str]]], name: str, url: str) -> str:
    """Why ``url`` on page ``name`` is broken, '' when it is not."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return ""  # the author's external links are not ours to check (and never fetched)
    target, fragment = unquote(parts.path) or name, unquote(parts.fragment)
    if target.startswith("/") or ".." in PurePosixPath(target).parts:
        return "leaves the site (links must be relative)"
    if target not in pages and not (site / target).is_file():
        return "→ no such file"
    if fragment and target in pages and fragment not in pages[target][0]:
        return f"→ no id '{fragment}' on {target}"
    return ""
