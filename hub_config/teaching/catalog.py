"""The course catalogue: `courses/<course>/course.toml` and its source assignments.

A course folder is content only; this module reads and checks it. Every problem names the
file and says how to fix it, and one broken course never hides the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from courses import COURSES_ROOT

from hub_config.site.errors import StemlabError
from hub_config.teaching.course_files import Bilingual, CourseError, read_bilingual, read_toml
from hub_config.teaching.frameworks import FRAMEWORKS_FILE, FrameworkTags, Frameworks, load_frameworks, read_tags

COURSE_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
ASSIGNMENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,60}$")
TRACKS = ("school", "stem-club", "workforce", "civil-service")


@dataclass(frozen=True)
class Assignment:
    id: str
    title: Bilingual
    points: float
    source_dir: Path
    tags: FrameworkTags

    @property
    def notebooks(self) -> list[Path]:
        return sorted(self.source_dir.glob("*.ipynb"))


@dataclass(frozen=True)
class Course:
    id: str
    title: Bilingual
    track: str
    audience: Bilingual
    grade_level: int | None
    kits: tuple[str, ...]
    assignments: tuple[Assignment, ...]
    root: Path

    def assignment(self, assignment_id: str) -> Assignment:
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        known = ", ".join(a.id for a in self.assignments)
        raise StemlabError(f"Khóa học {self.id} không có bài tập {assignment_id!r}; các bài hiện có: {known}",
                           f"Course {self.id} has no assignment {assignment_id!r}; it has: {known}")


@dataclass
class Catalog:
    courses: dict[str, Course] = field(default_factory=dict)
    broken: list[CourseError] = field(default_factory=list)
    frameworks: Frameworks = field(default_factory=lambda: Frameworks(()))

    def course(self, course_id: str) -> Course:
        if course_id in self.courses:
            return self.courses[course_id]
        for err in self.broken:
            if err.path.parent.name == course_id:
                raise err
        raise StemlabError(f"Không có khóa học {course_id!r}; "
                           f"các khóa học: {', '.join(sorted(self.courses)) or '(chưa có)'}",
                           f"No course {course_id!r}; courses: {', '.join(sorted(self.courses)) or '(none)'}")


def load_course(folder: Path, frameworks: Frameworks | None = None) -> Course:
    """The course in `folder`, its assignments' tags checked against `frameworks` (by default the
    catalogue's courses/frameworks.toml)."""
    path = folder / "course.toml"
    frameworks = frameworks or load_frameworks()
    data = read_toml(path, "every course folder needs a course.toml")
    problems: list[str] = []
    known = {"id", "title", "track", "audience", "grade_level", "kits", "assignments"}
    for key in sorted(set(data) - known):
        problems.append(f"unknown key {key!r}; known keys: {', '.join(sorted(known))}")
    course_id = data.get("id")
    if not isinstance(course_id, str) or not COURSE_ID.match(course_id):
        problems.append("id must be lower-case letters, digits and '-', e.g. id = \"python-co-ban\"")
    elif course_id != folder.name:
        problems.append(f"id {course_id!r} must equal the folder name {folder.name!r}")
    title = read_bilingual(data.get("title"), "title", problems)
    audience = read_bilingual(data.get("audience"), "audience", problems)
    track = data.get("track")
    if track not in TRACKS:
        problems.append(f"track must be one of {', '.join(TRACKS)} (found {track!r})")
    grade_level = data.get("grade_level")
    if grade_level is not None and not (isinstance(grade_level, int) and 1 <= grade_level <= 12):
        problems.append("grade_level, when given, is a school grade from 1 to 12")
    kits = data.get("kits", [])
    if not isinstance(kits, list) or not all(isinstance(k, str) for k in kits):
        problems.append('kits is a list of kit names, e.g. kits = ["yolobit"]')
        kits = []
    assignments = []
    raw_assignments = data.get("assignments")
    if not isinstance(raw_assignments, list) or not raw_assignments:
        problems.append("no assignments: add one [[assignments]] table per assignment, in teaching order")
        raw_assignments = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_assignments, start=1):
        where = f"assignment {index}"
        if not isinstance(raw, dict):
            problems.append(f"{where} is not a table")
            continue
        a_id = raw.get("id")
        if not isinstance(a_id, str) or not ASSIGNMENT_ID.match(a_id):
            problems.append(f"{where}: id must be lower-case letters, digits and '-', e.g. \"bai01-bien\"")
            continue
        if a_id in seen:
            problems.append(f"{where}: id {a_id!r} is used twice")
        seen.add(a_id)
        a_title = read_bilingual(raw.get("title"), f"{a_id}: title", problems)
        points = raw.get("points")
        if not isinstance(points, (int, float)) or points <= 0:
            problems.append(f"{a_id}: points must be a positive number (the total of its graded cells)")
            points = 0
        source = folder / "source" / a_id
        if _has_notebooks(source) is False:
            problems.append(f"{a_id}: no notebook in {source}; put the source notebook(s) there")
        tags = read_tags(raw, a_id, frameworks, problems)
        assignments.append(Assignment(a_id, a_title, float(points), source, tags))
    if problems:
        raise CourseError(path, problems)
    assert isinstance(course_id, str) and isinstance(track, str)  # checked above
    return Course(course_id, title, track, audience, grade_level, tuple(kits), tuple(assignments), folder)


def _has_notebooks(source: Path) -> bool | None:
    """None when the sources are closed to this account (root and graders only, as production and
    a root-run demo leave them): their titles and points still load, their notebooks are not ours
    to check."""
    try:
        return any(source.glob("*.ipynb"))
    except PermissionError:
        return None


def load_catalog(root: Path = COURSES_ROOT) -> Catalog:
    catalog = Catalog()
    own = root / FRAMEWORKS_FILE.name
    try:
        # A school's own catalogue is tagged against the national frameworks unless it brings its own.
        catalog.frameworks = load_frameworks(own if own.exists() else FRAMEWORKS_FILE)
    except CourseError as err:
        catalog.broken.append(err)  # every course's tags are then unknown: each course says so too
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        try:
            course = load_course(folder, catalog.frameworks)
        except CourseError as err:
            catalog.broken.append(err)
        else:
            catalog.courses[course.id] = course
    return catalog
