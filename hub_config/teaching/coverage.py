"""Which strands and domains of the frameworks a course builds, and how many of them a class's
released work has built so far (`stemlab courses coverage`, the offering's page)."""

from __future__ import annotations

from dataclasses import dataclass

from hub_config.teaching.catalog import Assignment, Course
from hub_config.teaching.frameworks import Frameworks, Tag, TagKind

# The level is what an assignment is written for, not a competence it builds: it is shown, not counted.
COUNTED = (TagKind.AI_STRAND, TagKind.DIGITAL_DOMAIN)


@dataclass(frozen=True)
class TagCoverage:
    tag: Tag
    in_course: tuple[Assignment, ...]   # the course's assignments that build it
    released: tuple[Assignment, ...]    # of those, the ones released to the class (all, for a course alone)

    @property
    def covered(self) -> bool:
        return bool(self.released)


@dataclass(frozen=True)
class Coverage:
    course: Course
    released_ids: frozenset[str]
    rows: tuple[TagCoverage, ...]
    levels: tuple[Tag, ...]

    def of(self, kind: TagKind) -> tuple[TagCoverage, ...]:
        return tuple(r for r in self.rows if r.tag.kind is kind)

    def covered(self, kind: TagKind) -> int:
        return sum(r.covered for r in self.of(kind))


def coverage(course: Course, frameworks: Frameworks, released: set[str] | frozenset[str] | None = None) -> Coverage:
    """The course's coverage of every tag; with `released` (a class's released assignment IDs),
    what that class has been given so far. Tags no assignment builds are rows too: a gap is shown."""
    released_ids = frozenset(a.id for a in course.assignments) if released is None else frozenset(released)
    rows = []
    for kind in COUNTED:
        for tag in frameworks.of(kind):
            building = tuple(a for a in course.assignments if tag.code in a.tags.codes(kind))
            rows.append(TagCoverage(tag, building, tuple(a for a in building if a.id in released_ids)))
    level_codes = {a.tags.ai_level for a in course.assignments}
    levels = tuple(t for t in frameworks.of(TagKind.AI_LEVEL) if t.code in level_codes)
    return Coverage(course, released_ids, tuple(rows), levels)
