"""Read bibliography files into typed entries: BibTeX/BibLaTeX (.bib) and CSL-JSON (.json).

A .bib file is first scanned here (entry types, keys, lines, raw fields; malformed entries become
findings with their line), then its well-formed entries go through pandoc's BibLaTeX reader
(``-f biblatex -t csljson``: LaTeX decoding, names, dates). Both formats end in one CSL-item →
Entry function, so the same entries give the same output whichever file they come from. Zotero's
Extra field (exported into ``note``) is read as citeproc-js reads it: ``variable: value`` lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from bookgen.bibliography.entry import DateValue, Entry, Kind, Name
from bookgen.bibliography.findings import Code, Finding
from bookgen.errors import ManuscriptError
from bookgen.tools import pandoc_env, pandoc_path, run_tool


@dataclass
class RawBibEntry:
    """One ``@type{key, field = value, …}`` as written: lower-case type and field names, raw values."""

    type: str
    key: str
    line: int
    start: int  # offsets of the entry's text in the file
    end: int
    fields: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- .bib scanning

_IDENT = re.compile(r"[A-Za-z][\w-]*")
_KEY = re.compile(r"[^\s,{}()\"#%'=]+")


class _BibScanner:
    """A tolerant BibTeX scanner: it never raises; problems become (line, message) pairs."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.entries: list[RawBibEntry] = []
        self.problems: list[tuple[int, str]] = []
        self.strings: dict[str, str] = {}

    def line_at(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def scan(self) -> None:
        text = self.text
        while True:
            at = text.find("@", self.pos)
            if at < 0:
                return
            self.pos = at + 1
            match = _IDENT.match(text, self.pos)
            if not match:
                continue
            kind = match.group(0).lower()
            self.pos = match.end()
            self.skip_space()
            if self.pos >= len(text) or text[self.pos] not in "{(":
                self.problems.append((self.line_at(at), f"'@{kind}' is not followed by '{{'"))
                continue
            close = "}" if text[self.pos] == "{" else ")"
            self.pos += 1
            if kind in ("comment", "preamble"):
                self.read_braced_until(close)
            elif kind == "string":
                self.read_string(at, close)
            else:
                self.read_entry(kind, at, close)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def next_entry_start(self, frm: int) -> int:
        """Where the next entry starts on a line of its own (to recover from an unclosed one)."""
        match = re.compile(r"\n[ \t]*@[A-Za-z]+[ \t]*[{(]").search(self.text, frm)
        return match.start() + 1 if match else len(self.text)

    def read_braced_until(self, close: str) -> str | None:
        """Text up to the ``close`` that balances the opening; None when the file ends first."""
        depth, start, text = 0, self.pos, self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\":
                self.pos += 2
                continue
            if char == "{":
                depth += 1
            elif char == "}" and depth > 0:
                depth -= 1
            elif char == close and depth == 0:
                self.pos += 1
                return text[start : self.pos - 1]
            self.pos += 1
        return None

    def read_string(self, at: int, close: str) -> None:
        self.skip_space()
        match = _IDENT.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            self.skip_space()
            if self.text.startswith("=", self.pos):
                self.pos += 1
                value = self.read_value(self.next_entry_start(self.pos))
                if value is not None:
                    self.strings[match.group(0).lower()] = value
        self.read_braced_until(close)

    def read_value(self, limit: int) -> str | None:
        """A field value: braced, quoted, a number or a @string name, joined with '#'. None if malformed."""
        parts = []
        while True:
            self.skip_space()
            if self.pos >= limit:
                return None
            char = self.text[self.pos]
            if char in '{"':
                closer = "}" if char == "{" else '"'
                self.pos += 1
                depth, start = 0, self.pos
                while self.pos < limit:
                    c = self.text[self.pos]
                    if c == "\\":
                        self.pos += 2
                        continue
                    if c == "{":
                        depth += 1
                    elif c == "}" and depth > 0 and not (closer == "}" and depth == 0):
                        depth -= 1
                    elif c == closer and depth == 0:
                        break
                    self.pos += 1
                if self.pos >= limit:
                    return None
                parts.append(self.text[start : self.pos])
                self.pos += 1
            else:
                match = re.compile(r"[\w.:+/-]+").match(self.text, self.pos)
                if not match:
                    return None
                self.pos = match.end()
                word = match.group(0)
                parts.append(word if word.isdigit() else self.strings.get(word.lower(), word))
            self.skip_space()
            if self.text.startswith("#", self.pos):
                self.pos += 1
                continue
            return "".join(parts)

    def read_entry(self, kind: str, at: int, close: str) -> None:
        line = self.line_at(at)
        limit = self.next_entry_start(self.pos)
        self.skip_space()
        key_match = _KEY.match(self.text, self.pos)
        if not key_match:
            self.problems.append((line, f"@{kind} entry has no citation key"))
            self.pos = limit
            return
        key = key_match.group(0)
        self.pos = key_match.end()
        entry = RawBibEntry(kind, key, line, at, at)
        separated = False  # a ',' must come after the key and after each field
        while True:
            self.skip_space()
            if self.pos >= limit:
                self.problems.append((line, f"entry '{key}' is not closed: a '{close}' is missing"))
                self.pos = limit
                return
            char = self.text[self.pos]
            if char == close:
                self.pos += 1
                entry.end = self.pos
                self.entries.append(entry)
                return
            if char == ",":
                self.pos += 1
                separated = True
                continue
            if not separated:
                self.problems.append((self.line_at(self.pos), f"entry '{key}': a ',' is missing before '{char}'"))
                self.pos = limit
                return
            separated = False
            name = _IDENT.match(self.text, self.pos)
            if not name:
                self.problems.append((self.line_at(self.pos), f"entry '{key}': expected a field name, found '{char}'"))
                self.pos = limit
                return
            self.pos = name.end()
            self.skip_space()
            if not self.text.startswith("=", self.pos):
                self.problems.append((self.line_at(self.pos), f"entry '{key}': '=' missing after field '{name.group(0)}'"))
                self.pos = limit
                return
            self.pos += 1
            field_line = self.line_at(self.pos)
            value = self.read_value(limit)
            if value is None:
                self.problems.append((field_line, f"entry '{key}': the value of '{name.group(0)}' is not closed"))
                self.pos = limit
                return
            entry.fields[name.group(0).lower()] = value


def scan_bib(text: str) -> tuple[list[RawBibEntry], list[tuple[int, str]]]:
    """Entries of a .bib text and its problems as (1-based line, message); never raises."""
    scanner = _BibScanner(text)
    scanner.scan()
    return scanner.entries, scanner.problems


def _latex_plain(value: str) -> str:
    """A raw BibTeX value as plain text, for the few fields pandoc's reader drops (holder, scale…)."""
    value = value.replace("\\&", "&").replace("\\%", "%").replace("\\_", "_").replace("\\quad", "\u3000").replace("~", " ")
    return re.sub(r"\s+", " ", value.replace("{", "").replace("}", "")).strip()


# ---------------------------------------------------------------- CSL items → entries

_CSL_KIND = {
    "book": Kind.BOOK,
    "chapter": Kind.CHAPTER,
    "paper-conference": Kind.PAPER,
    "article-journal": Kind.ARTICLE,
    "article-magazine": Kind.ARTICLE,
    "article-newspaper": Kind.NEWSPAPER,
    "periodical": Kind.PERIODICAL,
    "thesis": Kind.THESIS,
    "report": Kind.REPORT,
    "standard": Kind.STANDARD,
    "patent": Kind.PATENT,
    "webpage": Kind.WEBPAGE,
    "post": Kind.WEBPAGE,
    "post-weblog": Kind.WEBPAGE,
    "software": Kind.SOFTWARE,
    "dataset": Kind.DATASET,
    "map": Kind.MAP,
    "article": Kind.PREPRINT,
    "personal_communication": Kind.ARCHIVE,
    "collection": Kind.COLLECTION,
    "entry-encyclopedia": Kind.CHAPTER,
    "entry-dictionary": Kind.CHAPTER,
}
_BIB_KIND = {
    "book": Kind.BOOK,
    "mvbook": Kind.BOOK,
    "booklet": Kind.BOOK,
    "inbook": Kind.CHAPTER,
    "incollection": Kind.CHAPTER,
    "bookinbook": Kind.CHAPTER,
    "inreference": Kind.CHAPTER,
    "proceedings": Kind.PROCEEDINGS,
    "mvproceedings": Kind.PROCEEDINGS,
    "inproceedings": Kind.PAPER,
    "conference": Kind.PAPER,
    "article": Kind.ARTICLE,
    "periodical": Kind.PERIODICAL,
    "phdthesis": Kind.THESIS,
    "mastersthesis": Kind.THESIS,
    "thesis": Kind.THESIS,
    "techreport": Kind.REPORT,
    "report": Kind.REPORT,
    "standard": Kind.STANDARD,
    "patent": Kind.PATENT,
    "online": Kind.WEBPAGE,
    "www": Kind.WEBPAGE,
    "webpage": Kind.WEBPAGE,
    "electronic": Kind.WEBPAGE,
    "software": Kind.SOFTWARE,
    "dataset": Kind.DATASET,
    "database": Kind.DATABASE,
    "map": Kind.MAP,
    "preprint": Kind.PREPRINT,
    "archive": Kind.ARCHIVE,
    "letter": Kind.ARCHIVE,
    "collection": Kind.COLLECTION,
    "mvcollection": Kind.COLLECTION,
    "reference": Kind.COLLECTION,
    "misc": Kind.OTHER,
}
_NAME_VARS = {"author", "editor", "translator", "container-author", "collection-editor", "holder", "editorial-director"}
_DATE_VARS = {"issued", "accessed", "original-date", "event-date", "submitted", "available-date"}
_TEXT_VARS = {
    "title",
    "container-title",
    "container-title-short",
    "collection-title",
    "edition",
    "volume",
    "issue",
    "page",
    "publisher",
    "publisher-place",
    "DOI",
    "URL",
    "number",
    "call-number",
    "version",
    "scale",
    "dimensions",
    "medium",
    "genre",
    "archive",
    "archive-place",
    "archive_location",
    "event",
    "event-title",
    "event-place",
    "language",
    "note",
    "status",
    "title-short",
    "volume-title",
    "authority",
    "section",
    "type",
    "ISBN",
    "ISSN",
    "tex.entrytype",
}
_CHEAT = re.compile(r"^\s*([A-Za-z][\w.-]*(?: [A-Za-z][\w.-]*)*)\s*:\s*(.*\S)\s*$")


def _cheater_lines(note: str) -> tuple[dict[str, str], str]:
    """Zotero's Extra/note field read as citeproc-js does: recognised ``variable: value`` lines, the rest kept."""
    found: dict[str, str] = {}
    rest = []
    for line in note.splitlines():
        match = _CHEAT.match(line)
        name = match.group(1).strip().lower().replace(" ", "-") if match else ""
        canonical = {"doi": "DOI", "url": "URL", "isbn": "ISBN", "issn": "ISSN", "book-title": "container-title", "cstr": "tex.cstr"}.get(
            name, name
        )
        if match and (canonical in _TEXT_VARS | _NAME_VARS | _DATE_VARS or canonical.startswith("tex.")):
            found[canonical] = match.group(2)
        elif line.strip():
            rest.append(line.strip())
    return found, "\n".join(rest)


def _names(value) -> tuple[Name, ...]:
    if isinstance(value, str):  # from the Extra field: 'Family || Given'
        family, _, given = value.partition("||")
        return (Name(family=family.strip(), given=given.strip()) if given else Name(literal=family.strip()),)
    names = []
    for item in value or []:
        if item.get("literal"):
            names.append(Name(literal=str(item["literal"]).strip()))
        else:
            names.append(
                Name(
                    family=str(item.get("family", "")).strip(),
                    given=str(item.get("given", "")).strip(),
                    particle=str(item.get("dropping-particle", "")).strip(),
                    prefix=str(item.get("non-dropping-particle", "")).strip(),
                    suffix=str(item.get("suffix", "")).strip(),
                )
            )
    return tuple(names)


def _date(value) -> DateValue:
    if not value:
        return DateValue()
    if isinstance(value, str):
        return DateValue.parse(value)
    if value.get("literal") or value.get("raw"):
        return DateValue.parse(str(value.get("literal") or value.get("raw")))
    parts = (value.get("date-parts") or [[]])[0]
    numbers = tuple(int(p) for p in parts if str(p).strip().lstrip("-").isdigit() and int(p) > 0)
    return DateValue(numbers)


def _rich_text(value: str) -> str:
    """CSL rich text reduced to what the formatter reads: <i>…</i> and <span class="nocase">…</span>;
    other tags (<b>, <sup>, <sc>, other spans) are dropped, keeping their text."""
    out, spans = [], []
    for part in re.split(r"(</?(?:span|b|i|sup|sub|sc)\b[^>]*>)", value):
        tag = re.match(r"<(/?)(\w+)([^>]*)>", part) if part.startswith("<") else None
        if not tag:
            out.append(part)
        elif tag.group(2) == "i":
            out.append(f"<{tag.group(1)}i>")
        elif tag.group(2) == "span" and not tag.group(1):
            spans.append("nocase" in tag.group(3))
            out.append('<span class="nocase">' if spans[-1] else "")
        elif tag.group(2) == "span":
            out.append("</span>" if spans and spans.pop() else "")
    return "".join(out)


def _protect_braced(title: str, raw: str) -> str:
    """Words a .bib title keeps in braces ('{Material} Characteristics') marked nocase in pandoc's
    sentence-cased title, as Zotero marks them in CSL-JSON, so no case rule changes them."""
    for braced in re.findall(r"(?<!\\)\{([^{}\\]+)\}", raw):
        word = braced.strip()
        at = title.find(word)
        if word and at >= 0 and '<span class="nocase">' + word not in title:
            title = f'{title[:at]}<span class="nocase">{word}</span>{title[at + len(word) :]}'
    return title


def _number(item: dict, kind: Kind) -> str:
    """The entry's number: report, standard and patent numbers, an archive's 档号.

    A patent prints its 专利号 (GB/T 7714—2025 §8.10: 专利申请者或所有者.专利题名:专利号[P]), which the
    standard's examples (§8.10.2 [1]-[4], B.9 [1]-[8]) give as the application number (申请号:
    CN200610171314.3, JP2021578120A, US89404301A), not the publication number (CN101106276A). Zotero
    keeps the application number in its own field, exported to CSL-JSON as ``call-number`` (and read
    from Extra as ``Call Number:``); it comes first, as in citeproc-js with the official GB/T 7714—2025
    CSL ("专利优先使用申请号"), and ``number`` (the patent/publication number) when there is none.
    """
    if kind == Kind.PATENT and str(item.get("call-number") or "").strip():
        return str(item["call-number"]).strip()
    return str(item.get("number") or item.get("archive_location") or "")


def entry_from_csl(item: dict, source: str, line: int, bib: RawBibEntry | None = None) -> Entry:
    """One CSL-JSON item (pandoc's or Zotero's) as an Entry; ``bib`` adds what pandoc's BibLaTeX reader drops."""
    item = dict(item)
    cheats, note = _cheater_lines(str(item.get("note", "")))
    for name, value in cheats.items():
        if name == "type":
            item["type"] = value
        elif name not in item or name in ("page",):
            item[name] = value
    raw = {k: _latex_plain(v) for k, v in (bib.fields if bib else {}).items()}
    raw.update({k.removeprefix("tex."): v for k, v in cheats.items() if k.startswith("tex.") and v.strip()})
    bib_type = (bib.type if bib else "") or raw.get("entrytype", "")
    kind = _BIB_KIND.get(bib_type) or _CSL_KIND.get(str(item.get("type", "")), Kind.OTHER)
    if raw.get("entrysubtype") == "newspaper" and kind == Kind.ARTICLE:
        kind = Kind.NEWSPAPER
    if (
        kind in (Kind.BOOK, Kind.PAPER)
        and item.get("type") == "paper-conference"
        and not (item.get("container-title") or item.get("event") or item.get("event-title"))
    ):
        kind = Kind.PROCEEDINGS
    if str(item.get("type")) == "manuscript" and not bib_type:
        kind = Kind.ARCHIVE if item.get("archive") else Kind.OTHER
    media = str(item.get("type")) in ("graphic", "motion_picture", "broadcast", "song") or bib_type in (
        "image",
        "video",
        "audio",
        "movie",
        "misc",
    )
    if media and kind == Kind.OTHER and (item.get("URL") or raw.get("url")):
        kind = Kind.WEBPAGE  # an online image or video is cited as an electronic resource [EB/OL]
    issued = _date(item.get("issued"))
    raw_year = raw.get("date") or raw.get("year") or ""
    if raw_year and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", raw_year) and not issued.literal:
        issued = DateValue.parse(raw.get("year") or raw_year)
    if cheats.get("issued"):
        issued = DateValue.parse(cheats["issued"])
    for markup in ("title", "container-title"):  # CSL rich text: <i>…</i> and nocase spans are kept
        if item.get(markup):
            item[markup] = _rich_text(str(item[markup]))
    if bib and item.get("title") and bib.fields.get("title"):
        item["title"] = _protect_braced(str(item["title"]), bib.fields["title"])
    if bib and bib.fields.get("journaltitle", bib.fields.get("journal")):  # as written: pandoc sentence-cases it
        item["container-title"] = raw.get("journaltitle") or raw.get("journal")
    if bib and kind == Kind.PERIODICAL:
        item["title"] = raw.get("title", item.get("title", ""))
    holders = _names(item.get("holder")) or tuple(Name(literal=n.strip()) for n in raw.get("holder", "").split(" and ") if n.strip())
    publisher = str(item.get("publisher") or item.get("archive") or "")
    place = str(item.get("publisher-place") or item.get("archive-place") or item.get("event-place") or "")
    if kind == Kind.PREPRINT and not publisher:
        publisher = raw.get("archiveprefix") or raw.get("eprinttype") or str(item.get("container-title") or "")
    if kind == Kind.ARCHIVE and item.get("archive") and item.get("publisher"):
        publisher = str(item["archive"])
    return Entry(
        key=str(item.get("id") or item.get("citation-key") or ""),
        kind=kind,
        source=source,
        line=line,
        language=str(item.get("language") or raw.get("langid") or ""),
        authors=_names(item.get("author") or item.get("director") or item.get("composer")),
        editors=_names(item.get("editor")),
        translators=_names(item.get("translator")),
        holders=holders,
        container_authors=_names(item.get("container-author")),
        title=str(item.get("title") or ""),
        container_title=str(item.get("container-title") or raw.get("booktitle") or raw.get("maintitle") or ""),
        container_short=str(item.get("container-title-short") or item.get("journalAbbreviation") or ""),
        event=str(item.get("event-title") or item.get("event") or ""),
        edition=str(item.get("edition") or ""),
        volume=str(item.get("volume") or ""),
        issue=str(item.get("issue") or ""),
        pages=str(item.get("page") or raw.get("eid") or "").replace("–", "-"),
        publisher=publisher,
        place=place,
        issued=issued,
        accessed=_date(item.get("accessed")),
        doi=str(item.get("DOI") or ""),
        cstr=raw.get("cstr", ""),
        url=str(item.get("URL") or ""),
        number=_number(item, kind),
        version=str(item.get("version") or ""),
        scale=str(item.get("scale") or raw.get("scale") or ""),
        dimensions=str(item.get("dimensions") or raw.get("dimensions") or ""),
        online=str(item.get("medium", "")).lower() in ("online", "ol"),
        note=note,
    )


# ---------------------------------------------------------------- files


@dataclass
class FileContents:
    """What one bibliography file holds: entries in file order, and the problems found reading it."""

    entries: list[Entry]
    findings: list[Finding]


def read_bib(path: Path, source: str) -> FileContents:
    """A BibTeX/BibLaTeX file. Raises ToolError only when pandoc itself cannot run."""
    text = path.read_text(encoding="utf-8-sig")
    raw_entries, problems = scan_bib(text)
    findings = [Finding(Code.MALFORMED, message, source, line) for line, message in problems]
    if not raw_entries:
        return FileContents([], findings)
    strings = "".join(m.group(0) + "\n" for m in re.finditer(r"@string\s*[{(][^@]*?[})]\s*(?=\n|$)", text, re.IGNORECASE))
    clean = strings + "\n\n".join(text[e.start : e.end].replace("\\quad", "\u3000") for e in raw_entries)
    proc = run_tool([pandoc_path(), "-f", "biblatex", "-t", "csljson"], source, input=clean, env=pandoc_env(), check=False)
    if proc.returncode != 0:
        message = next((ln.strip() for ln in proc.stderr.splitlines() if ln.strip()), "pandoc could not read it")
        findings.append(Finding(Code.MALFORMED, f"cannot be read: {message}", source, raw_entries[0].line))
        return FileContents([], findings)
    items = {item.get("id"): item for item in json.loads(proc.stdout or "[]")}
    entries = [entry_from_csl(items.get(raw.key, {"id": raw.key}), source, raw.line, raw) for raw in raw_entries]
    return FileContents(entries, findings)


def read_csl_json(path: Path, source: str) -> FileContents:
    """A CSL-JSON file (a list of items, as Zotero and Better BibTeX export it)."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return FileContents([], [Finding(Code.MALFORMED, f"is not valid JSON: {exc.msg}", source, exc.lineno, exc.colno)])
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        return FileContents([], [Finding(Code.MALFORMED, "must be a CSL-JSON list of items", source, 1)])
    lines = {m.group(1): text.count("\n", 0, m.start()) + 1 for m in re.finditer(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"', text)}
    entries, findings = [], []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not (item.get("id") or item.get("citation-key")):
            findings.append(Finding(Code.MALFORMED, f"item {index + 1} has no 'id'", source, 0))
            continue
        entries.append(entry_from_csl(item, source, lines.get(str(item.get("id")), 0)))
    return FileContents(entries, findings)


def read_file(root: Path, relative: str) -> FileContents:
    """One ``bibliography:`` file, by its extension. A missing or unknown file is a ManuscriptError."""
    path = root / relative
    if not path.is_file():
        raise ManuscriptError(f"bibliography file '{relative}' not found in the manuscript")
    suffix = path.suffix.lower()
    if suffix == ".bib":
        return read_bib(path, relative)
    if suffix == ".json":
        return read_csl_json(path, relative)
    raise ManuscriptError(f"bibliography file '{relative}' must be BibTeX/BibLaTeX (.bib) or CSL-JSON (.json)")
