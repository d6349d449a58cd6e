"""Crawl a built site: every relative link, image and script must name a file of the site, and every
``#fragment`` an id on the page it points to."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit


class _PageParser(HTMLParser):
    """Collects one page's ids and the URLs it refers to (a/link href, img/script src)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        url = values.get("href") if tag in ("a", "link") else values.get("src") if tag in ("img", "script", "source") else None
        if url:
            self.urls.append(url)


def crawl(site: Path) -> list[str]:
    """Broken links of the site's top-level pages, as ``page.html: link → target (why)``; [] when none."""
    parsed: dict[str, _PageParser] = {}
    for path in sorted(site.glob("*.html")):
        parser = _PageParser()
        parser.feed(path.read_text(encoding="utf-8"))
        parsed[path.name] = parser
    problems = []
    for name, parser in parsed.items():
        for url in parser.urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                continue  # the author's external links are not ours to check (and never fetched)
            target = unquote(parts.path) or name
            fragment = unquote(parts.fragment)
            if target.startswith("/") or ".." in PurePosixPath(target).parts:
                problems.append(f"{name}: link {url} leaves the site (links must be relative)")
            elif not (site / target).is_file():
                problems.append(f"{name}: link {url} → no such file")
            elif fragment and target in parsed and fragment not in parsed[target].ids:
                problems.append(f"{name}: link {url} → no id '{fragment}' on {target}")
    return problems
