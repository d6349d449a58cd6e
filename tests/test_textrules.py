"""The shared text rules: chat tokens of every common model family, fences, headings, sentence ends;
the importer removes exactly the tokens `bookgen check` reports (R001)."""

from __future__ import annotations

import pytest

from bookgen.checks import run_checks
from bookgen.textrules import (
    CHAT_TOKEN,
    CJK_CHAR,
    HEADING,
    ends_mid_sentence,
    in_fences,
    is_instruction,
)
from conftest import write_book

# One sample of each family's tokens (an inline token can stand between two pieces of prose).
INLINE_TOKENS = [
    "<|im_start|>assistant",
    "<|im_start|>",
    "<|im_end|>",
    "<|im_sep|>",
    "<|endoftext|>",  # OpenAI / ChatML
    "[INST]",
    "[/INST]",
    "<<SYS>>",
    "<</SYS>>",  # Llama 2, Mistral
    "<|begin_of_text|>",
    "<|start_header_id|>assistant<|end_header_id|>",
    "<|start_header_id|>user<|end_header_id|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|python_tag|>",
    "<|reserved_special_token_3|>",  # Llama 3
    "<start_of_turn>model",
    "<start_of_turn>user",
    "<end_of_turn>",  # Gemma
    "<|assistant|>",
    "<|user|>",
    "<|system|>",
    "<|end|>",  # Phi
    "<｜begin▁of▁sentence｜>",
    "<｜end▁of▁sentence｜>",
    "<｜User｜>",
    "<｜Assistant｜>",
    "<｜fim▁hole｜>",  # DeepSeek
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|file_sep|>",
    "<|vision_start|>",  # Qwen, code models
    "<think>",
    "</think>",  # reasoning tags (the reasoning text itself stays)
]
STANDALONE_TOKENS = ["<s>", "</s>"]  # Llama 2 / Mistral sentence marks: only on their own (else HTML strikethrough)
ALL_TOKENS = INLINE_TOKENS + STANDALONE_TOKENS


@pytest.mark.parametrize("token", INLINE_TOKENS)
def test_inline_token_found_whole(token):
    line = f"正文{token}继续。"
    assert CHAT_TOKEN.findall(line) == [token]
    assert "".join(CHAT_TOKEN.split(line)) == "正文继续。"


@pytest.mark.parametrize("token", ALL_TOKENS)
def test_token_on_its_own_line(token):
    assert [m.group(0) for m in CHAT_TOKEN.finditer(f"  {token}  ")] == [token]


def test_mistral_marks_only_standalone():
    assert CHAT_TOKEN.findall("<s>[INST] 问题 [/INST]") == ["<s>", "[INST]", "[/INST]"]
    assert CHAT_TOKEN.findall("[/INST]</s>") == ["[/INST]", "</s>"]
    assert CHAT_TOKEN.findall("这是<s>删除线</s>文字。") == []


def test_role_header_removed_whole():
    line = "<|start_header_id|>assistant<|end_header_id|>好的。"
    assert CHAT_TOKEN.sub("", line) == "好的。"
    assert CHAT_TOKEN.sub("", "<|im_start|>system\n") == "\n"
    assert CHAT_TOKEN.sub("", "<|im_start|>assistant好的") == "好的"


@pytest.mark.parametrize(
    "text",
    [
        "若 a<b 且 |x|<1，则结论成立。",
        "表格用 | 分隔列，<b>粗体</b> 是 HTML。",
        "箭头 <| 与 |> 不是标记，<|x 也不是。",
        "比较运算符 <= 与 >= 以及 << 和 >>。",
        "〈书名号〉与《书名》，｜全角竖线｜。",
        "[INSTALL] 与 [inst] 不是 Llama 标记。",
        "思考 <thinking> 标签不是推理标记。",
    ],
)
def test_chinese_text_with_angle_brackets_and_bars_untouched(text):
    assert CHAT_TOKEN.findall(text) == []


def test_fences_headings_cjk_sentence_ends():
    assert in_fences(["a", "```", "<|im_end|>", "~~~", "````", "b", "```", "c"]) == [False, True, True, True, True, False, True, True]
    assert in_fences(["~~~", "x"]) == [True, True]  # an unclosed fence runs to the end
    assert HEADING.match("## 1.1 标题 ##").groups() == ("##", "1.1 标题")
    assert HEADING.match("#标题") is None and HEADING.match("####### 七级") is None
    assert CJK_CHAR.findall("a中𠀀文b") == ["中", "𠀀", "文"]
    assert [ends_mid_sentence(t) for t in ("完了。", "引用」", "【注】", "`code`", "写到一半，", "没写完")] == [
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    assert is_instruction("**开始撰写正文内容**") and not is_instruction("开始之前，先看一个例子。")


BOOK = "title: 书\nslug: t\nchapters:\n  - title: 一章\n    sections:\n      - title: 一节\n        file: s.md\n"


@pytest.mark.parametrize("token", ALL_TOKENS)
def test_check_reports_every_token_the_importer_removes(tmp_path, token):
    root = write_book(tmp_path / "m", BOOK, {"s.md": f"正文。\n\n{token}\n\n继续。\n\n```\n{token}\n```\n"})
    report = run_checks(root, tmp_path / "cache", fast=True)
    assert [(f.line, f.column, f.message) for f in report.findings if f.code == "R001"] == [(3, 1, f"chat token {token}")]
