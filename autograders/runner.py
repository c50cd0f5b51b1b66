"""The grading runner behind `stemlab grade`: submissions run in parallel, each in its own sandbox;
then nbgrader's own `autograde` (one process: the gradebook's single writer) records the results,
taking each executed notebook from the runner's cache instead of running it again.

    prepare    nbgrader's sanitizing preprocessors, in this process (restores test cells the
               student deleted or changed, from the gradebook): what changed becomes a flag
    execute    a pool of sandboxes, one worker per core, each notebook in a kernel forked into
               its sandbox by a warmed-up zygote (autograders/zygote.py, execute.py)
    record     `nbgrader autograde` with SandboxedExecute reading the cache, then RecordFlags
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import nbformat
from traitlets.config import Config

from .flags import Flag, read_flags, write_flags
from .notebook_run import execute_notebook
from .course_layout import CourseLayout, Step
from .model import hidden_sets
from .preprocessors import notebook_key, sanitize_steps
from .limits import LimiterFactory, Limits
from .sandbox import SandboxPool
from .scan import scan_notebook


@dataclass
class SubmissionResult:
    student: str
    notebook: str
    seconds: float = 0.0
    flags: list[Flag] = field(default_factory=list)
    error: str | None = None
    judged_in_kernel: dict[str, str] = field(default_factory=dict)  # test cell: why not by the judge


@dataclass
class BatchSummary:
    results: list[SubmissionResult]
    missing_limits: list[str]
    seconds: float

    @property
    def failed(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.error]

    @property
    def flagged(self) -> list[SubmissionResult]:
        return [r for r in self.results if r.flags]

    @property
    def judged_in_kernel(self) -> dict[tuple[str, str], str]:
        """(notebook, test cell): why that test was judged inside the students' kernels, where their
        code could change the verdict (the teacher's test reads a plot or a file, say): once for the
        batch, since it is the test's doing, not a student's."""
        found: dict[tuple[str, str], str] = {}
        for result in self.results:
            for cell, reason in result.judged_in_kernel.items():
                found.setdefault((result.notebook, cell), reason)
        return found


def grading_metadata(meta: dict[str, Any]) -> tuple[Any, ...]:
    """What decides how a cell is graded, with nbgrader's defaults: older nbgrader versions wrote
    fewer keys (no `cell_type`, `task` or `schema_version`), which is no change by the student."""
    graded = bool(meta.get("grade", False))
    return (meta.get("grade_id"), graded, bool(meta.get("solution", False)), bool(meta.get("locked", False)),
            bool(meta.get("task", False)), float(meta.get("points", 0) or 0) if graded else None)


def sanitize(nb: Any, resources: dict[str, Any], config: Config, released: Any | None = None) -> tuple[Any, list[Flag]]:
    """nbgrader's sanitizing preprocessors, as `nbgrader autograde` runs them. What the student
    changed in the cells they were given locked (compared with the released notebook) is a flag."""
    flags = scan_notebook(nb)
    given = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in (released.cells if released else [])}
    theirs = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for gid, cell in given.items():
        meta = cell.metadata.get("nbgrader", {})
        if not gid or not (meta.get("locked") or meta.get("grade")) or meta.get("solution"):
            continue
        mine = theirs.get(gid)
        if mine is None:
            flags.append(Flag(gid, "the student deleted this cell; it was restored from the source"))
            continue
        kept, now = grading_metadata(meta), grading_metadata(mine.metadata.get("nbgrader", {}))
        if mine.cell_type != cell.cell_type or now != kept:
            flags.append(Flag(gid, "the student changed this cell's type or grading metadata; it was restored "
                                   "from the source"))
        elif mine.source.strip() != cell.source.strip():
            flags.append(Flag(gid, "the student edited or emptied this locked cell; it was restored"))
    for step in sanitize_steps():
        nb, resources = step(config=config).preprocess(nb, resources)
    flags += [Flag(gid, "the student gave a cell a grade id that is not in the assignment; it was graded as the "
                        "student's own cell")
              for gid in resources.get("stemlab", {}).get("unknown_grade_ids", [])]
    return nb, flags


class GradingRunner:
    def __init__(self, course_root: Path, course_id: str, db_url: str, workers: int | None = None,
                 limits: Limits | None = None, limiter: LimiterFactory | None = None):
        self.course_root, self.course_id, self.db_url = course_root, course_id, db_url
        self.limiter = limiter  # the machine's cgroup limiter, from the platform
        self.workers = workers or max(1, len(os.sched_getaffinity(0)))
        self.limits = limits or Limits()
        self.layout = CourseLayout.at(course_root)
        # nbgrader's warnings for each restored cell are ours to report, as flags
        self.config = Config({"OverwriteCells": {"add_missing_cells": True, "log_level": "ERROR"}})

    def submissions(self, assignment: str, student: str | None) -> list[tuple[str, Path]]:
        return self.layout.notebooks(Step.SUBMITTED, assignment, student)

    def execute_all(self, assignment: str, cache: Path, student: str | None = None,
                    progress: Callable[[SubmissionResult, int, int], None] | None = None,
                    skip: set[str] | None = None,
                    on_start: Callable[[list[str]], None] | None = None) -> BatchSummary:
        """Run every collected submission of the assignment in the sandboxes; fill the cache.
        `on_start` hears, before any submission runs, which limits cannot be enforced here."""
        start = time.monotonic()
        todo = [(s, p) for s, p in self.submissions(assignment, student) if s not in (skip or set())]
        hidden = hidden_sets(self.layout.hidden(assignment))
        release = self.layout.folder(Step.RELEASE, assignment)
        released = {p.name: nbformat.read(p, as_version=4) for p in release.glob("*.ipynb")}  # once, not per student
        pool = SandboxPool(self.workers, self.limits, limiter=self.limiter)
        if on_start:
            on_start(pool.missing)
        results: list[SubmissionResult] = []
        try:
            def one(student_id: str, path: Path) -> SubmissionResult:
                began = time.monotonic()
                result = SubmissionResult(student_id, path.stem)
                try:
                    nb = nbformat.read(path, as_version=4)
                    resources = {"nbgrader": {"student": student_id, "assignment": assignment, "notebook": path.stem,
                                              "db_url": self.db_url}, "metadata": {"path": str(path.parent)}}
                    nb, result.flags = sanitize(nb, resources, self.config, released.get(path.name))
                    key = notebook_key(nb, student_id, path.stem)
                    sandbox = pool.acquire()
                    try:
                        executed = execute_notebook(sandbox, nb, path.parent, self.limits.cell_seconds, hidden, release)
                    finally:
                        pool.release(sandbox)
                    result.flags += read_flags(executed)
                    result.judged_in_kernel = dict(executed.metadata.get("stemlab", {}).get("judged_in_kernel", {}))
                    write_flags(executed, result.flags)
                    nbformat.write(executed, str(cache / f"{key}.ipynb"))
                except Exception as err:  # noqa: BLE001  (one submission's failure must not stop the batch)
                    result.error = f"{type(err).__name__}: {err}"
                result.seconds = time.monotonic() - began
                return result

            with ThreadPoolExecutor(max_workers=self.workers) as threads:
                futures = [threads.submit(one, s, p) for s, p in todo]
                for future in as_completed(futures):
                    results.append(future.result())
                    if progress:
                        progress(results[-1], len(results), len(todo))
        finally:
            pool.close()
        return BatchSummary(sorted(results, key=lambda r: (r.student, r.notebook)), pool.missing,
                            time.monotonic() - start)


def new_cache() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="stemlab-grading-cache-"))
    folder.chmod(0o711)
    return folder
