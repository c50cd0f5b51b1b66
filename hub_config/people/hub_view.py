"""What the JupyterHub configuration needs to know about accounts: roles per class and school."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from hub_config.people.accounts import Account, open_session
from hub_config.people.roles import Role
from hub_config.people.schools import SITE_SCHOOL, ClassRef


@dataclass
class HubView:
    """What the JupyterHub configuration needs to know about accounts."""

    users: set[str]
    admins: set[str]
    students: set[str]
    roles: list[dict]
    display_names: dict[str, str]
    role_of: dict[str, str] = field(default_factory=dict)


KITS_MANAGE_SCOPE = "custom:stemlab-kits:manage"
TEACHER_SCOPES = (
    KITS_MANAGE_SCOPE,  # a teacher takes a kit back from a student
    "list:users!group={g}",
    "read:users!group={g}",
    "servers!group={g}",
    "access:servers!group={g}",
    "read:groups!group={g}",
)


def hub_view(database_url: str) -> HubView:
    """One pass over the accounts, read as plain rows: a province's 100,000 in about a second."""
    session = open_session(database_url)
    try:
        rows = session.execute(select(Account.login, Account.full_name, Account.role, Account.classes,
                                      Account.school)).all()
    finally:
        session.close()
    teachers_of: dict[str, list[str]] = {}
    technicians: list[str] = []
    school_admins: dict[str, list[str]] = {}
    groups_of_school: dict[str, set[str]] = {}
    view = HubView(users=set(), admins=set(), students=set(), roles=[], display_names={})
    for login, full_name, role, classes, school in rows:
        school = school or SITE_SCHOOL
        view.users.add(login)
        view.display_names[login] = full_name
        view.role_of[login] = role
        groups = [ClassRef(school, c).group for c in classes.split(";") if c]
        groups_of_school.setdefault(school, set()).update(groups)
        if role == Role.STUDENT:
            view.students.add(login)
        elif role == Role.TEACHER:
            for group in groups:
                teachers_of.setdefault(group, []).append(login)
        elif role == Role.TECHNICIAN:
            technicians.append(login)
        elif role == Role.ADMIN and school == SITE_SCHOOL:
            view.admins.add(login)
        elif role == Role.ADMIN:
            school_admins.setdefault(school, []).append(login)
    view.roles = [
        {
            "name": f"teacher-{group}",
            "description": f"Teachers of {group}: see and help the students of this class only",
            "scopes": [s.format(g=group) for s in TEACHER_SCOPES] + ["admin-ui"],
            "users": sorted(logins),
        }
        for group, logins in sorted(teachers_of.items())
    ]
    for school, logins in sorted(school_admins.items()):
        view.roles.append({
            "name": f"school-admin-{school}",
            "description": f"Admins of the school {school}: its classes' students and servers, no other school's",
            "scopes": [s.format(g=g) for g in sorted(groups_of_school.get(school, ()))
                       for s in TEACHER_SCOPES if s != KITS_MANAGE_SCOPE] + ["admin-ui"],
            "users": sorted(logins),
        })
    view.roles.append({
        "name": "technician",
        "description": "Lab technicians: manage and test the kits",
        "scopes": ["self", KITS_MANAGE_SCOPE],
        "users": sorted(technicians),
    })
    return view
