"""Chinese book numbering: 第一部分, 第1章 / 第一章, 1.1, 附录A, A.1.

The same rules are given to ctex in the LaTeX preamble (see templates/latex/headings.tex),
so the PDF and the EPUB print identical numbers; a test compares them.
"""

from __future__ import annotations

import string

_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 11 → 十一, 20 → 二十, 105 → 一百零五 (as ctex's \\chinese prints them)."""
    if n <= 0 or n >= 10000:
        raise ValueError(f"cannot write {n} in Chinese numerals here")
    units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")]
    out: list[str] = []
    zero_pending = False
    for value, unit in units:
        digit, n = divmod(n, value)
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        if not (value == 10 and digit == 1 and not out):  # 十一, not 一十一
            out.append(_DIGITS[digit])
        out.append(unit)
    return "".join(out)


def appendix_letter(n: int) -> str:
    """1 → A, 26 → Z; beyond that AA, AB, … like a spreadsheet column."""
    letters = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = string.ascii_uppercase[rem] + letters
    return letters


def format_counter(n: int, style: str) -> str:
    if style == "chinese":
        return chinese_numeral(n)
    if style == "arabic":
        return str(n)
    if style == "alph":
        return appendix_letter(n)
    raise ValueError(f"unknown numbering style {style!r}")
