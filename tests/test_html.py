"""The web edition: pages, incremental rewrites, the crawl, and the site in a real browser (Debian's
chromium through Playwright; axe-core from .tools/, installed by `make deps`), and `bookgen serve`."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from bookgen.errors import BookgenError, ManuscriptError
from bookgen.model.book import load_book
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions, Format
from conftest import REPO, SAMPLER, write_book
from outputs import epub_nav, pdf_bookmarks

pytestmark = pytest.mark.integration
AXE = REPO / ".tools" / "node_modules" / "axe-core" / "axe.min.js"


def build_html(manuscript: Path, output: Path, **options) -> Path:
    build(BuildOptions(manuscript=manuscript, output=output, formats=(Format.HTML,), **options))
    return output / "html"


def stamps(site: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in site.glob("*.html")}


# ---------------------------------------------------------------- without a browser


@pytest.fixture()
def small_book(tmp_path) -> Path:
    shutil.copytree(SAMPLER, tmp_path / "sampler")
    return tmp_path / "sampler"


def test_pages_follow_the_outline(small_book, tmp_path):
    site = build_html(small_book, tmp_path / "build", verify=False)
    names = sorted(path.name for path in site.glob("*.html"))
    assert names == sorted(
        [
            "index.html",
            "copyright.html",
            "contents.html",
            "search.html",
            "front-1.html",
            "front-2.html",
            "part-1.html",
            "ch-1.html",
            "part-2.html",
            "ch-2.html",
            "appendices.html",
            "app-a.html",
            "back-1.html",
        ]
    )
    chapter = (site / "ch-1.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in chapter and "<title>第1章 段落与强调 · 排版样书</title>" in chapter
    assert re.search(r'<h1 class="chapter" id="ch-1"><span class="number">第1章</span> 段落与强调', chapter)
    assert 'href="ch-1.html#sec-1-2"' in chapter and "「本节待撰写」" in chapter  # sections stay on their chapter's page
    assert "<math" in chapter
    assert 'rel="prev" href="part-1.html"' in chapter and 'rel="next" href="part-2.html"' in chapter
    assert (site / "media" / "images" / "pipeline.png").is_file() and (site / "search.json").is_file()
    figures = (site / "ch-2.html").read_text(encoding="utf-8")
    assert "图2.1" in figures and "表2.1" in figures and 'src="media/images/pipeline.png"' in figures
    assert "〔本节未完〕" in figures
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "每一种 Markdown 写法" in home and "张三" in home and "开始阅读" in home
    pages = "".join(p.read_text(encoding="utf-8") for p in site.glob("*.html"))
    assert not re.search(r'(href|src)="/|src="https?:|<link [^>]*href="https?:', pages)  # relative; nothing from the internet


def test_split_by_section(small_book, tmp_path):
    text = (small_book / "book.yaml").read_text(encoding="utf-8")
    (small_book / "book.yaml").write_text(text + "html:\n  split: section\n", encoding="utf-8")
    site = build_html(small_book, tmp_path / "build", verify=True)
    assert {"sec-1-1.html", "sec-1-2.html", "sec-2-3.html", "sec-a-1.html"} <= set(stamps(site))
    section = (site / "sec-1-2.html").read_text(encoding="utf-8")
    assert re.search(r'<h1 class="section" id="sec-1-2"><span class="number">1.2</span> 列表与公式', section)
    chapter = (site / "ch-1.html").read_text(encoding="utf-8")
    assert 'class="children"' in chapter and 'href="sec-1-1.html"' in chapter  # the chapter page lists its section pages


def test_split_setting_is_checked(tmp_path):
    write_book(tmp_path / "m", "title: 书\nhtml:\n  split: page\n")
    with pytest.raises(ManuscriptError, match="'split' must be one of chapter, section"):
        load_book(tmp_path / "m")


def test_an_edit_rewrites_only_its_page(small_book, tmp_path):
    site = build_html(small_book, tmp_path / "build")
    before = stamps(site)
    time.sleep(0.01)
    with open(small_book / "chapters" / "blocks" / "tables.md", "a", encoding="utf-8") as handle:
        handle.write("\n新加的一段。\n")
    build_html(small_book, tmp_path / "build")
    assert [name for name, stamp in stamps(site).items() if before[name] != stamp] == ["ch-2.html"]
    assert "新加的一段。" in (site / "ch-2.html").read_text(encoding="utf-8")
    # a new title changes the sidebar of every page
    before = stamps(site)
    yaml = (small_book / "book.yaml").read_text(encoding="utf-8")
    (small_book / "book.yaml").write_text(yaml.replace("title: 表格", "title: 表格与数据"), encoding="utf-8")
    build_html(small_book, tmp_path / "build")
    assert all(before[name] != stamp for name, stamp in stamps(site).items())
    assert "2.1 表格与数据" in (site / "front-1.html").read_text(encoding="utf-8")


def test_a_broken_link_keeps_the_previous_site(small_book, tmp_path):
    site = build_html(small_book, tmp_path / "build")
    before = {name: (site / name).read_bytes() for name in stamps(site)}
    with open(small_book / "chapters" / "basics" / "paragraphs.md", "a", encoding="utf-8") as handle:
        handle.write("\n见[不存在的地方](#nowhere)。\n")
    with pytest.raises(BookgenError, match="broken links") as caught:
        build_html(small_book, tmp_path / "build")
    assert "ch-1.html: link #sec-1-1-nowhere → no id 'sec-1-1-nowhere' on ch-1.html" in caught.value.detail
    assert {name: (site / name).read_bytes() for name in stamps(site)} == before


# ---------------------------------------------------------------- in the browser


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def serve_dir():
    """Serve directories over http on 127.0.0.1 (the search page fetches search.json, which file:// forbids)."""
    servers = []

    def start(directory: Path) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()


def _site(build_result, serve_dir) -> tuple[Path, str]:
    """The web edition of a session build's manuscript, built once beside its PDF and EPUB."""
    output = build_result.outputs["epub"].path.parent
    site = build_html(build_result.book.root, output)
    return site, serve_dir(site)


@pytest.fixture(scope="session")
def sampler_site(sampler_build, serve_dir):
    return _site(sampler_build, serve_dir)


@pytest.fixture(scope="session")
def real_site(real_build, serve_dir):
    return _site(real_build, serve_dir)


@pytest.fixture(params=["sampler", "real"])
def site(request):
    build_result = request.getfixturevalue(f"{request.param}_build")
    return (build_result, *request.getfixturevalue(f"{request.param}_site"))


def open_page(browser, url: str, width: int = 1280):
    """A new page at ``url``; returns (page, problems): console errors and failed requests."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.on("response", lambda response: problems.append(f"HTTP {response.status}: {response.url}") if response.status >= 400 else None)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page, problems


def test_every_page_loads_and_every_link_resolves(site, browser):
    _, directory, base = site
    anchors: dict[str, set[str]] = {}
    links: list[tuple[str, str]] = []
    for path in sorted(directory.glob("*.html")):
        page, problems = open_page(browser, base + path.name)
        assert problems == [], path.name
        anchors[path.name] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        links += [(path.name, href) for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")]
        page.close()
    assert len(anchors) >= 10
    for source, href in links:
        if href.startswith(("http:", "https:", "mailto:")):
            continue
        target, _, fragment = href.partition("#")
        target = unquote(target) or source
        assert not target.startswith("/"), f"{source}: absolute link {href}"
        assert (directory / target).is_file(), f"{source}: {href}"
        if fragment and target.endswith(".html"):
            assert unquote(fragment) in anchors[target], f"{source}: {href}"


def test_sidebar_and_contents_list_the_epub_nav(site, browser):
    build_result, _, base = site
    nav = epub_nav(build_result.outputs["epub"].path)
    assert nav == [b for b in pdf_bookmarks(build_result.outputs["pdf"].path) if b != "目录"]
    for file, selector in (("ch-1.html", ".sidebar .outline a"), ("contents.html", "nav.contents a")):
        page, _ = open_page(browser, base + file)
        titles = [" ".join(text.split()) for text in page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")]
        assert titles == nav, file
        page.close()
    page, _ = open_page(browser, base + "ch-2.html")
    current = page.locator('.sidebar [aria-current="page"]')
    assert current.text_content().startswith("第2章") and current.is_visible()
    assert page.locator('.sidebar a[href="ch-2.html#sec-2-1"]').is_visible()  # the current chapter is open …
    assert not page.locator('.sidebar a[href="ch-1.html#sec-1-1"]').is_visible()  # … the others are folded
    page.close()


def search(browser, base: str, query: str) -> list[tuple[str, str]]:
    """(href, excerpt HTML) of search.html?q=query's results, in order."""
    page, problems = open_page(browser, f"{base}search.html?q={query}")
    page.wait_for_function("document.getElementById('search-status').textContent.match(/处|没有找到/)")
    assert problems == []
    results = page.eval_on_selector_all(
        "#search-results li", "els => els.map(e => [e.querySelector('a').getAttribute('href'), e.querySelector('.excerpt').innerHTML])"
    )
    assert page.input_value(".topbar input[name=q]") == unquote(query)  # the search box on every page shows it too
    assert page.input_value("#search-query") == unquote(query)
    page.close()
    return results


def test_search_finds_chinese_words_and_sections(real_site, real_build, browser):
    _, base = real_site
    results = search(browser, base, "市场调研")
    book = real_build.book
    expected = next(node for node in book.nodes() if node.file and node.file.endswith("创业项目的选择.md"))
    chapter = next(node for node in book.nodes() if expected in node.children)
    assert unquote(results[0][0]) == f"{chapter.id}.html#{expected.id}"
    assert results[0][1].count("<mark>市场调研</mark>") >= 2


def test_search_terms(tmp_path, serve_dir, browser):
    book = write_book(
        tmp_path / "m",
        "title: 检索\nchapters:\n  - title: 数据库\n    sections:\n"
        "      - {title: 事务, file: tx.md}\n      - {title: 索引, file: ix.md}\n      - {title: 模型, file: lm.md}\n"
        "      - {title: 调查, file: q.md}\n      - {title: 网络, file: cnn.md}\n",
        {
            "tx.md": "数据库用隔离级别控制并发。分布式系统中的两阶段提交保证原子性。\n\n# 锁\n\n锁是朴素的并发控制。\n",
            "ix.md": "关系数据库的索引大多是B+树。\n",
            "lm.md": "GPT-3 是一个语言模型。\n",
            "q.md": "可以通过问卷调查了解用户。\n",  # Pagefind 1.5.2 finds no 问卷 beside …
            "cnn.md": "卷积神经网络。\n",
        },
    )  # … 卷积 on another page
    base = serve_dir(build_html(book, tmp_path / "build"))
    for query, href in (
        ("隔离级别", "ch-1.html#sec-1-1"),
        ("两阶段", "ch-1.html#sec-1-1"),
        ("并发", "ch-1.html#sec-1-1"),
        ("锁", "ch-1.html#sec-1-1-锁"),
        ("B%2B树", "ch-1.html#sec-1-2"),
        ("GPT-3", "ch-1.html#sec-1-3"),
        ("gpt-3", "ch-1.html#sec-1-3"),
        ("模型", "ch-1.html#sec-1-3"),
        ("问卷", "ch-1.html#sec-1-4"),
        ("数据库 索引", "ch-1.html#sec-1-2"),
    ):
        results = search(browser, base, query)
        assert results and unquote(results[0][0]) == href, query
        assert "<mark>" in results[0][1], query
    assert search(browser, base, "区块链") == []


def test_math_is_mathml(sampler_site, browser):
    _, base = sampler_site
    page, _ = open_page(browser, base + "ch-1.html")
    math = page.eval_on_selector_all(
        "math", "els => els.map(e => [e.namespaceURI, e.getAttribute('display'), e.getBoundingClientRect().height])"
    )
    assert math and all(ns == "http://www.w3.org/1998/Math/MathML" and height > 5 for ns, _, height in math)
    assert any(display == "block" for _, display, _ in math)
    page.close()


def test_phone_width(site, browser):
    _, directory, base = site
    for path in sorted(directory.glob("*.html")):
        page, _ = open_page(browser, base + path.name, width=375)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path.name} scrolls sideways by {overflow}px at 375 px"
        if path.name == "ch-1.html":
            assert not page.locator("#sidebar").is_visible()
            page.click(".topbar .menu")
            page.wait_for_timeout(300)
            assert page.locator("#sidebar").is_visible()
            assert page.get_attribute(".topbar .menu", "aria-expanded") == "true"
        page.close()


