r"""Parallel typesetting: the book's units as XeLaTeX jobs on several cores, merged into one PDF.

bookgen prints every number of the book itself (parts, chapters, sections, figures, references), so
what a unit needs from the rest of the book is where it starts — the folio, the physical page, the
part and chapter counters, the anchor counters — and, for three units, the pages of the others: the
contents (``.toc``/``.lof``/``.lot`` lines), the 索引 (the index marks' pages) and the 版权页 (the
page count, for 印张 and 字数). Each job typesets a run of units with ``\includeonly`` in a directory
of its own, from ``.aux`` files that bookgen writes for every other unit: the other units' last
results moved to the pages they will have (``auxdata``), or, before a unit was ever typeset, a
checkpoint with the counters the book's outline gives.

A build goes in rounds: every unit whose text changed, whose first page's folio moved, or (the three
above) whose book-wide input changed is typeset again, in ``jobs`` parallel jobs of consecutive
units; then the page chain is worked out again from what the jobs found. A cold build takes two
rounds (the first finds each unit's length, the second typesets each at its real pages); an edit
that moves no page takes one job of one unit; an edit that adds a page re-typesets its unit, the
units after it and the contents and index. The blank versos that recto openings need are reckoned
the way LaTeX inserts them (``\cleardoublepage`` at an even folio: the switches ``\frontmatter`` and
``\mainmatter``, ``\backmatter`` when the back matter opens right, and each unit that opens right);
every job's page count is checked against the reckoning, and what does not match is typeset again.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bookgen.errors import TypesetError, display_path
from bookgen.fsutil import write_atomic, write_if_changed
from bookgen.latex import auxdata
from bookgen.latex.document import LatexDocument, LatexUnit
from bookgen.latex.log import TypesetResult, _result, file_at, tex_failure, unit_pages
from bookgen.latex.typeset import JOBNAME, run_tex, units_command
from bookgen.press.figures import FIGURES_FILE

STATE = "parallel.json"
JOBS_DIR = "bookgen-jobs"  # not a name a manuscript's image folders (staged beside) would have
PIECES_DIR = "bookgen-pieces"
MAX_ROUNDS = 4
TIMINGS = "jobs.json"  # the last build's rounds: each job's seconds (make bench reads it)
WORKERS_VARIABLE = "BOOKGEN_BENCH_WORKERS"
"""make bench's instrument: run the jobs of ``--jobs N`` on fewer cores at a time, to time each job
uncontended and work out what N cores would take (bench/bench.py). Not for users."""
CONSUMERS = {  # what a unit reads of the other units' pages, found by the macro its template uses
    "\\bookgentableofcontents": "contents",
    "\\bookgenlocators": "index",
    "\\bookgentotalpages": "pages",
}
_UNSETTLED = re.compile(r"^Package longtable Warning: (?:Column|Table) widths have changed", re.MULTILINE)
"""What TeX says when a unit needs another run with its own .aux (labels and page labels do not count:
bookgen prints every number itself and sets the page labels when it merges)."""
_OPENS = re.compile(r"^bookgen-unit-(begin|end): ([\w.-]+?)(?:\.tex)? |^bookgen-unit-opens: \S* ?(right|any)$", re.MULTILINE)
_LISTS = ("toc", "lof", "lot", "lol")


@dataclass
class UnitRun:
    """One unit as a job typeset it: its pages are ``count`` pages from ``first`` of ``piece``."""

    digest: str  # of book.tex and the unit's file when it was typeset
    inputs: str  # digest of the other units' pages it read (contents, index, page count); "" for others
    piece: str  # the job's PDF, a file name under pieces/
    first: int
    count: int
    before: dict[str, int]  # the counters it started from
    aux: str  # its .aux file as TeX wrote it
    pages: str  # its .tex.pages file (the page map) as TeX wrote it
    opens_right: bool
    warnings: list[str] = field(default_factory=list)
    settled: bool = True  # False: TeX asked for another run (longtable's column widths)


@dataclass(frozen=True)
class Place:
    """Where a unit goes in the book: the counters before it, the blank pages it opens with, its pages."""

    before: dict[str, int]
    leads: int
    folio: int  # the folio of its first page after the blanks
    count: int


@dataclass(frozen=True)
class Job:
    """One XeLaTeX run: the units it typesets (``\\includeonly``), in book order."""

    units: tuple[str, ...]


@dataclass
class ParallelState:
    """What the last parallel build left: each unit's last run (``parallel.json`` in the work directory)."""

    runs: dict[str, UnitRun] = field(default_factory=dict)
    serial: int = 0  # numbers the pieces

    @classmethod
    def load(cls, work_dir: Path) -> ParallelState:
        try:
            data = json.loads((work_dir / STATE).read_text(encoding="utf-8"))
            return cls({unit: UnitRun(**run) for unit, run in data["runs"].items()}, data["serial"])
        except (OSError, ValueError, KeyError, TypeError):
            return cls()

    def save(self, work_dir: Path) -> None:
        data = {"runs": {unit: asdict(run) for unit, run in self.runs.items()}, "serial": self.serial}
        write_atomic(work_dir / STATE, json.dumps(data, ensure_ascii=False))


