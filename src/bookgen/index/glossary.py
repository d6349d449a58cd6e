"""The glossary file (book.yaml ``glossary:``): terms with their English, abbreviation and definition.

The file is a YAML list; each item has ``term`` (required), ``english``, ``abbreviation``,
``definition`` (Markdown), ``see_also`` (keys or terms, one or a list) and ``key`` (what
``{.term key=…}`` names; the term itself when not given). The glossary prints them in pinyin order
(bookgen.index.collate), each headed in the house form 人工智能（Artificial Intelligence, AI）.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bookgen.errors import Location, ManuscriptError
from bookgen.index.collate import sort_key
from bookgen.model.book import Book
from bookgen.model.yamlpos import PositionedYaml, load_yaml
from bookgen.tools import PANDOC_DATA_DIR, pandoc_env, pandoc_path, run_tool

TERM_KEYS = ("term", "english", "abbreviation", "definition", "see_also", "key")
SCRIPT = PANDOC_DATA_DIR / "glossary.lua"
_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Term:
    """One glossary entry; ``index`` is its position in the file's list (for messages)."""

    key: str
    term: str
    english: str
    abbreviation: str
    definition: str  # Markdown
    see_also: tuple[str, ...]
    index: int

    @property
    def heading(self) -> str:
        """人工智能（Artificial Intelligence, AI）; the term alone when it has neither."""
        extra = ", ".join(part for part in (self.english, self.abbreviation) if part)
        return f"{self.term}（{extra}）" if extra else self.term

    @property
    def anchor(self) -> str:
        """The entry's link target in every output: gl-KEY for an ASCII key, else a digest of the key."""
        return "gl-" + (self.key if _SAFE.match(self.key) else hashlib.sha1(self.key.encode("utf-8")).hexdigest()[:10])


@dataclass(frozen=True)
class Definition:
    """A definition converted by pandoc: LaTeX, AST blocks, plain text (the web edition's tooltip)."""

    latex: str
    blocks: list
    plain: str


@dataclass(frozen=True)
class Glossary:
    """The terms in pinyin order, by key (the first of two with one key), the pairs sharing a key, and the
    file with positions (None: the book has no glossary)."""

    terms: tuple[Term, ...] = ()
    by_key: dict[str, Term] | None = None
    duplicates: tuple[tuple[Term, Term], ...] = ()
    yaml: PositionedYaml | None = None

    def find(self, key: str) -> Term | None:
        """The term ``{.term}`` names by ``key`` (its key or, failing that, its term)."""
        if not self.by_key:
            return None
        return self.by_key.get(key) or next((term for term in self.terms if term.term == key), None)


def _text(value: Any, where: str, yaml_doc: PositionedYaml, at: tuple) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        raise ManuscriptError(f"glossary: '{where}' must be text", yaml_doc.location(at))
    return str(value).strip()


def load_glossary(book: Book) -> Glossary:
    """The book's glossary (empty without ``glossary.file``). Raises ManuscriptError at ``FILE:LINE:COL``
    for a file that is not a list of mappings, an unknown key or an entry without ``term``."""
    if not book.glossary.file:
        return Glossary()
    doc = load_yaml(book.root / book.glossary.file)
    if not isinstance(doc.data, list):
        raise ManuscriptError("glossary: the file must be a YAML list of terms ('- term: …')", doc.location(()))
    terms: list[Term] = []
    for index, item in enumerate(doc.data):
        if not isinstance(item, dict):
            raise ManuscriptError("glossary: each item must be a mapping (term: …, english: …)", doc.location((index,)))
        for name in item:
            if name not in TERM_KEYS:
                raise ManuscriptError(
                    f"glossary: unknown key '{name}'; an entry has: {', '.join(TERM_KEYS)}", doc.location((index, name, "__key__"))
                )
        name_of = _text(item.get("term"), "term", doc, (index, "term"))
        if not name_of:
            raise ManuscriptError("glossary: an entry needs a 'term'", doc.location((index,)))
        see = item.get("see_also") or []
        see_also = tuple(str(s).strip() for s in (see if isinstance(see, list) else [see]))
        values = {name: _text(item.get(name), name, doc, (index, name)) for name in ("english", "abbreviation", "definition", "key")}
        terms.append(
            Term(values["key"] or name_of, name_of, values["english"], values["abbreviation"], values["definition"], see_also, index)
        )
    by_key: dict[str, Term] = {}
    duplicates = []
    for term in terms:
        if term.key in by_key:
            duplicates.append((by_key[term.key], term))
        else:
            by_key[term.key] = term
    ordered = tuple(sorted(terms, key=lambda term: sort_key(term.term, latin_in_letters=book.index.latin == "letters")))
    return Glossary(ordered, by_key, tuple(duplicates), doc)


def term_location(glossary: Glossary, term: Term, name: str = "term") -> Location:
    """Where ``term``'s ``name`` value is in the glossary file."""
    assert glossary.yaml is not None
    return glossary.yaml.location((term.index, name))


def definitions(glossary: Glossary, reader: str) -> dict[str, Definition]:
    """Every definition converted (one pandoc process; the same definitions are converted once per run)."""
    items = tuple((term.key, term.definition) for term in glossary.terms if term.definition)
    return _convert(items, reader) if items else {}


@lru_cache(maxsize=4)
def _convert(items: tuple[tuple[str, str], ...], reader: str) -> dict[str, Definition]:
    request = json.dumps({"reader": reader, "items": dict(items)}, ensure_ascii=False)
    proc = run_tool([pandoc_path(), "lua", str(SCRIPT)], "the glossary", input=request, env=pandoc_env())
    return {
        key: Definition(value["latex"], json.loads(value["ast"])["blocks"], " ".join(value["plain"].split()))
        for key, value in json.loads(proc.stdout).items()
    }
