"""What a course, and a class's released work, covers of the frameworks (QĐ 3439, TT 02/2025)."""

from hub_config.teaching.catalog import load_catalog
from hub_config.teaching.coverage import coverage
from hub_config.teaching.frameworks import TagKind

CATALOG = load_catalog()


def test_every_assignment_names_its_level_and_a_digital_domain():
    for course in CATALOG.courses.values():
        for a in course.assignments:
            assert a.tags.ai_level and a.tags.digital_domains, f"{course.id}/{a.id}"


def test_a_course_covers_what_its_assignments_build_and_a_class_what_it_was_given():
    course = CATALOG.course("nhap-mon-ai")
    whole = coverage(course, CATALOG.frameworks)
    for row in whole.rows:
        assert row.in_course == row.released == tuple(a for a in course.assignments
                                                      if row.tag.code in a.tags.codes(row.tag.kind))
    first = course.assignments[0]
    given = coverage(course, CATALOG.frameworks, {first.id})
    for row in given.rows:
        assert row.covered == (row.tag.code in first.tags.codes(row.tag.kind)), row.tag.code
    assert given.covered(TagKind.AI_STRAND) == len(set(first.tags.ai_strands))
    nothing = coverage(course, CATALOG.frameworks, set())
    assert nothing.covered(TagKind.AI_STRAND) == nothing.covered(TagKind.DIGITAL_DOMAIN) == 0
    assert {t.code for t in whole.levels} == {a.tags.ai_level for a in course.assignments}


def test_the_catalogue_builds_every_strand_and_domain_somewhere():
    for kind in (TagKind.AI_STRAND, TagKind.DIGITAL_DOMAIN):
        built = {code for c in CATALOG.courses.values() for a in c.assignments for code in a.tags.codes(kind)}
        missing = {t.code for t in CATALOG.frameworks.of(kind)} - built
        assert not missing, f"no assignment builds {sorted(missing)}"
