"""The ``bookgen`` command. Errors become one line on stderr and an exit code; --debug shows tracebacks."""

from __future__ import annotations

import json
import resource
import signal
import sys
import time
from pathlib import Path

import click

from bookgen import __version__
from bookgen.errors import BookgenError
from bookgen.pipeline.build import build
from bookgen.pipeline.options import BuildOptions, Format, Profile, default_jobs


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


def _terminate(signum, frame):  # noqa: ARG001 - signal handler signature
    """SIGTERM unwinds like Ctrl-C: temporary files are removed, TeX is stopped, outputs stay as they were."""
    raise KeyboardInterrupt


@click.group(cls=BookgenGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


@main.command("build")
@click.option("--format", "fmt", type=click.Choice([*(f.value for f in Format), "all"]), default="all", show_default=True,
              help="What to build; all: PDF and EPUB (and the cover with --profile print).")
@click.option("--profile", type=click.Choice([p.value for p in Profile]), default="screen", show_default=True,
              help="screen: a PDF to read; print: crop marks, bleed, PDF/X keys, whole sheets, preflight.")
@click.option("--allow-incomplete", is_flag=True, help="Let a print build through with unwritten or truncated sections.")
@click.option("--manuscript", type=click.Path(file_okay=False, path_type=Path), default=Path("manuscript"), show_default=True, help="The manuscript directory (with book.yaml).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("build"), show_default=True, help="Where the outputs go.")
@click.option("--strict", is_flag=True, help="Fail when sections are unwritten or truncated.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Parallel workers (default: the machine's cores, at most 4).")
@click.option("--tex-timeout", type=click.FloatRange(1), default=None, help="Stop XeLaTeX after this many seconds (default scales with the book).")
@click.option("--no-verify", is_flag=True, help="Skip the pdffonts/EPUBCheck checks of the outputs.")
@click.option("--no-check", is_flag=True, help="Skip the manuscript check's error rules before building.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines; only the summary.")
@click.option("--timings", is_flag=True, help="Print the time each stage took.")
def build_command(fmt: str, profile: str, allow_incomplete: bool, manuscript: Path, output: Path, strict: bool, jobs: int | None,
                  tex_timeout: float | None, no_verify: bool, no_check: bool, quiet: bool, timings: bool) -> None:
    """Build the book: build/<slug>.pdf (or <slug>-print.pdf), <slug>-cover.pdf, <slug>.epub."""
    started = time.monotonic()
    if fmt != "all":
        formats: tuple[Format, ...] = (Format(fmt),)
    elif profile == Profile.PRINT:
        formats = (Format.PDF, Format.EPUB, Format.COVER)
    else:
        formats = (Format.PDF, Format.EPUB)
    options = BuildOptions(manuscript=manuscript, output=output, formats=formats, profile=profile, strict=strict,
                           allow_incomplete=allow_incomplete, tex_timeout=tex_timeout, verify=not no_verify, check=not no_check,
                           jobs=jobs or default_jobs())
    result = build(options, _progress(quiet))
    elapsed = time.monotonic() - started
    for name, report in result.outputs.items():
        pages = f", {report.pages} pages" if report.pages else ""
        detail = f", {report.detail}" if report.detail else ""
        click.echo(f"{name.upper():5} {report.path} ({report.size / 1024:.0f} KiB{pages}{detail})")
    if result.unwritten:
        click.echo(f"unwritten sections: {len(result.unwritten)} (shown as 「{result.book.layout.placeholder}」; --strict fails on them)")
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
        click.echo(f"built in {elapsed:.1f} s ({result.converted} sections converted, {result.reused} from the cache), {len(result.warnings)} warnings")


@main.command("import")
@click.argument("draft", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("manuscript"), show_default=True, help="The manuscript directory to write.")
@click.option("--slug", default="book", show_default=True, help="Output file name stem for the book (build/<slug>.pdf).")
@click.option("--force", is_flag=True, help="Replace the files import generates in an existing manuscript (never deletes others).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report as JSON.")
def import_command(draft: Path, output: Path, slug: str, force: bool, report_path: Path | None) -> None:
    """Turn a one-file Markdown draft into a manuscript (book.yaml + one file per section)."""
    from bookgen.importer.parse import import_draft

    report = import_draft(draft, output, slug=slug, force=force)
    click.echo(f"imported {draft} → {output}/ ({len(report.files)} files)")
    click.echo(f"  {report.parts} parts, {report.chapters} chapters, {report.sections} sections, {report.appendices} appendices, "
               f"{report.front} front and {report.back} back matter entries")
    click.echo(f"  sections with text: {report.sections_with_text} of {report.sections_total}")
    for heading, count in report.cjk_per_chapter.items():
        if count:
            click.echo(f"  {heading}: {count} CJK characters")
    for item in report.removed:
        click.echo(f"  removed {item['reason']} at {draft}:{item['line']}: {item['text']}")
    for item in report.numbering:
        click.echo(f"  numbering at {draft}:{item['line']}: draft says {item['draft']}, bookgen prints {item['computed']} ({item['title']})")
    for path in report.truncated:
        click.echo(f"  truncated (ends mid-sentence): {output}/{path}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    if report_path:
        from bookgen.fsutil import write_atomic
        write_atomic(report_path, report.as_json() + "\n")


@main.command("check")
@click.option("--manuscript", type=click.Path(file_okay=False, path_type=Path), default=Path("manuscript"), show_default=True, help="The manuscript directory (with book.yaml).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("build"), show_default=True, help="The build directory (its conversion cache is reused).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--fix", is_flag=True, help="Apply the safe fixes (punctuation width, CJK–Latin spacing, artifacts), showing the diff first.")
@click.option("--dry-run", is_flag=True, help="With --fix: show the diff, change nothing.")
def check_command(manuscript: Path, output: Path, fmt: str, fix: bool, dry_run: bool) -> None:
    """Lint the manuscript: structure, machine-writing residue, Chinese typography, fonts, math and markup."""
    from bookgen.checks import fix as fixing
    from bookgen.checks import run_checks

    if not (manuscript / "book.yaml").exists():
        raise click.UsageError(f"no book.yaml in {manuscript} (use --manuscript DIR)")
    report = run_checks(manuscript, output / ".cache")
    if fix:
        changes = fixing.planned_changes(report.findings, report.files)
        click.echo(fixing.diff(changes, manuscript.resolve()) or "nothing to fix", nl=False)
        if changes and not dry_run:
            fixing.apply(changes)
            click.echo(f"fixed {len(changes)} files; checking again")
            report = run_checks(manuscript, output / ".cache")
    if fmt == "json":
        click.echo(json.dumps([finding.as_dict() for finding in report.findings], ensure_ascii=False, indent=2))
    else:
        current = None
        for finding in report.findings:
            if finding.path != current:
                if current is not None:
                    click.echo()
                current = finding.path
            click.echo(str(finding))
        counts = {s: report.count(s) for s in ("error", "warning", "info")}
        click.echo(f"{'' if not report.findings else chr(10)}{counts['error']} errors, {counts['warning']} warnings, {counts['info']} infos")
    if report.errors:
        raise SystemExit(1)


@main.command("preflight")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cover", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The cover PDF, checked against the interior's page count.")
@click.option("--manuscript", type=click.Path(file_okay=False, path_type=Path), default=Path("manuscript"), show_default=True, help="Its book.yaml gives trim, bleed, signature, caliper and ISBN.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def preflight_command(pdf: Path, cover: Path | None, manuscript: Path, fmt: str) -> None:
    """Check a print interior (and cover) against book.yaml and the PDF/X-4 rules; exit 1 on any failure."""
    from bookgen.model.book import load_book
    from bookgen.press.preflight import preflight

    report = preflight(pdf, load_book(manuscript), cover)
    click.echo(report.json() if fmt == "json" else report.text(), nl=False)
    if not report.passed:
        raise SystemExit(1)


@main.command("handoff")
@click.option("--manuscript", type=click.Path(file_okay=False, path_type=Path), default=Path("manuscript"), show_default=True)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("build"), show_default=True)
@click.option("--allow-incomplete", is_flag=True, help="Hand off a draft with unwritten or truncated sections (the report and manifest say so).")
def handoff_command(manuscript: Path, output: Path, allow_incomplete: bool) -> None:
    """Print interior, cover and EPUB, preflighted and checked, in build/handoff/<slug>-<edition>.zip."""
    from bookgen.press.handoff import handoff

    package = handoff(manuscript, output, allow_incomplete, _progress(False))
    click.echo(f"handoff package: {package.path} ({package.path.stat().st_size / 1024:.0f} KiB)")
    for name, digest in package.manifest["files"].items():
        click.echo(f"  {name}  sha256 {digest['sha256'][:16]}…  {digest['bytes']} bytes")
    if package.manifest["incomplete"]:
        click.echo(f"  incomplete: {len(package.manifest['incomplete'])} unwritten or truncated sections (listed in manifest.json)")


@main.command("clean")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("build"), show_default=True)
def clean_command(output: Path) -> None:
    """Remove the conversion cache and TeX work files (build/.cache, build/.work); the outputs stay."""
    import shutil

    for name in (".cache", ".work"):
        shutil.rmtree(output / name, ignore_errors=True)
    click.echo(f"removed {output}/.cache and {output}/.work")
