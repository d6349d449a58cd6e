"""Conformance of bookgen's GB/T 7714—2025 numeric entries with the standard's own printed examples.

Usage: python bench/gbt7714_conformance.py DATA_DIR [--csl FILE] [--show-all]

DATA_DIR holds third-party test data that is never committed to this repository:
  original.toml   the standard's printed examples, as in typst-doc-cn/bib-csl-dev-data
                  (data/GB-T_7714—2025.original.toml): [[section]] tables with `id-prefix` and `examples`
  *.bib, *.json   the examples' data (keys like gbt7714.b.1:1), e.g. zepinglee/gbt7714-bibtex-style's
                  gbt7714-examples.bib and zotero-chinese/styles' lib/data/items/gbt7714-data.json
  *.csl           optional: the official china-national-standard-gb-t-7714-2025-numeric.csl; when given,
                  pandoc --citeproc with it is measured on the same examples as the baseline.
Each numbered example ([n] …) is rendered with bookgen's formatter and compared after normalising
spaces (removed, except one between two Latin letters or digits) and punctuation width (，：；（）．
→ ,:;().). Prints the share of exact matches per entry type, then each miss with the first difference.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bookgen.bibliography import reading
from bookgen.bibliography.gbt7714 import Style, format_entry, plain
from bookgen.tools import pandoc_env, pandoc_path, run_tool

_WIDTH = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "．": ".", "［": "[", "］": "]", "？": "?", "！": "!",
                        "\u3000": " ", "\u00a0": " ", "’": "'", "‘": "'"})
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


def first_difference(expected: str, got: str) -> str:
    index = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), min(len(expected), len(got)))
    return f"at {index}: expected …{expected[max(0, index - 15):index + 25]}… got …{got[max(0, index - 15):index + 25]}…"


def baseline(csl: Path, data_file: Path, keys: list[str]) -> dict[str, str]:
    """pandoc --citeproc with the CSL, one entry per key in the given order, as plain text."""
    markdown = "---\nnocite: |\n  " + ", ".join(f"@{k}" for k in keys) + "\n---\n"
    proc = run_tool([pandoc_path(), "--citeproc", "-f", "markdown", "-t", "plain", "--wrap=none",
                     f"--csl={csl}", f"--bibliography={data_file}"], data_file, input=markdown, env=pandoc_env())
    entries = [line for line in proc.stdout.split("\n") if line.strip()]
    out: dict[str, str] = {}
    for key, line in zip(keys, entries):
        out[key] = re.sub(r"^\[\d+\]\s*", "", line)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--csl", type=Path, help="the official CSL (default: the *.csl in DATA_DIR, if one)")
    parser.add_argument("--show-all", action="store_true", help="list every miss (default: the first 200)")
    args = parser.parse_args()
    printed = printed_examples(args.data / "original.toml")
    csl = args.csl or next(iter(sorted(args.data.glob("*.csl"))), None)
    style = Style(standard="2025")
    for data_file in sorted(args.data.glob("*.bib")) + sorted(args.data.glob("*.json")):
        reader = reading.read_bib if data_file.suffix == ".bib" else reading.read_csl_json
        contents = reader(data_file, data_file.name)
        entries = {e.key: e for e in contents.entries}
        keys = [k for k in printed if k in entries]
        ours = {k: plain(format_entry(entries[k], style)) for k in keys}
        theirs = baseline(csl, data_file, keys) if csl else {}
        per_type: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
        misses = []
        for key in keys:
            expected = normalise(printed[key])
            row = per_type[kind_of(printed[key])]
            row[0] += 1
            ok = normalise(ours[key]) == expected
            row[1] += ok
            row[2] += bool(theirs) and normalise(theirs.get(key, "")) == expected
            if not ok:
                misses.append((key, expected, normalise(ours[key])))
        total = len(keys)
        matched = sum(r[1] for r in per_type.values())
        base = sum(r[2] for r in per_type.values())
        print(f"\n== {data_file.name}: {total} of {len(printed)} numbered examples have data")
        print(f"{'type':6} {'n':>4} {'bookgen':>12} {'pandoc+CSL':>12}")
        for kind in sorted(per_type):
            n, ok, b = per_type[kind]
            print(f"{kind:6} {n:4} {ok:5} {ok / n:5.0%} {b:5} {b / n:5.0%}" if theirs else f"{kind:6} {n:4} {ok:5} {ok / n:5.0%}")
        print(f"{'all':6} {total:4} {matched:5} {matched / max(total, 1):5.0%}" + (f" {base:5} {base / max(total, 1):5.0%}" if theirs else ""))
        for key, expected, got in misses[: None if args.show_all else 200]:
            print(f"MISS {key}: {first_difference(expected, got)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
