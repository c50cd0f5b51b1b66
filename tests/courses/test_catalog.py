"""course.toml checks: a broken course is named with its fix and never hides the others."""

import shutil

import pytest

from courses import COURSES_ROOT
from hub_config.teaching.catalog import CourseError, load_catalog, load_course

GOOD = COURSES_ROOT / "python-co-ban"


@pytest.fixture
def course_copy(tmp_path):
    target = tmp_path / "python-co-ban"
    shutil.copytree(GOOD, target)
    return target


def rewrite(course, old, new):
    path = course / "course.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_good_course_loads():
    course = load_course(GOOD)
    assert course.title.vi == "Lập trình Python cơ bản" and course.grade_level == 10
    assert course.assignments[0].notebooks


@pytest.mark.parametrize("old,new,message", [
    ('title.en = "Basic Python programming"\n', "", "title needs both languages"),
    ('track = "school"', 'track = "university"', "track must be one of"),
    ("points = 10", "points = 0", "points must be a positive number"),
    ('id = "bai01-bien-va-kieu-du-lieu"', 'id = "bai99-khong-co"', "no notebook in"),
    ('id = "python-co-ban"', 'id = "python"', "must equal the folder name"),
    ("kits = []", "kits = []\nteacher = \"x\"", "unknown key 'teacher'"),
])
def test_each_mistake_names_the_file_and_the_fix(course_copy, old, new, message):
    rewrite(course_copy, old, new)
    with pytest.raises(CourseError) as err:
        load_course(course_copy)
    assert str(course_copy / "course.toml") in str(err.value)
    assert message in str(err.value)


def test_a_broken_course_does_not_hide_the_others(tmp_path):
    shutil.copytree(GOOD, tmp_path / "python-co-ban")
    (tmp_path / "hong").mkdir()
    (tmp_path / "hong" / "course.toml").write_text("id = [", encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert list(catalog.courses) == ["python-co-ban"]
    assert len(catalog.broken) == 1 and "not valid TOML" in str(catalog.broken[0])
    with pytest.raises(CourseError):
        catalog.course("hong")
