"""The four roles a roster gives a person, and what each is called in a login and a roster."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Stored by its value in the accounts table (`stemlab_accounts.role`)."""

    STUDENT = "student"
    TEACHER = "teacher"
    TECHNICIAN = "technician"
    ADMIN = "admin"

    @property
    def login_prefix(self) -> str:
        """A login's first letters: học sinh, giáo viên, kỹ thuật viên, quản trị."""
        return {Role.STUDENT: "hs", Role.TEACHER: "gv", Role.TECHNICIAN: "kt", Role.ADMIN: "qt"}[self]


# How a roster may spell each role (compared without accents, case or punctuation)
ROLE_ALIASES: dict[Role, list[str]] = {
    Role.STUDENT: ["student", "hoc sinh", "hs", "hoc vien", "trainee"],
    Role.TEACHER: ["teacher", "giao vien", "gv"],
    Role.TECHNICIAN: ["technician", "ky thuat vien", "ktv", "kt"],
    Role.ADMIN: ["admin", "quan tri", "qt", "quan tri vien"],
}
