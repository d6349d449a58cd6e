"""参考文献 (issue 17): reading .bib and CSL-JSON, GB/T 7714 entries, citations, findings, the @key recogniser.

The expected texts are derived from the rules of GB/T 7714—2025 (field order of §8, names of §7.1,
等/et al. of §7.1.2, editions of §7.4) for entries composed for these tests.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import textwrap
from pathlib import Path

import pytest

from bookgen.bibliography import (
    CiteItem,
    Code,
    Mode,
    Severity,
    load_bibliography,
)
from bookgen.bibliography.entry import DateValue, Entry, Kind, Name
from bookgen.bibliography.gbt7714 import Style, format_entry, name_text, plain, short_author
from bookgen.bibliography.reading import scan_bib
from bookgen.errors import ManuscriptError
from bookgen.model.book import BibliographySettings, load_book

FIXTURES = Path(__file__).parent / "fixtures" / "bibliography"
GBT7714 = Path(__file__).parent / "fixtures" / "gbt7714"  # the standard's examples: see its README
# bookgen's exact matches among the 232 numbered examples of GB/T 7714—2025 (never fewer: a regression fails)
BOOKGEN_EXACT = 179
# pandoc 3.9 --citeproc with the official CSL on the same data, measured by the same test (recorded here)
PANDOC_CSL_RECORDED = 73

EXPECTED = {
    "zhang2002": "张伯伟. 全唐五代诗格汇考[M]. 南京: 江苏古籍出版社, 2002: 288.",
    "peebles2001": "Peebles P Z Jr. Probability, random variables, and random signal principles[M]. 4th ed. New York: McGraw-Hill, 2001.",
    "bobo2023": "博伯尔. 银行业的未来与人工智能[M]. 徐超, 译. 2版. 北京: 清华大学出版社, 2023: 35.",
    "cheng1999": "程根伟. 1998年长江洪水的成因与减灾对策[M]//许厚泽, 赵其国. 长江流域洪涝灾害与科技对策. 北京: 科学出版社, 1999: 32-36.",
    "niu2012": "牛志明, Swingland I R, 雷光春. 综合湿地管理：综合湿地管理国际研讨会论文集[C]. 北京: 海洋出版社, 2012.",
    "fourney1971": "Fourney M E. Advances in holographic photoelasticity[C]//Gottenberg W G. Symposium on applications "
    "of holography in mechanics. New York: ASME, 1971: 17-38.",
    "yu2012": "于潇, 刘义, 柴跃廷, 等. 互联网药品可信交易环境中主体资质审核备案模式[J]. 清华大学学报（自然科学版）, "
    "2012, 52(11): 1518-1523.",
    "myburg2014": "Myburg A A, Grattapaglia D, Tuskan G A, et al. The genome of Eucalyptus grandis[J/OL]. Nature, 2014, "
    "510: 356-362. https://www.nature.com/articles/nature13308. DOI:10.1038/nature13308.",
    "caplan1993": "Caplan P. Cataloging internet resources[J]. The Public-Access Computer Systems Review, 1993, 4(2): 61-66.",
    "ding2000": "丁文详. 数字革命与竞争国际化[N]. 中国青年报, 2000-11-20(15).",
    "wang2022": "王琦. 融合星载GNSS-R和SAR数据的高时空分辨率土壤湿度反演方法研究[D]. 武汉: 武汉大学, 2022: 87.",
    "cnnic2012": "中国互联网络信息中心. 第29次中国互联网络发展状况统计报告[R/OL]. 2012-01-16. https://www.cnnic.net.cn/report.pdf.",
    "gbt3792": "GB/T 3792—2021 信息与文献 资源描述[S].",
    "deng2008": "邓一刚. 全智能节电器:CN200610171314.3[P]. 2008-01-16.",
    "loc": "Library of Congress. Library of Congress[EB/OL]. [2020-06-12]. https://www.loc.gov.",
    "zotero": "Zotero. [Zotero download][CP/OL]. [2024-04-08]. https://www.zotero.org/download/.",
    "zhou2023": "周壮, 李盛阳, 吴薇, 等. 天宫二号遥感图像自然景物分类科学数据[DS/OL]. V1.0. "
    "国家基础学科公共科学数据中心(2023-09-10)[2025-07-15]. https://www.nbsdc.cn/data.",
    "li1887": "李鸿章. 奏请上海道库洋务外销要款无款可筹仍拨药厘接济事:04-01-35-0399-039[A]. 北京: 中国第一历史档案馆, 1887.",
    "hu2021": "胡健民. 东南极拉斯曼丘陵地区地质图.1∶25 000[CM]. 北京: 科学出版社, 2021. 128cm×84cm.",
    "jenkins2012": "Jenkins S D, Ruostekoski J. Controlled manipulation of light by cooperative response of atoms in an "
    "optical lattice[PP/OL]. V2. arXiv(2012-03-18)[2020-06-24]. https://doi.org/10.48550/arXiv.1112.6136.",
}


def stringify(inlines: list[dict]) -> str:
    """Inlines as text: what every output prints of them."""
    out = []
    for inline in inlines:
        kind = inline["t"]
        if kind == "Str":
            out.append(inline["c"])
        elif kind == "Space":
            out.append(" ")
        elif kind in ("Emph", "Superscript"):
            out.append(stringify(inline["c"]))
        elif kind in ("Span", "Link"):
            out.append(stringify(inline["c"][1]))
    return "".join(out)


def bibliography(files=("refs.bib",), **options):
    return load_bibliography(FIXTURES, BibliographySettings(files=files, **options))


@pytest.fixture(scope="module")
def from_bib():
    return bibliography(nocite=("*",))


@pytest.fixture(scope="module")
def from_json():
    return bibliography(("refs.json",), nocite=("*",))


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_type_prints_as_the_standard_says(from_bib, key):
    assert plain(format_entry(from_bib.entries[key], from_bib.style)) == EXPECTED[key]


def test_bib_and_csl_json_give_the_same_list(from_bib, from_json):
    assert not from_bib.findings and not from_json.findings
    assert set(from_bib.entries) == set(from_json.entries)
    assert from_bib.entries_in_order() == from_json.entries_in_order()


def test_list_is_pandoc_inlines_with_links_and_emphasis(from_bib):
    entries = {key: (label, inl) for key, label, inl in from_bib.entries_in_order()}
    label, inl = entries["myburg2014"]
    assert label.startswith("[") and all(isinstance(i, dict) and "t" in i for i in inl)
    links = [i["c"][2][0] for i in inl if i["t"] == "Link"]
    assert links == ["https://www.nature.com/articles/nature13308", "https://doi.org/10.1038/nature13308"]
    assert {"t": "Emph", "c": [{"t": "Str", "c": "Eucalyptus"}, {"t": "Space"}, {"t": "Str", "c": "grandis"}]} in inl
    assert stringify(inl) == EXPECTED["myburg2014"]


def test_numeric_citations_number_by_first_citation():
    bib = bibliography()
    bib.register(["caplan1993", "zhang2002", "yu2012", "wang2022", "ding2000"])
    assert stringify(bib.cite(["zhang2002"])) == "[2]"
    assert stringify(bib.cite(["zhang2002", "caplan1993", "yu2012"])) == "[1-3]"
    assert stringify(bib.cite(["caplan1993", "yu2012", "ding2000"])) == "[1,3,5]"
    assert stringify(bib.cite(["caplan1993", "zhang2002"])) == "[1,2]"
    assert stringify(bib.cite([CiteItem("zhang2002", "288")])) == "[2]288"
    paren = bib.cite(["zhang2002"])
    assert paren[0]["t"] == "Superscript"
    link = paren[0]["c"][1]
    assert link["t"] == "Link" and link["c"][2][0] == "#ref-zhang2002"
    narrative = bib.cite(["zhang2002"], Mode.NARRATIVE)
    assert stringify(narrative) == "张伯伟[2]" and narrative[0] == {"t": "Str", "c": "张伯伟"}
    assert narrative[1]["t"] == "Superscript"
    bare = bib.cite(["zhang2002"], Mode.SUPPRESS_AUTHOR)
    assert stringify(bare) == "[2]" and all(i["t"] != "Superscript" for i in bare)
    assert stringify(bib.cite(["myburg2014"], Mode.NARRATIVE)) == "Myburg et al.[6]"
    assert [key for key, _, _ in bib.entries_in_order()][:6] == ["caplan1993", "zhang2002", "yu2012", "wang2022", "ding2000", "myburg2014"]


def test_nocite_entries_follow_the_cited_ones():
    bib = bibliography(nocite=("loc",))
    bib.cite(["wang2022"])
    assert [(key, label) for key, label, _ in bib.entries_in_order()] == [("wang2022", "[1]"), ("loc", "[2]")]


def test_author_date_citations_and_order():
    bib = bibliography(style="author-date")
    bib.register(["caplan1993", "zhang2002b", "zhang2002", "bobo2023"])
    assert stringify(bib.cite(["caplan1993"])) == "(Caplan, 1993)"
    assert stringify(bib.cite(["zhang2002"])) == "(张伯伟，2002b)"
    assert stringify(bib.cite(["zhang2002b"], Mode.NARRATIVE)) == "张伯伟(2002a)"
    assert stringify(bib.cite(["caplan1993"], Mode.NARRATIVE)) == "Caplan (1993)"
    assert stringify(bib.cite(["caplan1993"], Mode.SUPPRESS_AUTHOR)) == "(1993)"
    listed = bib.entries_in_order()
    assert [key for key, _, _ in listed] == ["bobo2023", "zhang2002b", "zhang2002", "caplan1993"]  # 博 bo < 张 zhang
    assert all(label == "" for _, label, _ in listed)
    texts = {key: stringify(inl) for key, _, inl in listed}
    assert texts["zhang2002"] == "张伯伟, 2002b. 全唐五代诗格汇考[M]. 南京: 江苏古籍出版社: 288."
    assert (
        texts["caplan1993"] == "Caplan P, 1993. Cataloging internet resources[J]. The Public-Access Computer Systems Review, 4(2): 61-66."
    )


def test_fullwidth_punctuation_only_in_chinese_entries():
    bib = bibliography(punctuation="fullwidth", nocite=("zhang2002", "caplan1993"))
    texts = {key: stringify(inl) for key, _, inl in bib.entries_in_order()}
    assert texts["zhang2002"] == "张伯伟．全唐五代诗格汇考［M］．南京：江苏古籍出版社，2002：288．"
    assert texts["caplan1993"] == EXPECTED["caplan1993"]


def test_2015_edition_forms(from_bib):
    style = Style(standard="2015")
    assert plain(format_entry(from_bib.entries["deng2008"], style)) == "邓一刚. 全智能节电器:CN200610171314.3[P]. 2008-01-16."
    assert (
        plain(format_entry(from_bib.entries["gbt3792"], style))
        == "全国信息与文献标准化技术委员会. 信息与文献 资源描述:GB/T 3792-2021[S]. 2021."
    )
    assert plain(format_entry(from_bib.entries["zhou2023"], style)).startswith(
        "周壮, 李盛阳, 吴薇, 等. 天宫二号遥感图像自然景物分类科学数据[DB/OL]"
    )


def test_unknown_key_raises_with_a_suggestion(from_bib):
    with pytest.raises(ManuscriptError, match=r"C001 unknown citation @zhang2020 \(did you mean @zhang2002\?\)"):
        from_bib.cite(["zhang2020"])


def test_findings_unknown_missing_unused(tmp_path):
    (tmp_path / "refs.bib").write_text(
        textwrap.dedent("""\
        @book{zhang2002, author = {张伯伟}, title = {全唐五代诗格汇考}, publisher = {江苏古籍出版社}, year = {2002}}
        @article{noyear, author = {李四}, title = {无年份}, journal = {某刊}}
        @book{spare, title = {备用}, publisher = {某社}, year = {2000}}
        """),
        encoding="utf-8",
    )
    bib = load_bibliography(tmp_path, BibliographySettings(files=("refs.bib",)))
    uses = [("zhang2020", "chapters/x.md", 2, 6), ("zhang2002", "chapters/x.md", 2, 20), ("noyear", "chapters/x.md", 2, 31)]
    found = {(f.code, str(f)) for f in bib.check(uses)}
    assert (Code.UNKNOWN_KEY, "chapters/x.md:2:6: C001 unknown citation @zhang2020 (did you mean @zhang2002?)") in found
    assert (Code.MISSING_FIELD, "refs.bib:2: C004 entry 'noyear' ([J]) lacks year/date (issued), which GB/T 7714 requires") in found
    assert (Code.UNUSED, "refs.bib:3: C005 entry 'spare' is never cited (add it to nocite to list it)") in found
    severities = {f.code: f.severity for f in bib.check(uses)}
    assert severities[Code.UNKNOWN_KEY] == Severity.ERROR and severities[Code.UNUSED] == Severity.INFO
    assert severities[Code.MISSING_FIELD] == Severity.WARNING


def test_malformed_bib_entry_has_its_line_and_the_rest_is_read(tmp_path):
    (tmp_path / "refs.bib").write_text(
        textwrap.dedent("""\
        @book{good1, title = {甲}, publisher = {社}, year = {2001}}

        @book{broken, title = {乙, year = {2002}

        @book{good2, title = {丙}, publisher = {社}, year = {2003}}
        @article{nokey title = {丁}}
        """),
        encoding="utf-8",
    )
    bib = load_bibliography(tmp_path, BibliographySettings(files=("refs.bib",)))
    assert sorted(bib.entries) == ["good1", "good2"]
    messages = [str(f) for f in bib.findings]
    assert "refs.bib:3: C002 entry 'broken': the value of 'title' is not closed" in messages
    assert "refs.bib:6: C002 entry 'nokey': a ',' is missing before 't'" in messages


def test_duplicate_key_across_files_names_both_places(tmp_path):
    (tmp_path / "a.bib").write_text("@book{same, title = {甲}, publisher = {社}, year = {2001}}\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps([{"id": "x"}, {"id": "same", "type": "book", "title": "乙"}], indent=1), encoding="utf-8")
    bib = load_bibliography(tmp_path, BibliographySettings(files=("a.bib", "b.json")))
    assert bib.entries["same"].title == "甲"
    assert [str(f) for f in bib.findings] == ["b.json:6: C003 duplicate citation key 'same' (first in a.bib:1)"]


def test_zotero_extra_field_is_read_like_citeproc_js(tmp_path):
    item = {
        "id": "p1",
        "type": "patent",
        "title": "光折变自适应光外差探测方法",
        "language": "zh-CN",
        "author": [{"literal": "石顺祥"}],
        "number": "CN01128777.2",
        "issued": {"date-parts": [[2002, 3, 6]]},
        "note": "tex.holder: 西安电子科技大学\npage: 3\nDOI: 10.1000/xyz\n随便一行备注",
    }
    (tmp_path / "z.json").write_text(json.dumps([item]), encoding="utf-8")
    entry = load_bibliography(tmp_path, BibliographySettings(files=("z.json",))).entries["p1"]
    assert entry.pages == "3" and entry.doi == "10.1000/xyz" and entry.note == "随便一行备注"
    assert plain(format_entry(entry, Style())).startswith("西安电子科技大学. 光折变自适应光外差探测方法:CN01128777.2[P/OL]. 2002-03-06: 3.")


def test_scan_bib_never_raises_on_garbage():
    entries, _problems = scan_bib('@book{x, title = {a}}\n@@@ {{{ \n@misc(y, note = "q")')
    assert [e.key for e in entries] == ["x", "y"] and entries[1].fields == {"note": "q"}


def _book(tmp_path: Path, bibliography_yaml: str) -> Path:
    (tmp_path / "book.yaml").write_text(f"title: 书\nchapters:\n  - 第一章\n{bibliography_yaml}", encoding="utf-8")
    return tmp_path


def test_book_yaml_bibliography_settings(tmp_path):
    book = load_book(_book(tmp_path, "bibliography:\n  files: [refs.bib, more.json]\n  style: author-date\n  nocite: ['*']\n"))
    assert book.bibliography == BibliographySettings(("refs.bib", "more.json"), style="author-date", nocite=("*",))
    assert load_book(_book(tmp_path, "bibliography: refs.bib\n")).bibliography.files == ("refs.bib",)
    assert load_book(_book(tmp_path, "")).bibliography == BibliographySettings()


@pytest.mark.parametrize(
    "yaml, message",
    [
        ("bibliography:\n  style: apa\n", r"book.yaml:5:\d+: 'style' must be one of numeric, author-date, not 'apa'"),
        ("bibliography:\n  files: refs.txt\n", r"must be BibTeX \(.bib\) or CSL-JSON \(.json\)"),
        (
            "bibliography:\n  standrd: 2015\n",
            r"book.yaml:5:3: unknown key 'standrd' \(did you mean 'standard'\?\); 'bibliography' has: files, style",
        ),
    ],
)
def test_book_yaml_bibliography_errors(tmp_path, yaml, message):
    with pytest.raises(ManuscriptError, match=message):
        load_book(_book(tmp_path, yaml))


def _read(tmp_path, name: str, text: str):
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return load_bibliography(tmp_path, BibliographySettings(files=(name,), nocite=("*",)))


def test_subtitle_lower_case_spares_words_kept_as_written(tmp_path):
    """§7.2.3: an English subtitle starts in lower case, but a word braced in .bib or marked nocase in
    CSL-JSON is a name and keeps its capital."""
    bib = _read(
        tmp_path,
        "refs.bib",
        """\
        @book{atlas, author = {Moss, Ann}, title = {River Atlas: {Danube} Basin and Delta}, publisher = {Alpha},
          address = {Leeds}, year = {2019}, langid = {english}}
        @book{plain, author = {Moss, Ann}, title = {River Atlas: Upper Basins}, publisher = {Alpha},
          address = {Leeds}, year = {2019}, langid = {english}}
        """,
    )
    assert plain(format_entry(bib.entries["atlas"], bib.style)).startswith("Moss A. River atlas: Danube basin and delta[M].")
    assert plain(format_entry(bib.entries["plain"], bib.style)).startswith("Moss A. River atlas: upper basins[M].")
    js = _read(
        tmp_path,
        "refs.json",
        """\
        [{"id": "atlas", "type": "book", "language": "en", "author": [{"family": "Moss", "given": "Ann"}],
          "title": "River atlas: <span class=\\"nocase\\">Danube</span> basin and <i>delta</i>", "publisher": "Alpha",
          "publisher-place": "Leeds", "issued": {"date-parts": [[2019]]}}]
        """,
    )
    run = format_entry(js.entries["atlas"], js.style)
    assert plain(run).startswith("Moss A. River atlas: Danube basin and delta[M].")
    assert [seg.text for seg in run if seg.emph] == ["delta"]


def _entry(**fields) -> Entry:
    return Entry(key="k", kind=fields.pop("kind", Kind.BOOK), source="refs.bib", line=1, **fields)


@pytest.mark.parametrize(
    ("family", "given", "printed"),
    [
        ("Wang", "Shanshan", "Wang Shanshan"),
        ("Li", "Jiangning", "Li Jiangning"),
        ("Zhong", "Xiaoya", "Zhong Xiaoya"),
        ("Lin", "Xian'an", "Lin Xian'an"),
        ("Li", "Guie", "Li Guie"),
        ("Xi", "Jinping", "Xi Jinping"),
        ("Han", "Solo", "Han S"),
        ("Lu", "Ann", "Lu A"),
        ("Bai", "Lea", "Bai L"),
        ("Song", "Dae", "Song D"),
        ("Jin", "Ho", "Jin H"),
        ("Fan", "Ian", "Fan I"),
        ("Xu", "Anne", "Xu A"),
        ("Wang", "Lee", "Wang L"),
        ("Li", "Jing-Ming", "Li J-M"),
        ("Smith", "Shanshan", "Smith S"),
    ],
)
def test_pinyin_names_in_full_other_given_names_as_initials(family, given, printed):
    """§7.1.1: names in pinyin (GB/T 28039) in full, other Latin given names as initials."""
    assert name_text(Name(family=family, given=given)) == printed


def test_2015_edition_prints_latin_family_names_in_capitals():
    """GB/T 7714—2015 §8.1.1 and Appendix A: PEEBLES P Z, LI Jiangning; bodies and Chinese names as written."""
    entry = _entry(
        language="en",
        authors=(Name("Moss", "Ann B."), Name("Li", "Jiangning"), Name(literal="World Bank")),
        translators=(Name("Ortiz", "Eva"),),
        title="Rivers",
        publisher="Alpha",
        place="Leeds",
        issued=DateValue((2019,)),
    )
    assert (
        plain(format_entry(entry, Style(standard="2015")))
        == "MOSS A B, LI Jiangning, World Bank. Rivers[M]. ORTIZ E, trans. Leeds: Alpha, 2019."
    )
    assert plain(format_entry(entry, Style())).startswith("Moss A B, Li Jiangning, World Bank. Rivers[M]. Ortiz E, trans.")


def test_translators_in_each_entrys_language():
    """§8.2.1 其他责任者 after the title: '徐超, 译' in a Chinese entry; Western names inverted with initials,
    then 'trans.', and et al. after three in an English one."""
    four = (Name("Ortiz", "Eva"), Name("Berg", "Ulf"), Name("Cole", "Amy"), Name("Dunn", "Rob"))
    english = _entry(
        language="en",
        authors=(Name("Moss", "Ann"),),
        translators=four,
        title="Rivers",
        edition="2",
        publisher="Alpha",
        place="Leeds",
        issued=DateValue((2019,)),
    )
    assert plain(format_entry(english, Style())) == "Moss A. Rivers[M]. Ortiz E, Berg U, Cole A, et al., trans. 2nd ed. Leeds: Alpha, 2019."
    chinese = _entry(
        language="zh",
        authors=(Name("Moss", "Ann"),),
        translators=(Name(literal="王五"),),
        title="河流",
        publisher="甲社",
        place="北京",
        issued=DateValue((2019,)),
    )
    assert plain(format_entry(chinese, Style())) == "Moss A. 河流[M]. 王五, 译. 北京: 甲社, 2019."


def test_cstr_not_repeated_after_a_url_that_carries_it():
    """Appendix B.13 [3]: the URL ends in CSTR:…, and no CSTR element follows it."""
    data = _entry(
        kind=Kind.DATASET,
        language="zh",
        authors=(Name(literal="王五"),),
        title="河流数据集",
        publisher="甲中心",
        issued=DateValue((2023,)),
        cstr="16666.11.abc",
        url="https://example.org/dataLinks/CSTR:16666.11.abc",
    )
    assert plain(format_entry(data, Style())).endswith("https://example.org/dataLinks/CSTR:16666.11.abc.")
    other = dataclasses.replace(data, url="https://example.org/rivers")
    assert plain(format_entry(other, Style())).endswith("https://example.org/rivers. CSTR:16666.11.abc.")


def test_patent_prints_the_application_number_zotero_keeps_in_call_number(tmp_path):
    """GB/T 7714—2025 §8.10: 专利号 is the application number (申请号), which Zotero exports as CSL
    ``call-number``; ``number`` (the publication number) only when there is none."""
    items = [
        {
            "id": "wang2019",
            "type": "patent",
            "title": "一种可折叠的太阳能充电板",
            "language": "zh-CN",
            "author": [{"literal": "王小明"}],
            "number": "CN110011223A",
            "call-number": "CN201910123456.7",
            "issued": {"date-parts": [[2019, 7, 12]]},
        },
        {
            "id": "smith2020",
            "type": "patent",
            "title": "Folding solar panel",
            "language": "en-US",
            "author": [{"family": "Smith", "given": "John"}],
            "note": "Call Number: US16123456A",
            "number": "US2020123456A1",
            "issued": {"date-parts": [[2020, 4, 23]]},
        },
        {
            "id": "li2021",
            "type": "patent",
            "title": "一种茶叶烘干装置",
            "language": "zh-CN",
            "author": [{"literal": "李华"}],
            "number": "CN202120987654.3",
            "issued": {"date-parts": [[2021, 12, 3]]},
        },
    ]
    (tmp_path / "p.json").write_text(json.dumps(items), encoding="utf-8")
    entries = load_bibliography(tmp_path, BibliographySettings(files=("p.json",))).entries
    assert plain(format_entry(entries["wang2019"], Style())) == "王小明. 一种可折叠的太阳能充电板:CN201910123456.7[P]. 2019-07-12."
    assert plain(format_entry(entries["smith2020"], Style())) == "Smith J. Folding solar panel:US16123456A[P]. 2020-04-23."
    assert plain(format_entry(entries["li2021"], Style())) == "李华. 一种茶叶烘干装置:CN202120987654.3[P]. 2021-12-03."


def test_bibtex_and_others_prints_as_deng_or_et_al(tmp_path):
    """GB/T 7714—2025 §7.1.2: a list cut short (BibTeX's ``and others``) ends in 等 / et al., never 'others'."""
    bib = _read(
        tmp_path,
        "o.bib",
        """\
        @techreport{ager2011,
          author = {Ager, Alan A. and Calkin, David E. and others},
          title = {Wildfire exposure analysis},
          institution = {USDA}, address = {Fort Collins}, year = {2011}, langid = {american}
        }
        @book{zhao2020,
          author = {赵一 and others},
          translator = {钱二 and 孙三 and 李四 and others},
          title = {书名}, publisher = {社}, address = {北京}, year = {2020}, langid = {chinese}
        }
        """,
    )
    ager, zhao = bib.entries["ager2011"], bib.entries["zhao2020"]
    assert plain(format_entry(ager, Style())).startswith("Ager A A, Calkin D E, et al. Wildfire exposure analysis[R].")
    assert plain(format_entry(zhao, Style())) == "赵一, 等. 书名[M]. 钱二, 孙三, 李四, 等, 译. 北京: 社, 2020."
    assert short_author(ager) == "Ager et al." and short_author(zhao) == "赵一等"


def _conformance_bench():
    path = Path(__file__).resolve().parents[1] / "bench" / "gbt7714_conformance.py"
    spec = importlib.util.spec_from_file_location("gbt7714_conformance", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_gbt7714_2025_numeric_conformance_against_pandoc_csl(record_property, capsys):
    """The standard's 232 numbered examples (tests/fixtures/gbt7714): bookgen's entry equals the printed
    text (after normalising spaces and punctuation width) at least BOOKGEN_EXACT times, every other
    example is a KNOWN_WRONG one whose difference is exactly the one its reason names, and pandoc's
    citeproc with the official GB/T 7714—2025 numeric CSL, run on the same data here, matches fewer."""
    bench = _conformance_bench()
    fixture = json.loads((GBT7714 / "expected.json").read_text(encoding="utf-8"))
    data = GBT7714 / "gbt7714-examples.bib"
    ours = {key: text for key, text in bench.render(data).items() if key in fixture["examples"]}
    assert len(ours) == len(fixture["examples"]) == 232
    theirs = bench.baseline(GBT7714 / "china-national-standard-gb-t-7714-2025-numeric.csl", data, list(ours))
    result = bench.score(fixture, ours, theirs, bench.KNOWN_WRONG)
    exact, pandoc_exact = result.total(1), result.total(2)
    record_property("bookgen_exact", exact)
    record_property("pandoc_csl_exact", pandoc_exact)
    with capsys.disabled():
        print(f"\nGB/T 7714—2025 numeric, 232 examples exact: bookgen {exact}, pandoc+CSL {pandoc_exact} (recorded {PANDOC_CSL_RECORDED})")
    table = "\n" + result.table()
    assert not result.unexplained, f"misses without a KNOWN_WRONG reason: {result.unexplained}{table}"
    assert not result.stale, f"KNOWN_WRONG examples that now match (remove their reasons): {result.stale}{table}"
    without_digest = [n for n in bench.KNOWN_WRONG if "known_wrong_sha256" not in fixture["examples"].get(f"gbt7714.{n}", {})]
    assert not without_digest, f"rewrite expected.json (bench --write-fixture) for {without_digest}"
    assert exact >= BOOKGEN_EXACT, table
    assert pandoc_exact < exact, table


def test_bracketed_citation_with_a_prefix_touching_the_key_is_not_narrative(tmp_path, monkeypatch):
    """[见@e, 第3章] (no space between a Chinese prefix and the key, where pandoc makes no Cite) is the
    bracketed citation pandoc makes of [见 @e, 第3章]: prefix 见, locator 第3章; an e-mail address in
    brackets stays text, a narrative @key stays narrative."""
    from bookgen.sources.convert import convert_sources
    from bookgen.sources.reading import read_sources
    from conftest import write_book

    monkeypatch.chdir(tmp_path)
    text = "如[见@zhang2002, 第3章]所述；[参见@yu2012; @ding2000, 288]与[见 @wang2022, 第5页]；[见@caplan1993]，@peebles2001认为，写信[me@example.com]。"
    book_yaml = "title: 书\nbibliography: refs.bib\nchapters:\n  - title: 一\n    sections:\n      - title: 甲\n        file: a.md\n"
    root = write_book(tmp_path / "m", book_yaml, {"a.md": text + "\n", "refs.bib": (FIXTURES / "refs.bib").read_text(encoding="utf-8")})
    book = load_book(root)
    sources = read_sources(book)
    converted, _ = convert_sources(book, {k: s for k, s in sources.items() if s.written}, tmp_path / "cache")
    section = converted["sec-1-1"]
    assert [(c["keys"], c["mode"], c["locators"]) for c in section.xref["citations"]] == [
        (["zhang2002"], "paren", ["第3章"]),
        (["yu2012", "ding2000"], "paren", ["", "288"]),
        (["wang2022"], "paren", ["第5页"]),
        (["caplan1993"], "paren", [""]),
        (["peebles2001"], "narrative", [""]),
    ]
    assert "如见\\bookgencite{" in section.latex and "[" not in section.latex.replace("{[}me@", "")
