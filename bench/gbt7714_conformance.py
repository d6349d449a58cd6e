"""Conformance of bookgen's GB/T 7714—2025 numeric entries with the standard's own printed examples.

Usage: python bench/gbt7714_conformance.py DATA_DIR [--csl FILE] [--show-all] [--write-fixture JSON]

The pytest test (tests/test_bibliography.py, test_gbt7714_2025_numeric_conformance_against_pandoc_csl)
runs the same scoring on tests/fixtures/gbt7714/: the .bib and the CSL are vendored, the printed texts
are not (no licence; see that README), only their digests, which --write-fixture writes from DATA_DIR.

DATA_DIR holds third-party test data that is never committed to this repository:
  original.toml   the standard's printed examples, as in typst-doc-cn/bib-csl-dev-data
                  (data/GB-T_7714—2025.original.toml): [[section]] tables with `id-prefix` and `examples`
  *.bib, *.json   the examples' data (keys like gbt7714.b.1:1), e.g. zepinglee/gbt7714-bibtex-style's
                  gbt7714-examples.bib and zotero-chinese/styles' lib/data/items/gbt7714-data.json
  *.csl           optional: the official china-national-standard-gb-t-7714-2025-numeric.csl; when given,
                  pandoc --citeproc with it is measured on the same examples as the baseline.
Each numbered example ([n] …) is rendered with bookgen's formatter and compared after normalising
spaces (removed, except one between two Latin letters or digits) and punctuation width (，：；（）．
→ ,:;().). Prints per entry type: n, bookgen's exact matches, the pandoc + CSL baseline's, and the
known-wrong ones (KNOWN_WRONG: each miss of examples.bib with its reason, checked against the texts);
then the known-wrong table and every miss no reason explains.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bookgen.bibliography import reading
from bookgen.bibliography.gbt7714 import Style, format_entry, plain
from bookgen.tools import pandoc_env, pandoc_path, run_tool

_WIDTH = str.maketrans(
    {
        "，": ",",
        "：": ":",
        "；": ";",
        "（": "(",
        "）": ")",
        "．": ".",
        "［": "[",
        "］": "]",
        "？": "?",
        "！": "!",
        "\u3000": " ",
        "\u00a0": " ",
        "’": "'",
        "‘": "'",
    }
)
_LATIN = "A-Za-z0-9\u00c0-\u024f\u0400-\u04ff"


def normalise(text: str) -> str:
    """Spaces out (one kept between two Latin letters/digits), punctuation at half width."""
    text = text.translate(_WIDTH)
    text = re.sub(rf"(?<=[{_LATIN}])\s+(?=[{_LATIN}])", "\x00", text)
    return re.sub(r"\s+", "", text).replace("\x00", " ")


def printed_examples(path: Path) -> dict[str, str]:
    """{'gbt7714.b.1:1': '张伯伟.全唐五代诗格汇考[M]…', …} for the numbered examples."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    examples = {}
    for section in data["section"]:
        if section["id-prefix"] == "gbt7714.8.1:":  # author-date examples that carry numbers
            continue
        for line in section["examples"].splitlines():
            match = re.match(r"^\[(\d+)\]\s*(.*)$", line.strip())
            if match:
                examples[f"{section['id-prefix']}{match.group(1)}"] = match.group(2)
    return examples


def kind_of(text: str) -> str:
    """The printed type code of an example: M, M//, J, C//, EB…"""
    match = re.search(r"\[\s*([A-Z]+)\s*(?:/\s*OL\s*)?\]\s*(//)?", text)
    return (match.group(1) + (match.group(2) or "")) if match else "?"