def _digest(*texts: str) -> str:
    hashed = hashlib.sha256()
    for text in texts:
        hashed.update(text.encode("utf-8"))
        hashed.update(b"\0")
    return hashed.hexdigest()


def _switches(plan: tuple[LatexUnit, ...]) -> dict[str, list[str]]:
    """The book.tex commands that run before each unit (book.tex_t): \\mainmatter before the first unit
    after the front matter, \\backmatter before the first back-matter unit."""
    switches: dict[str, list[str]] = {}
    seen: set[str] = set()
    for unit in plan:
        before = []
        if unit.division != "front" and "main" not in seen:
            before.append("mainmatter")
            seen.add("main")
        if unit.division == "back" and "back" not in seen:
            before.append("backmatter")
            seen.add("back")
        switches[unit.stem] = before
    return switches


def opening(switches: list[str], opens_right: bool, folio: int, back_opens_right: bool) -> tuple[int, int]:
    r"""(blank pages, folio of the first page) of a unit that starts after folio ``folio - 1``.

    LaTeX's ``\cleardoublepage`` in a two-sided book adds a blank page when the next folio is even
    (latex/base/ltpage: ``\ifodd\c@page\else\hbox{}\newpage``): ``\mainmatter`` always clears so
    (then restarts the folios at 1), ``\backmatter`` when the back matter opens right, a unit when it
    opens right (its heading clears)."""
    blanks = 0
    for switch in switches:
        clears = switch == "mainmatter" or (switch == "backmatter" and back_opens_right)
        if clears and folio % 2 == 0:
            blanks, folio = blanks + 1, folio + 1
        if switch == "mainmatter":
            folio = 1
    if opens_right and folio % 2 == 0:
        blanks, folio = blanks + 1, folio + 1
    return blanks, folio


def model_counters(plan: tuple[LatexUnit, ...]) -> dict[str, dict[str, int]]:
    """The part and chapter counters after each unit, as the outline numbers them (the appendices'
    chapter counter restarts: book.tex's \\appendix resets it)."""
    part = chapter = 0
    after: dict[str, dict[str, int]] = {}
    appendices = False
    for unit in plan:
        if unit.division == "appendices" and not appendices:
            appendices, chapter = True, 0
        if unit.steps == "part":
            part += 1
        elif unit.steps == "chapter":
            chapter += 1
        after[unit.stem] = {"part": part, "chapter": chapter}
    return after


