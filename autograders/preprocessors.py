"""nbgrader preprocessors of ours, named in each offering's nbgrader config:

- `SandboxedExecute` replaces nbgrader's `Execute` in `Autograde.autograde_preprocessors`: the
  notebook runs in the grading sandbox (autograders/sandbox.py, autograders/execute.py). When
  the grading runner has already run it (in parallel), the result is taken from its cache.
- `RecordFlags` comes after `SaveAutoGrades`: what the sandbox flagged (a deleted test cell, a
  kernel that died, builtins replaced, ...) becomes a comment on the cell in the gradebook and
  marks it for the teacher's review, so a flag is seen in the formgrader and in the export.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Type

from .flags import Flag, read_flags
from .errors import CannotIsolate, OutsideTheRunner

CACHE_ENV = "STEMLAB_GRADING_CACHE"
STRICT_ENV = "STEMLAB_GRADING_STRICT"  # set by the runner: never execute outside its sandboxes
FLAG_PREFIX = "⚑ STEM-Lab Hub: "


def notebook_key(nb: Any, student: str, notebook: str) -> str:
    """Whose run it is and what decides its outcome: the cells' types and sources, in order.
    (Two students with the same code are two runs: each has its own flags.)"""
    digest = hashlib.sha256(f"{student}\0{notebook}\0".encode())
    for cell in nb.cells:
        digest.update(cell.cell_type.encode() + b"\0" + cell.source.encode("utf-8") + b"\0\0")
    return digest.hexdigest()


class SandboxedExecute(NbGraderPreprocessor):
    timeout = Integer(30, help="Seconds a cell may run before it is interrupted.").tag(config=True)
    wall_seconds = Float(600, help="Seconds a whole notebook may run.").tag(config=True)
    unconfined_ok = Bool(True, help="Run students' code even where the sandbox cannot give it an account of its "
                                    "own (not root). Off in production, where this process is the grader account, "
                                    "which owns the gradebook.").tag(config=True)
    limiter_class = Type(None, klass=object, allow_none=True,
                         help="The machine's cgroup limiter (memory and CPU per sandbox), by import name: the "
                              "platform's is hub_config.system.limits.CgroupLimiter. None: no such limits.").tag(config=True)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        executed = self._from_cache(nb, resources["nbgrader"]["student"], resources["nbgrader"]["notebook"])
        if executed is None:
            if os.environ.get(STRICT_ENV):
                raise OutsideTheRunner()
            executed = self._run_now(nb, resources)
        for cell, done in zip(nb.cells, executed.cells):
            if cell.cell_type == "code":
                cell.outputs = done.get("outputs", [])
                cell.execution_count = done.get("execution_count")
        resources.setdefault("stemlab", {})["flags"] = read_flags(executed)
        return nb, resources

    def _from_cache(self, nb: Any, student: str, notebook: str) -> Any | None:
        folder = os.environ.get(CACHE_ENV)
        if not folder:
            return None
        path = Path(folder) / f"{notebook_key(nb, student, notebook)}.ipynb"
        return nbformat.read(path, as_version=4) if path.exists() else None

    def _run_now(self, nb: Any, resources: dict[str, Any]) -> Any:
        from .notebook_run import execute_notebook
        from .course_layout import CourseLayout, Step
        from .model import hidden_sets
        from .limits import Limits
        from .sandbox import SandboxPool

        limiter: Any = self.limiter_class  # a class, called to make the limiter
        pool = SandboxPool(1, Limits(wall_seconds=self.wall_seconds), limiter=limiter)
        try:
            if not pool.as_root and not self.unconfined_ok:
                raise CannotIsolate()
            if pool.missing:
                self.log.warning("Grading sandbox: cannot enforce %s", "; ".join(pool.missing))
            sandbox = pool.acquire()
            folder = Path(resources.get("metadata", {}).get("path", ".")).resolve()
            layout = CourseLayout.from_config(self.config)  # the course nbgrader's autograde runs in
            assignment = resources["nbgrader"]["assignment"]
            hidden = hidden_sets(layout.hidden(assignment))
            return execute_notebook(sandbox, nb, folder, self.timeout, hidden, layout.folder(Step.RELEASE, assignment))
        finally:
            pool.close()


_GRADE_IDS: dict[tuple[str, str, str], tuple[float, frozenset[str]]] = {}


def _grade_ids(db_url: str, assignment: str, notebook: str) -> frozenset[str]:
    """The assignment's cell ids. Read once a minute, not once per notebook (each Gradebook is a
    new database engine, which costs a batch seconds); a long-running formgrader sees an
    assignment generated anew within the minute."""
    key = (db_url, assignment, notebook)
    cached = _GRADE_IDS.get(key)
    if cached and time.monotonic() - cached[0] < 60:
        return cached[1]
    with Gradebook(db_url) as gb:
        ids = frozenset(cell.name for cell in gb.find_notebook(notebook, assignment).source_cells)
    _GRADE_IDS[key] = (time.monotonic(), ids)
    return ids


class ForgetUnknownGradeIds(NbGraderPreprocessor):
    """A cell whose grade id the assignment does not have (a student renamed one) stops nbgrader's
    sanitizing for the whole notebook. Such a cell is graded as the student's own; the test cell
    it was is then missing, and nbgrader restores it from the gradebook."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        info = resources["nbgrader"]
        known = _grade_ids(info["db_url"], info["assignment"], info["notebook"])
        forgotten = []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is not None and meta.get("grade_id") not in known:
                del cell.metadata["nbgrader"]
                forgotten.append(str(meta.get("grade_id")))
        resources.setdefault("stemlab", {})["unknown_grade_ids"] = forgotten
        return nb, resources


