"""An nbgrader course's layout from nbgrader's own CourseDirectory (autograders/course_layout.py):
the runner, the preprocessors and the hub find each step's files through it, so a course that
renames nbgrader's folders is still found."""

from __future__ import annotations

from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from autograders.course_layout import CourseLayout, Step


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def test_each_students_notebooks_are_found_with_their_owner(tmp_path):
    layout = CourseLayout.at(tmp_path)
    a = touch(tmp_path / "submitted" / "hs-an" / "bai01" / "bai01.ipynb")
    b = touch(tmp_path / "submitted" / "hs-binh" / "bai01" / "bai01.ipynb")
    touch(tmp_path / "submitted" / "hs-binh" / "bai02" / "bai02.ipynb")
    touch(tmp_path / "release" / "bai01" / "bai01.ipynb")
    assert layout.notebooks(Step.SUBMITTED, "bai01") == [("hs-an", a), ("hs-binh", b)]
    assert layout.notebooks(Step.SUBMITTED, "bai01", "hs-binh") == [("hs-binh", b)]
    assert layout.notebooks(Step.SUBMITTED, "bai0?") == [], "an assignment name is a name, not a pattern"
    assert layout.folder(Step.RELEASE, "bai01").resolve() == (tmp_path / "release" / "bai01").resolve()
    assert layout.assignments(Step.RELEASE) == ["bai01"]
    assert len(layout.submission_folders()) == 3


def test_a_course_with_its_own_folder_names_is_followed(tmp_path):
    config = Config({"CourseDirectory": {"root": str(tmp_path), "submitted_directory": "nop-bai"}})
    layout = CourseLayout.from_config(config)
    nb = touch(tmp_path / "nop-bai" / "hs-an" / "bai01" / "bai01.ipynb")
    touch(tmp_path / "submitted" / "hs-binh" / "bai01" / "bai01.ipynb")  # not this course's layout
    assert layout.notebooks(Step.SUBMITTED, "bai01") == [("hs-an", nb)]
    assert isinstance(layout.coursedir, CourseDirectory) and layout.root == tmp_path


def test_hidden_data_sits_beside_the_course_sources_an_offering_links_to(tmp_path):
    course = tmp_path / "courses" / "python"
    (course / "source").mkdir(parents=True)
    offering = tmp_path / "offering"
    offering.mkdir()
    (offering / "source").symlink_to(course / "source", target_is_directory=True)
    assert CourseLayout.at(offering).hidden("bai01") == course.resolve() / "hidden" / "bai01"