# Each miss of examples.bib, by example number: (class, reason, [(printed, data), …]). The pairs are the
# places where the printed text and the data disagree; the script checks that putting the data's
# form in the printed text makes it equal to bookgen's output, so a reason that does not account for
# the whole difference is reported. Classes: typo (the printed text has a typo, shown right elsewhere),
# data (the data gives another value than the printed text), data-lacks (a field the data does not
# have), standard (the standard's example contradicts its own rule or its other examples).
KNOWN_WRONG: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "5.1:4": (
        "typo",
        "printed 'Рябиновсе' (с for о; the deposit is Рябиновое) and 'Геология'; data 'геология'",
        [("Рябиновсе", "Рябиновое"), ("Отечественная Геология", "Отечественная геология")],
    ),
    "8.2.2:8": (
        "standard",
        "no [S.l.] before a publisher without place, which [7] of the same clause prints",
        [("[M/OL].Springer", "[M/OL].[S.l.]:Springer")],
    ),
    "8.4.2:4": ("data", "URL: printed /journals/wplq20, data /loi/wplq", [("journals/wplq20", "loi/wplq")]),
    "8.5.3:10": (
        "standard",
        (
            "typo 'lesionson'; journal as ISO 4 abbreviation here only (B.4 [18], [19] print "
            "the full title though their data has abbreviations too)"
        ),
        [("lesionson", "lesions on"), ("J Neurol Sci", "Journal of the Neurological Sciences")],
    ),
    "8.6.1:4": ("data", "title: printed 'February 1-4,2000', data '1-4 February 2000'", [("February 1-4,2000", "1-4 February 2000")]),
    "8.6.1:5": ("typo", "printed 'Califiornia'", [("Califiornia", "California")]),
    "8.6.3:2": ("typo", "printed 'financialvouchers'", [("financialvouchers", "financial vouchers")]),
    "8.7.2:4": ("data", "title: printed 'studies of', data 'studies on'", [("studies of", "studies on")]),
    "8.8.3:3": ("data-lacks", "data has three of the report's authors, the printed text adds et al.", [(",et al.A", ".A")]),
    "8.8.3:4": ("data", "title: printed 'materials', data 'Material'", [("materials", "material")]),
    "8.10.2:4": ("data", "applicant: printed 'Trisco Icap', data 'Trisco ICAP'", [("Icap", "ICAP")]),
    "8.11.2.2:2": ("data", "URL: data ends in '/'", [("loc.gov.", "loc.gov/.")]),
    "8.11.3.2:2": (
        "data",
        "dates: printed (2015-09-18)[2023-03-06], data issued 2023-03-06, accessed 2025-06-22",
        [("(2015-09-18)[2023-03-06]", "(2023-03-06)[2025-06-22]")],
    ),
    "8.11.3.2:3": (
        "data",
        "printed as a title '许振超:“…”' without author, data author 许振超; URL http vs https",
        [("许振超:", "许振超."), ("http://cpc", "https://cpc")],
    ),
    "8.14.3:1": ("data", "title: printed 科学数据, data 数据集", [("分类科学数据", "分类数据集")]),
    "8.14.3:3": (
        "data",
        ("title: data in title case with braces ({Burden}, {Disease Study}, {GBD2019}), printed in sentence case"),
        [("Global burden of disease study 2019 (GBD 2019)", "Global Burden of Disease Study 2019 (GBD2019) ")],
    ),
    "8.15.2:3": (
        "standard",
        ("no platform before the date, which §8.15's scheme and [1], [2] print (PSSXiv, ChinaXiv); data archiveprefix arXiv"),
        [("V2.(2012", "V2.arXiv(2012")],
    ),
    "9.2.1.3:2": ("data", "title: printed 'rules:for now', data 'Rules---for Now'", [("rules:for now", "rules—for now")]),
    "b.1:20": ("data", "title: printed 'story telling', data 'Storytelling'", [("story telling", "storytelling")]),
    "b.1:22": ("typo", "printed 'Little field' (8.2.2 [7], the same entry, prints Littlefield)", [("Little field", "Littlefield")]),
    "b.3:4": ("data", "URL: printed /journals/wplq20, data /loi/wplq", [("journals/wplq20", "loi/wplq")]),
    "b.4:5": (
        "data",
        "URL: printed d.wanfangdata.com.cn/periodical/…, data d.g.wanfangdata.com.cn/Periodical_….aspx",
        [("https://d.wanfangdata.com.cn/periodical/hunandz201010038", "http://d.g.wanfangdata.com.cn/Periodical_hunandz201010038.aspx")],
    ),
    "b.4:6": ("data", "URL: printed …_317.htm, data …_3-17.htm", [("_317.htm", "_3-17.htm")]),
    "b.4:7": (
        "data",
        "URL: printed qikan.cqvip.com/Qikan/Article/Detail?…, data www.cqvip.com/Read/Read.aspx?…",
        [
            (
                "https://qikan.cqvip.com/Qikan/Article/Detail?id=36658332&from=Qikan_Search_Index",
                "http://www.cqvip.com/Read/Read.aspx?id=36658332",
            )
        ],
    ),
    "b.4:12": ("data", "journal: printed 'Public-access', data 'Public-Access'", [("Public-access", "Public-Access")]),
    "b.4:18": ("data", "journal: printed 'Insect Science', data 'Insect science'", [("Insect Science", "Insect science")]),
    "b.4:19": (
        "data",
        "journal: printed in title case, data 'Journal of electron spectroscopy and related phenomena'",
        [("Electron Spectroscopy and Related Phenomena", "electron spectroscopy and related phenomena")],
    ),
    "b.4:20": (
        "standard",
        ("journal as ISO 4 abbreviation here only (B.4 [18], [19] print the full title though their data has abbreviations too)"),
        [("J Neurol Sci", "Journal of the Neurological Sciences")],
    ),
    "b.5:8": ("typo", "printed 'financialvouchers'", [("financialvouchers", "financial vouchers")]),
    "b.5:10": ("data", "title: printed 'February 1-4,2000', data '1-4 February 2000'", [("February 1-4,2000", "1-4 February 2000")]),
    "b.5:12": ("typo", "printed 'Califiornia'", [("Califiornia", "California")]),
    "b.6:5": ("data", "title: printed 'studies of', data 'studies on'", [("studies of", "studies on")]),
    "b.7:4": ("data-lacks", "data has three of the report's authors, the printed text adds et al.", [(",et al.A", ".A")]),
    "b.7:5": ("data", "title: printed 'materials', data 'Material'", [("materials", "material")]),
    "b.7:6": (
        "data",
        ("title: data 'E-Government' unbraced, so sentence case gives 'e-government'; printed 'e-Government'"),
        [("e-Government survey", "e-government survey")],
    ),
    "b.8:10": (
        "typo",
        "printed '-' between the parts where [9], the same standard in English, prints '—'; data '—'",
        [("explosives-Partie", "explosives—Partie"), ("produits-Méthodes", "produits—Méthodes")],
    ),
    "b.9:3": ("data", "URL: printed https, data http", [("https://patentscope2", "http://patentscope2")]),
    "b.9:7": ("data", "date: printed 2002-05-23 (publication), data 2001-06-28 (filing)", [("2002-05-23", "2001-06-28")]),
    "b.9:8": ("data", "applicant: printed 'Trisco Icap', data 'Trisco ICAP'", [("Icap", "ICAP")]),
    "b.10:2": ("data-lacks", "author: data lacks '(北京新文化运动纪念馆)'", [("(北京新文化运动纪念馆)", "")]),
    "b.10:5": (
        "data",
        "printed as a title '许振超:“…”' without author, data author 许振超; URL http vs https",
        [("许振超:", "许振超."), ("http://cpc", "https://cpc")],
    ),
    "b.10:6": (
        "data",
        "dates: printed (2015-09-18)[2023-03-06], data issued 2023-03-06, accessed 2025-06-22",
        [("(2015-09-18)[2023-03-06]", "(2023-03-06)[2025-06-22]")],
    ),
    "b.10:8": ("data", "URL: printed /JHJ/item?, data /#/item?", [("/JHJ/item", "/#/item")]),
    "b.10:9": ("data", "URL: data ends in '/'", [("loc.gov.", "loc.gov/.")]),
    "b.10:10": ("data", "title: printed 'home page', data 'Homepage'", [("home page", "homepage")]),
    "b.13:1": (
        "data",
        "title 2024 vs 2023, publisher, issued and accessed dates all differ",
        [
            ("2024年中国1 km", "2023年中国1km"),
            ("国家地球系统科学数据中心(2025-07-07)[2025-07-15]", "西北农林科技大学水土保持研究所(2024-07-19)[2024-11-25]"),
        ],
    ),
    "b.13:2": (
        "data",
        ("title dash, publisher, URL host, accessed date and DOI differ (printed 'alacier001' is a typo for glacier.001)"),
        [
            (":2006—2011", ":2006-2011"),
            ("国家青藏高原科学数据中心(2012)[2025-07-15]", "中国科学院寒区早区环境与工程研究所冰冻圈科学国家重点实验室(2012)[2024-11-25]"),
            ("poles.tpdc", "data.tpdc"),
            ("alacier001", "glacier.001"),
        ],
    ),
    "b.13:3": ("data", "title: printed 科学数据, data 数据集", [("分类科学数据", "分类数据集")]),
    "b.13:4": (
        "data-lacks",
        ("title 数据集 vs 数据, publisher 'Sciencedatabank' vs 'Science Data Bank', data has only the year and no DOI"),
        [
            ("数据集[DS/OL]", "数据[DS/OL]"),
            ("Sciencedatabank (2018-05-26)", "Science Data Bank(2018)"),
            (".DOI:10.11922/sciencedb.610", ""),
        ],
    ),
    "b.13:6": (
        "data",
        "accessed 2025-07-11 vs data 2025-07-10; URL https vs http",
        [("[2025-07-11]", "[2025-07-10]"), ("https://opendata", "http://opendata")],
    ),
    "b.13:7": (
        "standard",
        "'DOI:http://doi.org/…' where every other example prints DOI:10.…; data doi 10.5255/…",
        [("DOI:http://doi.org/", "DOI:")],
    ),
    "b.13:8": ("data", "URL: printed geodoi.ac.cn, data www.geodoi.ac.cn", [("//geodoi", "//www.geodoi")]),
    "b.13:9": (
        "data",
        ("title: data in title case with braces ({Burden}, {Disease Study}, {GBD2019}), printed in sentence case"),
        [("Global burden of disease study 2019(GBD 2019)", "Global Burden of Disease Study 2019 (GBD2019) ")],
    ),
}


