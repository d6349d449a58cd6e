"""The build date every output carries, for reproducible builds."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

from bookgen.model.book import Book


def source_date_epoch(book: Book) -> int | None:
    """Build date for reproducible outputs: SOURCE_DATE_EPOCH, else book.yaml's date (YYYY-MM-DD)."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", book.metadata.date)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return int(datetime(year, month, day, tzinfo=UTC).timestamp())
    return None
