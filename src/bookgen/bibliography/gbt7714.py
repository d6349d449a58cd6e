"""GB/T 7714 reference-list entries (2025 edition, and the 2015 one) as runs of text and links.

One formatter for every output: it returns :class:`Run` values (text pieces, some of them links)
that ``inlines`` turns into pandoc AST inlines, so the PDF, the EPUB and the HTML edition print
the same characters. Sources of the rules: GB/T 7714—2025 §5 (language of each entry), §7
(names, titles, editions, publication data, dates, pages, URLs, DOIs), §8 (field order of each
type), §9 (citation forms) and Appendix B (examples); GB/T 7714—2015 where it differs (§8.1
access dates after the date or pages, §8.4 standards with their issuing body, §8.6 patents with
the country).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from bookgen.bibliography.entry import Entry, Kind, Name, has_cjk


@dataclass(frozen=True)
class Seg:
    """A piece of entry text; ``target`` makes it a link (a URL, or '#ref-KEY')."""

    text: str
    target: str = ""
    emph: bool = False  # italic in the data (<i>…</i> in CSL rich text: a species name, a ship)
    superscript: bool = False  # a numeric citation mark


Run = tuple[Seg, ...]


def plain(run: Run) -> str:
    """The text of a run (what every output prints)."""
    return "".join(seg.text for seg in run)


@dataclass(frozen=True)
class Style:
    """The options of book.yaml `bibliography:` that change entry text."""

    standard: str = "2025"  # 2025 | 2015
    author_date: bool = False  # style: author-date (著者-出版年制) instead of numeric (顺序编码制)
    fullwidth: bool = False  # punctuation: fullwidth → Chinese and Japanese entries use ，：．（）


@dataclass(frozen=True)
class Punct:
    period: str
    comma: str
    colon: str
    lparen: str
    rparen: str
    lbracket: str
    rbracket: str


HALF = Punct(". ", ", ", ": ", "(", ")", "[", "]")
FULL = Punct("．", "，", "：", "（", "）", "［", "］")

_ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
}
_SURNAMES = frozenset(
    {
        "wang",
        "li",
        "zhang",
        "liu",
        "chen",
        "yang",
        "huang",
        "zhao",
        "wu",
        "zhou",
        "xu",
        "sun",
        "ma",
        "zhu",
        "hu",
        "guo",
        "he",
        "gao",
        "lin",
        "luo",
        "zheng",
        "liang",
        "xie",
        "song",
        "tang",
        "han",
        "feng",
        "deng",
        "cao",
        "peng",
        "zeng",
        "xiao",
        "tian",
        "dong",
        "yuan",
        "pan",
        "cai",
        "jiang",
        "yu",
        "du",
        "ye",
        "cheng",
        "wei",
        "su",
        "lu",
        "ding",
        "ren",
        "shen",
        "yao",
        "jin",
        "fu",
        "zhong",
        "cui",
        "tan",
        "wan",
        "qin",
        "qiu",
        "xia",
        "gu",
        "kong",
        "mao",
        "hao",
        "bai",
        "shi",
        "kang",
        "niu",
        "yan",
        "meng",
        "long",
        "duan",
        "lei",
        "qian",
        "tao",
        "jia",
        "fan",
        "fang",
        "ou",
        "ouyang",
        "dai",
        "xiong",
        "hou",
        "shao",
        "yin",
        "chang",
        "wen",
        "mo",
        "qi",
        "ni",
        "zou",
        "lai",
        "bao",
        "yue",
        "geng",
        "zhai",
        "ji",
        "lv",
        "nie",
        "rao",
        "le",
        "mei",
        "sima",
        "zhuge",
        "xiang",
        "ning",
        "xi",
        "ge",
        "gong",
        "hong",
        "zuo",
        "bi",
        "an",
        "mu",
        "shu",
        "zhan",
        "chu",
        "lan",
        "pei",
        "miao",
        "ai",
    }
)  # common surnames in pinyin


def punct(entry: Entry, style: Style) -> Punct:
    return FULL if style.fullwidth and entry.is_cjk else HALF


# ---------------------------------------------------------------- names


def _initials(given: str) -> str:
    """'Peyton Z.' → 'P Z'; 'Jae-Ryong' → 'J-R' (§7.1.1: given names as initials without points)."""
    words = [w for w in re.split(r"[\s.]+", given) if w]
    return " ".join("-".join(part[0].upper() for part in word.split("-") if part) for word in words)


@functools.cache
def _syllables() -> frozenset[str]:
    """The syllables of Hanyu Pinyin (toneless, ü as v), from pypinyin's character readings; the
    interjection-only ones (m, ng, hm, yo, lo, ne…) and the bare vowels a, o never make up a given name."""
    found = set()
    from pypinyin.pinyin_dict import pinyin_dict  # here: imported only when a book cites

    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
            found.add("".join(c for c in decomposed if not unicodedata.combining(c)))
    return frozenset(found - {"m", "n", "ng", "hm", "hng", "yo", "lo", "o", "a", "ei", "ne", "me", "ê"})


def _pinyin_word(word: str) -> bool:
    """Whether ``word`` ('Shanshan', "Gui'e", 'Jiangning') is one to three pinyin syllables. Hanyu Pinyin
    marks with an apostrophe a syllable starting with a, o or e after another one (Xi'an, 拼音方案 隔音符号),
    so 'Lea', 'Dae' and 'Anne' are not pinyin; the apostrophe often dropped in 娥 names after i, u, v
    (Guie, Yue) is tolerated."""
    syllables = _syllables()

    def split(rest: str, previous: str, count: int) -> bool:
        if not rest:
            return True
        if count == 3:
            return False
        if previous and rest[0] == "'":
            rest = rest[1:]
        elif previous and rest[0] in "aoe" and not (rest[0] == "e" and previous[-1] in "iuv"):
            return False
        return any(rest[:n] in syllables and split(rest[n:], rest[:n], count + 1) for n in range(min(6, len(rest)), 0, -1))

    return word.isascii() and split(word.lower().replace("’", "'"), "", 0)


def _is_pinyin_name(name: Name) -> bool:
    """A Chinese name written in pinyin (Wang Shanshan): printed in full, not as initials (GB/T 7714—2025
    §7.1.1, the example Li Jiangning; names in pinyin per GB/T 28039). The family name must be a common
    Chinese surname and the given name one word of pinyin syllables: 'Han Solo', 'Lu Ann', 'Bai Lea',
    'Jin Ho' and hyphenated 'Jing-Ming' are initialled like any Western name."""
    return name.family.lower() in _SURNAMES and " " not in name.given and _pinyin_word(name.given)


def name_text(name: Name, upper: bool = False) -> str:
    """One name as the list prints it: 张伯伟, Boobier T, Peebles P Z Jr, Veen P H v d, Wang Shanshan.

    ``upper``: the family name of a name in Latin letters in capitals (BOOBIER T, LI Jiangning), as
    GB/T 7714—2015 §8.1.1 and its Appendix A print them; bodies and names in Chinese characters as written.
    """
    if name.literal:
        return name.literal
    if has_cjk(name.family + name.given):
        return name.family + name.given
    family = f"{name.prefix} {name.family.upper() if upper else name.family}".strip()
    if not name.given:
        return family
    if _is_pinyin_name(name):
        return f"{family} {name.given}"
    particle = " ".join(p[0] for p in name.particle.split())
    return " ".join(part for part in (family, _initials(name.given), particle, name.suffix.rstrip(".")) if part)


def cite_name(name: Name) -> str:
    """The name in an author-date citation: the family name (Caplan), or the whole Chinese name (张伯伟)."""
    if name.literal or has_cjk(name.family + name.given):
        return name.literal or name.family + name.given
    return f"{name.prefix} {name.family}".strip()


def truncated(names: tuple[Name, ...]) -> tuple[tuple[Name, ...], bool]:
    """The names given, and whether the list says more follow: BibTeX's and BibLaTeX's ``and others``
    (pandoc reads it as a last name ``others``) ends a list that the source cut short, so it prints as
    the standard's “等”/“et al.” (§7.1.2), never as a name."""
    if names and not names[-1].family and names[-1].literal.strip().lower() == "others":
        return names[:-1], True
    return names, False


def names_text(names: tuple[Name, ...], entry: Entry, p: Punct, style: Style, limit: int = 3) -> str:
    """Up to three names, then 等 (Chinese, Japanese) or et al. (others) (§7.1.2: more than three
    responsible persons of one kind print the first three and “，等” or its equivalent); a list that ends
    in ``and others`` has more names than it gives, so it gets 等/et al. too. Latin family names in
    capitals for the 2015 edition."""
    names, more = truncated(names)
    shown = [name_text(n, upper=style.standard == "2015") for n in names[:limit]]
    if len(names) > limit or (more and shown):
        shown.append("等" if entry.is_cjk else "et al.")
    return p.comma.join(shown)


def primary_names(entry: Entry) -> tuple[Name, ...]:
    """The main responsibility: patents' applicants (2025), else authors, else the editors of a whole work."""
    if entry.kind == Kind.PATENT and entry.holders:
        return entry.holders
    if entry.authors:
        return entry.authors
    if entry.kind not in (Kind.CHAPTER, Kind.PAPER):
        return entry.editors
    return ()


def short_author(entry: Entry) -> str:
    """Who a narrative or author-date citation names: 张伯伟, 张伯伟等, Caplan, Caplan et al.; the title if nobody."""
    names, more = truncated(primary_names(entry))
    if not names:
        return plain_title(entry.title)
    first = cite_name(names[0])
    if len(names) == 1 and not more:
        return first
    if len(names) == 2 and not more:
        second = cite_name(names[1])
        return f"{first}和{second}" if entry.is_cjk else f"{first} and {second}"
    return f"{first}等" if entry.is_cjk else f"{first} et al."


# ---------------------------------------------------------------- fields


def edition_text(edition: str, cjk: bool) -> str:
    """'2' or 'Second' → 2版 / 2nd ed; the first edition is not given; other text as written (刻本, Rev. ed.)."""
    text = edition.strip()
    match = re.fullmatch(r"(\d+)\s*(?:st|nd|rd|th)?\.?\s*(?:ed\.?|edition|版)?", text, re.IGNORECASE)
    number = int(match.group(1)) if match else _ORDINAL_WORDS.get(text.lower().removesuffix(" edition"))
    if number == 1:
        return ""
    if number:
        if cjk:
            return f"{number}版"
        suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
        return f"{number}{suffix} ed"
    return text


def volume_text(volume: str, cjk: bool) -> str:
    """A book's volume after its title (§7.2.3): 第1卷 / v.1; other text as written (第1册, 巳集上 水部)."""
    if re.fullmatch(r"\d+", volume):
        return f"第{volume}卷" if cjk else f"v.{volume}"
    return volume


def _scale(scale: str) -> str:
    """'1:25000' → '1∶25 000' (the ratio sign and digit groups the standard prints)."""
    match = re.fullmatch(r"\s*1\s*[:∶：]\s*([\d\s]+)", scale)
    if not match:
        return scale
    digits = re.sub(r"\s", "", match.group(1))
    groups: list[str] = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return "1∶" + " ".join(groups)


def _dash(text: str) -> str:
    """Open and closed runs of a periodical: '1984-' → '1984—', '1957(1)-1990(4)' or '1957/1990' → '…—…'."""
    return re.sub(r"(?<=[\d)）])\s*[-/—]\s*(?=\d|$)", "—", text.strip())


def _dimensions(text: str) -> str:
    """A map's size as 长×宽 with units on both: '97x67cm' → '97cm×67cm' (§8.13)."""
    match = re.fullmatch(r"\s*([\d.]+)\s*(cm|mm)?\s*[x×X*]\s*([\d.]+)\s*(cm|mm)\s*", text)
    if not match:
        return text
    unit = match.group(4)
    return f"{match.group(1)}{match.group(2) or unit}×{match.group(3)}{unit}"


def _standard_number(number: str) -> str:
    """The year after a standard's number follows an em dash: 'AIAA G-136-2022' → 'AIAA G-136—2022' (§8.9)."""
    return re.sub(r"(?<=\S)\s*[-–]\s*((?:19|20)\d\d)$", r"—\1", number.strip())


def _lower_subtitle(match: re.Match) -> str:
    before = match.string[: match.start()]
    if before.count("(") > before.count(")"):  # '(Coleoptera: Buprestidae)' is not a subtitle
        return match.group(0)
    return match.group(1) + match.group(2).lower()


_MARKUP = re.compile(r"(</?i>|<span class=\"nocase\">|</span>)")


def rich(text: str, cjk: bool) -> list[Seg]:
    """A title in CSL rich text: <i>…</i> becomes emphasis, en dashes the standard's 一字线 (—); in
    Western titles a subtitle starts in lower case (§7.2.3, Appendix B) unless its first word is kept
    as written (<span class="nocase">, BibTeX braces: '{Material} characteristics')."""
    text = text.replace("–", "—")
    segs: list[Seg] = []
    emph = nocase = False
    for part in _MARKUP.split(text):
        if part in ("<i>", "</i>"):
            emph = part == "<i>"
        elif part in ('<span class="nocase">', "</span>"):
            nocase = part != "</span>"
        elif part:
            if not (cjk or nocase):
                context = "".join(seg.text for seg in segs)
                lowered = re.sub(r"(:\s+)([A-Z])(?=[a-z]*\b)(?![A-Za-z]*[A-Z])", _lower_subtitle, context + part)
                part = lowered[len(context) :]
            if segs and segs[-1].emph == emph:
                segs[-1] = Seg(segs[-1].text + part, emph=emph)
            else:
                segs.append(Seg(part, emph=emph))
    return segs


def plain_title(text: str) -> str:
    """A rich-text title without its markup (for citations that print the title)."""
    return _MARKUP.sub("", text)


def _full_date(entry: Entry) -> bool:
    """Whether the date is printed in full (YYYY-MM-DD, §7.5.4.2) rather than as the year."""
    if entry.kind in (Kind.NEWSPAPER, Kind.REPORT, Kind.PATENT, Kind.ARCHIVE):
        return True
    return entry.kind == Kind.ARTICLE and not (entry.volume or entry.issue or entry.pages)


def date_text(entry: Entry, style: Style) -> str:
    if not entry.issued:
        return ""
    if style.author_date:
        return ""
    return entry.issued.iso() if _full_date(entry) else entry.issued.year


def type_code(entry: Entry, style: Style) -> str:
    """[M], [J/OL], [C]… (§7.3, table 1); /OL when the entry is online (a URL or DOI, or medium: online)."""
    code = entry.kind.value.rstrip("/*")
    if style.standard == "2015":
        code = {"PP": "Z", "DS": "DB"}.get(code, code)
    online = bool(entry.url or entry.doi or entry.online)
    return code + ("/OL" if online else "")


def _doi_url(doi: str) -> str:
    return "https://doi.org/" + re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", doi, flags=re.IGNORECASE)


# ---------------------------------------------------------------- assembly


class _Builder:
    """Blocks separated by the period of the entry's punctuation; a block is a list of segments."""

    def __init__(self, p: Punct):
        self.p = p
        self.blocks: list[list[Seg]] = []

    def add(self, *segs: Seg | str) -> None:
        block = [s if isinstance(s, Seg) else Seg(s) for s in segs if s]
        if block and any(s.text for s in block):
            self.blocks.append(block)

    def extend_last(self, *segs: Seg | str) -> None:
        if not self.blocks:
            self.add(*segs)
            return
        self.blocks[-1].extend(s if isinstance(s, Seg) else Seg(s) for s in segs if s)

    def run(self) -> Run:
        out: list[Seg] = []
        for index, block in enumerate(self.blocks):
            if index:
                previous = out[-1].text.rstrip()
                separator = self.p.period
                if previous.endswith((".", "．")) and not out[-1].target:
                    separator = separator.lstrip(".．") or ""
                out.append(Seg(separator))
            out.extend(block)
        last = out[-1].text if out else ""
        if out and (out[-1].target or not last.rstrip().endswith((".", "．"))):
            out.append(Seg(self.p.period.strip()))
        return tuple(seg for seg in out if seg.text)


def _pub(entry: Entry, style: Style, p: Punct, *, date: str | None = None, with_place: bool = True) -> str:
    """出版地:出版者,出版年:页码 (§7.5, §7.7); the place only beside a publisher."""
    publisher = entry.publisher
    if style.standard == "2015" and entry.kind in (
        Kind.BOOK,
        Kind.PROCEEDINGS,
        Kind.CHAPTER,
        Kind.PAPER,
        Kind.THESIS,
        Kind.COLLECTION,
        Kind.MAP,
    ):
        publisher = publisher or ("出版者不详" if entry.is_cjk else "s.n.")
    head = ""
    if publisher:
        place = entry.place if with_place else ""
        if with_place and not place and (style.standard == "2015" or entry.kind == Kind.BOOK):
            place = "[出版地不详]" if entry.is_cjk else "[S.l.]"
        head = f"{place}{p.colon}{publisher}" if place else publisher
    when = date_text(entry, style) if date is None else date
    text = head + (p.comma if head and when else "") + when
    if entry.pages:
        text += p.colon + entry.pages if text else entry.pages
    if style.standard == "2015" and entry.accessed and (entry.url or entry.doi) and text:
        text += f"{p.lbracket}{entry.accessed.iso()}{p.rbracket}"
    return text


def _links(b: _Builder, entry: Entry) -> None:
    """URL, then DOI and CSTR (§7.8, §7.9); an identifier the URL already carries is not repeated."""
    if entry.url:
        b.add(Seg(entry.url, entry.url))
    if entry.doi:
        doi_url = _doi_url(entry.doi)
        doi = doi_url.removeprefix("https://doi.org/")
        if doi.lower() not in entry.url.lower():
            b.add("DOI:", Seg(doi, doi_url))
    cstr = entry.cstr.removeprefix("CSTR:").strip()
    if cstr and cstr.lower() not in entry.url.lower():  # a URL carrying the CSTR is not followed by it (Appendix B.13 [3], [4])
        b.add("CSTR:" + cstr)


def _head(b: _Builder, entry: Entry, style: Style, p: Punct, year_suffix: str) -> None:
    names = names_text(primary_names(entry), entry, p, style)
    if style.author_date:
        names = names or ("佚名" if entry.is_cjk else "Anon")  # §7.1.3
        b.add(names + p.comma + year_label(entry, year_suffix))
    elif names:
        b.add(names)


def _translators(b: _Builder, entry: Entry, style: Style, p: Punct) -> None:
    if entry.translators:
        b.add(names_text(entry.translators, entry, p, style) + p.comma + ("译" if entry.is_cjk else "trans."))


def _title(entry: Entry, style: Style, p: Punct, *, volume: bool = False, number: bool = False) -> list[Seg]:
    segs = rich(entry.title, entry.is_cjk)
    title = ""
    if volume and entry.volume:
        title += p.colon.strip() + volume_text(entry.volume, entry.is_cjk)
    if number and entry.number:
        title += p.colon.strip() + entry.number
    if entry.kind == Kind.MAP and entry.scale:
        title += p.period.strip() + _scale(entry.scale)
    return [*segs, Seg(f"{title}{p.lbracket}{type_code(entry, style)}{p.rbracket}")]


def format_entry(entry: Entry, style: Style, year_suffix: str = "") -> Run:
    """The entry as GB/T 7714 prints it in the reference list (without the [n] label).

    Field order per type from §8 of the standard named by ``style.standard``; names and languages
    per §5 and §7.1. Returns text and link segments (URLs and DOIs are links).
    """
    p = punct(entry, style)
    b = _Builder(p)
    kind = entry.kind
    cjk = entry.is_cjk
    if kind == Kind.STANDARD and style.standard == "2025":
        b.add(_standard_number(entry.number) + " ", *_title(entry, style, p))
        _links(b, entry)
        return b.run()
    _head(b, entry, style, p, year_suffix)
    if kind in (Kind.CHAPTER, Kind.PAPER) or (kind == Kind.MAP and entry.container_title):
        b.add(*_title(entry, style, p))
        _translators(b, entry, style, p)
        inner = _Builder(p)
        inner.add(names_text(entry.container_authors or entry.editors, entry, p, style))
        container = rich(entry.container_title or entry.event, cjk)
        inner.add(*container, p.colon.strip() + volume_text(entry.volume, cjk) if entry.volume else "")
        inner.add(edition_text(entry.edition, cjk))
        pub = _pub(entry, style, p)
        if entry.publisher:
            inner.add(pub)
        elif pub:
            inner.extend_last(p.comma, pub)
        container_run = inner.run()[:-1] if inner.blocks else ()
        if b.blocks and container_run:
            b.extend_last("//", *container_run)
    elif kind in (Kind.ARTICLE, Kind.NEWSPAPER):
        b.add(*_title(entry, style, p))
        _translators(b, entry, style, p)
        b.add(_journal(entry, style, p))
    elif kind == Kind.PERIODICAL:
        b.add(*_title(entry, style, p))
        b.add(_dash(entry.volume))
        b.add(_pub(entry, style, p, date=_dash(entry.issued.iso()) if entry.issued and not style.author_date else ""))
    elif kind in (Kind.WEBPAGE, Kind.SOFTWARE, Kind.DATABASE, Kind.DATASET, Kind.PREPRINT):
        b.add(*_title(entry, style, p))
        if entry.version:
            b.add(entry.version if re.match(r"^[Vv]", entry.version) else "V" + entry.version)
        tail = entry.publisher if kind in (Kind.DATASET, Kind.PREPRINT) else ""
        if entry.issued and not style.author_date:
            tail += f"{p.lparen}{entry.issued.iso()}{p.rparen}"
        if entry.accessed:
            tail += f"{p.lbracket}{entry.accessed.iso()}{p.rbracket}"
        b.add(tail)
    elif kind == Kind.PATENT:
        number = entry.number
        if style.standard == "2015" and entry.place:
            number = entry.place + p.comma + number
        b.add(*rich(entry.title, cjk), f"{p.colon.strip()}{number}{p.lbracket}{type_code(entry, style)}{p.rbracket}")
        b.add(_pub(entry, style, p, with_place=False) if style.standard == "2025" else date_text(entry, style))
    elif kind == Kind.STANDARD or kind in (Kind.REPORT, Kind.ARCHIVE):  # 2015: 主要责任者.标准名称:标准号[S].出版地:出版者,出版年
        b.add(*_title(entry, style, p, number=True))
        b.add(_pub(entry, style, p))
    else:  # BOOK, PROCEEDINGS, COLLECTION, THESIS, MAP, OTHER
        b.add(*_title(entry, style, p, volume=kind not in (Kind.THESIS,)))
        _translators(b, entry, style, p)
        b.add(edition_text(entry.edition, cjk))
        b.add(_pub(entry, style, p))
        b.add(_dimensions(entry.dimensions))
    _links(b, entry)
    return b.run()


def _journal(entry: Entry, style: Style, p: Punct) -> str:
    """刊名,年,卷(期):页码 (§8.5); a newspaper's 报纸名,出版日期(版次); an online-first article's date."""
    text = entry.container_title
    if entry.kind == Kind.NEWSPAPER:
        date = "" if style.author_date else entry.issued.iso() if entry.issued else ""
        return text + (p.comma + date if date else "") + (f"{p.lparen}{entry.pages}{p.rparen}" if entry.pages else "")
    date = date_text(entry, style)
    if date:
        text += p.comma + date
    if entry.volume:
        text += p.comma + entry.volume
    if entry.issue:
        text += (p.comma if not (date or entry.volume) and style.author_date else "") + f"{p.lparen}{entry.issue}{p.rparen}"
    if entry.pages:
        text += p.colon + entry.pages
    return text


def year_label(entry: Entry, suffix: str = "") -> str:
    """The year an author-date citation or entry prints, with its a/b ``suffix`` (§9.3.1.3)."""
    year = entry.issued.year if entry.issued else ("出版年不详" if entry.is_cjk else "n.d.")
    return year + suffix


__all__ = ["Punct", "Run", "Seg", "Style", "format_entry", "name_text", "plain", "short_author", "year_label"]
