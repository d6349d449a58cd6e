"""The web edition's search data: ``search.json``, the text of every heading's section, for the
search page (``assets/search.js``) to search by substring.

Why not a word index: Chinese has no spaces, so a word index stands or falls with its segmenter,
and the query must be cut exactly as the text was. Pagefind 1.5.2 (the newest on PyPI; the
extended build segments Chinese) cuts the pages with one dictionary and the query with the
browser's ICU, so 调研 becomes 调 + 研 at query time and 市场调研 missed the section that says it
three times; worse, in a two-page site with 问卷调查 on one page and 卷积神经网络 on the other,
问卷 is not found at all. lunr, elasticlunr (mdBook) and GitBook's search split on spaces. A
substring search needs no segmenter: every two-character word, 隔离级别, GPT-3 and B+树 are found
exactly as typed. The price is that the search page loads the book's text once (≈ 3 bytes per
Chinese character, compressed well by any web server), which is small for a book.
"""

from __future__ import annotations

import json

from bookgen.html.pages import Site, stringify

SEARCH_DATA = "search.json"


def search_data(site: Site) -> str:
    """``search.json``: one record per heading, in reading order, ``{"u": href, "t": numbered heading,
    "p": page title, "x": the section's text up to the next heading}``."""
    records: list[dict[str, str]] = []
    for page in site.pages:
        for block in page.blocks:
            if block["t"] == "Header":
                anchor = block["c"][1][0]
                href = page.file if block is page.blocks[0] or not anchor else f"{page.file}#{anchor}"
                records.append({"u": href, "t": " ".join(stringify(block["c"][2]).split()), "p": page.title, "x": ""})
            elif records:
                records[-1]["x"] += " ".join(stringify(block).split()) + " "
    for record in records:
        record["x"] = record["x"].strip()
    return json.dumps(records, ensure_ascii=False, separators=(",", ":"))