def chain(plan: tuple[LatexUnit, ...], runs: dict[str, UnitRun], back_opens_right: bool, weights: dict[str, int]) -> dict[str, Place]:
    """Where every unit goes, from the units' last runs (a unit never typeset counts ``weights`` pages:
    a guess that its first run corrects)."""
    switches = _switches(plan)
    model = model_counters(plan)
    state = {"page": 1, "bookgenphysical": 0, "LN@truepage": 0} | dict.fromkeys(auxdata.ADDITIVE_COUNTERS, 0)
    state |= {"part": 0, "chapter": 0}
    places: dict[str, Place] = {}
    for unit in plan:
        run = runs.get(unit.stem)
        opens_right = run.opens_right if run else False
        blanks, folio = opening(switches[unit.stem], opens_right, state["page"], back_opens_right)
        if run:
            run_blanks, _ = opening(switches[unit.stem], opens_right, run.before["page"], back_opens_right)
            content = run.count - run_blanks
        else:
            content = max(1, weights.get(unit.stem, 1))
        places[unit.stem] = Place(dict(state), blanks, folio, blanks + content)
        after = dict(state)
        after["page"] = folio + content
        after["bookgenphysical"] = after["LN@truepage"] = state["bookgenphysical"] + blanks + content
        if run:
            ended = auxdata.checkpoint(run.aux)
            for name in auxdata.ADDITIVE_COUNTERS:
                if name in ended:
                    reset = name in auxdata.CHAPTER_RESETS and unit.steps == "chapter"
                    after[name] = ended[name] if reset else state[name] + ended[name] - run.before.get(name, 0)
        after |= model[unit.stem]
        state = after
    return places


def after_counters(plan: tuple[LatexUnit, ...], places: dict[str, Place]) -> dict[str, dict[str, int]]:
    """The counters each unit's checkpoint must hand on: the next unit's ``before`` (the last unit's: its own end)."""
    out = {}
    for unit, following in zip(plan, [*plan[1:], None], strict=True):
        place = places[unit.stem]
        if following is not None:
            out[unit.stem] = places[following.stem].before
        else:
            out[unit.stem] = place.before | {"page": place.folio + place.count - place.leads}
    return out


def moved_aux(run: UnitRun, place: Place, back_opens_right: bool, switches: list[str]) -> str:
    """The unit's .aux file as it will read at its place: pages shifted from where its run put them."""
    _, run_folio = opening(switches, run.opens_right, run.before["page"], back_opens_right)
    run_blanks, _ = opening(switches, run.opens_right, run.before["page"], back_opens_right)
    shift = auxdata.Shift(
        place.folio - run_folio, (place.before["bookgenphysical"] + place.leads) - (run.before["bookgenphysical"] + run_blanks)
    )
    return auxdata.shift_aux(run.aux, shift)


def moved_pages(run: UnitRun, place: Place, back_opens_right: bool, switches: list[str]) -> str:
    """The unit's page map lines (``s|e KEY:N physical folio``) at its place."""
    run_blanks, run_folio = opening(switches, run.opens_right, run.before["page"], back_opens_right)
    folio_shift = place.folio - run_folio
    physical_shift = (place.before["bookgenphysical"] + place.leads) - (run.before["bookgenphysical"] + run_blanks)
    lines = []
    for line in run.pages.splitlines():
        parts = line.split(" ")
        if len(parts) == 4 and parts[2].isdigit():
            parts[2] = str(int(parts[2]) + physical_shift)
            parts[3] = auxdata.shift_folio(parts[3], folio_shift)
        lines.append(" ".join(parts))
    return "\n".join(lines) + ("\n" if lines else "")


def opening_sides(log: str) -> dict[str, bool]:
    """Whether each unit the log shows opens on a recto: the first ``\\bookgenopenright`` or
    ``\\bookgenopenany`` between the unit's begin and end marks (book.tex's own, between units, count for none)."""
    sides: dict[str, bool] = {}
    current = None
    for mark in _OPENS.finditer(log):
        if mark.group(1) == "begin":
            current = mark.group(2)
        elif mark.group(1) == "end":
            current = None
        elif current is not None and current not in sides:
            sides[current] = mark.group(3) == "right"
    return sides


def split_jobs(units: list[str], weights: dict[str, int], jobs: int) -> list[Job]:
    """``units`` (in book order) cut into at most ``jobs`` runs of consecutive units of about equal weight."""
    if not units:
        return []
    total = sum(max(1, weights.get(u, 1)) for u in units)
    target = total / max(1, min(jobs, len(units)))
    out: list[list[str]] = [[]]
    load = 0.0
    for unit in units:
        weight = max(1, weights.get(unit, 1))
        if out[-1] and load + weight / 2 > target and len(out) < jobs:
            out.append([])
            load = 0.0
        out[-1].append(unit)
        load += weight
    return [Job(tuple(group)) for group in out]


