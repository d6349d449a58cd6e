"""Typed bibliography entries: what the readers produce and the GB/T 7714 formatter consumes.

Plain data only; nothing here knows BibTeX or CSL-JSON field names (that is ``reading``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Kind(enum.Enum):
    """The document types of GB/T 7714—2025 (§4, table 1), plus the parts that are cited inside a whole.

    The value is the type code printed in the list; ``CHAPTER`` is a part of a book ([M]//),
    ``PAPER`` a paper in proceedings ([C]//), ``PERIODICAL`` a journal as a whole ([J]).
    """

    BOOK = "M"
    CHAPTER = "M//"
    PROCEEDINGS = "C"
    PAPER = "C//"
    COLLECTION = "G"
    NEWSPAPER = "N"
    ARTICLE = "J"
    PERIODICAL = "J*"
    THESIS = "D"
    REPORT = "R"
    STANDARD = "S"
    PATENT = "P"
    DATABASE = "DB"
    SOFTWARE = "CP"
    WEBPAGE = "EB"
    ARCHIVE = "A"
    MAP = "CM"
    DATASET = "DS"
    PREPRINT = "PP"
    OTHER = "Z"


@dataclass(frozen=True)
class Name:
    """One person or body. ``literal`` for bodies and names kept whole (张伯伟, 'IRRI')."""

    family: str = ""
    given: str = ""
    literal: str = ""
    particle: str = ""  # dropping particle printed after the initials: 'van der' → 'v d'
    prefix: str = ""  # non-dropping particle kept before the family name: 'De', 'Des'
    suffix: str = ""  # 'Jr.'

    @property
    def sort_key(self) -> str:
        return (self.literal or f"{self.prefix} {self.family} {self.given}").strip().lower()


_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass(frozen=True)
class DateValue:
    """A date as far as it is known: (year,), (year, month) or (year, month, day); or only a printed ``literal``."""

    parts: tuple[int, ...] = ()
    literal: str = ""  # '1887（光绪十三年三月十三日）', 'c1988', '1984—'

    @classmethod
    def parse(cls, text: str) -> DateValue:
        """'2013-01-08' → parts (2013, 1, 8); anything else is kept as a literal with its year, if any."""
        text = text.strip()
        match = _ISO.match(text)
        if match:
            return cls(tuple(int(g) for g in match.groups() if g))
        year = re.match(r"^(\d{4})\b", text)
        return cls((int(year.group(1)),) if year else (), text)

    def __bool__(self) -> bool:
        return bool(self.parts or self.literal)

    @property
    def year(self) -> str:
        return self.literal or (str(self.parts[0]) if self.parts else "")

    def iso(self) -> str:
        """'2013-01-08' (zero-padded, as the standard prints dates), the year, or the literal."""
        if self.literal:
            return self.literal
        return "-".join([f"{self.parts[0]:04d}", *(f"{p:02d}" for p in self.parts[1:])])


@dataclass(frozen=True)
class Entry:
    """One bibliography entry, whatever file it came from. Text fields are plain Unicode ('' when absent)."""

    key: str
    kind: Kind
    source: str  # manuscript-relative file it was read from
    line: int  # 1-based line of the entry in that file (0 when unknown)
    language: str = ""  # BCP 47-ish tag or a BibLaTeX langid ('zh-CN', 'chinese', 'en-US')
    authors: tuple[Name, ...] = ()
    editors: tuple[Name, ...] = ()
    translators: tuple[Name, ...] = ()
    holders: tuple[Name, ...] = ()  # patent applicants (专利申请者或所有者)
    container_authors: tuple[Name, ...] = ()  # the book's or proceedings' own responsible persons
    title: str = ""
    container_title: str = ""  # book, proceedings, journal or newspaper the entry is part of
    container_short: str = ""
    event: str = ""  # conference name when no proceedings title is given
    edition: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    publisher: str = ""  # also the degree-granting institution, the archive, the dataset's repository
    place: str = ""
    issued: DateValue = DateValue()
    accessed: DateValue = DateValue()
    doi: str = ""
    cstr: str = ""  # China's science and technology resource identifier (CSTR), printed like a DOI
    url: str = ""
    number: str = ""  # report, standard, patent or archive number
    version: str = ""
    scale: str = ""
    dimensions: str = ""
    online: bool = False  # the carrier is online (/OL) even without a URL
    note: str = ""  # what the note/Extra field says besides `variable: value` lines

    @property
    def is_cjk(self) -> bool:
        """Chinese or Japanese (等, names in full): from language/langid, else from the script of title and names."""
        lang = self.language.lower()
        if lang:
            return lang.startswith(("zh", "ja", "chinese", "japanese", "pinyin", "cn"))
        sample = self.title + "".join(n.literal + n.family for n in self.authors + self.editors) + self.container_title
        return has_cjk(sample)


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def has_cjk(text: str) -> bool:
    """Whether ``text`` has a CJK ideograph or kana."""
    return bool(_CJK.search(text))
