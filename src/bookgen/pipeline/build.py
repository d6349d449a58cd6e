"""The build: load the outline → read sections → (no-op?) → convert → check → the format builders → merge.

Profiles: "screen" (the default: a PDF to read) and "print" (trim centred on a sheet with crop marks,
TrimBox/BleedBox, PDF/X-4 keys, pages padded to whole sheets, preflight). The cover is built from
the print interior's page count. No output is replaced unless its new version passed its checks.
Builders of different formats run in parallel threads, each with its own StageResult; this module
merges them.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bookgen.errors import CheckFailedError, Location, ManuscriptError, display_path
from bookgen.fsutil import build_lock
from bookgen.model.book import BOOK_FILE, Book, load_book
from bookgen.pipeline.options import BuildOptions, Format, Profile, Progress
from bookgen.pipeline.results import BuildResult, OutputReport, StageResult
from bookgen.pipeline.state import STATE_FILE, inputs_digest, record, up_to_date
from bookgen.sources.reading import Source, read_sources

if TYPE_CHECKING:
    from bookgen.pipeline.builder import BuildContext

OUTPUT_ORDER = ("pdf", "cover", "epub", "html")


def incomplete_sections(book: Book, sources: dict[str, Source]) -> tuple[list[str], list[str]]:
    """Headings of unwritten and of truncated entries, in reading order."""
    unwritten, truncated = [], []
    for node in book.nodes():
        source = sources.get(node.id)
        if node.has_own_text and not (source and source.written):
            unwritten.append(node.heading)
        if source and source.truncated:
            truncated.append(node.heading)
    return unwritten, truncated


def build(options: BuildOptions, progress: Progress = lambda message: None) -> BuildResult:
    """Make the outputs ``options`` asks for, or nothing when nothing changed since the last build.

    Raises ManuscriptError (the author's input), CheckFailedError, TypesetError, PreflightError,
    ToolError; the previous outputs are then left as they were.
    """
    started = time.monotonic()
    book = load_book(options.manuscript)
    sources = read_sources(book)
    result = BuildResult(book)
    result.timings["load"] = time.monotonic() - started
    result.unwritten, result.truncated = incomplete_sections(book, sources)
    if options.strict_effective and (result.unwritten or result.truncated):
        listing = "".join([f"\n  unwritten: {h}" for h in result.unwritten] + [f"\n  truncated: {h}" for h in result.truncated])
        reason = "a print build is strict (--allow-incomplete overrides)" if options.for_print and not options.strict else "--strict"
        raise ManuscriptError(
            f"{reason}: {len(result.unwritten)} unwritten and {len(result.truncated)} truncated sections:{listing}",
            Location(display_path(options.manuscript / BOOK_FILE)),
        )

    if Format.COVER in options.formats and not book.metadata.isbn:  # before anything is typeset
        raise ManuscriptError(
            "a cover needs the book's ISBN for its EAN-13 barcode: give 'isbn' in book.yaml",
            Location(display_path(options.manuscript / BOOK_FILE)),
        )

    output_dir = options.output
    with build_lock(output_dir):
        state_path = output_dir / ".work" / STATE_FILE
        digest = inputs_digest(
            options.manuscript,
            {
                "formats": sorted(options.formats),
                "profile": options.profile.value,
                "strict": options.strict_effective,
                "check": options.check,
                "verify": options.verify,
            },
        )
        recorded = up_to_date(state_path, digest)
        if recorded is not None:
            result.up_to_date = True
            result.outputs = {
                name: OutputReport(path=Path(entry["path"]), size=entry["stamp"][0], pages=entry.get("pages"), detail="up to date")
                for name, entry in recorded["outputs"].items()
            }
            result.warnings = recorded.get("warnings", [])
            result.timings["total"] = time.monotonic() - started
            return result
        context = _prepare(options, book, sources, result, progress)  # pandoc, the check: only when there is work
        for stage in _run_builders(context):
            result.merge(stage)
        if Format.HTML in options.formats:
            from bookgen.html.builder import publish_downloads

            publish_downloads(context)  # the PDF and EPUB built beside the site, now that they are done
        result.outputs = {key: result.outputs[key] for key in OUTPUT_ORDER if key in result.outputs}
        record(
            state_path,
            digest,
            {name: {"path": str(report.path), "pages": report.pages} for name, report in result.outputs.items()},
            result.warnings,
        )
    return result


def _prepare(options: BuildOptions, book: Book, sources: dict[str, Source], result: BuildResult, progress: Progress) -> BuildContext:
    """Convert the sections (cached), run the check's error rules: what every builder reads."""
    from bookgen.checks import (
        check_book,  # imported only when there is work: a no-op build stays fast
    )
    from bookgen.pipeline.builder import BuildContext
    from bookgen.pipeline.reproducible import source_date_epoch
    from bookgen.sources.convert import convert_sources, image_problems

    progress(f"converting {sum(s.written for s in sources.values())} sections with pandoc")
    started = time.monotonic()
    converted, stats = convert_sources(book, sources, options.output / ".cache", options.jobs)
    result.timings["convert"] = time.monotonic() - started
    progress(f"converted {stats.converted}, reused {stats.cached} from the cache")
    result.converted, result.reused = stats.converted, stats.cached
    if options.check:  # every error at once (missing images are M003), before any TeX runs
        started = time.monotonic()
        errors = check_book(book, sources, converted, fast=True, errors_only=True, cache_dir=options.output / ".cache").errors
        result.timings["check"] = time.monotonic() - started
        if errors:
            count = f"{len(errors)} check error{'s' if len(errors) > 1 else ''}"
            raise CheckFailedError(
                f"{count}; fix them (bookgen check --fix fixes some) or build with --no-check",
                detail="\n".join(str(finding) for finding in errors),
            )
    for node_id, section in converted.items():  # with --no-check too: an image that is not there cannot print
        for message, where in image_problems(book, sources[node_id], section):
            raise ManuscriptError(message, where)
    if options.strict:  # an EPUB's image without alt text: a warning of `check`, an error of --strict
        from bookgen.checks.markup import images_without_alt
        from bookgen.sources.ast import walk_blocks

        for node_id, section in converted.items():
            for message, where in images_without_alt(book, sources[node_id], list(walk_blocks(section.ast["blocks"]))):
                raise ManuscriptError(f"{message} (--strict)", where)
    return BuildContext(options, book, sources, converted, progress, threading.Event(), source_date_epoch(book))


def _jobs(context: BuildContext) -> list[Callable[[], list[StageResult]]]:
    """One job per independent output: the interior (with the cover after it, which needs its pages), the EPUB,
    the web edition. With a PDF, the EPUB runs after it in the same job: its page list maps the pages that PDF printed."""
    options = context.options
    jobs: list[Callable[[], list[StageResult]]] = []
    if Format.PDF in options.formats or Format.COVER in options.formats:
        from bookgen.latex.builder import CoverBuilder, InteriorBuilder  # not for an EPUB alone: it brings Jinja and pylatex
    if options.for_print and (Format.PDF in options.formats or Format.COVER in options.formats):

        def print_pair() -> list[StageResult]:
            interior = InteriorBuilder(context, Profile.PRINT).run()
            if Format.COVER not in options.formats:
                return [interior]
            return [interior, CoverBuilder(context, interior.outputs["pdf"].pages or 0).run()]

        jobs.append(print_pair)
    elif Format.PDF in options.formats:
        jobs.append(lambda: [InteriorBuilder(context, Profile.SCREEN).run()])
    if Format.EPUB in options.formats:
        from bookgen.epub.builder import EpubBuilder

        if jobs:
            pdf_job = jobs.pop()
            jobs.append(lambda: pdf_job() + [EpubBuilder(context).run()])
        else:
            jobs.append(lambda: [EpubBuilder(context).run()])
    if Format.HTML in options.formats:
        from bookgen.html.builder import HtmlBuilder

        jobs.append(lambda: [HtmlBuilder(context).run()])
    return jobs


def _run_builders(context: BuildContext) -> list[StageResult]:
    """The jobs in parallel threads; a failure (or Ctrl-C) in one stops the others' tools."""
    jobs = _jobs(context)
    stages: list[StageResult] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        futures = [pool.submit(job) for job in jobs]
        try:
            for future in futures:
                stages.extend(future.result())
        except BaseException:
            context.cancel.set()  # Ctrl-C, SIGTERM or a failure: the other worker stops its tools and unwinds
            raise
    return stages
