"""course.toml checks: a broken course is named with its fix and never hides the others."""

import shutil

import pytest

from courses import COURSES_ROOT
from hub_config.teaching.catalog import CourseError, load_catalog, load_course
from hub_config.teaching.frameworks import FRAMEWORKS_FILE, TagKind, load_frameworks

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
    shutil.copy(FRAMEWORKS_FILE, tmp_path)
    (tmp_path / "hong").mkdir()
    (tmp_path / "hong" / "course.toml").write_text("id = [", encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert list(catalog.courses) == ["python-co-ban"]
    assert len(catalog.broken) == 1 and "not valid TOML" in str(catalog.broken[0])
    with pytest.raises(CourseError):
        catalog.course("hong")


def first_assignment_tags(course):
    text = (course / "course.toml").read_text(encoding="utf-8")
    start = text.index("[[assignments]]")
    end = text.find("[[assignments]]", start + 1)
    return text[start:end if end > 0 else len(text)]


@pytest.mark.parametrize("key,value,message", [
    ("ai_strands", '["robotics"]', "ai_strands has 'robotics', which courses/frameworks.toml does not define; "
                                   "choose from 'human-centred', 'ethics', 'techniques', 'design'"),
    ("ai_level", '"university"', "ai_level has 'university'"),
    ("digital_domains", "[]", "name at least one TT 02/2025 digital competence domain"),
    ("ai_strands", None, "name the QĐ 3439 strands it builds"),
    ("ai_level", None, "name the QĐ 3439 level it is written for"),
])
def test_each_framework_tag_is_checked_against_the_vocabulary(course_copy, key, value, message):
    block = first_assignment_tags(course_copy)
    line = next(x for x in block.splitlines() if x.startswith(key + " ="))
    rewrite(course_copy, block, block.replace(line + "\n", "" if value is None else f"{key} = {value}\n"))
    with pytest.raises(CourseError) as err:
        load_course(course_copy)
    assert message in str(err.value)


def test_every_tag_means_something_in_both_languages():
    frameworks = load_frameworks()
    assert [t.code for t in frameworks.of(TagKind.AI_STRAND)] == ["human-centred", "ethics", "techniques", "design"]
    assert [t.code for t in frameworks.of(TagKind.AI_LEVEL)] == ["primary", "lower-secondary", "upper-secondary"]
    assert len(frameworks.of(TagKind.DIGITAL_DOMAIN)) == 6
    for tag in frameworks.tags:
        assert tag.name.vi and tag.name.en and tag.meaning.vi and tag.meaning.en, tag


def test_a_broken_frameworks_file_is_named_and_every_course_says_its_tags_are_unknown(tmp_path):
    shutil.copytree(GOOD, tmp_path / "python-co-ban")
    (tmp_path / "frameworks.toml").write_text("[ai_strands.ethics]\nname.vi = \"Đạo đức AI\"\n", encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert not catalog.courses
    messages = [str(e) for e in catalog.broken]
    assert str(tmp_path / "frameworks.toml") in messages[0] and "ai_strands.ethics.name needs both languages" in messages[0]
    assert "which courses/frameworks.toml does not define" in messages[1]


def test_a_catalogue_without_its_own_frameworks_file_is_tagged_against_the_national_ones(tmp_path):
    shutil.copytree(GOOD, tmp_path / "python-co-ban")
    catalog = load_catalog(tmp_path)
    assert not catalog.broken and list(catalog.courses) == ["python-co-ban"]
    assert catalog.frameworks.tag(TagKind.AI_STRAND, "ethics") is not None
