"""The ``bookgen`` command. Errors become one line on stderr and an exit code; --debug shows tracebacks."""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bookgen import __version__
from bookgen.errors import BookgenError

if TYPE_CHECKING:
    from bookgen.checks import CheckReport
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions, Format, Profile, default_jobs
from bookgen.wording import counted


class BookgenGroup(click.Group):
    """Runs commands so that a BookgenError prints one clear line, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BookgenError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"bookgen: error: {error}", err=True)
            if error.detail:
                click.echo(error.detail, err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("bookgen: interrupted; the previous outputs are untouched", err=True)
            ctx.exit(130)


def _terminate(signum, frame):
    """SIGTERM unwinds like Ctrl-C: temporary files are removed, TeX is stopped, outputs stay as they were."""
    raise KeyboardInterrupt


@click.group(cls=BookgenGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120})
@click.version_option(__version__, prog_name="bookgen")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """bookgen: a Chinese book from a YAML outline and Markdown sections, as a typeset PDF and an EPUB 3."""
    ctx.obj = {"debug": debug}
    signal.signal(signal.SIGTERM, _terminate)
    # Started with SIGINT ignored (a background job of a script), bookgen would pass that on to
    # XeLaTeX, which the time limit stops with SIGINT so that its log names the line: handle it.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _progress(quiet: bool):
    """Progress on an interactive terminal (rich): a line per stage and per XeLaTeX pass, with the time
    since the start; nothing in CI, pipes or with --quiet."""
    if quiet or not sys.stderr.isatty():
        return lambda message: None
    from rich.console import (
        Console,  # only for interactive runs: keeps start-up (and no-op builds) quick
    )

    console = Console(stderr=True, highlight=False)
    started = time.monotonic()
    return lambda message: console.print(f"[dim]{time.monotonic() - started:6.1f}s[/dim] {message}")


def locate_project(manuscript: Path | None, output: Path | None) -> tuple[Path, Path]:
    """The manuscript directory and the output directory of a command.

    Without --manuscript: ``./manuscript`` when it holds a book.yaml (the layout ``bookgen import``
    makes), else the nearest directory from here upwards that holds one (as git finds .git) — so
    bookgen also works from inside ``manuscript/`` or one of its folders. Without --output: ``build/``
    beside that manuscript directory, never inside it. Raises click.UsageError when no book.yaml is found.
    """
    here = Path.cwd()
    if manuscript is None:
        candidates = [here / "manuscript", here, *here.parents]
        found = next((d for d in candidates if (d / "book.yaml").is_file()), None)
        if found is None:
            raise click.UsageError("no book.yaml here, in ./manuscript or in any parent directory (use --manuscript DIR)")
        manuscript = found if found == here / "manuscript" else Path(os.path.relpath(found, here))
    elif not (manuscript / "book.yaml").is_file():
        raise click.UsageError(f"no book.yaml in {manuscript} (use --manuscript DIR)")
    if output is None:
        output = Path(os.path.relpath(manuscript.resolve().parent / "build", here))
    return manuscript, output


def manuscript_options(command: Callable) -> Callable:
    """--manuscript and --output, shared by build, check and handoff (see locate_project)."""
    command = click.option(
        "--output",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Where the outputs go  [default: build/ beside the manuscript directory]",
    )(command)
    return click.option(
        "--manuscript",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The manuscript directory (with book.yaml)  [default: ./manuscript, or the nearest directory upwards with a book.yaml]",
    )(command)


@main.command("build", short_help="Build the PDF, EPUB, web edition and (print) cover.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*(f.value for f in Format), "all"]),
    default="all",
    show_default=True,
    help="What to build; all: PDF, EPUB and the web edition (with --profile print: PDF, EPUB and cover).",
)
@click.option(
    "--profile",
    type=click.Choice([p.value for p in Profile]),
    default="screen",
    show_default=True,
    help="screen: a PDF to read; print: crop marks, bleed, PDF/X keys, whole sheets, preflight.",
)
@click.option("--allow-incomplete", is_flag=True, help="Let a print build through with unwritten or truncated sections.")
@manuscript_options
@click.option("--strict", is_flag=True, help="Fail when sections are unwritten or truncated.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Parallel workers (default: the machine's cores, at most 4).")
@click.option(
    "--tex-timeout", type=click.FloatRange(1), default=None, help="Stop XeLaTeX after this many seconds (default scales with the book)."
)
@click.option("--no-verify", is_flag=True, help="Skip the pdffonts/EPUBCheck checks of the outputs.")
@click.option("--no-check", is_flag=True, help="Skip the manuscript check's error rules before building.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines; only the summary.")
@click.option("--timings", is_flag=True, help="Print the time each stage took.")
def build_command(
    fmt: str,
    profile: str,
    allow_incomplete: bool,
    manuscript: Path | None,
    output: Path | None,
    strict: bool,
    jobs: int | None,
    tex_timeout: float | None,
    no_verify: bool,
    no_check: bool,
    quiet: bool,
    timings: bool,
) -> None:
    """Build the book: build/<slug>.pdf (or <slug>-print.pdf), <slug>-cover.pdf, <slug>.epub, build/html/.

    Rebuilds do only what changed: nothing at all when nothing did; one chapter typeset alone and
    spliced in when an edit stays inside it and moves no page.
    """
    manuscript, output = locate_project(manuscript, output)
    started = time.monotonic()
    if fmt != "all":
        formats: tuple[Format, ...] = (Format(fmt),)
    elif profile == Profile.PRINT:
        formats = (Format.PDF, Format.EPUB, Format.COVER)
    else:
        formats = (Format.PDF, Format.EPUB, Format.HTML)
    options = BuildOptions(
        manuscript=manuscript,
        output=output,
        formats=formats,
        profile=Profile(profile),
        strict=strict,
        allow_incomplete=allow_incomplete,
        tex_timeout=tex_timeout,
        verify=not no_verify,
        check=not no_check,
        jobs=jobs or default_jobs(),
    )
    result = build(options, _progress(quiet))
    elapsed = time.monotonic() - started
    for name, output_report in result.outputs.items():
        pages = f", {counted(output_report.pages, 'page')}" if output_report.pages else ""
        detail = f", {output_report.detail}" if output_report.detail else ""
        click.echo(f"{name.upper():5} {output_report.path} ({output_report.size / 1024:.0f} KiB{pages}{detail})")
    if result.unwritten:
        click.echo(f"unwritten sections: {len(result.unwritten)} (shown as 「{result.book.layout.placeholder}」; --strict fails on them)")
    for node in result.book.files():
        file = node.file or ""
        if not (result.book.root / file).is_file():  # named in book.yaml, not there: say which, so a typo is seen
            click.echo(f"  missing file: {result.book.display(file)} ({node.heading}, printed as unwritten)")
    if result.truncated:
        click.echo(f"truncated sections: {len(result.truncated)}: {', '.join(result.truncated)}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    for name, report in result.preflight.items():
        failed = sum(not check.passed for check in report.checks)
        click.echo(f"preflight of the {name}: {len(report.checks) - failed} passed, {failed} failed")
    if timings:
        for stage, seconds in result.timings.items():
            click.echo(f"  {stage:12} {seconds:6.2f} s")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tools = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        click.echo(f"  peak memory  bookgen {own:.0f} MB, largest tool process {tools:.0f} MB")
    if result.up_to_date:
        click.echo(f"up to date: nothing changed since the last build ({elapsed:.2f} s)")
    else:
        click.echo(
            f"built in {elapsed:.1f} s ({counted(result.converted, 'section')} converted, {result.reused} from the cache), "
            f"{counted(len(result.warnings), 'warning')}"
        )


@main.command("import", short_help="Turn a one-file Markdown draft into a manuscript.")
@click.argument("draft", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("manuscript"),
    show_default=True,
    help="The manuscript directory to write.",
)
@click.option("--slug", default="book", show_default=True, help="Output file name stem for the book (build/<slug>.pdf).")
@click.option("--force", is_flag=True, help="Replace the files import generates in an existing manuscript (never deletes others).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report as JSON.")
def import_command(draft: Path, output: Path, slug: str, force: bool, report_path: Path | None) -> None:
    """Turn a one-file Markdown draft into a manuscript (book.yaml + one file per section)."""
    from bookgen.importer.parse import import_draft

    report = import_draft(draft, output, slug=slug, force=force)
    click.echo(f"imported {draft} → {output}/ ({counted(len(report.files), 'file')})")
    entries = "entry" if report.front + report.back == 1 else "entries"
    click.echo(
        f"  {counted(report.parts, 'part')}, {counted(report.chapters, 'chapter')}, {counted(report.sections, 'section')}, "
        f"{counted(report.appendices, 'appendix', 'appendices')}, {report.front} front and {report.back} back matter {entries}"
    )
    click.echo(f"  sections with text: {report.sections_with_text} of {report.sections_total}")
    for heading, count in report.cjk_per_chapter.items():
        if count:
            click.echo(f"  {heading}: {counted(count, 'CJK character')}")
    for item in report.removed:
        click.echo(f"  removed {item.reason} at {draft}:{item.line}: {item.text}")
    for note in report.numbering:
        click.echo(f"  numbering at {draft}:{note.line}: draft says {note.draft}, bookgen prints {note.computed} ({note.title})")
    for path in report.truncated:
        click.echo(f"  truncated (ends mid-sentence): {output}/{path}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    if report_path:
        from bookgen.fsutil import write_atomic

        write_atomic(report_path, report.as_json() + "\n")


def report_format(help_text: str) -> Callable:
    """--format text|json (as ``fmt``), for the commands that report findings."""
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help=help_text)


@main.command("check", short_help="Lint the manuscript (structure, residue, typography…).")
@manuscript_options
@report_format("text: one line per finding, infos counted per rule; json: every finding.")
@click.option("--verbose", "-v", is_flag=True, help="List every info finding too (unwritten sections …), not just their counts.")
@click.option("--fix", is_flag=True, help="Apply the safe fixes (punctuation width, CJK–Latin spacing, artifacts), showing the diff first.")
@click.option("--dry-run", is_flag=True, help="With --fix: show the diff, change nothing.")
def check_command(manuscript: Path | None, output: Path | None, fmt: str, verbose: bool, fix: bool, dry_run: bool) -> None:
    """Lint the manuscript: structure, machine-writing residue, Chinese typography, fonts, math and markup.

    Prints `path:line:col: CODE message` for errors and warnings, then the infos counted per rule;
    exit 1 when there are errors. The build directory's conversion cache is reused.
    """
    from bookgen.checks import fix as fixing
    from bookgen.checks import run_checks

    manuscript, output = locate_project(manuscript, output)
    report = run_checks(manuscript, output / ".cache")
    if fix:
        changes = fixing.planned_changes(report.findings, report.files)
        click.echo(fixing.diff(changes, manuscript.resolve()) or "nothing to fix", nl=False)
        if changes and not dry_run:
            fixing.apply(changes)
            click.echo(f"fixed {counted(len(changes), 'file')}; checking again")
            report = run_checks(manuscript, output / ".cache")
    if fmt == "json":
        click.echo(json.dumps([finding.as_dict() for finding in report.findings], ensure_ascii=False, indent=2))
    else:
        _print_findings(report, verbose)
    if report.errors:
        raise SystemExit(2 if report.book_invalid else 1)  # an invalid book.yaml is a manuscript error


def _print_findings(report: CheckReport, verbose: bool) -> None:
    """Errors and warnings one per line (grouped by file), then infos: listed with --verbose, else one count per rule."""
    from bookgen.checks import RULES, Severity

    shown = [f for f in report.findings if verbose or f.severity != Severity.INFO]
    current = None
    for finding in shown:
        if finding.path != current:
            if current is not None:
                click.echo()
            current = finding.path
        click.echo(str(finding))
    folded: dict[str, int] = {}
    for finding in report.findings:
        if finding not in shown:
            folded[finding.code] = folded.get(finding.code, 0) + 1
    if folded:
        click.echo() if shown else None
        for code, count in sorted(folded.items()):
            click.echo(f"{count} × {code} {RULES[code].summary}; --verbose lists them")
    counts = {s: report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    click.echo(
        f"{'' if not report.findings else chr(10)}{counted(counts[Severity.ERROR], 'error')}, "
        f"{counted(counts[Severity.WARNING], 'warning')}, {counted(counts[Severity.INFO], 'info')}"
    )


@main.command("preflight", short_help="Check a print PDF (and cover) for the press.")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--cover",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The cover PDF, checked against the interior's page count.",
)
@click.option(
    "--manuscript",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Its book.yaml gives trim, bleed, signature, caliper and ISBN  [default: as for build]",
)
@report_format("text: PASS/FAIL lines with evidence; json: the same as data.")
def preflight_command(pdf: Path, cover: Path | None, manuscript: Path | None, fmt: str) -> None:
    """Check a print interior (and cover) against book.yaml and the PDF/X-4 rules; exit 1 on any failure."""
    from bookgen.model.book import load_book
    from bookgen.press.preflight import preflight

    report = preflight(pdf, load_book(locate_project(manuscript, None)[0]), cover)
    click.echo(report.json() if fmt == "json" else report.text(), nl=False)
    if not report.passed:
        raise SystemExit(1)


@main.command("handoff", short_help="Make the zip for the press: interior, cover, EPUB.")
@manuscript_options
@click.option(
    "--allow-incomplete", is_flag=True, help="Hand off a draft with unwritten or truncated sections (the report and manifest say so)."
)
def handoff_command(manuscript: Path | None, output: Path | None, allow_incomplete: bool) -> None:
    """Print interior, cover and EPUB, preflighted and checked, in build/handoff/<slug>-<edition>.zip.

    Builds with the print profile, runs preflight and EPUBCheck, and zips the three files with the
    preflight report (text and JSON) and manifest.json (figures, tool versions, SHA-256 of each file).
    """
    from bookgen.press.handoff import handoff

    manuscript, output = locate_project(manuscript, output)

    package = handoff(manuscript, output, allow_incomplete, _progress(False))
    click.echo(f"handoff package: {package.path} ({package.path.stat().st_size / 1024:.0f} KiB)")
    for name, digest in package.manifest["files"].items():
        click.echo(f"  {name}  sha256 {digest['sha256'][:16]}…  {counted(digest['bytes'], 'byte')}")
    if package.manifest["incomplete"]:
        incomplete = counted(len(package.manifest["incomplete"]), "unwritten or truncated section")
        click.echo(f"  incomplete: {incomplete} (listed in manifest.json)")


@main.command("serve", short_help="Serve the web edition, rebuilt and reloaded on every save.")
@manuscript_options
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="The port on 127.0.0.1 (0: any free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in the default browser.")
@click.option("--pdf", is_flag=True, help="After each change, also update the PDF (chapter-level update) and say when it is ready.")
def serve_command(manuscript: Path | None, output: Path | None, port: int, open_browser: bool, pdf: bool) -> None:
    """Build the web edition into build/html/, serve it on 127.0.0.1, and rebuild on every save.

    Open tabs reload the page that changed (keeping the scroll position); a manuscript error shows over
    the page as file:line:col: message until it is fixed, while the last good pages stay served.
    Ctrl-C stops.
    """
    from bookgen.html.serve import serve

    manuscript, output = locate_project(manuscript, output)
    serve(manuscript, output, port, open_browser, pdf, echo=lambda line: click.echo(line))


@main.command("clean", short_help="Remove the cache and work files; keep the outputs.")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The build directory  [default: as for build, else ./build]",
)
def clean_command(output: Path | None) -> None:
    """Remove the conversion cache and TeX work files (build/.cache, build/.work); the outputs stay."""
    import shutil

    if output is None:
        try:
            output = locate_project(None, None)[1]
        except click.UsageError:
            output = Path("build")

    for name in (".cache", ".work"):
        shutil.rmtree(output / name, ignore_errors=True)
    click.echo(f"removed {output}/.cache and {output}/.work")
