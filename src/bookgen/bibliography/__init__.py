"""参考文献 by GB/T 7714 (2025, or 2015): reading .bib and CSL-JSON files, citations, the reference list.

One formatter gives the same entry text to the PDF, the EPUB and the HTML edition, as pandoc AST
inlines. Entry points: :func:`load_bibliography`, :meth:`Bibliography.cite`,
:meth:`Bibliography.entries_in_order`, :meth:`Bibliography.check`. Citations are recognised in the
conversion (sources/pandoc/refs.lua, beside cross-references) as placeholders; ``citing`` numbers
them book-wide, ``latex`` and ``ast`` print them and the list into the PDF and the EPUB/HTML.
"""

from bookgen.bibliography.entry import DateValue, Entry, Kind, Name
from bookgen.bibliography.findings import Code, Finding, Severity
from bookgen.bibliography.library import (
    Bibliography,
    CiteItem,
    Mode,
    anchor,
    inlines,
    load_bibliography,
)

__all__ = [
    "Bibliography",
    "CiteItem",
    "Code",
    "DateValue",
    "Entry",
    "Finding",
    "Kind",
    "Mode",
    "Name",
    "Severity",
    "anchor",
    "inlines",
    "load_bibliography",
]