def explained_text(expected: str, fixes: list[tuple[str, str]]) -> str:
    """The normalised printed text with the data's forms put in: what bookgen prints for a known-wrong example."""
    for printed, data in fixes:
        expected = expected.replace(normalise(printed), normalise(data))
    return expected


def digest(normalised: str) -> str:
    """SHA-256 of a normalised text: the fixture stores these, never the standard's text (see its README)."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def fixture_from(printed: dict[str, str]) -> dict:
    """tests/fixtures/gbt7714/expected.json: per example its type and the digests of its normalised printed
    text and, for a known-wrong one, of the printed text with the data's forms put in."""
    examples = {}
    for key, text in printed.items():
        item = {"type": kind_of(text), "sha256": digest(normalise(text))}
        number = key.removeprefix("gbt7714.")
        if number in KNOWN_WRONG:
            item["known_wrong_sha256"] = digest(explained_text(normalise(text), KNOWN_WRONG[number][2]))
        examples[key] = item
    return {
        "about": (
            "GB/T 7714—2025's numbered examples: per example the printed type code and the SHA-256 of the printed "
            "text normalised by bench/gbt7714_conformance.py normalise() (and, for KNOWN_WRONG ones, of that text "
            "with the data's forms put in). Written by `bench/gbt7714_conformance.py DATA_DIR --write-fixture`."
        ),
        "examples": examples,
    }


