"""Benchmark: one batch of a two-notebook assignment graded by `nbgrader autograde` and by the
grading runner (sandboxed, parallel), in the same run; prints both wall times, their ratio and
whether every score matches.

Run from the project root as root (the sandbox needs it) after `make test-deps`:

    .venv/bin/python tests/bench/autograde.py [--submissions 100] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

from autograders.preprocessors import CACHE_ENV, STRICT_ENV  # noqa: E402
from autograders.runner import GradingRunner, new_cache  # noqa: E402
from hub_config.system.environment import tools_on_path  # noqa: E402
from hub_config.system.limits import CgroupLimiter  # noqa: E402

ASSIGNMENT = "ps1"
QUESTIONS = {
    "tong": ("def tong(ds):\n    ### BEGIN SOLUTION\n    t = 0\n    for x in ds:\n        t += x\n    return t\n    ### END SOLUTION",
             "assert tong([1, 2, 3]) == 6\n### BEGIN HIDDEN TESTS\nassert tong([]) == 0\n### END HIDDEN TESTS",
             ["def tong(ds):\n    return sum(ds)", "def tong(ds):\n    return 0"]),
    "dao": ("def dao(s):\n    ### BEGIN SOLUTION\n    return s[::-1]\n    ### END SOLUTION",
            "assert dao('abc') == 'cba'\n### BEGIN HIDDEN TESTS\nassert dao('') == ''\n### END HIDDEN TESTS",
            ["def dao(s):\n    return ''.join(reversed(s))", "def dao(s):\n    return s"]),
}


def meta(gid: str, **kw) -> dict:  # type: ignore[no-untyped-def]
    base = {"grade": False, "grade_id": gid, "locked": False, "schema_version": 3, "solution": False, "task": False}
    return {"nbgrader": {**base, **kw}}


def source_notebook(name: str) -> nbformat.NotebookNode:
    solution, test, _ = QUESTIONS[name]
    return new_notebook(cells=[
        new_markdown_cell(f"# {name}", metadata=meta(f"{name}-de", locked=True)),
        new_code_cell("import math", metadata=meta(f"{name}-nap", locked=True)),
        new_code_cell(solution, metadata=meta(f"{name}-loi-giai", solution=True)),
        new_code_cell(test, metadata=meta(f"{name}-kiem-tra", grade=True, locked=True, points=5)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def nbgrader(course: Path, *args: str, env: dict | None = None) -> None:
    tools_on_path()  # nbgrader creates gradebooks by running `alembic`
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                            cwd=course, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise SystemExit(result.stdout[-2000:] + result.stderr[-2000:])


def build_course(folder: Path, submissions: int) -> None:
    for name in QUESTIONS:
        path = folder / "source" / ASSIGNMENT / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_notebook(name), str(path))
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'bench'\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{folder / 'gradebook.db'}'\n", encoding="utf-8")
    nbgrader(folder, "generate_assignment", ASSIGNMENT, "--force")
    rng = random.Random(2025)
    tools_on_path()
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}", course_id="bench") as gb:
        for n in range(submissions):
            student = f"hs{n:03d}"
            gb.update_or_create_student(student)
            target = folder / "submitted" / student / ASSIGNMENT
            target.mkdir(parents=True)
            for name, (_, _, answers) in QUESTIONS.items():
                nb = nbformat.read(folder / "release" / ASSIGNMENT / f"{name}.ipynb", as_version=4)
                for cell in nb.cells:
                    if cell.metadata["nbgrader"]["grade_id"] == f"{name}-loi-giai":
                        cell.source = rng.choice(answers)
                nbformat.write(nb, str(target / f"{name}.ipynb"))
            (target / "timestamp.txt").write_text("2025-10-01 08:00:00.000000 UTC")


def scores(folder: Path) -> dict:
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}", course_id="bench") as gb:
        return {(s.student.id, nb.name): nb.score for s in gb.assignment_submissions(ASSIGNMENT) for nb in s.notebooks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="stemlab-bench-"))
    base.chmod(0o755)
    build_course(base / "template", args.submissions)
    for copy in ("nbgrader", "runner"):
        shutil.copytree(base / "template", base / copy, symlinks=True)
        config = base / copy / "nbgrader_config.py"  # each copy grades into its own gradebook
        config.write_text(config.read_text().replace(str(base / "template"), str(base / copy)), encoding="utf-8")

    start = time.monotonic()
    nbgrader(base / "nbgrader", "autograde", ASSIGNMENT, "--force")
    reference = time.monotonic() - start

    course = base / "runner"
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text() + (
        "from autograders.preprocessors import configure_autograde\nconfigure_autograde(c)\n"))
    start = time.monotonic()
    runner = GradingRunner(course, "bench", f"sqlite:///{course / 'gradebook.db'}", workers=args.workers,
                           limiter=CgroupLimiter)
    cache = new_cache()
    summary = runner.execute_all(ASSIGNMENT, cache)
    nbgrader(course, "autograde", ASSIGNMENT, "--force", env={CACHE_ENV: str(cache), STRICT_ENV: "1"})
    ours = time.monotonic() - start
    shutil.rmtree(cache, ignore_errors=True)

    theirs_scores, our_scores = scores(base / "nbgrader"), scores(course)
    same = theirs_scores == our_scores and len(our_scores) == 2 * args.submissions
    print(f"Autograde benchmark: {args.submissions} submissions × 2 notebooks, {os.cpu_count()} cores, "
          f"{runner.workers} workers")
    print(f"  nbgrader autograde : {reference:8.1f} s")
    print(f"  grading runner     : {ours:8.1f} s  (sandboxed; missing limits: {summary.missing_limits or 'none'})")
    print(f"  speed-up           : {reference / ours:8.2f}×")
    print(f"  scores identical   : {'yes' if same else 'NO'} ({len(our_scores)} notebooks, "
          f"{len(summary.failed)} failed, {len(summary.flagged)} flagged)")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
