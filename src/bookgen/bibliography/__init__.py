"""参考文献 by GB/T 7714 (2025, or 2015): reading .bib and CSL-JSON files, citations, the reference list.

One formatter gives the same entry text to the PDF, the EPUB and the HTML edition, as pandoc AST
inlines. Entry points: :func:`load_bibliography`, :meth:`Bibliography.cite`,
:meth:`Bibliography.entries_in_order`, :meth:`Bibliography.check`; :func:`find_citations` finds
``@key`` citations in Markdown (also between Chinese characters).
"""

from bookgen.bibliography.entry import DateValue, Entry, Kind, Name
from bookgen.bibliography.findings import Code, Finding, Severity
from bookgen.bibliography.library import (
    Bibliography,
    CiteItem,
    anchor,
    inlines,
    load_bibliography,
)
from bookgen.bibliography.syntax import (
    CROSSREF_PREFIXES,
    Mode,
    Reference,
    find_citations,
    scan_references,
)

__all__ = [
    "CROSSREF_PREFIXES", "Bibliography", "CiteItem", "Code", "DateValue", "Entry", "Finding", "Kind", "Mode", "Name",
    "Reference", "Severity", "anchor", "find_citations", "inlines", "load_bibliography", "scan_references",
]
