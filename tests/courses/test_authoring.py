"""`stemlab courses check`: a broken source notebook is named, with the cell and the fix."""

import shutil
import subprocess

import nbformat
import pytest

from courses import COURSES_ROOT
from hub_config.teaching.authoring import check_assignment, lint_notebook
from hub_config.teaching.catalog import load_catalog, load_course

from ..conftest import STEMLAB

SOURCE = COURSES_ROOT / "python-co-ban" / "source" / "bai01-bien-va-kieu-du-lieu" / "bai01.ipynb"


def test_shipped_notebooks_have_no_marker_problems():
    for course in load_catalog().courses.values():
        for assignment in course.assignments:
            for nb in assignment.notebooks:
                assert lint_notebook(nb) == [], nb


def edited(tmp_path, change):
    nb = nbformat.read(SOURCE, as_version=4)
    change(nb)
    path = tmp_path / "bai01.ipynb"
    nbformat.write(nb, path)
    return path


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.mark.parametrize("change,expected", [
    (lambda nb: setattr(cell(nb, "cau1-loi-giai"), "source", cell(nb, "cau1-loi-giai").source.replace("    ### END SOLUTION", "")),
     "bai01.ipynb, cell 8 (cau1-loi-giai): '### BEGIN SOLUTION' is never closed; add '### END SOLUTION'"),
    (lambda nb: setattr(cell(nb, "cau2-kiem-tra"), "source", cell(nb, "cau2-kiem-tra").source.replace("### END HIDDEN TESTS", "")),
     "(cau2-kiem-tra): '### BEGIN HIDDEN TESTS' is never closed"),
    (lambda nb: cell(nb, "cau3-kiem-tra").metadata["nbgrader"].update(grade_id="cau1-kiem-tra"),
     "ID 'cau1-kiem-tra' is already used by cell 9 (cau1-kiem-tra)"),
    (lambda nb: cell(nb, "cau1-kiem-tra").metadata["nbgrader"].update(locked=False),
     "(cau1-kiem-tra): test cell is not locked"),
    (lambda nb: cell(nb, "cau2-kiem-tra").metadata["nbgrader"].update(points=0),
     "(cau2-kiem-tra): graded cell without positive points"),
    # a student who fails a test must read what was checked, in both languages
    (lambda nb: setattr(cell(nb, "cau1-kiem-tra"), "source", cell(nb, "cau1-kiem-tra").source
                        + "\nassert chu_vi_hinh_chu_nhat(2, 2) == 8"),
     "(cau1-kiem-tra), line 19: `assert chu_vi_hinh_chu_nhat(2, 2) == 8` has no message"),
    (lambda nb: setattr(cell(nb, "cau1-kiem-tra"), "source", cell(nb, "cau1-kiem-tra").source
                        + "\n### BEGIN HIDDEN TESTS\nassert chu_vi_hinh_chu_nhat(3, 1) == 8, 'phải bằng 8'\n### END HIDDEN TESTS"),
     "the message of `assert chu_vi_hinh_chu_nhat(3, 1) == 8, 'phải bằng 8'` is not in both languages"),
    (lambda nb: setattr(cell(nb, "cau1-kiem-tra"), "source", cell(nb, "cau1-kiem-tra").source
                        + "\n### BEGIN HIDDEN TESTS\nkq = chu_vi_hinh_chu_nhat(3, 1)\n"
                          "assert kq == 8, f'phải bằng 8, nhận được {kq}'\n### END HIDDEN TESTS"),
     "the message of `assert kq == 8, f'phải bằng 8, nhận được {kq}'` is not in both languages"),
])
def test_each_broken_marker_is_named_with_its_fix(tmp_path, change, expected):
    problems = lint_notebook(edited(tmp_path, change))
    assert any(expected in p for p in problems), problems


def test_not_json_is_named(tmp_path):
    path = tmp_path / "bai01.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    assert "not a notebook (not valid JSON" in lint_notebook(path)[0]


def test_check_command_reports_the_broken_notebook_and_leaves_others_alone(tmp_path, monkeypatch):
    courses = tmp_path / "courses"
    shutil.copytree(COURSES_ROOT / "python-co-ban", courses / "python-co-ban")
    broken = courses / "python-co-ban" / "source" / "bai01-bien-va-kieu-du-lieu" / "bai01.ipynb"
    text = broken.read_text(encoding="utf-8").replace("### END SOLUTION", "", 1)
    broken.write_text(text, encoding="utf-8")
    course = load_course(courses / "python-co-ban")
    problems = check_assignment(course, course.assignments[0])
    assert problems and "never closed" in problems[0]
    # the real catalogue is untouched and still checks clean
    result = subprocess.run([STEMLAB, "courses", "check", "python-co-ban"], capture_output=True, text=True,
                            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and "OK" in result.stdout
