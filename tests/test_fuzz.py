"""Property-based: arbitrary Unicode in titles, metadata and text either builds (text in PDF and EPUB,
EPUBCheck clean) or stops with one clear error line. Never a traceback, a hang or an invalid EPUB."""

from __future__ import annotations

import subprocess
import zipfile
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bookgen.cli import main

pytestmark = pytest.mark.integration

SPECIALS = (
    list("#$%&~_^\\{}")
    + list("，。、；：？！“”‘’（）《》「」【】…—")
    + list("ＡＢＣ１２３")
    + ["\u0301", "\u0308", "\u05d0", "\u05d1", "\u0627", "\u0644", "\u200b", "\u200d", "\ufeff"]
    + list("abcXYZ019 大模型创业")
)
FRAGMENT = st.text(alphabet=st.sampled_from(SPECIALS), min_size=1, max_size=40)
LONG_WORD = st.integers(min_value=200, max_value=2000).map(lambda n: "超长" + "x" * n)
TEXT = st.one_of(FRAGMENT, FRAGMENT, LONG_WORD)
MARKER = "探针标记"


def visible(text: str) -> str:
    """Letters, digits and CJK that every configured font has: what must survive into the outputs."""
    return "".join(ch for ch in text if (ch.isascii() and ch.isalnum()) or "\u4e00" <= ch <= "\u9fff")


# Each example is a real build (XeLaTeX, pandoc, EPUBCheck): few examples, and no shrinking phase.
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(title=TEXT, subtitle=TEXT, author=TEXT, body=TEXT)
def test_arbitrary_text_builds_or_fails_cleanly(tmp_path_factory, title, subtitle, author, body):
    root = tmp_path_factory.mktemp("fuzz")
    manuscript = root / "m"
    manuscript.mkdir()
    book = {
        "title": title.strip() or "书",
        "subtitle": subtitle,
        "authors": [author],
        "keywords": [subtitle],
        "slug": "f",
        "chapters": [{"title": title.strip() or "章", "sections": [{"title": subtitle.strip() or "节", "file": "s.md"}]}],
    }
    (manuscript / "book.yaml").write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
    (manuscript / "s.md").write_text(f"{MARKER}\n\n{body}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--manuscript", str(manuscript), "--output", str(root / "b"), "--tex-timeout", "120"])
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.exit_code in (1, 2)
        assert result.output.startswith("bookgen: error: ")
        return
    assert "EPUBCheck: 0 errors, 0 warnings" in result.output, result.output
    pdf_text = "".join(subprocess.run(["pdftotext", str(root / "b/f.pdf"), "-"], capture_output=True, text=True).stdout.split())
    with zipfile.ZipFile(root / "b/f.epub") as epub:
        epub_text = "".join(
            "".join(ElementTree.fromstring(epub.read(name)).itertext()) for name in epub.namelist() if name.endswith(".xhtml")
        )
    epub_text = "".join(epub_text.split())
    for expected in (MARKER, visible(book["chapters"][0]["title"])):
        assert expected in pdf_text.replace("\u200b", "") or len(expected) > 100  # very long words may hyphenate
        assert expected in epub_text
