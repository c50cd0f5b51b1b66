"""The competence frameworks every assignment is tagged against (courses/frameworks.toml): the
Ministry's AI-education framework (QĐ 3439/QĐ-BGDĐT: four strands at three school levels) and the
learners' digital competence framework (TT 02/2025/TT-BGDĐT: six domains).

The vocabulary lives in one content file, beside the courses, so the meaning of a tag is read where
a course author writes it; this module reads it, and reads an assignment's tags against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from courses import COURSES_ROOT

from hub_config.teaching.course_files import Bilingual, CourseError, read_bilingual, read_toml

FRAMEWORKS_FILE = COURSES_ROOT / "frameworks.toml"


class TagKind(StrEnum):
    """A family of tags; its value is both the table in frameworks.toml and the key an assignment
    names its tags with in course.toml (the level is one value, the others lists)."""

    AI_STRAND = "ai_strands"
    AI_LEVEL = "ai_levels"
    DIGITAL_DOMAIN = "digital_domains"

    @property
    def assignment_key(self) -> str:
        return "ai_level" if self is TagKind.AI_LEVEL else self.value

    @property
    def heading(self) -> Bilingual:
        return {
            TagKind.AI_STRAND: Bilingual("Mạch kiến thức AI (QĐ 3439/QĐ-BGDĐT)", "AI strands (QĐ 3439/QĐ-BGDĐT)"),
            TagKind.AI_LEVEL: Bilingual("Cấp học (QĐ 3439/QĐ-BGDĐT)", "School level (QĐ 3439/QĐ-BGDĐT)"),
            TagKind.DIGITAL_DOMAIN: Bilingual("Năng lực số (TT 02/2025/TT-BGDĐT)",
                                              "Digital competence (TT 02/2025/TT-BGDĐT)"),
        }[self]


@dataclass(frozen=True)
class Tag:
    kind: TagKind
    code: str
    name: Bilingual
    meaning: Bilingual


@dataclass(frozen=True)
class Frameworks:
    tags: tuple[Tag, ...]

    def of(self, kind: TagKind) -> tuple[Tag, ...]:
        return tuple(t for t in self.tags if t.kind is kind)

    def tag(self, kind: TagKind, code: str) -> Tag | None:
        return next((t for t in self.tags if t.kind is kind and t.code == code), None)


@dataclass(frozen=True)
class FrameworkTags:
    """What one assignment builds, by the frameworks' codes (checked against the vocabulary)."""

    ai_strands: tuple[str, ...]
    ai_level: str
    digital_domains: tuple[str, ...]

    def codes(self, kind: TagKind) -> tuple[str, ...]:
        if kind is TagKind.AI_LEVEL:
            return (self.ai_level,)
        return self.ai_strands if kind is TagKind.AI_STRAND else self.digital_domains


def load_frameworks(path: Path = FRAMEWORKS_FILE) -> Frameworks:
    data = read_toml(path, "the frameworks' tags (courses/frameworks.toml) are part of the course catalogue")
    problems: list[str] = []
    tags: list[Tag] = []
    for key in sorted(set(data) - {k.value for k in TagKind}):
        problems.append(f"unknown table {key!r}; known: {', '.join(k.value for k in TagKind)}")
    for kind in TagKind:
        table = data.get(kind.value)
        if not isinstance(table, dict) or not table:
            problems.append(f"[{kind.value}.<code>] tables are missing: each tag needs name.vi/en and meaning.vi/en")
            continue
        for code, entry in table.items():
            where = f"{kind.value}.{code}"
            entry = entry if isinstance(entry, dict) else {}
            tags.append(Tag(kind, code, read_bilingual(entry.get("name"), f"{where}.name", problems),
                            read_bilingual(entry.get("meaning"), f"{where}.meaning", problems)))
    if problems:
        raise CourseError(path, problems)
    return Frameworks(tuple(tags))


def read_tags(raw: dict[str, Any], where: str, frameworks: Frameworks, problems: list[str]) -> FrameworkTags:
    """An assignment's tags from its course.toml table; each unknown or missing one is a problem
    that names the codes to choose from."""

    def known(kind: TagKind) -> str:
        codes = ", ".join(repr(t.code) for t in frameworks.of(kind))
        return codes or "the tags of frameworks.toml, which did not load (see its error)"

    def checked(kind: TagKind, codes: list[Any]) -> tuple[str, ...]:
        for code in codes:
            if not isinstance(code, str) or frameworks.tag(kind, code) is None:
                problems.append(f"{where}: {kind.assignment_key} has {code!r}, which courses/frameworks.toml does "
                                f"not define; choose from {known(kind)}")
        return tuple(c for c in codes if isinstance(c, str))

    strands = raw.get(TagKind.AI_STRAND.assignment_key)
    if not isinstance(strands, list):
        problems.append(f"{where}: name the QĐ 3439 strands it builds, e.g. ai_strands = [\"techniques\"] "
                        f"(or [] for none); choose from {known(TagKind.AI_STRAND)}")
        strands = []
    level = raw.get(TagKind.AI_LEVEL.assignment_key)
    if not isinstance(level, str):
        problems.append(f"{where}: name the QĐ 3439 level it is written for, e.g. ai_level = \"upper-secondary\"; "
                        f"choose from {known(TagKind.AI_LEVEL)}")
        level = ""
    else:
        checked(TagKind.AI_LEVEL, [level])
    domains = raw.get(TagKind.DIGITAL_DOMAIN.assignment_key)
    if not isinstance(domains, list) or not domains:
        problems.append(f"{where}: name at least one TT 02/2025 digital competence domain it builds, e.g. "
                        f"digital_domains = [\"problem-solving\"]; choose from {known(TagKind.DIGITAL_DOMAIN)}")
        domains = []
    return FrameworkTags(checked(TagKind.AI_STRAND, strands), level, checked(TagKind.DIGITAL_DOMAIN, domains))
