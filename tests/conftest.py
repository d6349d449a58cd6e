"""Shared fixtures. Integration builds run the real pandoc, XeLaTeX and EPUBCheck, once per session."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions
from bookgen.pipeline.results import BuildResult

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLER = FIXTURES / "sampler"
MANUSCRIPT = REPO / "manuscript"
USER_DRAFT = FIXTURES / "drafts" / "llm-founders.md"


def build_copy(source: Path, workspace: Path, **options) -> BuildResult:
    """Build a copy of a manuscript in ``workspace`` (the originals are never written to); on two cores
    (parallel typesetting) unless ``jobs`` says otherwise, whatever the machine has."""
    manuscript = workspace / source.name
    shutil.copytree(source, manuscript)
    return build(BuildOptions(manuscript=manuscript, output=workspace / "build", verify=False, **{"jobs": 2, **options}))


@pytest.fixture(scope="session")
def sampler_build(tmp_path_factory) -> BuildResult:
    return build_copy(SAMPLER, tmp_path_factory.mktemp("sampler"))


@pytest.fixture(scope="session")
def real_build(tmp_path_factory) -> BuildResult:
    return build_copy(MANUSCRIPT, tmp_path_factory.mktemp("real"))


def pdftotext(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    command = ["pdftotext", "-layout"]
    if first:
        command += ["-f", str(first)]
    if last:
        command += ["-l", str(last)]
    return subprocess.run(command + [str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def write_book(root: Path, yaml_text: str, files: dict[str, str] | None = None) -> Path:
    """A small manuscript for unit tests."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "book.yaml").write_text(yaml_text, encoding="utf-8")
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CHROMIUM = "/usr/bin/chromium"  # Debian's chromium (make deps installs it); Playwright never downloads a browser


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session, driven by Playwright's sync API (one sync_playwright
    per process: a second one inside the first's event loop fails)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make deps`")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()
