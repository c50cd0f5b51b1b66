"""What the grading tests share: a site with a roster (as root), submissions written as nbgrader
collects them, and each student's autograded score with the runner's flags."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograders.preprocessors import FLAG_PREFIX
from hub_config.people.roster_import import apply_roster
from hub_config.site.paths import DataDir
from hub_config.people.roster import parse_roster

from ..conftest import FILES


def grading_site(root: Path) -> tuple[DataDir, str]:
    """A data folder with two classes enrolled; the grading sandbox needs root."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root; the grading sandbox tests must run there")
        pytest.skip("the grading sandbox needs root")
    data = DataDir(root / "var").ensure()
    url = f"sqlite:///{data.hub_db}"
    apply_roster(data, url, parse_roster(FILES / "two_classes.csv"))
    return data, url


def write_submission(offering, assignment: str, student: str, notebook: str, nb) -> None:  # type: ignore[no-untyped-def]
    folder = offering.root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / notebook))
    (folder / "timestamp.txt").write_text("2025-10-01 08:00:00.000000 UTC")


def scores_and_flags(offering, assignment: str) -> dict[str, tuple[float, list[str]]]:  # type: ignore[no-untyped-def]
    out = {}
    with Gradebook(offering.gradebook_url, course_id=offering.id) as gb:
        for submission in gb.assignment_submissions(assignment):
            comments = [c.auto_comment or "" for nb in submission.notebooks for c in nb.comments]
            out[submission.student.id] = (submission.code_score, [c for c in comments if FLAG_PREFIX in c])
    return out
