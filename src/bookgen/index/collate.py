"""Pinyin order for the index and the glossary (issue 18).

An entry sorts as Chinese dictionaries and indexes do (《现代汉语词典》's 音序, GB/T 13418's pinyin
order): syllable by syllable, by the letters of each syllable's pinyin first, by its tone second
(ā á ǎ à, the neutral tone last), by the character itself third (identical pinyin, different
characters: 事 and 式 stay apart, in a fixed order). Pinyin comes from pypinyin, whose phrase
dictionary reads polyphones in context (重庆 chóng qìng, 银行 yín háng, 长城 cháng chéng); traditional
characters are read as their simplified forms (OpenCC's t2s: 銀行 → 银行, yín háng, where pypinyin alone
reads the characters one by one: yín xíng); an author's ``sort=`` key (Latin letters, spaces between
syllables: "chong qing") overrides it where it reads a name wrongly.

Latin letters sort as themselves, lower-cased, among the syllables (ACID under A); an entry starting
with a digit or a symbol goes into the leading group (符号与数字), and so does one starting with a Latin
letter when ``latin_in_letters`` is off. Groups are headed by the capital letter of the first syllable.
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
    """How one level of an entry sorts: its group ('' for symbols and digits, else 'A'…'Z'), its
    syllables (letters only), their tones (1–4, 5 for the neutral tone, 0 for non-Chinese) and the text."""

    group: str
    syllables: tuple[str, ...]
    tones: tuple[int, ...]
    text: str


@lru_cache(maxsize=1)
def _simplified() -> Any:
    import opencc  # here, as pypinyin below: a book without index marks never loads them

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def _readings(text: str) -> tuple[tuple[str, int], ...]:
    """(syllable without tone, tone) per token of ``text``: pinyin for Chinese characters (read as a phrase),
    the lower-cased run for Latin letters and digits, the character itself for a symbol."""
    from pypinyin import Style, pinyin

    out: list[tuple[str, int]] = []
    for token in _TOKEN.findall(_simplified().convert(text)):
        if _HAN.match(token):
            for (reading,) in pinyin(token, style=Style.TONE3, neutral_tone_with_five=True, errors="default"):
                tone = int(reading[-1]) if reading[-1].isdigit() else 5
                out.append((reading.rstrip("012345"), tone))
        else:
            out.append((token.lower(), 0))
    return tuple(out)


def sort_key(text: str, override: str = "", latin_in_letters: bool = True) -> SortKey:
    """The sort key of one entry level ``text``; ``override`` (the author's ``sort=``, pinyin in Latin
    letters, syllables separated by spaces, tone digits allowed: "chong2 qing4") replaces its reading."""
    if override:
        readings = tuple((word.rstrip("012345").lower(), int(word[-1]) if word[-1].isdigit() else 0) for word in override.split())
    else:
        readings = _readings(text)
    syllables = tuple(syllable for syllable, _ in readings)
    first = syllables[0][:1] if syllables else ""
    chinese_start = bool(text) and _HAN.match(text.strip()[:1] or " ") is not None
    in_letters = first.isascii() and first.isalpha() and (chinese_start or override or latin_in_letters)
    return SortKey(first.upper() if in_letters else SYMBOLS, syllables, tuple(tone for _, tone in readings), text)
