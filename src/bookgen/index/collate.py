"""Pinyin order for the index and the glossary (issue 18).

An entry sorts as Chinese dictionaries and indexes do (《现代汉语词典》's 音序, GB/T 13418's pinyin
order, ICU's pinyin collation in upmendex): character by character (逐字), each by the letters of its
pinyin first, by its tone second (ā á ǎ à, the neutral tone last), by the character itself third
(identical pinyin, different characters: 事 and 式 stay apart, in a fixed order, the Unicode order of
radical and strokes); so the entries that start with one character stay together (时间, 时刻 before
是非, though shi fei < shi jian letter by letter). Pinyin comes from pypinyin, whose phrase
dictionary reads polyphones in context (重庆 chóng qìng, 银行 yín háng, 长城 cháng chéng); traditional
characters are read as their simplified forms (OpenCC's t2s: 銀行 → 银行, yín háng, where pypinyin alone
reads the characters one by one: yín xíng); an author's ``sort=`` key (pinyin, the syllables written
together or apart, with or without tones: "chongqing", "chong2 qing4") overrides it where it reads a
name wrongly.

Latin letters sort as themselves, lower-cased, among the syllables (ACID under A); numbers by their
value (3D打印 before 10倍速); an entry starting with a digit or a symbol goes into the leading group
(符号与数字), and so does one starting with a Latin letter when ``latin_in_letters`` is off. Groups are
headed by the capital letter of the first syllable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003fffd]+|\S")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003fffd]")
SYMBOLS = ""  # the group key of the leading group (sorts before every letter)


@dataclass(frozen=True, order=True)
class SortKey:
    """How one level of an entry sorts: its group ('' for symbols and digits, else 'A'…'Z'), then unit by
    unit (a character, a Latin word, a number, a symbol) its syllable, tone (1–4, 5 for the neutral tone,
    0 for non-Chinese) and character, then the text itself (銀行 and 银行 read alike). ``syllables`` and
    ``tones`` are the same readings, for messages and tests."""

    group: str
    units: tuple[tuple[str, int, str], ...]
    syllables: tuple[str, ...]
    tones: tuple[int, ...]
    text: str


@lru_cache(maxsize=1)
def _simplified() -> Any:
    import opencc  # here, as pypinyin below: a book without index marks never loads them

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def _readings(text: str) -> tuple[tuple[str, int, str], ...]:
    """(syllable without tone, tone, the unit itself) per unit of ``text``: pinyin for each Chinese character
    (the word read as a phrase), the lower-cased run for Latin letters, the number for digits, the
    character itself for a symbol."""
    from pypinyin import Style, pinyin

    out: list[tuple[str, int, str]] = []
    for token in _TOKEN.findall(_simplified().convert(text)):
        if _HAN.match(token):
            readings = pinyin(token, style=Style.TONE3, neutral_tone_with_five=True, errors="default")
            for char, (reading,) in zip(token, readings, strict=True):
                tone = int(reading[-1]) if reading[-1].isdigit() else 5
                out.append((reading.rstrip("012345"), tone, char))
        elif token.isascii() and token.isdigit():
            out.append((token.zfill(20), 0, token))  # numbers by their value: 3D打印 before 10倍速
        else:
            out.append((token.lower(), 0, token))
    return tuple(out)


# Tone-marked vowels as (letter, tone); ü is written v, as pypinyin's TONE3 style writes it (lü → lv).
_TONE_MARKS = {
    mark: (letter, tone)
    for letter, marks in (
        ("a", "āáǎà"),
        ("e", "ēéěè"),
        ("i", "īíǐì"),
        ("o", "ōóǒò"),
        ("u", "ūúǔù"),
        ("v", "ǖǘǚǜ"),
        ("n", "\0ńňǹ"),
        ("m", "\0ḿ\0\0"),
    )
    for tone, mark in enumerate(marks, 1)
    if mark != "\0"
} | {"ü": ("v", 0)}


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every syllable pypinyin knows, without tone (about 420: a, ai, an … zuo)."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    return frozenset(to_normal(reading) for readings in pinyin_dict.values() for reading in readings.split(","))


def _split(letters: str, wanted: int) -> list[tuple[int, int]] | None:
    """(start, end) of each syllable of ``letters`` written together ("chongqing"): ``wanted`` syllables
    when they can be had (xian for 西安: xi an), else as few as possible; None when it is no pinyin."""
    known = _syllables()
    ways: dict[int, list[list[tuple[int, int]]]] = {0: [[]]}  # end → the splits of letters[:end]
    for end in range(1, len(letters) + 1):
        found = [
            split + [(start, end)] for start in range(max(0, end - 6), end) if letters[start:end] in known for split in ways.get(start, [])
        ]
        if found:
            ways[end] = found[:64]
    splits = ways.get(len(letters))
    if not splits:
        return None
    exact = [split for split in splits if len(split) == wanted]
    return exact[0] if exact else min(splits, key=len)


def _override(text: str, override: str) -> tuple[tuple[str, int, str], ...]:
    """The readings an author's ``sort=`` gives: words separated by spaces or apostrophes ("chong qing",
    "xi'an"), each one syllable or several written together ("chongqing", split into pinyin syllables
    when ``text`` has Chinese characters), tones as digits after a syllable ("chong2qing4"), as marks
    ("chóngqìng") or not at all (tone 0, before the first tone)."""
    words = [word for word in re.split(r"[\s']+", override.lower()) if word]
    han = len(_HAN.findall(text))
    out: list[tuple[str, int, str]] = []
    for word in words:
        for chunk, digit in re.findall(r"([^0-9]+)([0-9]?)", word):
            letters, tones = "", {}
            for char in chunk:
                letter, tone = _TONE_MARKS.get(char, (char, 0))
                if tone:
                    tones[len(letters)] = tone
                letters += letter
            split = _split(letters, han if len(words) == 1 and not digit else 1) if han and letters.isalpha() else None
            pieces = split or [(0, len(letters))]
            for n, (start, end) in enumerate(pieces):
                tone = next((t for at, t in tones.items() if start <= at < end), 0)
                out.append((letters[start:end], int(digit) if digit and n == len(pieces) - 1 else tone, ""))
    return tuple(out)


def sort_key(text: str, override: str = "", latin_in_letters: bool = True) -> SortKey:
    """The sort key of one entry level ``text``; ``override`` (the author's ``sort=``, pinyin in Latin
    letters: "chongqing", "chong qing", "chong2 qing4", "chóngqìng") replaces its reading."""
    readings = _override(text, override) if override else _readings(text)
    syllables = tuple(syllable for syllable, _, _ in readings)
    first = syllables[0][:1] if syllables else ""
    chinese_start = bool(text) and _HAN.match(text.strip()[:1] or " ") is not None
    in_letters = first.isascii() and first.isalpha() and (chinese_start or override or latin_in_letters)
    group = first.upper() if in_letters else SYMBOLS
    return SortKey(group, readings, syllables, tuple(tone for _, tone, _ in readings), text)
