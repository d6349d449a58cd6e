"""The web edition's search index: Pagefind (PyPI ``pagefind[extended]``, whose binary segments Chinese).

Pagefind reads the built pages (only ``<main data-pagefind-body>``, i.e. the book's text) and writes
a chunked index into ``pagefind/``: the browser loads only the chunks a query needs, so the index
scales to long books, and the extended build splits Chinese into words when it indexes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bookgen.errors import ToolError
from bookgen.tools import run_tool

BUNDLE = "pagefind"  # the index's folder inside the site


def pagefind_binary() -> Path:
    """The Pagefind binary shipped in the ``pagefind_bin_extended`` wheel; ToolError when it is missing."""
    try:
        import pagefind_bin_extended
    except ImportError:
        raise ToolError("Pagefind is missing: install pagefind[extended] (make deps)") from None
    return pagefind_bin_extended.get_executable()


def index_site(site: Path) -> None:
    """(Re)write ``site/pagefind/`` from the site's pages. Raises ToolError when Pagefind fails."""
    shutil.rmtree(site / BUNDLE, ignore_errors=True)
    run_tool([str(pagefind_binary()), "--site", str(site), "--output-subdir", BUNDLE, "--silent"],
             "the web edition's search index", timeout=600)
