"""The 版权页's 版本记录 (GB/T 12450) as labelled lines, from the book's metadata: format-neutral data
that the EPUB (and the web edition) print as they are.

Only what the book gives is printed; nothing is invented. 开本, 印张 and 字数 describe the printed
edition, so they come only with a PDF of the same manuscript: 印张 and 字数 exactly as its 版权页
printed them (TeX computes them once, templates/latex/front/copyright.tex_t).
Dates print as 2026年1月, numbers in Latin digits, punctuation full-width.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bookgen.model.book import Book
from bookgen.press.figures import CopyrightFigures, format_label

_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?")


@dataclass(frozen=True)
class ImprintLine:
    """One line of the 版本记录: its label (书名, 著者 …) and its value."""

    label: str
    value: str


def month_date(date: str) -> str:
    """'2026-01-15' → '2026年1月', '2026' → '2026年'; text that is no ISO date stays as it is."""
    match = _DATE.match(date.strip())
    if not match:
        return date.strip()
    year, month = match.groups()
    return f"{year}年{int(month)}月" if month else f"{year}年"


def _ordinal(value: str, unit: str) -> str:
    """'1' → '第1版' (unit 版), '第2版' stays."""
    return f"第{value}{unit}" if value.isdigit() else value


def imprint(book: Book, printed: CopyrightFigures | None) -> list[ImprintLine]:
    """The 版本记录 lines in GB/T 12450's order: 书名, 著者, 出版发行, 地址, 开本, 印张, 字数 (whole 千字),
    版次, 印次, 书号, 定价; ``printed``: the figures of the printed edition's 版权页, or None without a PDF."""
    meta = book.metadata
    date = month_date(meta.date) if meta.date else ""
    lines = [ImprintLine("书名", meta.title + (f"：{meta.subtitle}" if meta.subtitle else ""))]
    if meta.authors:
        lines.append(ImprintLine("著者", "，".join(meta.authors)))  # as the PDF's 版权页: the label says 著
    for name, value in (("出版发行", meta.publisher), ("地址", meta.address)):
        if value:
            lines.append(ImprintLine(name, value))
    form = format_label(book)
    if printed and form and printed.printed_sheets is not None:
        lines += [ImprintLine("开本", form[0]), ImprintLine("印张", f"{printed.printed_sheets:g}")]
    if printed:
        lines.append(ImprintLine("字数", f"{round(printed.thousand_characters)}千字"))
    if meta.edition:
        lines.append(ImprintLine("版次", date + _ordinal(meta.edition, "版")))
    if meta.printing:
        lines.append(ImprintLine("印次", date + _ordinal(meta.printing, "次印刷")))
    if meta.isbn:
        lines.append(ImprintLine("书号", f"ISBN {meta.isbn}"))
    if meta.price:
        lines.append(ImprintLine("定价", meta.price))
    return lines
