"""Chinese typography (clreq and house style). Punctuation width and CJK–Latin spacing come from
autocorrect-py; what it lacks (；！ and parentheses, pairs, doubled marks, ellipses and dashes) is here."""

from __future__ import annotations

import difflib
import re
import unicodedata

from bookgen.textrules import CJK_CHAR, CJK_RANGES, PAUSES, SENTENCE_END

from .context import CheckContext
from .model import Fix
from .prose import Run, masked_lines, paragraphs, prose_runs

_OFF = (
    "space-word",
    "space-punctuation",
    "space-bracket",
    "space-backticks",
    "space-dash",
    "space-dollar",
    "fullwidth",
    "no-space-fullwidth",
    "halfwidth-word",
    "halfwidth-punctuation",
    "spellcheck",
)


def _autocorrect(text: str, **rules: int) -> str:
    """autocorrect-py with only the given rules on (its configuration is global to the process)."""
    import autocorrect_py  # here, not at the top: build's pre-check runs no typography rule

    config = "rules:\n" + "".join(f"  {name}: {rules.get(name.replace('-', '_'), 0)}\n" for name in _OFF)
    autocorrect_py.load_config(config)  # type: ignore[attr-defined]  # in the package, not in its stub
    return autocorrect_py.format(text)


def _changes(old: str, new: str):
    """(start, end, replacement) for each place autocorrect changed ``old``."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            yield i1, i2, new[j1:j2]


_HALF_PUNCT = re.compile(rf"(?<=[{CJK_RANGES}])[;!]|[;!](?=[{CJK_RANGES}])")
_FULLWIDTH_PUNCT = {";": "；", "!": "！", "(": "（", ")": "）"}
_PARENS = re.compile(r"\(([^()]*)\)")
_DOUBLED = re.compile(r"([。，、；：])\1+")
_ELLIPSIS = re.compile(rf"(?<=[{CJK_RANGES}。，])(\.{{3,}}|。{{3,}}|…(?!…))|(?<!…)…(?=[{CJK_RANGES}])(?!…)")
_DASH = re.compile(rf"(?<=[{CJK_RANGES}])(-{{2,}}|—(?!—)|–)(?=[{CJK_RANGES}])")
_SPACE_BETWEEN = re.compile(rf"(?<=[{CJK_RANGES}]) +(?=[A-Za-z0-9])|(?<=[A-Za-z0-9%]) +(?=[{CJK_RANGES}])")
_PAIRS = {"（": "）", "“": "”", "‘": "’", "《": "》", "「": "」", "『": "』", "【": "】"}
_CLOSERS = {v: k for k, v in _PAIRS.items()}


def check_typography(ctx: CheckContext) -> None:
    policy = ctx.settings.cjk_latin_spacing
    for source in ctx.checked:
        for run in prose_runs(source.text):
            if not CJK_CHAR.search(run.text):
                continue  # English or code-like prose: Chinese rules do not apply
            _punctuation_width(ctx, source.display, run)
            _doubled_ellipsis_dash(ctx, source.display, run)
            if policy == "none":
                for match in _SPACE_BETWEEN.finditer(run.text):
                    column = run.start + match.start()
                    ctx.report(
                        "T003",
                        source.display,
                        run.line,
                        column + 1,
                        "typed space between Chinese and Latin: bookgen spaces them itself (policy: none)",
                        Fix(run.line, column, run.start + match.end(), ""),
                    )
            elif policy == "space" and re.search(rf"[{CJK_RANGES}][A-Za-z0-9]|[A-Za-z0-9][{CJK_RANGES}]", run.text):
                for start, end, text in _changes(run.text, _autocorrect(run.text, space_word=1)):
                    if text.strip() == "" and start == end:
                        ctx.report(
                            "T003",
                            source.display,
                            run.line,
                            run.start + start + 1,
                            "no space between Chinese and Latin (policy: space)",
                            Fix(run.line, run.start + start, run.start + end, " "),
                        )
        _paired_punctuation(ctx, source)
        for _first, last, text in paragraphs(source.text):  # one cut off at a pause: R003 reports it
            if len(CJK_CHAR.findall(text)) >= 20 and text[-1] not in SENTENCE_END | PAUSES and not text.endswith("**"):
                line = source.text.split("\n")[last - 1]
                ctx.report("T007", source.display, last, len(line), f"paragraph ends without punctuation: '…{text[-10:]}'")


_WIDTH_CANDIDATES = re.compile(r"[,.:;?!()\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")  # what the width rules act on


def _punctuation_width(ctx: CheckContext, display: str, run: Run) -> None:
    if not _WIDTH_CANDIDATES.search(run.text):
        return  # nothing autocorrect or the rules below could change: skip the call (most runs of Chinese text)
    fixed = _autocorrect(run.text, fullwidth=1, halfwidth_word=1)
    reported: set[int] = set()
    for start, end, text in _changes(run.text, fixed):
        reported.update(range(start, max(end, start + 1)))
        old = run.text[start:end]
        if old and all(unicodedata.east_asian_width(ch) == "F" and ch.isalnum() for ch in old):
            ctx.report(
                "T002",
                display,
                run.line,
                run.start + start + 1,
                f"full-width '{old}': use '{text}'",
                Fix(run.line, run.start + start, run.start + end, text),
            )
        elif old.strip():
            ctx.report(
                "T001",
                display,
                run.line,
                run.start + start + 1,
                f"half-width '{old}' in Chinese text: use '{text}'",
                Fix(run.line, run.start + start, run.start + end, text),
            )
    for match in _HALF_PUNCT.finditer(run.text):  # what autocorrect leaves: ; and ! in some contexts
        if match.start() in reported:
            continue
        char = match.group(0)
        ctx.report(
            "T001",
            display,
            run.line,
            run.start + match.start() + 1,
            f"half-width '{char}' in Chinese text: use '{_FULLWIDTH_PUNCT[char]}'",
            Fix(run.line, run.start + match.start(), run.start + match.end(), _FULLWIDTH_PUNCT[char]),
        )
    for match in _PARENS.finditer(run.text):
        before = run.text[match.start() - 1] if match.start() > 0 else ""
        after = run.text[match.end()] if match.end() < len(run.text) else ""
        if CJK_CHAR.match(before) or CJK_CHAR.match(after) or CJK_CHAR.search(match.group(1)):
            ctx.report(
                "T001",
                display,
                run.line,
                run.start + match.start() + 1,
                f"half-width parentheses around '{match.group(1)}' in Chinese text: use （）",
                Fix(run.line, run.start + match.start(), run.start + match.end(), f"（{match.group(1)}）"),
            )


def _doubled_ellipsis_dash(ctx: CheckContext, display: str, run: Run) -> None:
    for match in _DOUBLED.finditer(run.text):
        if match.group(0) == "。。。":
            continue  # an ellipsis written with full stops: reported below
        ctx.report(
            "T005",
            display,
            run.line,
            run.start + match.start() + 1,
            f"doubled '{match.group(1)}'",
            Fix(run.line, run.start + match.start(), run.start + match.end(), match.group(1)),
        )
    for match in _ELLIPSIS.finditer(run.text):
        ctx.report(
            "T006",
            display,
            run.line,
            run.start + match.start() + 1,
            f"ellipsis '{match.group(0)}': Chinese uses '……' (two U+2026)",
            Fix(run.line, run.start + match.start(), run.start + match.end(), "……"),
        )
    for match in _DASH.finditer(run.text):
        ctx.report(
            "T006",
            display,
            run.line,
            run.start + match.start() + 1,
            f"dash '{match.group(0)}': Chinese uses '——' (two U+2014)",
            Fix(run.line, run.start + match.start(), run.start + match.end(), "——"),
        )


def _paired_punctuation(ctx: CheckContext, source) -> None:
    """Pairs balance within a paragraph: （）“”‘’《》「」『』【】."""
    stack: list[tuple[str, int, int]] = []

    def flush() -> None:
        for char, line, column in stack:
            ctx.report("T004", source.display, line, column, f"'{char}' is never closed (expected '{_PAIRS[char]}')")
        stack.clear()

    for number, line, mask in masked_lines(source.text):
        if not line.strip():
            flush()
            continue
        for column, (char, visible) in enumerate(zip(line, mask, strict=False), 1):
            if not visible:
                continue
            if char in _PAIRS:
                stack.append((char, number, column))
            elif char in _CLOSERS:
                if stack and stack[-1][0] == _CLOSERS[char]:
                    stack.pop()
                elif stack and any(open_char == _CLOSERS[char] for open_char, _, _ in stack):
                    open_char, open_line, open_col = stack.pop()
                    ctx.report(
                        "T004",
                        source.display,
                        number,
                        column,
                        f"'{char}' closes '{open_char}' from line {open_line}:{open_col} (mismatched pair)",
                    )
                    while stack and stack[-1][0] != _CLOSERS[char]:
                        stack.pop()
                    if stack:
                        stack.pop()
                else:
                    ctx.report("T004", source.display, number, column, f"'{char}' has no opening '{_CLOSERS[char]}'")
    flush()