def test_accessibility_scan(site, browser):
    _, _, base = site
    if not AXE.is_file():
        pytest.fail("axe-core is missing: run `make deps` (npm install into .tools/)")
    for name in ("index.html", "contents.html", "copyright.html", "ch-1.html", "ch-2.html", "search.html?q=模型"):
        for scheme in ("light", "dark"):
            page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
            page.goto(base + name)
            page.wait_for_load_state("networkidle")
            page.add_script_tag(path=str(AXE))
            violations = page.evaluate(
                "async () => (await axe.run(document)).violations"
                ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.html)}))"
            )
            assert [v for v in violations if v["impact"] in ("serious", "critical")] == [], (name, scheme)
            page.close()


# ---------------------------------------------------------------- bookgen serve


def test_serve_reloads_and_shows_problems(small_book, tmp_path, browser):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    command = [
        sys.executable,
        "-m",
        "bookgen",
        "serve",
        "--manuscript",
        str(small_book),
        "--output",
        str(tmp_path / "build"),
        "--port",
        "0",
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        url = re.search(r"serving (http://\S+)", server.stdout.readline()).group(1)
        assert "built in" in server.stdout.readline()
        page, problems = open_page(browser, url + "ch-2.html")
        page.evaluate("window.scrollTo(0, 400)")
        page.evaluate("window.bookgenMarker = 1")
        tables = small_book / "chapters" / "blocks" / "tables.md"
        with open(tables, "a", encoding="utf-8") as handle:
            handle.write("\n保存后出现的一句。\n")
        page.wait_for_function("!window.bookgenMarker && document.body.textContent.includes('保存后出现的一句')", timeout=10000)
        assert page.evaluate("window.scrollY") == 400  # the reload kept the scroll position
        yaml = small_book / "book.yaml"
        good = yaml.read_text(encoding="utf-8")
        yaml.write_text(good + "layuot: {}\n", encoding="utf-8")
        overlay = page.locator("#bookgen-problem")
        overlay.wait_for(timeout=10000)
        assert re.search(r"book\.yaml:\d+:1: unknown key 'layuot'", overlay.text_content())
        assert "保存后出现的一句" in page.text_content("main")  # the last good page stays
        yaml.write_text(good, encoding="utf-8")
        overlay.wait_for(state="detached", timeout=10000)
        assert [p for p in problems if "/__bookgen/events" not in p] == []  # a reload ends the old page's event stream
        page.close()
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0 and "stopped" in output and "Traceback" not in output


def test_serve_prints_the_check_errors_and_ignores_editor_files(tmp_path):
    """The terminal shows the located check errors the overlay shows, suggests no --no-check (serve has
    none), and a save's scratch files (sed -i's sed0eqypE, x.md~, .x.md.swp, .git/…) start no build."""
    from bookgen.html.serve import Hub, Rebuilder, watched

    root = write_book(tmp_path / "m", "title: 书\nchapters:\n  - title: 一\n    file: a.md\n", {"a.md": "正文。\n\n<|im_end|>\n"})
    lines: list[str] = []
    hub = Hub()
    Rebuilder(BuildOptions(manuscript=root, output=tmp_path / "b", formats=(Format.HTML,)), hub, lines.append, pdf=False)()
    assert lines[0].startswith("error: the check found errors") and "--no-check" not in "\n".join(lines)
    assert re.fullmatch(r"  \S*m/a\.md:3:1: R001 .*", lines[1]) and len(lines) == 2
    assert hub.problem == {"message": lines[0].removeprefix("error: "), "detail": lines[1].strip()}
    assert [
        name
        for name in (
            "a.md",
            "book.yaml",
            "images/x.png",
            "sed0eqypE",
            "a.md~",
            ".a.md.swp",
            "#a.md#",
            "4913",
            "a.md.bak",
            ".git/index",
            "sedimentary.md",
        )
        if watched(root, root / name)
    ] == ["a.md", "book.yaml", "images/x.png", "sedimentary.md"]
