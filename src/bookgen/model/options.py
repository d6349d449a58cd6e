"""Declared book.yaml options: each key's type, default and description, and one validation pass.

MkDocs-style option classes (cf. mkdocs ``config/config_options.py``): an Option validates one value
and raises ``Invalid``; a settings section is a frozen dataclass whose fields are declared with
``setting(Option)``. Reading goes over the PositionedYaml, so every problem carries ``book.yaml:LINE:COL``;
``Problems`` collects them all and raises them together.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from bookgen.errors import Location, ManuscriptError, display_path
from bookgen.model.lengths import Length
from bookgen.model.yamlpos import DataPath, PositionedYaml
from bookgen.textrules import CJK_CHAR


class Invalid(Exception):
    """One value is wrong. ``at`` (relative to the value's own path) points inside it, e.g. at a list item."""

    def __init__(self, message: str, at: DataPath = ()):
        super().__init__(message)
        self.message = message
        self.at = at


@dataclass
class Problems:
    """Everything wrong with one book.yaml, in one pass. ``root`` is the manuscript directory."""

    doc: PositionedYaml
    root: Path
    errors: list[tuple[int, int, str]] = field(default_factory=list)  # line, column, message

    def error(self, message: str, at: DataPath) -> None:
        """Record ``message`` at the position of the value at ``at`` (a data path, see yamlpos)."""
        where = self.doc.location(at)
        self.errors.append((where.line or 1, where.column or 1, message))

    def raise_if_any(self) -> None:
        """Raise one ManuscriptError for every problem recorded (none: return). Its ``problems`` list them
        by position; its location and message are the first's, its message lists the others on their own
        lines (``book.yaml:LINE:COL: message``)."""
        ordered = sorted(dict.fromkeys(self.errors), key=lambda error: error[:2])
        if not ordered:
            return
        problems: list[tuple[Location | None, str]] = [
            (Location(display_path(self.doc.path), line, column), text) for line, column, text in ordered
        ]
        (first, message), rest = problems[0], problems[1:]
        raise ManuscriptError("\n".join([message] + [f"{where}: {text}" for where, text in rest]), first, problems=problems)


def did_you_mean(word: str, choices: list[str]) -> str:
    """ " (did you mean 'layout'?)" for the closest of ``choices``, or ''. Latin words by difflib's
    similarity (0.6 and up); a word with Chinese characters by its characters, where one is a word's worth
    (see _closest_by_characters: 五好 → 五号)."""
    close = _closest_by_characters(word, choices) if CJK_CHAR.search(word) else difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _closest_by_characters(word: str, choices: list[str]) -> list[str]:
    """[the choice sharing at least half its characters with ``word`` (difflib's ratio ≥ 0.5), the most of
    them in the same places], or [] when none does or two tie (小5: 小五 or 小四?)."""

    def score(choice: str) -> tuple[int, float]:
        return sum(a == b for a, b in zip(word, choice, strict=False)), difflib.SequenceMatcher(None, word, choice).ratio()

    ranked = sorted(((score(choice), choice) for choice in choices), reverse=True)
    if not ranked or ranked[0][0][1] < 0.5 or (len(ranked) > 1 and ranked[1][0] == ranked[0][0]):
        return []
    return [ranked[0][1]]


def describe(value: Any) -> str:
    """How a wrong value is named in messages: "text 'forty'", 'a list', 'empty' …"""
    if value is None:
        return "empty"
    return {dict: "a mapping", list: "a list", str: f"text '{value}'", bool: f"'{value}'"}.get(type(value), repr(value))


# ---------------------------------------------------------------- option types


class Option:
    """One declared key (its type is the Option's class). ``default`` is the Python value a missing key
    gets; ``description`` one line for the README."""

    def __init__(self, default: Any, description: str):
        self.default = default
        self.description = description

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> Any:
        """The typed value of ``value`` given for key ``name`` at ``at``; raises Invalid."""
        raise NotImplementedError

    def yaml_default(self) -> Any:
        """The default as book.yaml would spell it (for the README)."""
        return self.default


class Text(Option):
    """Text; numbers and dates are fine as text (``edition: 1``). Empty means the default, unless
    ``required``. ``check`` returns what is wrong with a value, or None."""

    def __init__(self, default: str, description: str, required: bool = False, check: Callable[[str], str | None] | None = None):
        super().__init__(default, description)
        self.required = required
        self.check = check

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> str:
        if isinstance(value, (bool, dict, list)):
            raise Invalid(f"'{name}' must be text, not {describe(value)}")
        text = "" if value is None else str(value).strip()
        if not text:
            if self.required:
                raise Invalid(f"'{name}' must be text, not empty")
            return self.default
        problem = self.check(text) if self.check else None
        if problem:
            raise Invalid(problem)
        return text


class TextList(Option):
    """A list of text; a single text is a list of one (``authors: 张三``)."""

    def __init__(self, description: str):
        super().__init__((), description)

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return (value.strip(),) if value.strip() else ()
        if not isinstance(value, list):
            raise Invalid(f"'{name}' must be a list (lines starting with '- '), not {describe(value)}")
        items = []
        for index, item in enumerate(value):
            if isinstance(item, (bool, dict, list)) or item is None:
                raise Invalid(f"'{name}' items must be text, not {describe(item)}", (index,))
            items.append(str(item).strip())
        return tuple(items)

    def yaml_default(self) -> Any:
        return []


class ChoiceList(TextList):
    """A list whose items are each one of a fixed set of texts (``lists: [figures, tables]``)."""

    def __init__(self, choices: tuple[str, ...], description: str):
        super().__init__(description)
        self.choice = Choice("", choices, description)
        self.kind = f"list of {' | '.join(choices)}"

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> tuple[str, ...]:
        items = super().validate(value, name, problems, at)
        for index, item in enumerate(items):
            try:
                self.choice.validate(item, name, problems, at + (index,))
            except Invalid as invalid:
                raise Invalid(invalid.message, (index,)) from None
        return items


class LengthOption(Option):
    """A length with its unit, parsed once into a Length."""

    def __init__(self, default: str, description: str):
        super().__init__(Length.parse(default), description)

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> Length:
        try:
            if isinstance(value, str):
                return Length.parse(value)
        except ValueError:
            pass
        raise Invalid(f"'{name}' must be a length like 185mm or 10.5bp, not '{value}'")

    def yaml_default(self) -> Any:
        return str(self.default)


class Number(Option):
    """A number ≥ 0 (``positive``: > 0); ``whole``: an integer."""

    def __init__(self, default: float, description: str, positive: bool = True, whole: bool = False):
        super().__init__(default, description)
        self.positive = positive
        self.whole = whole
        sign = "positive" if positive else "non-negative"
        self.expected = f"a {sign} whole number" if whole else f"a {sign} number"

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> float | int:
        allowed = int if self.whole else (int, float)
        if not isinstance(value, allowed) or isinstance(value, bool) or value < 0 or (self.positive and value == 0):
            raise Invalid(f"'{name}' must be {self.expected}, not {describe(value)}")
        return value if self.whole else float(value)


class Flag(Option):
    """true or false."""

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> bool:
        if value is None:
            return self.default
        if not isinstance(value, bool):
            raise Invalid(f"'{name}' must be true or false, not {describe(value)}")
        return value


class Choice(Option):
    """One of a fixed set of texts."""

    def __init__(self, default: str, choices: tuple[str, ...], description: str):
        super().__init__(default, description)
        self.choices = choices

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> str:
        if value is None:
            return self.default
        if str(value) not in self.choices:
            hint = did_you_mean(str(value), list(self.choices))
            raise Invalid(f"'{name}' must be one of {', '.join(self.choices)}, not '{value}'{hint}")
        return str(value)


class ChoiceMap(Option):
    """A mapping of text keys to one of a fixed set of texts (``severity: {T001: error}``)."""

    def __init__(self, choices: tuple[str, ...], description: str):
        super().__init__({}, description)
        self.choice = Choice("", choices, description)

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise Invalid(f"'{name}' must be a mapping (key: value), not {describe(value)}")
        result = {}
        for key, item in value.items():
            try:
                result[str(key)] = self.choice.validate(item, str(key), problems, at + (key,))
            except Invalid as invalid:
                problems.error(invalid.message, at + (key,))
        return result


def manuscript_path(raw: str, name: str, root: Path) -> str:
    """``raw`` as a manuscript-relative POSIX path; raises Invalid if it is absolute or leads out of
    the manuscript directory (by '..' or through a symbolic link)."""
    posix = PurePosixPath(raw.replace("\\", "/"))
    if posix.is_absolute() or re.match(r"^[A-Za-z]:", raw):
        raise Invalid(f"{name} '{raw}' is an absolute path; give it relative to the manuscript directory")
    if ".." in posix.parts:
        raise Invalid(f"{name} '{raw}' leads out of the manuscript directory ('..' is not allowed)")
    if not (root / posix).resolve().is_relative_to(root.resolve()):
        raise Invalid(f"{name} '{raw}' leads out of the manuscript directory (through a symbolic link)")
    return str(posix)


class ManuscriptPaths(TextList):
    """A list of files inside the manuscript directory, relative to it, each ending in one of ``suffixes``
    (checked when the files are read, not at load time); a single path is a list of one."""

    def __init__(self, description: str, suffixes: tuple[str, ...], kinds: str):
        super().__init__(description)
        self.suffixes = suffixes
        self.kinds = kinds

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> tuple[str, ...]:
        paths = []
        for index, raw in enumerate(super().validate(value, name, problems, at)):
            item = (index,) if isinstance(value, list) else ()
            try:
                path = manuscript_path(raw, f"{name} file", problems.root)
            except Invalid as invalid:
                raise Invalid(invalid.message, item) from None
            if not path.lower().endswith(self.suffixes):
                raise Invalid(f"{name} file '{path}' must be {self.kinds}", item)
            paths.append(path)
        return tuple(paths)


class ManuscriptPath(Text):
    """A file inside the manuscript directory, relative to it; ``must_exist``: checked at load time.
    Empty: not set."""

    def __init__(self, description: str, suffix: str = "", must_exist: bool = True):
        super().__init__("", description)
        self.suffix = suffix
        self.must_exist = must_exist

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> str:
        raw = super().validate(value, name, problems, at)
        if not raw:
            return raw
        path = manuscript_path(raw, name, problems.root)
        if self.suffix and not path.endswith(self.suffix):
            raise Invalid(f"{name} '{path}' must be a Markdown file ending in {self.suffix}")
        if self.must_exist and not (problems.root / path).is_file():
            raise Invalid(f"{name} '{path}': no such file in the manuscript directory")
        return path


class TextOrMarkdown(ManuscriptPath):
    """Inline text, or (ending in .md) the path of a Markdown file in the manuscript, which must exist."""

    def __init__(self, description: str):
        super().__init__(description, suffix=".md")

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> str:
        text = Text.validate(self, value, name, problems, at)
        return super().validate(text, name, problems, at) if text.endswith(".md") else text


class Section(Option):
    """A nested mapping whose keys are the ``setting()`` fields of a frozen dataclass. With ``shorthand``,
    a value that is not a mapping is that key's value (``bibliography: refs.bib``)."""

    def __init__(self, settings: type, description: str, shorthand: str = ""):
        super().__init__(None, description)
        self.settings = settings
        self.shorthand = shorthand

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> Any:
        if value is None:
            return self.settings()
        if self.shorthand and not isinstance(value, dict):
            option = declared(self.settings)[self.shorthand]
            return self.settings(**{self.shorthand: option.validate(value, self.shorthand, problems, at)})
        if not isinstance(value, dict):
            raise Invalid(f"{name} must be a mapping (key: value lines), not {describe(value)}")
        options = declared(self.settings)
        check_keys(value, list(options), problems, at, "", f"; '{name}' has: {', '.join(options)}")
        return self.settings(**read_options(value, options, problems, at))

    def yaml_default(self) -> Any:
        return {key: option.yaml_default() for key, option in declared(self.settings).items()}


class Record(Section):
    """A nested mapping that may be left out (None), every field required when it is given (book.yaml
    ``cip:``); ``check`` returns what is wrong with a complete record, or None."""

    def __init__(self, settings: type, description: str, check: Callable[[Any], str | None] | None = None):
        super().__init__(settings, description)
        self.check = check

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> Any:
        if value is None:
            return None
        record = super().validate(value, name, problems, at)
        missing = [key for key in declared(self.settings) if not getattr(record, key)]
        if missing:
            raise Invalid(f"'{name}' needs {', '.join(repr(key) for key in missing)} ({', '.join(declared(self.settings))})")
        problem = self.check(record) if self.check else None
        if problem:
            raise Invalid(problem)
        return record

    def yaml_default(self) -> Any:
        return None


class SectionOrFile(Section):
    """A Section whose ``file`` key may be given alone: ``glossary: terms.yaml`` is ``glossary: {file: terms.yaml}``."""

    def validate(self, value: Any, name: str, problems: Problems, at: DataPath) -> Any:
        if isinstance(value, str):
            options = declared(self.settings)
            try:
                return self.settings(file=options["file"].validate(value, name, problems, at))
            except Invalid as invalid:
                problems.error(invalid.message, at)
                return self.settings()
        return super().validate(value, name, problems, at)


def setting(option: Option) -> Any:
    """Declare a dataclass field as a book.yaml option: the default comes from the option (a nested
    section's default is its settings class with their defaults)."""
    if type(option) is Section:
        return field(default_factory=option.settings, metadata={"option": option})
    if isinstance(option.default, (dict, list)):
        return field(default_factory=lambda: type(option.default)(), metadata={"option": option})
    return field(default=option.default, metadata={"option": option})


def declared(settings: type) -> dict[str, Option]:
    """The options of a settings dataclass, by key, in declaration order."""
    return {f.name: f.metadata["option"] for f in dataclasses.fields(settings) if "option" in f.metadata}


def check_keys(mapping: Mapping, known: list[str], problems: Problems, at: DataPath, where: str, listing: str = "") -> None:
    """Record every key of ``mapping`` not in ``known``, with a did-you-mean, at the key's position.
    ``where`` (' in book.yaml') follows the key in the message; ``listing`` ends it."""
    for key in mapping:
        if key not in known:
            hint = did_you_mean(str(key), known)
            problems.error(f"unknown key '{key}'{where}{hint}{listing}", at + (key, "__key__"))


def read_options(mapping: Mapping, options: Mapping[str, Option], problems: Problems, at: DataPath) -> dict[str, Any]:
    """Validate the declared keys present in ``mapping``: their typed values by key. Wrong values are
    recorded in ``problems`` and left out (the declaration's default stands in while reading goes on)."""
    values = {}
    for key, option in options.items():
        if key not in mapping:
            continue
        try:
            values[key] = option.validate(mapping[key], key, problems, at + (key,))
        except Invalid as invalid:
            problems.error(invalid.message, at + (key,) + invalid.at)
    return values
