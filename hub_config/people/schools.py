"""Schools on one platform: a class is known by its school and its name, so that two schools'
10A1 never meet (not in a group, a teacher's role, an offering or a password sheet).

The site's own school (the single-school default: `[school] name` in stemlab.toml) has the empty
code, and its classes keep the names they always had (group `class-10a1`, offering
`python-co-ban-10a1-2025-2026`). Another school's class adds its code after a dot, which neither
a class's slug nor a school code contains, so no two classes can share a name:
`class-10a1.thpt-quy-nhon`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub_config.people.logins import ascii_fold, class_group
from hub_config.site.errors import StemlabError

SITE_SCHOOL = ""
SCHOOL_CODE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def school_code(text: str) -> str:
    """A school's code as a roster may write it ('THPT Quy Nhơn', 'thpt_quy_nhon', 'QN-01'):
    lower case, no accents, words joined by '-'. A ValueError says what is wrong."""
    code = re.sub(r"[^a-z0-9]+", "-", ascii_fold(text.strip()).lower()).strip("-")
    if not SCHOOL_CODE.match(code):
        raise ValueError(f"{text!r} is not a school code: use letters and digits, e.g. 'thpt-quy-nhon' "
                         "(at most 40 characters)")
    return code


def school_option(text: str) -> str:
    """A `--school` given on the command line, as a code; a StemlabError says how to write one."""
    try:
        return school_code(text)
    except ValueError as err:
        raise StemlabError(f"--school {text!r}: không phải mã trường (chữ và số, ví dụ thpt-quy-nhon).",
                           str(err)) from None


@dataclass(frozen=True, order=True)
class ClassRef:
    """One school's class: `school` is the school's code (SITE_SCHOOL for the site's own)."""

    school: str
    name: str

    @property
    def group(self) -> str:
        """The class's JupyterHub group, its unique name on the platform."""
        base = class_group(self.name)
        return f"{base}.{self.school}" if self.school else base

    @property
    def slug(self) -> str:
        """The class in an offering's id and a password sheet's name."""
        return self.group.removeprefix("class-")

    @property
    def key(self) -> str:
        """The class in a page's URL or form: its name, and '@' and its school's code for another
        school's ('10A1', '10A1@thpt-quy-nhon')."""
        return f"{self.name}@{self.school}" if self.school else self.name

    @classmethod
    def from_key(cls, key: str) -> "ClassRef":
        name, _, school = key.partition("@")
        return cls(school, name)

    def __str__(self) -> str:
        return f"{self.name} ({self.school})" if self.school else self.name