def sanitize_steps() -> list[type]:
    """How a submission is sanitized before it runs: nbgrader's steps, ours first. The runner and
    `nbgrader autograde` (which finds each executed notebook by the sanitized one) use the same."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

    return [ForgetUnknownGradeIds, ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]


def import_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def autograde_config() -> dict[str, dict[str, Any]]:
    """An nbgrader config's autograde steps, as data: the sanitizing steps above, the sandboxed
    execution in place of nbgrader's `Execute`, and the flags recorded last."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades

    steps = [SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
             AssignLatePenalties, CheckCellMetadata, RecordFlags]
    return {"Autograde": {"sanitize_preprocessors": [import_name(s) for s in sanitize_steps()],
                          "autograde_preprocessors": [import_name(s) for s in steps]},
            "OverwriteCells": {"add_missing_cells": True}}


def configure_autograde(c: Any) -> None:
    """The same steps in a Python nbgrader config (`configure_autograde(c)`)."""
    for section, values in autograde_config().items():
        for key, value in values.items():
            c[section][key] = value


class RecordFlags(NbGraderPreprocessor):
    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        flags: list[Flag] = resources.get("stemlab", {}).get("flags", [])  # the runner's and the sandbox's, together
        if not flags:
            return nb, resources
        info = resources["nbgrader"]
        graded = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        # nbgrader keeps comments for answer cells only: a flag on a test cell goes on the first answer
        answers = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        with Gradebook(info["db_url"]) as gb:
            for flag in flags:
                text = FLAG_PREFIX + f"{flag.cell}: {flag.reason}"
                where = flag.cell if flag.cell in answers else (answers[0] if answers else None)
                if where is not None:
                    try:
                        comment = gb.find_comment(where, info["notebook"], info["assignment"], info["student"])
                        comment.auto_comment = "\n".join(x for x in (comment.auto_comment, text) if x)
                    except MissingEntry:
                        pass
                if isinstance(flag.cell, str) and flag.cell in graded:
                    try:
                        gb.find_grade(flag.cell, info["notebook"], info["assignment"], info["student"]).needs_manual_grade = True
                    except MissingEntry:
                        pass
            gb.db.commit()
        return nb, resources
