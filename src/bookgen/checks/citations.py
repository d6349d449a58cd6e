"""Citations (C): unknown keys, malformed and duplicate entries, missing required fields, unused entries
(bookgen.bibliography), each at its place: the citation's ``@`` in the Markdown, the entry's line in
its .bib or .json file."""

from __future__ import annotations

from bookgen.bibliography.citing import book_citations, use_place
from bookgen.errors import ManuscriptError
from bookgen.sources.convert import Converted

from .context import CheckContext


def check_citations(ctx: CheckContext, converted: dict[str, Converted]) -> None:
    """C001–C005 over the whole book (nothing when book.yaml names no bibliography)."""
    book = ctx.book
    try:
        citations = book_citations(book, converted)
    except ManuscriptError as error:  # a bibliography file that is missing
        where = book.yaml.location(("bibliography",))
        ctx.report("C002", ctx.yaml_display, where.line or 1, where.column or 1, error.message)
        return
    if citations is None:
        return
    texts = {source.node.id: source.text for source in ctx.files if source.node is not None}
    uses = [(use.key, *use_place(texts, use)) for use in citations.uses]
    for finding in citations.library.check(uses):
        ctx.report(finding.code.value, book.display(finding.file), finding.line or 1, finding.column or 1, finding.message)
