"""`make bench`: bookgen's build times against one-shot pandoc and the bare TeX pass, side by side.

Two books: the real manuscript and a generated large one (30 chapters × 8 sections × ~2,500 CJK
characters with lists, math, tables and code; deterministic, written under build/bench/, never
committed). For each: cold build, no-op rebuild, a one-section text edit and an edit that adds a
page, for the PDF and the EPUB; cold, no-op and edit for the web edition, and with `bookgen serve`
the time from saving a section to the open page (headless Chromium) showing it; the same content through plain pandoc (--pdf-engine=xelatex with
ctexbook) as the baseline; one xelatex pass over bookgen's own final .tex as the floor; the PDF on 2 cores
(parallel typesetting) and on 1 (sequential), and simulated on 4 and 8 from timed jobs; peak memory.
Prints a table with the ratios and writes build/bench/results.json. Medians of --runs runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "build" / "bench"
BOOKGEN = [sys.executable, "-m", "bookgen"]
WORDS = [
    "大模型",
    "创业者",
    "市场",
    "团队",
    "资金",
    "风险",
    "产品",
    "用户",
    "数据",
    "算法",
    "训练",
    "推理",
    "成本",
    "增长",
    "竞争",
    "策略",
    "品牌",
    "渠道",
    "融资",
    "估值",
    "技术",
    "工程",
    "质量",
    "迭代",
    "反馈",
    "需求",
    "场景",
    "价值",
    "壁垒",
    "生态",
    "合作",
    "监管",
    "安全",
    "隐私",
    "算力",
    "模型",
    "应用",
    "平台",
    "服务",
    "组织",
]


def sentence(rng: random.Random) -> str:
    return "".join(
        rng.choice(WORDS) + rng.choice(["的", "与", "在", "对", "和", "把", ""]) for _ in range(rng.randint(6, 12))
    ) + rng.choice("。。。；，")


def paragraph(rng: random.Random, chars: int) -> str:
    text = ""
    while len(text) < chars:
        text += sentence(rng)
    return text.rstrip("；，") + "。"


def section_text(rng: random.Random, index: int) -> str:
    parts = [paragraph(rng, 420) for _ in range(3)]
    parts.append("\n".join(f"{i}. **{rng.choice(WORDS)}**：{paragraph(rng, 60)}" for i in range(1, 4)))
    parts.append(paragraph(rng, 300))
    if index % 2 == 0:
        parts.append(f"$$ \\text{{损失}} = -\\sum_{{i=1}}^{{{index + 2}}} y_i \\log \\hat{{y}}_i + \\lambda \\lVert \\theta \\rVert^2 $$")
    if index % 3 == 0:
        rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {paragraph(rng, 20)} |" for _ in range(5))
        parts.append(f"| 项目 | 数值 | 说明 |\n|---|--:|---|\n{rows}\n\n: {rng.choice(WORDS)}一览")
    if index % 4 == 0:
        parts.append(f"```python\n# {paragraph(rng, 16)}\ndef step(x):\n    return x * {index}  # 中文注释\n```")
    parts += [paragraph(rng, 420) for _ in range(2)]
    return "\n\n".join(parts) + "\n"


def generate_large(root: Path) -> Path:
    """30 chapters × 8 sections, ~2,500 CJK characters each, in 3 parts; the same every time."""
    rng = random.Random(20261128)
    manuscript = root / "manuscript"
    shutil.rmtree(root, ignore_errors=True)
    parts = []
    for p in range(3):
        chapters = []
        for c in range(10):
            sections = []
            for s in range(8):
                file = f"chapters/c{p * 10 + c + 1:02d}/s{s + 1}.md"
                (manuscript / file).parent.mkdir(parents=True, exist_ok=True)
                (manuscript / file).write_text(section_text(rng, s), encoding="utf-8")
                sections.append({"title": f"{rng.choice(WORDS)}与{rng.choice(WORDS)}的第{s + 1}个问题", "file": file})
            chapters.append({"title": f"{rng.choice(WORDS)}{rng.choice(WORDS)}之道（{p * 10 + c + 1}）", "sections": sections})
        parts.append({"title": f"{rng.choice(WORDS)}篇{p + 1}", "chapters": chapters})
    book = {"title": "大书基准", "subtitle": "生成的测试内容", "date": "2026-01-01", "slug": "large", "parts": parts}
    (manuscript / "book.yaml").write_text(yaml.safe_dump(book, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return manuscript


# bookgen as users run it: with Python's bytecode cache (a shell that sets PYTHONDONTWRITEBYTECODE would
# make every run compile bookgen's modules again, ~0.1 s).
USER_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run(command: list[str], cwd: Path | None = None) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=USER_ENV)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command[:6])} … failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def bookgen(manuscript: Path, output: Path, fmt: str, jobs: int = 2, verify: bool = False) -> tuple[float, str]:
    """One build on ``jobs`` cores (2: this machine's, the parallel typesetting; 1: the sequential
    reference); without ``verify`` as --no-verify (no pdffonts, no EPUBCheck)."""
    return run(
        BOOKGEN
        + ["build", "--format", fmt, *([] if verify else ["--no-verify"]), "--quiet", "--timings", "--jobs", str(jobs)]
        + ["--manuscript", str(manuscript), "--output", str(output)]
    )


def _tex_rss(root: int) -> int:
    """KB of resident memory of the TeX processes (xelatex, xdvipdfmx) below process ``root`` now."""
    status = {}
    for path in Path("/proc").glob("[0-9]*/status"):
        try:
            status[int(path.parent.name)] = dict(line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
        except (OSError, ValueError):
            continue
    family = {root}
    for _ in range(6):  # bookgen → latexmk/xelatex → xdvipdfmx: a few generations down
        family |= {pid for pid, fields in status.items() if int(fields.get("PPid", "0").strip() or 0) in family}
    return sum(
        int(status[pid]["VmRSS"].split()[0])
        for pid in family
        if pid in status and status[pid].get("Name", "").strip() in ("xelatex", "xdvipdfmx", "xetex") and "VmRSS" in status[pid]
    )


def tex_memory(command: list[str]) -> tuple[float, str, int]:
    """Run ``command``, sampling every 50 ms the resident memory of all its TeX processes together:
    (seconds, output, peak MB of xelatex and xdvipdfmx summed over the processes running at once)."""
    started = time.monotonic()
    peak = 0
    with tempfile.TemporaryFile(mode="w+") as said:  # not a pipe: nobody reads it while the build runs
        proc = subprocess.Popen(command, stdout=said, stderr=subprocess.STDOUT, text=True, env=USER_ENV)
        while proc.poll() is None:
            peak = max(peak, _tex_rss(proc.pid))
            time.sleep(0.05)
        said.seek(0)
        output = said.read()
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command[:6])} … failed:\n{output[-2000:]}")
    return time.monotonic() - started, output, peak // 1024


def simulated_cold(manuscript: Path, output: Path, cores: int) -> float:
    """Typesetting time of a cold build on ``cores`` cores, from this machine: the book cut into the
    jobs of --jobs ``cores``, each job run alone (uncontended) and timed; a round lasts as long as its
    longest job. Returns the sum over the rounds (what the typeset stage would take with that many cores)."""
    shutil.rmtree(output, ignore_errors=True)
    env_command = ["env", "BOOKGEN_BENCH_WORKERS=1", *BOOKGEN]
    run(
        env_command
        + ["build", "--format", "pdf", "--no-verify", "--quiet", "--jobs", str(cores)]
        + ["--manuscript", str(manuscript), "--output", str(output)]
    )
    rounds = json.loads((output / ".work" / "latex" / "jobs.json").read_text(encoding="utf-8"))["rounds"]
    return round(sum(max(jobs) for jobs in rounds if jobs), 2)


def wait_for_background_check(output: Path, limit: float = 300) -> None:
    """Until the background EPUBCheck an edit build started is done (so it does not slow the next run)."""
    import fcntl

    lock = output / ".work" / "epub" / "epubcheck-queue" / "worker.lock"
    started = time.monotonic()
    while lock.exists() and time.monotonic() - started < limit:
        with open(lock, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                time.sleep(0.2)
                continue
            fcntl.flock(handle, fcntl.LOCK_UN)
        if not (lock.parent / "pending.epub").exists():
            return
        time.sleep(0.2)


def epubcheck_said(output: str) -> str:
    """What the summary's EPUB line says about EPUBCheck: run, kept, background, not verified."""
    line = next((line for line in output.splitlines() if line.startswith("EPUB ")), "")
    if "verdict kept" in line:
        return "kept"
    if "in the background" in line:
        return "background"
    if "EPUBCheck:" in line:
        return "ran"
    return "none"


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def edited_file(manuscript: Path) -> Path:
    """The section every edit changes: one in the middle of the book."""
    files = sorted(p for p in manuscript.rglob("*.md") if p.stat().st_size > 200)
    return files[len(files) // 2]


def edit(manuscript: Path, extra: str) -> None:
    """Append to one section in the middle of the book."""
    target = edited_file(manuscript)
    target.write_text(target.read_text(encoding="utf-8") + "\n" + extra + "\n", encoding="utf-8")


def pandoc_one_shot(manuscript: Path, work: Path) -> float:
    """The same content the way a user would do it with plain pandoc: one Markdown file, one command."""
    book = yaml.safe_load((manuscript / "book.yaml").read_text(encoding="utf-8"))
    chunks = []

    def add(entry, level):
        chunks.append("#" * level + " " + entry["title"])
        if entry.get("file") and (manuscript / entry["file"]).exists():
            chunks.append(
                re.sub(
                    r"^(#+)",
                    lambda m: "#" * (len(m.group(1)) + level),
                    (manuscript / entry["file"]).read_text(encoding="utf-8"),
                    flags=re.M,
                )
            )
        for child in entry.get("chapters", []) + entry.get("sections", []):
            add(child, level + 1)

    for entry in book.get("front", []):
        add(entry, 2)
    for part in book.get("parts", []):
        add(part, 1)
    for entry in book.get("appendices", []) + book.get("back", []):
        add(entry, 2)
    work.mkdir(parents=True, exist_ok=True)
    (work / "book.md").write_text("\n\n".join(chunks) + "\n", encoding="utf-8")
    import pypandoc

    elapsed, _ = run(
        [
            pypandoc.get_pandoc_path(),
            "book.md",
            "-o",
            "book.pdf",
            "--pdf-engine=xelatex",
            "--toc",
            "--top-level-division=part",
            "-V",
            "documentclass=ctexbook",
            "-V",
            "CJKmainfont=Noto Serif CJK SC",
        ],
        cwd=work,
    )
    return elapsed


def tex_floor(work_dir: Path, scratch: Path) -> float:
    """One xelatex pass over bookgen's final .tex (its aux files in place), run by hand."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(work_dir, scratch)
    elapsed, _ = run(["xelatex", "-interaction=nonstopmode", "-no-shell-escape", "book.tex"], cwd=scratch)
    return elapsed


def parse_timings(output: str) -> dict:
    stages = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s+(\w[\w-]*)\s+([\d.]+) s$", output, re.M)}
    memory = re.search(r"peak memory\s+bookgen (\d+) MB, largest tool process (\d+) MB", output)
    passes = re.search(r"(\d+) XeLaTeX pass", output)
    jobs = re.search(r"(\d+) XeLaTeX jobs? in (\d+) rounds?", output)
    pages = re.search(r"(\d+) pages", output)
    return {
        "stages": stages,
        "bookgen_mb": int(memory.group(1)) if memory else None,
        "tool_mb": int(memory.group(2)) if memory else None,
        "passes": int(passes.group(1)) if passes else None,
        "pages": int(pages.group(1)) if pages else None,
        "jobs": int(jobs.group(1)) if jobs else None,
        "rounds": int(jobs.group(2)) if jobs else None,
    }


def measure(name: str, manuscript: Path, runs: int) -> dict:
    root = OUT / name
    out = root / "build"
    result: dict = {"book": name}
    sequential = root / "sequential"
    cold_j1 = []
    for _ in range(runs):
        shutil.rmtree(sequential, ignore_errors=True)
        cold_j1.append(bookgen(manuscript, sequential, "pdf", jobs=1))
    result["pdf_cold_j1_s"] = median([c[0] for c in cold_j1])
    cold, overheads, details, tex_mb = [], [], None, []
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        elapsed, output, peak = tex_memory(
            BOOKGEN
            + ["build", "--format", "pdf", "--no-verify", "--quiet", "--timings", "--jobs", "2"]
            + ["--manuscript", str(manuscript), "--output", str(out)]
        )
        cold.append(elapsed)
        tex_mb.append(peak)
        details = parse_timings(output)
        overheads.append(max(0.0, elapsed - details["stages"].get("typeset", 0.0)))  # all but the TeX runs
    result["pdf_cold_s"] = median(cold)
    result["pdf_cold"] = details
    result["tex_mb_together"] = max(tex_mb)
    result["overhead_s"] = median(overheads)
    for cores in (2, 4, 8):
        result[f"sim_cold_{cores}_s"] = round(result["overhead_s"] + simulated_cold(manuscript, root / f"sim{cores}", cores), 2)
    result["noop_s"] = median([bookgen(manuscript, out, "pdf")[0] for _ in range(runs)])
    edits = []
    for i in range(runs):
        edit(manuscript, f"修改{i}：这是一处不改变页数的小修改。")
        edits.append(bookgen(manuscript, out, "pdf"))
    result["pdf_edit_s"] = median([e[0] for e in edits])
    result["pdf_edit"] = parse_timings(edits[-1][1])
    result["edits_one_job"] = f"{sum(parse_timings(e[1])['jobs'] == 1 for e in edits)}/{runs}"
    grow = []
    for i in range(runs):
        edit(manuscript, paragraph(random.Random(i), 1500))
        grow.append(bookgen(manuscript, out, "pdf"))
    result["pdf_edit_add_page_s"] = median([g[0] for g in grow])
    result["pdf_edit_add_page"] = parse_timings(grow[-1][1])
    result.update(measure_epub(manuscript, root, runs))
    result.update(measure_html(manuscript, root, runs))
    result["pandoc_one_shot_s"] = median([pandoc_one_shot(manuscript, root / "pandoc") for _ in range(runs)])
    result["tex_floor_s"] = median([tex_floor(sequential / ".work" / "latex", root / "floor") for _ in range(runs)])
    pages = result["pdf_cold"]["pages"] or 1
    result["cold_s_per_page"] = round(result["pdf_cold_s"] / pages, 4)
    result["ratio_cold_vs_pandoc"] = round(result["pdf_cold_s"] / result["pandoc_one_shot_s"], 2)
    result["ratio_cold_vs_tex_pass"] = round(result["pdf_cold_s"] / result["tex_floor_s"], 2)
    result["ratio_edit_vs_tex_pass"] = round(result["pdf_edit_s"] / result["tex_floor_s"], 2)
    result["ratio_add_page_vs_tex_pass"] = round(result["pdf_edit_add_page_s"] / result["tex_floor_s"], 2)
    result["ratio_cold_j1_vs_tex_pass"] = round(result["pdf_cold_j1_s"] / result["tex_floor_s"], 2)
    result["overhead_share"] = round(result["overhead_s"] / result["pdf_cold_s"], 3)
    return result


def measure_epub(manuscript: Path, root: Path, runs: int) -> dict:
    """The EPUB alone: cold, no-op and one-section edit without EPUBCheck, then as an author sees it."""
    result: dict = {}
    epub_out = root / "epub"
    epub_cold = []
    for _ in range(runs):
        shutil.rmtree(epub_out, ignore_errors=True)
        epub_cold.append(bookgen(manuscript, epub_out, "epub")[0])
    result["epub_cold_s"] = median(epub_cold)
    result["epub_noop_s"] = median([bookgen(manuscript, epub_out, "epub")[0] for _ in range(runs)])
    epub_edits = []
    for i in range(runs):
        edit(manuscript, f"电子书修改{i}。")
        epub_edits.append(bookgen(manuscript, epub_out, "epub")[0])
    result["epub_edit_s"] = median(epub_edits)
    result.update(measure_epub_verified(manuscript, root, runs))
    return result


def measure_epub_verified(manuscript: Path, root: Path, runs: int) -> dict:
    """The EPUB as an author sees it, EPUBCheck included (a default build): cold (EPUBCheck runs before
    the EPUB is put in place), and a one-section edit (the build returns when the EPUB is in place; its
    EPUBCheck runs in the background, awaited before the next run so that it slows none)."""
    out = root / "epub-verified"
    cold, said = [], []
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        elapsed, output = bookgen(manuscript, out, "epub", verify=True)
        cold.append(elapsed)
        said.append(epubcheck_said(output))
    edits, edit_said = [], []
    for i in range(runs):
        edit(manuscript, f"校验后的修改{i}。")
        elapsed, output = bookgen(manuscript, out, "epub", verify=True)
        edits.append(elapsed)
        edit_said.append(epubcheck_said(output))
        wait_for_background_check(out)
    return {
        "epub_cold_verified_s": median(cold),
        "epub_cold_epubcheck": "/".join(sorted(set(said))),
        "epub_edit_seen_s": median(edits),
        "epub_edit_epubcheck": "/".join(sorted(set(edit_said))),
    }


def html_stamps(site: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in site.glob("*.html")}


def measure_html(manuscript: Path, root: Path, runs: int) -> dict:
    """The web edition: cold, no-op, one-section edit (and how many pages it rewrote), and with
    `bookgen serve` the time from saving the file to the open tab showing the change."""
    out = root / "html-build"
    result: dict = {}
    cold = []
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        cold.append(bookgen(manuscript, out, "html")[0])
    result["html_cold_s"] = median(cold)
    result["html_pages"] = len(html_stamps(out / "html"))
    result["html_noop_s"] = median([bookgen(manuscript, out, "html")[0] for _ in range(runs)])
    edits, rewritten = [], []
    for i in range(runs):
        before = html_stamps(out / "html")
        edit(manuscript, f"网页修改{i}。")
        edits.append(bookgen(manuscript, out, "html")[0])
        rewritten.append(sum(before.get(name) != stamp for name, stamp in html_stamps(out / "html").items()))
    result["html_edit_s"] = median(edits)
    result["html_edit_pages"] = max(rewritten)
    result["serve_reload_s"] = serve_reload(manuscript, root / "serve-build", runs)
    return result


def serve_reload(manuscript: Path, out: Path, runs: int) -> float | str:
    """Median seconds from writing a section to the served page (open in Chromium) showing the new text."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "n/a"
    server = subprocess.Popen(
        BOOKGEN + ["serve", "--port", "0", "--manuscript", str(manuscript), "--output", str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        url = server.stdout.readline().split()[1]
        server.stdout.readline()  # the first build
        target = edited_file(manuscript)
        snippet = next(line for line in target.read_text(encoding="utf-8").splitlines() if len(line) > 20)[:12]
        page_name = next(p.name for p in (out / "html").glob("*.html") if snippet in p.read_text(encoding="utf-8"))
        times = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(url + page_name)
            for i in range(runs):
                marker = f"重载测量{i}号"
                page.wait_for_timeout(500)
                started = time.monotonic()
                target.write_text(target.read_text(encoding="utf-8") + f"\n{marker}\n", encoding="utf-8")
                page.wait_for_function(f"document.body.textContent.includes('{marker}')", timeout=30000)
                page.wait_for_load_state("load")
                times.append(time.monotonic() - started)
            browser.close()
        return median(times)
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["real", "large"])
    parser.add_argument("--epub-only", action="store_true", help="only the EPUB rows (no PDF, HTML, pandoc or TeX runs)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    books = {}
    if args.only in (None, "real"):
        real = OUT / "real" / "manuscript"
        shutil.rmtree(real, ignore_errors=True)
        shutil.copytree(REPO / "manuscript", real)
        books["real"] = real
    if args.only in (None, "large"):
        books["large"] = generate_large(OUT / "large-src")
    if args.epub_only:
        results = [{"book": name, **measure_epub(manuscript, OUT / name, args.runs)} for name, manuscript in books.items()]
    else:
        results = [measure(name, manuscript, args.runs) for name, manuscript in books.items()]
    rows = [("", *[r["book"] for r in results])]
    for key, label in [
        ("pdf_cold_s", "PDF cold build, --jobs 2 (s)"),
        ("pdf_cold_j1_s", "PDF cold build, --jobs 1 (s)"),
        ("sim_cold_2_s", "  simulated from timed jobs: 2 cores (s)"),
        ("sim_cold_4_s", "  simulated: 4 cores (s)"),
        ("sim_cold_8_s", "  simulated: 8 cores (s)"),
        ("overhead_s", "  bookgen's own share (s)"),
        ("noop_s", "PDF no-op rebuild (s)"),
        ("pdf_edit_s", "PDF one-section edit (s)"),
        ("edits_one_job", "  of them one XeLaTeX job"),
        ("pdf_edit_add_page_s", "PDF edit adding a page (s)"),
        ("epub_cold_s", "EPUB cold, no EPUBCheck (s)"),
        ("epub_noop_s", "EPUB no-op (s)"),
        ("epub_edit_s", "EPUB edit, no EPUBCheck (s)"),
        ("epub_cold_verified_s", "EPUB cold, EPUBCheck run (s)"),
        ("epub_edit_seen_s", "EPUB edit as seen, EPUBCheck (s)"),
        ("epub_edit_epubcheck", "  its EPUBCheck"),
        ("html_cold_s", "HTML cold build (s)"),
        ("html_noop_s", "HTML no-op (s)"),
        ("html_edit_s", "HTML one-section edit (s)"),
        ("html_edit_pages", "  pages it rewrote"),
        ("html_pages", "  pages in the site"),
        ("serve_reload_s", "serve: save → page reloaded (s)"),
        ("pandoc_one_shot_s", "pandoc one-shot PDF (s)"),
        ("tex_floor_s", "one xelatex pass (s)"),
        ("cold_s_per_page", "cold s/page"),
        ("ratio_cold_vs_pandoc", "cold / pandoc"),
        ("ratio_cold_vs_tex_pass", "cold / TeX pass"),
        ("ratio_cold_j1_vs_tex_pass", "cold --jobs 1 / TeX pass"),
        ("ratio_edit_vs_tex_pass", "edit / TeX pass"),
        ("ratio_add_page_vs_tex_pass", "edit adding a page / TeX pass"),
        ("overhead_share", "overhead share"),
    ]:
        if key in results[0]:
            rows.append((label, *[str(r[key]) for r in results]))
    if not args.epub_only:
        rows.append(("pages", *[str(r["pdf_cold"]["pages"]) for r in results]))
        rows.append(
            (
                "XeLaTeX jobs cold / edit / add page",
                *[f"{r['pdf_cold']['jobs']} / {r['pdf_edit']['jobs']} / {r['pdf_edit_add_page']['jobs']}" for r in results],
            )
        )
        rows.append(("rounds cold / add page", *[f"{r['pdf_cold']['rounds']} / {r['pdf_edit_add_page']['rounds']}" for r in results]))
        rows.append(("peak RSS bookgen / one TeX (MB)", *[f"{r['pdf_cold']['bookgen_mb']} / {r['pdf_cold']['tool_mb']}" for r in results]))
        rows.append(("peak RSS all TeX at once (MB)", *[str(r["tex_mb_together"]) for r in results]))
    width = max(len(row[0]) for row in rows)
    for row in rows:
        print(row[0].ljust(width), *[cell.rjust(10) for cell in row[1:]])
    (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