@dataclasses.dataclass
class Score:
    """One data file measured: per type [n, bookgen exact, pandoc+CSL exact, known-wrong], and the rest."""

    per_type: dict[str, list[int]]
    known: list[tuple[str, str, str, str]]  # (number, type, class, reason)
    unexplained: list[tuple[str, str]]  # (number, what differs)
    stale: list[str]  # numbers in KNOWN_WRONG that now match

    def total(self, column: int) -> int:
        return sum(row[column] for row in self.per_type.values())

    def table(self) -> str:
        total = self.total(0)
        lines = [f"{'type':6} {'n':>4} {'bookgen':>11} {'pandoc+CSL':>11} {'known-wrong':>11}"]
        for kind in sorted(self.per_type):
            n, ok, b, k = self.per_type[kind]
            lines.append(f"{kind:6} {n:4} {ok:5} {ok / n:5.0%} {b:5} {b / n:5.0%} {k:11}")
        ok, b, k = self.total(1), self.total(2), self.total(3)
        lines.append(f"{'all':6} {total:4} {ok:5} {ok / max(total, 1):5.0%} {b:5} {b / max(total, 1):5.0%} {k:11}")
        return "\n".join(lines)


def score(
    fixture: dict,
    ours: dict[str, str],
    theirs: dict[str, str],
    reasons: dict[str, tuple[str, str, list[tuple[str, str]]]],
    printed: dict[str, str] | None = None,
) -> Score:
    """bookgen's (and pandoc's) entries against the fixture's digests; a miss is explained when it is in
    ``reasons`` and equals the printed text with the data's forms put in. ``printed`` (when at hand) names
    where an unexplained miss differs."""
    result = Score(collections.defaultdict(lambda: [0, 0, 0, 0]), [], [], [])
    for key in (k for k in fixture["examples"] if k in ours):
        example = fixture["examples"][key]
        number, kind = key.removeprefix("gbt7714."), example["type"]
        got = digest(normalise(ours[key]))
        row = result.per_type[kind]
        row[0] += 1
        ok = got == example["sha256"]
        row[1] += ok
        row[2] += key in theirs and digest(normalise(theirs[key])) == example["sha256"]
        if ok:
            if number in reasons:
                result.stale.append(number)
        elif number in reasons and got == example.get("known_wrong_sha256"):
            row[3] += 1
            result.known.append((number, kind, *reasons[number][:2]))
        elif printed is not None:
            result.unexplained.append((number, first_difference(normalise(printed[key]), normalise(ours[key]))))
        else:
            result.unexplained.append((number, f"bookgen prints {ours[key]!r}"))
    return result


