"""Reading a one-file Markdown draft: artifacts, headings and what kind of outline entry each is.

Pure text analysis, no files written: ``importer`` turns the result into a manuscript.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Chat-model artifacts: special tokens, and writing instructions or assistant preambles on their own.
CHAT_TOKEN = re.compile(r"<\|(?:im_start|im_end|im_sep|assistant|user|system|endoftext|end|eot_id|begin_of_text|start_header_id|end_header_id)\|>(?:assistant|user|system)?")
INSTRUCTIONS = [
    re.compile(r"^(现在)?开始(撰写|写作|编写|输出)(正文|文章|本书|全文)?(内容)?[:：。!！]?$"),
    re.compile(r"^(以下|下面)(是|为)(正文|文章|本书)(内容)?[:：。]?$"),
    re.compile(r"^(好的|当然|没问题|当然可以)[，,！!。].{0,60}(以下|下面|如下).{0,30}$"),
    re.compile(r"^作为一?[个名]?(人工智能|AI|语言模型|大语言模型).{0,80}$"),
    re.compile(r"^(Sure|Okay|OK|Certainly|Of course)[,!.].{0,100}(below|following|here is|here's).{0,40}$", re.I),
]

_ZH_NUM = "一二三四五六七八九十百零〇两"
_SEP = r"[\s:：.．、\-—]*"
PART = re.compile(rf"^(第[{_ZH_NUM}\d]+部分|第[{_ZH_NUM}\d]+篇|Part\s+[IVXLC\d]+){_SEP}(.*)$", re.I)
CHAPTER = re.compile(rf"^(第[{_ZH_NUM}\d]+章|Chapter\s+\d+){_SEP}(.*)$", re.I)
APPENDIX = re.compile(rf"^(附录\s*[A-Z]|Appendix\s+[A-Z])(?![A-Za-z]){_SEP}(.*)$")
SECTION = re.compile(r"^([A-Z\d]+(?:\.\d+)+)\.?(?=[\s:：、]|[^\x00-\x7f])" + _SEP + r"(.*)$")
APPENDIX_GROUP = re.compile(r"^(附录|Appendices|Appendix)$", re.I)
FRONT_TITLES = {"前言", "序", "序言", "自序", "引言", "摘要", "preface", "foreword", "abstract", "introduction"}
BACK_TITLES = {"致谢", "鸣谢", "关于作者", "作者简介", "后记", "参考文献", "acknowledgements", "acknowledgments",
               "about the author", "afterword", "bibliography", "references"}
OUTLINE_TITLE = re.compile(r"(目录|目錄|contents|table of contents|outline)", re.I)
TITLE_FIELD = re.compile(r"^(文章标题|书名|标题|题目|title)[:：]?\s*(.*)$", re.I)
KEYWORDS_FIELD = re.compile(r"^(关键词|关键字|keywords?)[:：]?\s*(.*)$", re.I)
ABSTRACT_FIELD = re.compile(r"^(摘要|内容摘要|内容提要|abstract)[:：]?\s*(.*)$", re.I)
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])[ \t]+(.*)$")
FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
# A section's text that ends in one of these is complete; anything else at the draft's end is cut off.
SENTENCE_END = set("。！？!?…”」』）)】》.;；:：|`$*_~")


@dataclass(frozen=True)
class Line:
    number: int  # 1-based line in the draft
    text: str


@dataclass(frozen=True)
class Removal:
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Classified:
    """A heading or outline item: its kind, the draft's own number (if any) and the bare title."""

    kind: str  # part | chapter | appendix | section | subsection | appendix-group | front | back | other
    number: str
    title: str


def strip_markup(text: str) -> str:
    """Heading text without emphasis markers or surrounding 《》 (titles are plain in book.yaml)."""
    text = re.sub(r"(\*\*|__|\*|_)(.+?)\1", r"\2", text.strip())
    return text.strip()


def classify(text: str) -> Classified:
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
    """Draft lines with chat tokens and writing instructions removed (a token may split a line)."""
    lines: list[Line] = []
    removals: list[Removal] = []
    in_fence = ""
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        fence = FENCE.match(raw)
        if in_fence:
            lines.append(Line(number, raw))
            if fence and fence.group(1)[0] == in_fence[0] and len(fence.group(1)) >= len(in_fence):
                in_fence = ""
            continue
        if fence:
            in_fence = fence.group(1)
            lines.append(Line(number, raw))
            continue
        pieces = [raw]
        if CHAT_TOKEN.search(raw):
            for token in CHAT_TOKEN.findall(raw):
                removals.append(Removal(number, token, "chat token"))
            pieces = [piece for piece in CHAT_TOKEN.split(raw)]
            pieces = [piece for piece in pieces if piece.strip()] or [""]
        for piece in pieces:
            if is_instruction(piece):
                removals.append(Removal(number, piece.strip(), "writing instruction"))
                continue
            lines.append(Line(number, piece))
    return lines, removals


def is_instruction(text: str) -> bool:
    bare = strip_markup(text.strip().lstrip("#").strip())
    return bool(bare) and any(pattern.match(bare) for pattern in INSTRUCTIONS)


def fenced_lines(lines: list[Line]) -> set[int]:
    """Indexes (into ``lines``) of lines inside fenced code blocks, fences included."""
    inside: set[int] = set()
    fence = ""
    for index, line in enumerate(lines):
        match = FENCE.match(line.text)
        if fence:
            inside.add(index)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
        elif match:
            fence = match.group(1)
            inside.add(index)
    return inside


def ends_mid_sentence(text: str) -> bool:
    stripped = text.rstrip()
    return bool(stripped) and stripped[-1] not in SENTENCE_END
