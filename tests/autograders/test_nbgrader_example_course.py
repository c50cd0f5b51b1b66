"""nbgrader's own documented example course (its user guide's `ps1`, with the submissions of
`bitdiddle` and `hacker`, written as an older nbgrader wrote them: no `cell_type` in their cells'
metadata), graded by plain `nbgrader autograde` and by our runner in the same run: every notebook's
score is the same; the only flags are for what bitdiddle really did (commented out one test cell and
emptied another, which nbgrader restores), none for the older metadata; and nbgrader's test that deletes the student's
`squares` is judged in the student's kernel, as plain nbgrader would, and said so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbgrader
import pytest
from nbgrader.api import Gradebook

from autograders.preprocessors import CACHE_ENV, STRICT_ENV
from autograders.runner import GradingRunner, new_cache
from hub_config.system.environment import tools_on_path
from hub_config.system.limits import CgroupLimiter

pytestmark = [pytest.mark.root, pytest.mark.timeout(600)]
GUIDE = Path(nbgrader.__file__).parent / "docs" / "source" / "user_guide"
STUDENTS = ("bitdiddle", "hacker")


def run_nbgrader(course: Path, *args: str, env: dict | None = None) -> None:
    tools_on_path()  # nbgrader creates gradebooks by running `alembic`
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                            cwd=course, capture_output=True, text=True, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def course_copy(base: Path, name: str, ours: bool) -> Path:
    course = base / name
    shutil.copytree(GUIDE / "source", course / "source")
    config = ("c = get_config()\nc.CourseDirectory.course_id = 'example'\n"
              f"c.CourseDirectory.db_url = 'sqlite:///{course / 'gradebook.db'}'\n")
    if ours:
        config += "from autograders.preprocessors import configure_autograde\nconfigure_autograde(c)\n"
    (course / "nbgrader_config.py").write_text(config, encoding="utf-8")
    run_nbgrader(course, "generate_assignment", "ps1", "--force")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="example") as gb:
        for student in STUDENTS:
            gb.update_or_create_student(student)
            target = course / "submitted" / student / "ps1"
            shutil.copytree(GUIDE / "submitted" / student / "ps1", target)
            for path in target.glob("*.ipynb"):  # as nbgrader before 0.9 wrote them
                nb = json.loads(path.read_text(encoding="utf-8"))
                for cell in nb["cells"]:
                    cell.get("metadata", {}).get("nbgrader", {}).pop("cell_type", None)
                path.write_text(json.dumps(nb), encoding="utf-8")
    return course


def scores(course: Path) -> dict[tuple[str, str], float]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="example") as gb:
        return {(s.student.id, nb.name): nb.score for s in gb.assignment_submissions("ps1") for nb in s.notebooks}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the grading sandbox needs root")
    base = tmp_path_factory.mktemp("example")
    base.chmod(0o755)
    plain = course_copy(base, "plain", ours=False)
    run_nbgrader(plain, "autograde", "ps1", "--force")
    ours = course_copy(base, "ours", ours=True)
    cache = new_cache()
    try:
        summary = GradingRunner(ours, "example", f"sqlite:///{ours / 'gradebook.db'}", workers=2,
                                limiter=CgroupLimiter).execute_all("ps1", cache)
        run_nbgrader(ours, "autograde", "ps1", "--force", env={CACHE_ENV: str(cache), STRICT_ENV: "1"})
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return scores(plain), scores(ours), summary


def test_every_notebook_scores_as_with_plain_nbgrader_and_only_a_real_edit_is_flagged(graded):
    theirs, ours, summary = graded
    assert len(ours) == 2 * len(STUDENTS) and ours == theirs
    assert not summary.failed
    flags = {(r.student, r.notebook, f.cell, f.reason.split(";")[0]) for r in summary.results for f in r.flags}
    edited = "the student edited or emptied this locked cell"  # bitdiddle commented one out, emptied the other
    assert flags == {("bitdiddle", "problem1", "correct_squares", edited),
                     ("bitdiddle", "problem1", "squares_invalid_input", edited)}


def test_the_test_that_deletes_the_students_function_is_judged_in_its_kernel_and_said_so(graded):
    *_, summary = graded
    assert set(summary.judged_in_kernel) == {("problem1", "sum_of_squares_uses_squares")}