def first_difference(expected: str, got: str) -> str:
    index = next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b), min(len(expected), len(got)))
    return f"at {index}: expected …{expected[max(0, index - 15) : index + 25]}… got …{got[max(0, index - 15) : index + 25]}…"


def baseline(csl: Path, data_file: Path, keys: list[str]) -> dict[str, str]:
    """pandoc --citeproc with the CSL, one entry per key in the given order, as plain text."""
    markdown = "---\nnocite: |\n  " + ", ".join(f"@{k}" for k in keys) + "\n---\n"
    proc = run_tool(
        [pandoc_path(), "--citeproc", "-f", "markdown", "-t", "plain", "--wrap=none", f"--csl={csl}", f"--bibliography={data_file}"],
        data_file,
        input=markdown,
        env=pandoc_env(),
    )
    entries = [line for line in proc.stdout.split("\n") if line.strip()]
    out: dict[str, str] = {}
    for key, line in zip(keys, entries, strict=False):
        out[key] = re.sub(r"^\[\d+\]\s*", "", line)
    return out


def render(data_file: Path) -> dict[str, str]:
    """bookgen's GB/T 7714—2025 numeric entry of every item of a .bib or CSL-JSON file, as plain text."""
    reader = reading.read_bib if data_file.suffix == ".bib" else reading.read_csl_json
    style = Style(standard="2025")
    return {e.key: plain(format_entry(e, style)) for e in reader(data_file, data_file.name).entries}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--csl", type=Path, help="the official CSL (default: the *.csl in DATA_DIR, if one)")
    parser.add_argument(
        "--show-all", action="store_true", help="also list the misses of data files that have no reasons (only examples.bib has)"
    )
    parser.add_argument("--write-fixture", type=Path, metavar="JSON", help="write the digests the pytest test compares with")
    args = parser.parse_args()
    printed = printed_examples(args.data / "original.toml")
    fixture = fixture_from(printed)
    if args.write_fixture:
        args.write_fixture.write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.write_fixture} ({len(fixture['examples'])} examples)")
    csl = args.csl or next(iter(sorted(args.data.glob("*.csl"))), None)
    for data_file in sorted(args.data.glob("*.bib")) + sorted(args.data.glob("*.json")):
        ours = {k: v for k, v in render(data_file).items() if k in printed}
        theirs = baseline(csl, data_file, list(ours)) if csl else {}
        reasons = KNOWN_WRONG if data_file.name == "examples.bib" else {}
        result = score(fixture, ours, theirs, reasons, printed)
        print(f"\n== {data_file.name}: {len(ours)} of {len(printed)} numbered examples have data")
        print(result.table())
        if reasons:
            print(f"\nknown-wrong ({len(result.known)}; checked: the data's forms put into the printed text give bookgen's):")
            for number, kind, klass, reason in result.known:
                print(f"  [{number}] {kind:5} {klass:10} {reason}")
            for number in result.stale:
                print(f"  [{number}] now matches: remove its reason")
        print(f"\nunexplained misses: {len(result.unexplained)}" + ("" if reasons or args.show_all else " (--show-all lists them)"))
        for number, difference in result.unexplained if reasons or args.show_all else ():
            print(f"  MISS [{number}] {difference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