@dataclass
class ParallelResult:
    """The merged book: pieces and page ranges per unit, the jobs run, the warnings by unit."""

    places: dict[str, Place]
    runs: dict[str, UnitRun]
    jobs_run: int
    rounds: int
    seconds: float
    typeset_units: int  # units typeset in this build (a unit typeset twice counts twice)


class ParallelTypesetter:
    """Typesets ``document`` in ``work_dir`` (the interior's work directory) on ``jobs`` cores."""

    def __init__(
        self,
        document: LatexDocument,
        work_dir: Path,
        jobs: int,
        timeout: float,
        manuscript_root: Path,
        back_opens_right: bool,
        cancel: threading.Event | None = None,
        epoch: int | None = None,
        progress: Callable[[str], None] | None = None,
        heading: Callable[[str], str] = str,
        describe: Callable[[TypesetResult], dict[str, list[str]]] | None = None,
    ):
        self.document = document
        self.work_dir = work_dir
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.manuscript_root = manuscript_root
        self.back_opens_right = back_opens_right
        self.cancel = cancel or threading.Event()
        self.epoch = epoch
        self.progress = progress or (lambda _: None)
        self.heading = heading
        self.describe = describe or (lambda _: {})
        self.plan = document.plan
        self.switches = _switches(self.plan)
        files = document.files()
        self.digests = {u.stem: _digest(files["book.tex"], files[f"{u.stem}.tex"]) for u in self.plan}
        self.consumes = {u.stem: sorted({what for macro, what in CONSUMERS.items() if macro in files[f"{u.stem}.tex"]}) for u in self.plan}
        self.results: dict[str, TypesetResult] = {}

    # The page chain and what must be typeset -------------------------------------------------------

    def weights(self, state: ParallelState) -> dict[str, int]:
        """Pages a unit takes (its last run), or a guess from its length (3,000 characters a page)."""
        files = self.document.files()
        return {u.stem: state.runs[u.stem].count if u.stem in state.runs else 1 + len(files[f"{u.stem}.tex"]) // 3000 for u in self.plan}

    def inputs(self, runs: dict[str, UnitRun], places: dict[str, Place]) -> dict[str, str]:
        """For each kind of book-wide input, its digest at the units' places ("" while a unit was never typeset)."""
        if any(u.stem not in runs for u in self.plan):
            return dict.fromkeys(CONSUMERS.values(), "")
        moved = {u.stem: moved_aux(runs[u.stem], places[u.stem], self.back_opens_right, self.switches[u.stem]) for u in self.plan}
        lists = self.list_files(moved)
        last = self.plan[-1].stem
        total = places[last].before["bookgenphysical"] + places[last].count
        return {
            "contents": _digest(*(lists.get(name, "") for name in _LISTS)),
            "index": _digest(*(mark for u in self.plan for mark in auxdata.index_marks(moved[u.stem]))),
            "pages": str(total),
        }

    def unit_inputs(self, unit: str, inputs: dict[str, str]) -> str:
        return _digest(*(inputs[what] for what in self.consumes[unit])) if self.consumes[unit] else ""

    def list_files(self, moved: dict[str, str]) -> dict[str, str]:
        """The .toc, .lof, .lot, .lol files a whole-book run would write, from the units' moved .aux files."""
        lines: dict[str, list[str]] = {}
        for unit in self.plan:
            for name, written in auxdata.contents_lines(moved[unit.stem]).items():
                lines.setdefault(name, []).extend(written)
        return {name: "".join(line + "\n" for line in written) for name, written in lines.items()}

    def outdated(self, runs: dict[str, UnitRun], places: dict[str, Place], inputs: dict[str, str]) -> list[str]:
        """The units to typeset (again): changed text, a moved first folio, changed book-wide input."""
        todo = []
        for unit in self.plan:
            run = runs.get(unit.stem)
            place = places[unit.stem]
            if run is None or run.digest != self.digests[unit.stem]:
                todo.append(unit.stem)
                continue
            _, run_folio = opening(self.switches[unit.stem], run.opens_right, run.before["page"], self.back_opens_right)
            if not run.settled or run_folio != place.folio or run.inputs != self.unit_inputs(unit.stem, inputs):
                todo.append(unit.stem)
        return todo

    # One job -----------------------------------------------------------------------------------------

    def prepare_job(self, index: int, job: Job, runs: dict[str, UnitRun], places: dict[str, Place], inputs: dict[str, str]) -> Path:
        """The job's directory: the book's files (links), every other unit's .aux at its place, the list files."""
        job_dir = self.work_dir / JOBS_DIR / f"j{index}"
        job_dir.mkdir(parents=True, exist_ok=True)
        for name in self.document.files():
            link = job_dir / name
            if not link.is_symlink():
                link.unlink(missing_ok=True)
                link.symlink_to(Path("..") / ".." / name)
        for entry in self.work_dir.iterdir():  # staged images: their top directories
            if entry.is_dir() and entry.name not in (JOBS_DIR, PIECES_DIR) and not (job_dir / entry.name).exists():
                (job_dir / entry.name).symlink_to(Path("..") / ".." / entry.name)
        after = after_counters(self.plan, places)
        model = model_counters(self.plan)
        moved = {}
        for unit in self.plan:
            run = runs.get(unit.stem)
            if run is not None:
                moved[unit.stem] = auxdata.set_checkpoint(
                    moved_aux(run, places[unit.stem], self.back_opens_right, self.switches[unit.stem]), after[unit.stem]
                )
            else:
                moved[unit.stem] = auxdata.seed_aux(unit.stem, after[unit.stem] | model[unit.stem])
            write_if_changed(job_dir / f"{unit.stem}.aux", moved[unit.stem])
        last = self.plan[-1].stem
        total = places[last].before["bookgenphysical"] + places[last].count
        main = "\\relax \n" + "".join(f"\\@input{{{u.stem}.aux}}\n" for u in self.plan)
        main += f"\\gdef\\bookgentotalpages{{{total if all(u.stem in runs for u in self.plan) else 0}}}\n"
        write_if_changed(job_dir / f"{JOBNAME}.aux", main)
        lists = self.list_files(moved) if all(u.stem in runs for u in self.plan) else {"toc": self.document.seeds.get("book.toc", "")}
        for name in _LISTS:
            write_if_changed(job_dir / f"{JOBNAME}.{name}", lists.get(name, ""))
        return job_dir

    def run_job(
        self, index: int, job: Job, runs: dict[str, UnitRun], places: dict[str, Place], inputs: dict[str, str], serial: int
    ) -> dict[str, UnitRun]:
        """Typeset the job's units; their runs (the piece is moved under pieces/). Raises TypesetError."""
        job_dir = self.prepare_job(index, job, runs, places, inputs)
        command = units_command(JOBNAME, job.units)
        started = time.monotonic()
        returncode, output = run_tex(command, job_dir, JOBNAME, self.document, self.timeout, self.manuscript_root, self.cancel, self.epoch)
        log_path = job_dir / f"{JOBNAME}.log"
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        if returncode != 0:
            said = output.strip().splitlines()
            raise tex_failure(log, self.document, log_path, self.manuscript_root) or TypesetError(
                "XeLaTeX failed on " + ", ".join(self.heading(u) for u in job.units) + ": " + (said[-1] if said else "no output")
            )
        pieces = self.work_dir / PIECES_DIR
        pieces.mkdir(exist_ok=True)
        piece = f"p{serial}.pdf"
        os.replace(job_dir / f"{JOBNAME}.pdf", pieces / piece)
        made = _result(pieces / piece, 1, time.monotonic() - started, log, self.document)
        spans = unit_pages(log)
        opens = opening_sides(log)
        warnings = self.describe(made)
        unsettled = {file_at(log, m.start(), self.document).removesuffix(".tex") for m in _UNSETTLED.finditer(log)}
        after = after_counters(self.plan, places)
        previous = {u.stem: self.plan[i - 1].stem if i else None for i, u in enumerate(self.plan)}
        out: dict[str, UnitRun] = {}
        for unit in job.units:
            span = spans.get(unit)
            if span is None:
                raise TypesetError(f"XeLaTeX did not typeset {self.heading(unit)} (no page marks in {display_path(log_path)})")
            end = span.output_first + span.count
            aux = (job_dir / f"{unit}.aux").read_text(encoding="utf-8")
            pages_file = job_dir / f"{unit}.tex.pages"
            before_unit = previous[unit]
            if before_unit is None:
                before = places[unit].before
            elif before_unit in out:  # typeset just before it in this job: where TeX left off
                before = {**after[before_unit], **auxdata.checkpoint(out[before_unit].aux)}
            else:  # restored from the checkpoint this job was given
                before = after[before_unit]
            # the blank pages book.tex's switches (\mainmatter …) put right before the unit are the unit's;
            # a job also ships the blanks of switches further back, between units it leaves out: not the book's
            switch_blanks, _ = opening(self.switches[unit], False, before["page"], self.back_opens_right)
            start = span.output_first - switch_blanks
            out[unit] = UnitRun(
                digest=self.digests[unit],
                inputs=self.unit_inputs(unit, inputs),
                piece=piece,
                first=start,
                count=end - start,
                before=dict(before),
                aux=aux,
                pages=pages_file.read_text(encoding="utf-8") if pages_file.exists() else "",
                opens_right=opens.get(unit, False),
                warnings=warnings.get(unit, []),
                settled=unit not in unsettled,
            )
        if any("pages" in self.consumes[unit] for unit in job.units) and (job_dir / FIGURES_FILE).exists():
            shutil.copyfile(job_dir / FIGURES_FILE, self.work_dir / FIGURES_FILE)
        self.results[piece] = made
        return out

    # The rounds --------------------------------------------------------------------------------------

    def typeset(self) -> ParallelResult:
        """Rounds of parallel jobs until every unit stands where the page chain puts it. Raises
        TypesetError (a TeX error: the first job's, with its Markdown line; the other jobs are stopped)."""
        begun = time.monotonic()
        state = ParallelState.load(self.work_dir)
        runs = {u.stem: state.runs[u.stem] for u in self.plan if u.stem in state.runs}
        jobs_run = units_run = 0
        timings: list[list[float]] = []
        for _ in range(MAX_ROUNDS):
            weights = self.weights(ParallelState(runs))
            places = chain(self.plan, runs, self.back_opens_right, weights)
            inputs = self.inputs(runs, places)
            todo = self.outdated(runs, places, inputs)
            if not todo:
                break
            jobs = split_jobs(todo, weights, self.jobs)
            self.progress(
                f"typesetting {', '.join(self.heading(u) for u in todo[:3])}{' …' if len(todo) > 3 else ''} ({len(jobs)} job{'s' if len(jobs) > 1 else ''})"
            )
            serials = list(range(state.serial, state.serial + len(jobs)))
            state.serial += len(jobs)
            fresh = self.run_parallel(jobs, runs, places, inputs, serials)
            timings.append([self.results[f"p{serial}.pdf"].seconds for serial in serials])
            jobs_run += len(jobs)
            units_run += len(todo)
            runs.update(fresh)
            state.runs = runs
            state.save(self.work_dir)
        else:
            raise TypesetError(f"the units' pages did not settle after {MAX_ROUNDS} rounds of parallel typesetting; build with --jobs 1")
        self._prune(runs)
        write_atomic(self.work_dir / TIMINGS, json.dumps({"jobs": self.jobs, "rounds": timings}))
        return ParallelResult(places, runs, jobs_run, len(timings), time.monotonic() - begun, units_run)

    def run_parallel(
        self, jobs: list[Job], runs: dict[str, UnitRun], places: dict[str, Place], inputs: dict[str, str], serials: list[int]
    ) -> dict[str, UnitRun]:
        """The jobs on ``self.jobs`` cores; the first failure stops the others and is raised."""
        fresh: dict[str, UnitRun] = {}
        workers = int(os.environ.get(WORKERS_VARIABLE, "0")) or self.jobs
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(self.run_job, i, job, runs, places, inputs, serial)
                for i, (job, serial) in enumerate(zip(jobs, serials, strict=True))
            ]
            try:
                for future in concurrent.futures.as_completed(futures):
                    fresh.update(future.result())
            except BaseException:
                self.cancel.set()
                for future in futures:
                    future.cancel()
                raise
        return fresh

    def _prune(self, runs: dict[str, UnitRun]) -> None:
        used = {run.piece for run in runs.values()}
        for piece in (self.work_dir / PIECES_DIR).glob("*.pdf"):
            if piece.name not in used:
                piece.unlink(missing_ok=True)
