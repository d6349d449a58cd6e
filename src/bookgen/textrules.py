"""Markdown and Chinese text rules shared by the importer and the checks.

One place for what both must agree on: chat-model tokens (the importer removes exactly what R001
reports), fenced code, ATX headings, the CJK character ranges, the marks that end a sentence, and
writing instructions left by a model. Pure functions and compiled patterns, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# ------------------------------------------------------------------ chat-model tokens

_ROLE = r"(?:assistant|user|system|tool|model|ipython|developer)(?![A-Za-z])"
CHAT_TOKEN = re.compile(
    r"<\|start_header_id\|>[A-Za-z_]*<\|end_header_id\|>"  # Llama 3 role header, role included
    rf"|<\|im_start\|>(?:{_ROLE})?"  # ChatML turn start and its role
    r"|<\|[A-Za-z][A-Za-z0-9_]{0,40}\|>"  # <|…|>: ChatML, GPT, Llama 3, Phi, Qwen (im_end, eot_id, fim_prefix, …)
    r"|<｜[A-Za-z][A-Za-z0-9_▁]{0,40}｜>"  # DeepSeek, full-width bars: <｜begin▁of▁sentence｜>, <｜Assistant｜>
    rf"|<start_of_turn>(?:{_ROLE})?|<end_of_turn>"  # Gemma
    r"|\[/?INST\]|<</?SYS>>"  # Llama 2, Mistral
    r"|</?think>"  # reasoning-block tags (DeepSeek-R1, Qwen): the tags only, the text between is the author's to judge
    r"|(?<![^\s\]>|｜])</?s>(?![^\s\[<])"  # <s> </s> (Llama 2, Mistral) only standalone: <s>删除</s> is HTML strikethrough
)
"""Special tokens of the common chat-model families, with the role a turn-start token carries.

Sources: the tokenizer configurations of OpenAI (ChatML, tiktoken), Meta Llama 2 and 3, Google
Gemma, Microsoft Phi-3, Qwen 2, DeepSeek V3/R1 and Mistral. No capturing groups (``split`` keeps
only the text around tokens). Plain text with ``<`` or ``|`` (``a<b``, ``|x|<1``) never matches.
"""

# Writing instructions or assistant preambles standing on a line of their own.
INSTRUCTIONS = [
    re.compile(r"^(现在)?开始(撰写|写作|编写|输出)(正文|文章|本书|全文)?(内容)?[:：。!！]?$"),
    re.compile(r"^(以下|下面)(是|为)(正文|文章|本书)(内容)?[:：。]?$"),
    re.compile(r"^(好的|当然|没问题|当然可以)[，,！!。].{0,60}(以下|下面|如下).{0,30}$"),
    re.compile(r"^作为一?[个名]?(人工智能|AI|语言模型|大语言模型).{0,80}$"),
    re.compile(r"^(Sure|Okay|OK|Certainly|Of course)[,!.].{0,100}(below|following|here is|here's).{0,40}$", re.IGNORECASE),
]


def strip_markup(text: str) -> str:
    """``text`` stripped, without emphasis markers (``**a**``, ``_a_`` → ``a``)."""
    text = re.sub(r"(\*\*|__|\*|_)(.+?)\1", r"\2", text.strip())
    return text.strip()


def is_instruction(text: str) -> bool:
    """Whether a line (heading marks and emphasis allowed) is a model's writing instruction or preamble."""
    bare = strip_markup(text.strip().lstrip("#").strip())
    return bool(bare) and any(pattern.match(bare) for pattern in INSTRUCTIONS)


# ------------------------------------------------------------------ Markdown blocks

FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
"""A code fence line (CommonMark: up to three spaces, three or more backticks or tildes); group 1 the fence."""

HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
"""An ATX heading: group 1 the marks (its level is their count), group 2 the text without closing marks."""


def in_fences(lines: Iterable[str]) -> list[bool]:
    """For each line: whether it is a fence or inside a fenced code block.

    A fence closes with the same character, at least as long (CommonMark); an unclosed fence runs
    to the end.
    """
    inside: list[bool] = []
    fence = ""
    for line in lines:
        match = FENCE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
            inside.append(True)
        elif match:
            fence = match.group(1)
            inside.append(True)
        else:
            inside.append(False)
    return inside


# ------------------------------------------------------------------ Chinese text

CJK_RANGES = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
"""Han characters for a regex class: Extension A, the URO, compatibility ideographs, planes 2–3."""
CJK_CHAR = re.compile(f"[{CJK_RANGES}]")

SENTENCE_END = frozenset("。！？!?….；;：:”」』）)】》")
"""Marks after which a paragraph is complete: sentence ends, clause ends, closing quotes and brackets."""
MARKUP_END = frozenset("|`$*_~")
"""Markdown that may close a block (table row, code, math, emphasis): the text is not cut off there."""
PAUSES = frozenset("，、")
"""Marks inside a sentence: text that stops at one was cut off."""


def ends_mid_sentence(text: str) -> bool:
    """Whether Markdown ``text`` stops without a sentence end or a closing Markdown mark (was cut off)."""
    stripped = text.rstrip()
    return bool(stripped) and stripped[-1] not in SENTENCE_END | MARKUP_END
