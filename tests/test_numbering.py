import pytest

from bookgen.model.numbering import appendix_letter, chinese_numeral, format_counter


@pytest.mark.parametrize(
    "n, text",
    [
        (1, "一"),
        (9, "九"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (21, "二十一"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (1001, "一千零一"),
    ],
)
def test_chinese_numerals_as_ctex_prints_them(n, text):
    assert chinese_numeral(n) == text


@pytest.mark.parametrize("n, letters", [(1, "A"), (12, "L"), (26, "Z"), (27, "AA"), (28, "AB")])
def test_appendix_letters(n, letters):
    assert appendix_letter(n) == letters


def test_unknown_style_is_refused():
    with pytest.raises(ValueError):
        format_counter(1, "roman")
