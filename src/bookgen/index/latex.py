r"""The PDF side of the index and the glossary: terms resolved into links, the 术语表 and 索引 units.

A term's ``\bookgenterm{N}`` (index.lua) becomes ``\bookgentermfirst{anchor}`` (its first use in the
chapter, bold when glossary.bold_first), ``\bookgentermlink{anchor}`` or, for a key the glossary lacks,
``\bookgentermplain`` — in the section's own unit, so only that unit changes when its terms do.

The index unit lists the entries in pinyin order; each entry's locators are the ids of its marks,
``\bookgenlocators{ix-a,ix-b}{ix-c/ix-d}`` (single marks, then ranges), which TeX turns into sorted,
merged page numbers with links from what each mark wrote to its unit's .aux at shipout
(templates/latex/preamble/index.tex_t). Pages therefore come from TeX itself: a mark that moves to
another page changes its unit's .aux, which the chapter-level update compares (latex/update.py), and
latexmk's own rerun rule (an .aux changed) gives the extra pass when the index moves pages after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bookgen.index.glossary import Glossary, definitions, load_glossary
from bookgen.index.table import Entry, IndexTable, collect_index, entry_levels, group_title, reference_text
from bookgen.latex.render import tex_escape
from bookgen.model.book import Book
from bookgen.sources.convert import READER, Converted

TERM = re.compile(r"\\bookgenterm\{(\d+)\}")
INDEX_UNIT = "book-index"
GLOSSARY_UNIT = "book-glossary"

Unit = tuple[str, str, dict]  # file stem, template, template variables (latex.render's unit plan)


def resolve_terms(latex: str, node_id: str, table: IndexTable, glossary: Glossary, bold_first: bool) -> str:
    """``latex`` (a converted section) with its terms linked to their glossary entries."""
    uses = table.terms.get(node_id)
    if not uses:
        return latex

    def linked(match: re.Match) -> str:
        use = uses[int(match.group(1)) - 1]
        term = glossary.find(use.key)
        if term is None:
            return "\\bookgentermplain"
        return f"\\bookgenterm{'first' if use.first and bold_first else 'link'}{{{term.anchor}}}"

    return TERM.sub(linked, latex)


def locators(entry: Entry) -> str:
    singles = ",".join(locator.first.id for locator in entry.locators if locator.last is None)
    ranges = ",".join(f"{locator.first.id}/{locator.last.id}" for locator in entry.locators if locator.last is not None)
    return f"\\bookgenlocators{{{singles}}}{{{ranges}}}" if entry.locators else ""


def _references(book: Book, table: IndexTable, entry: Entry) -> str:
    """见 / 另见 as LaTeX, each entry it names a link to that entry (\\hyperlink to its anchor)."""
    parts = []
    for word, targets in ((book.index.see, entry.see), (book.index.see_also, entry.see_also)):
        if targets:
            named = []
            for target in targets:
                found = table.entries.get(entry_levels(target))
                text = tex_escape(reference_text(target))
                named.append(f"\\hyperlink{{{found.anchor}}}{{{text}}}" if found else text)
            parts.append(tex_escape(word) + "、".join(named))
    return "；".join(parts)


@dataclass(frozen=True)
class IndexUnits:
    """The 术语表 and 索引 units (None: the book has no glossary, no index marks)."""

    glossary: Unit | None
    index: Unit | None
    glossary_in_appendices: bool

    def place(self, plan: dict[str, list[Unit]]) -> None:
        """Put the units into latex.render's unit plan: the glossary last among the appendices or first in
        the back matter, the index after it (house style: 附录 → 参考文献 → 索引 → 致谢/后记)."""
        glossary = []
        if self.glossary is not None and self.glossary_in_appendices:
            self.glossary[2]["glossary"]["opens_appendices"] = not plan["appendices"]
            plan["appendices"].append(self.glossary)
        elif self.glossary is not None:
            glossary = [self.glossary]
        back = plan["back"]
        references = 1 if back and back[0][0] == "bibliography" else 0
        back[references:references] = [self.index] if self.index else []  # after the 参考文献, if any
        back[:0] = glossary  # first in the back matter


def with_index(book: Book, converted: dict[str, Converted]) -> tuple[dict[str, Converted], IndexUnits]:
    """The sections with their terms resolved, and the 术语表 and 索引 units; raises ManuscriptError for a
    glossary file that cannot be read."""
    table = collect_index(book, converted)
    glossary = load_glossary(book)
    glossary_unit = index_unit = None
    if glossary.terms:
        converted_definitions = definitions(glossary, READER)
        terms = [
            {
                "anchor": term.anchor,
                "heading": term.heading,
                "definition": converted_definitions[term.key].latex if term.key in converted_definitions else "",
                "see_also": [
                    {"anchor": found.anchor, "term": found.term} if (found := glossary.find(key)) else {"anchor": "", "term": key}
                    for key in term.see_also
                ],
            }
            for term in glossary.terms
        ]
        glossary_unit = (
            GLOSSARY_UNIT,
            "units/glossary.tex_t",
            {
                "glossary": {
                    "title": book.glossary.title,
                    "appendix": book.glossary.place == "appendix",
                    "opens_appendices": False,
                    "terms": terms,
                    "see_word": book.index.see_also,
                }
            },
        )
    if not table.empty:
        targets = {entry_levels(named) for item in table.entries.values() for named in (*item.see, *item.see_also)}
        groups = [
            {
                "title": group_title(book, group),
                "entries": [
                    {
                        "depth": entry.depth,
                        "text": entry.text,
                        "anchor": entry.anchor if entry.levels in targets else "",
                        "locators": locators(entry),
                        "references": _references(book, table, entry),
                    }
                    for entry in group.entries
                ],
            }
            for group in table.groups
        ]
        index_unit = (
            INDEX_UNIT,
            "units/index.tex_t",
            {"index": {"title": book.index.title, "columns": book.index.columns, "groups": groups}},
        )
    resolved = {
        node_id: replace(section, latex=resolve_terms(section.latex, node_id, table, glossary, book.glossary.bold_first))
        for node_id, section in converted.items()
    }
    return resolved, IndexUnits(glossary_unit, index_unit, book.glossary.place == "appendix")
