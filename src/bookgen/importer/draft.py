"""Reading a one-file Markdown draft: the importer's own patterns (title block, outline entries) and
what kind of outline entry each heading is; artifacts are removed with the shared text rules.

Pure text analysis, no files written: ``importer.parse`` turns the result into a manuscript.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bookgen.textrules import CHAT_TOKEN, in_fences, is_instruction, strip_markup

_ZH_NUM = "一二三四五六七八九十百零〇两"
_SEP = r"[\s:：.．、\-—]*"
PART = re.compile(rf"^(第[{_ZH_NUM}\d]+部分|第[{_ZH_NUM}\d]+篇|Part\s+[IVXLC\d]+){_SEP}(.*)$", re.IGNORECASE)
CHAPTER = re.compile(rf"^(第[{_ZH_NUM}\d]+章|Chapter\s+\d+){_SEP}(.*)$", re.IGNORECASE)
APPENDIX = re.compile(rf"^(附录\s*[A-Z]|Appendix\s+[A-Z])(?![A-Za-z]){_SEP}(.*)$")
SECTION = re.compile(r"^([A-Z\d]+(?:\.\d+)+)\.?(?=[\s:：、]|[^\x00-\x7f])" + _SEP + r"(.*)$")
APPENDIX_GROUP = re.compile(r"^(附录|Appendices|Appendix)$", re.IGNORECASE)
FRONT_TITLES = {"前言", "序", "序言", "自序", "引言", "摘要", "preface", "foreword", "abstract", "introduction"}
BACK_TITLES = {
    "致谢",
    "鸣谢",
    "关于作者",
    "作者简介",
    "后记",
    "参考文献",
    "acknowledgements",
    "acknowledgments",
    "about the author",
    "afterword",
    "bibliography",
    "references",
}
OUTLINE_TITLE = re.compile(r"(目录|目錄|contents|table of contents|outline)", re.IGNORECASE)
TITLE_FIELD = re.compile(r"^(文章标题|书名|标题|题目|title)[:：]?\s*(.*)$", re.IGNORECASE)
KEYWORDS_FIELD = re.compile(r"^(关键词|关键字|keywords?)[:：]?\s*(.*)$", re.IGNORECASE)
ABSTRACT_FIELD = re.compile(r"^(摘要|内容摘要|内容提要|abstract)[:：]?\s*(.*)$", re.IGNORECASE)
LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])[ \t]+(.*)$")


@dataclass(frozen=True)
class Line:
    """One line of the draft (or the piece of one left between chat tokens)."""

    number: int  # 1-based line in the draft
    text: str


@dataclass(frozen=True)
class Removal:
    """An artifact the import removed: its 1-based draft line, its text and why ("chat token", "writing instruction")."""

    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Classified:
    """A heading or outline item: its kind, the draft's own number (if any) and the bare title."""

    kind: str  # part | chapter | appendix | section | subsection | appendix-group | front | back | other
    number: str
    title: str


def classify(text: str) -> Classified:
    """What a heading or outline item's text names (第1章, 1.1, 附录A, 前言, …), its number and bare title."""
    text = strip_markup(text)
    bare = text.rstrip(":：").strip()
    if APPENDIX_GROUP.match(bare):
        return Classified("appendix-group", "", bare)
    for kind, pattern in (("part", PART), ("chapter", CHAPTER), ("appendix", APPENDIX)):
        match = pattern.match(bare)
        if match:
            number, title = re.sub(r"\s+", "", match.group(1)), match.group(2).strip()
            if kind == "appendix" and normalize(title) in BACK_TITLES:
                return Classified("back", number, title)
            return Classified(kind, number, title or bare)
    match = SECTION.match(bare)
    if match:
        depth = match.group(1).count(".")
        return Classified("section" if depth == 1 else "subsection", match.group(1), match.group(2).strip())
    lowered = normalize(bare)
    if lowered in BACK_TITLES:
        return Classified("back", "", bare)
    if lowered in FRONT_TITLES:
        return Classified("front", "", bare)
    return Classified("other", "", bare)


def normalize(title: str) -> str:
    """For matching titles: no spaces, separators or case ('1.1 大模型：定义' ~ '大模型定义')."""
    return re.sub(r"[\s:：,，、.．·\-—_()（）\[\]【】《》\"'“”‘’*]+", "", title).lower()


def clean_lines(text: str) -> tuple[list[Line], list[Removal]]:
    """Draft lines with chat tokens and writing instructions removed, and what was removed.

    Outside fenced code only; a token may split a line into several (each keeps the line's number).
    """
    lines: list[Line] = []
    removals: list[Removal] = []
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, (raw, fenced) in enumerate(zip(raw_lines, in_fences(raw_lines), strict=False), 1):
        if fenced:
            lines.append(Line(number, raw))
            continue
        pieces = [raw]
        tokens = CHAT_TOKEN.findall(raw)
        if tokens:
            removals.extend(Removal(number, token, "chat token") for token in tokens)
            pieces = [piece for piece in CHAT_TOKEN.split(raw) if piece.strip()] or [""]
        for piece in pieces:
            if is_instruction(piece):
                removals.append(Removal(number, piece.strip(), "writing instruction"))
                continue
            lines.append(Line(number, piece))
    return lines, removals


def fenced_lines(lines: list[Line]) -> set[int]:
    """Indexes (into ``lines``) of lines inside fenced code blocks, fences included."""
    return {index for index, inside in enumerate(in_fences(line.text for line in lines)) if inside}
