"""A roster into the hub database: accounts, first codes, JupyterHub users, their role and groups.

One import is one transaction (all of a roster lands, or none of it), made of a handful of bulk
statements whatever the roster's size: the tables are read once, the differences computed here,
and the rows written by executemany. A province's 100,000 people import in about a minute where
row-by-row ORM work and a bcrypt hash each took two hours. JupyterHub's own rows are written as
JupyterHub itself would write them (its default `user` role included), so a hub that starts on
them has nothing left to assign.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyterhub import orm as hub_orm
from jupyterhub.roles import get_default_roles
from nativeauthenticator.orm import UserInfo
from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from hub_config.people import first_codes
from hub_config.people.accounts import (Account, ImportReport, NewAccount, open_session, publish_sheets,
                                        write_password_sheets)
from hub_config.people.logins import derive_login, grade_code, id_fingerprint
from hub_config.people.roles import Role
from hub_config.people.roster import RosterEntry
from hub_config.people.schools import SITE_SCHOOL
from hub_config.people.tables import remember_school_names
from hub_config.site.errors import RosterError
from hub_config.site.journal import Operation, crash_point, noted
from hub_config.site.paths import DataDir

USERS = hub_orm.User.__table__
GROUPS = hub_orm.Group.__table__
MEMBERS = hub_orm.Base.metadata.tables["user_group_map"]
USER_ROLES = hub_orm.Base.metadata.tables["user_role_map"]
ROLES = hub_orm.Role.__table__


def _school_problems(existing: dict[str, dict[str, Any]], entries: list[RosterEntry], fingerprints: list[str]) -> list[str]:
    """A person ID is the education database's, unique province-wide: a roster giving an existing
    person another school is a transfer, made only when asked for (else two schools' local codes
    that happen to match would merge two people into one account)."""
    problems = []
    for entry, fingerprint in zip(entries, fingerprints):
        had = existing.get(fingerprint)
        if had is None or (had["school"] or SITE_SCHOOL) == entry.school:
            continue
        was, now = had["school"] or "trường của hệ thống", entry.school or "trường của hệ thống"
        was_en, now_en = had["school"] or "the site school", entry.school or "the site school"
        problems.append(
            f"dòng {entry.line}: mã {entry.person_id} là của một người ở {was}, không phải {now}. Mã phải là mã "
            "định danh trên cơ sở dữ liệu ngành (không trùng giữa các trường); nếu người này chuyển trường, "
            f"nhập lại với --move-school / line {entry.line}: ID {entry.person_id} belongs to a person of "
            f"{was_en}, not {now_en}. IDs must be the education database's (unique across schools); if the "
            "person moved school, import again with --move-school")
    return problems


def _new_login(key: str, entry: RosterEntry, taken: set[str]) -> str:
    for attempt in range(100):
        login = derive_login(key, entry.person_id, entry.role, attempt)
        if login not in taken:
            taken.add(login)
            return login
    raise RuntimeError("no free login after 100 attempts")  # 2^-3900: not reachable in practice


@dataclass
class _Known:
    """What the database holds, read once for a run of rosters (400 school files import as fast
    as one province file) and kept in step with what each committed roster wrote."""

    accounts: dict[str, dict[str, Any]]    # by fingerprint: login and the roster's values
    user_ids: dict[str, int]               # JupyterHub's users by name
    group_ids: dict[str, int]
    class_groups_of: dict[int, set[int]]   # user id -> ids of the class groups they are in
    has_user_role: set[int]
    user_role_id: int

    @classmethod
    def read(cls, connection: Connection) -> "_Known":
        columns = (Account.login, Account.full_name, Account.role, Account.classes, Account.grade_code,
                   Account.school)
        accounts = {row[0]: dict(zip((c.key for c in columns), row[1:]))
                    for row in connection.execute(select(Account.fingerprint, *columns))}
        group_ids = {name: gid for gid, name in connection.execute(select(GROUPS.c.id, GROUPS.c.name))}
        class_ids = {gid for name, gid in group_ids.items() if name.startswith("class-")}
        class_groups_of: dict[int, set[int]] = {}
        for uid, gid in connection.execute(select(MEMBERS.c.user_id, MEMBERS.c.group_id)):
            if gid in class_ids:
                class_groups_of.setdefault(uid, set()).add(gid)
        role_id = _user_role(connection)
        return cls(accounts, {name: uid for uid, name in connection.execute(select(USERS.c.id, USERS.c.name))},
                   group_ids, class_groups_of,
                   set(connection.scalars(select(USER_ROLES.c.user_id).where(USER_ROLES.c.role_id == role_id))),
                   role_id)


class RosterImport:
    """Rosters into one hub database, each in its own transaction: a bad roster changes nothing
    and does not stop the next."""

    def __init__(self, data: DataDir, database_url: str):
        self.data = data
        self.key = data.secret("login_key")
        self.code_key = data.secret(first_codes.KEY_NAME)
        self.database_url = database_url
        self._session: Session | None = None
        self._known: _Known | None = None

    @property
    def session(self) -> Session:
        """Opened by the first roster that parsed: a run of bad files leaves no database behind."""
        if self._session is None:
            self._session = open_session(self.database_url)
        return self._session

    def __enter__(self) -> "RosterImport":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._session is not None:
            self._session.close()

    def apply(self, entries: list[RosterEntry], source: str = "roster", move_school: bool = False) -> ImportReport:
        """Create or update an account per roster entry, all in one transaction; `move_school`
        lets the roster move existing people to the school it names."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        report = ImportReport()
        # The first codes exist in clear only on the sheets: written before the commit (aside),
        # published after it; a crash between the two is settled at the next start.
        with noted(self.data, Operation.ROSTER_IMPORT, source) as note:
            pending: list[Path] = []
            try:
                known = self._known or _Known.read(self.session.connection())
                self._known = None  # until this roster is committed, the cache may be ahead of the database
                self._write(known, entries, source, move_school, now, report)
                pending = write_password_sheets(self.data, report.created, now, pending=note.id)
                crash_point("roster-writing")
                self.session.commit()
                self._known = known
            except BaseException:
                self.session.rollback()
                for path in pending:
                    path.unlink(missing_ok=True)
                raise
            crash_point("roster-committed")
            report.sheets = publish_sheets(pending)
        return report

    def _write(self, known: _Known, entries: list[RosterEntry], source: str, move_school: bool,
               now: dt.datetime, report: ImportReport) -> None:
        fingerprints = [id_fingerprint(self.key, e.person_id) for e in entries]
        problems = [] if move_school else _school_problems(known.accounts, entries, fingerprints)
        if problems:
            raise RosterError(source, problems)
        remember_school_names(self.session, {e.school: e.school_name for e in entries})
        taken = {account["login"] for account in known.accounts.values()}
        new_rows, changed_rows, groups_of = [], [], {}
        for entry, fingerprint in zip(entries, fingerprints):
            had = known.accounts.get(fingerprint)
            values = {"full_name": entry.full_name, "role": str(entry.role), "classes": ";".join(entry.classes),
                      "grade_code": grade_code(entry.person_id, entry.grade_code), "school": entry.school or None}
            if had is None:
                login = _new_login(self.key, entry, taken)
                new_rows.append({"fingerprint": fingerprint, "login": login, "created": now, "updated": now, **values})
                report.created.append(NewAccount(login, entry.full_name, entry.role, list(entry.classes), "",
                                                 entry.school))
            else:
                login = had["login"]
                if any(had[name] != value for name, value in values.items()):
                    changed_rows.append({"fingerprint": fingerprint, "updated": now, **values})
                    report.updated.append(login)
                else:
                    report.unchanged.append(login)
            known.accounts[fingerprint] = {"login": login, **values}
            groups_of[login] = set(entry.groups) if entry.role == Role.STUDENT else set()
        if new_rows:
            self.session.execute(insert(Account), new_rows)
        if changed_rows:
            self.session.execute(update(Account), changed_rows)
        connection = self.session.connection()
        codes = first_codes.issue(connection, self.code_key, [a.login for a in report.created], now)
        for account in report.created:
            account.password = codes[account.login]
        _hub_users(connection, known, list(groups_of), now)
        _grant_user_role(connection, known, [known.user_ids[login] for login in groups_of])
        _sync_class_groups(connection, known, {known.user_ids[login]: wanted for login, wanted in groups_of.items()})


def apply_roster(data: DataDir, database_url: str, entries: list[RosterEntry], source: str = "roster",
                 move_school: bool = False) -> ImportReport:
    """One roster, in one transaction (see RosterImport)."""
    with RosterImport(data, database_url) as run:
        return run.apply(entries, source, move_school)


def _user_role(connection: Connection) -> int:
    """JupyterHub's default `user` role, made as JupyterHub makes it if the hub never started."""
    role_id = connection.scalar(select(ROLES.c.id).where(ROLES.c.name == "user"))
    if role_id is None:
        spec = next(r for r in get_default_roles() if r["name"] == "user")
        connection.execute(insert(ROLES).values(name="user", description=spec["description"], scopes=spec["scopes"]))
        role_id = connection.scalar(select(ROLES.c.id).where(ROLES.c.name == "user"))
    assert role_id is not None
    return int(role_id)


def _hub_users(connection: Connection, known: _Known, logins: list[str], now: dt.datetime) -> None:
    """JupyterHub's user rows for these logins, created where missing."""
    missing = [login for login in logins if login not in known.user_ids]
    if missing:
        # the table's own defaults (a fresh cookie_id per row) are applied per row
        connection.execute(insert(USERS), [{"name": login, "created": now} for login in missing])
        for part in first_codes.in_chunks(missing):
            known.user_ids.update({name: uid for uid, name in connection.execute(
                select(USERS.c.id, USERS.c.name).where(USERS.c.name.in_(part)))})


def _grant_user_role(connection: Connection, known: _Known, user_ids: Iterable[int]) -> None:
    """JupyterHub's default `user` role, as it grants every user it creates (its start-up would
    otherwise grant it one user at a time: two minutes for 100,000)."""
    rows = [{"user_id": uid, "role_id": known.user_role_id} for uid in set(user_ids) - known.has_user_role]
    if rows:
        connection.execute(insert(USER_ROLES), rows)
        known.has_user_role.update(row["user_id"] for row in rows)


def _sync_class_groups(connection: Connection, known: _Known, wanted_by_user: dict[int, set[str]]) -> None:
    """Set each user's class groups exactly (a student who changed class leaves the old one);
    groups that are not a class's are left alone."""
    new_groups = sorted({g for wanted in wanted_by_user.values() for g in wanted} - set(known.group_ids))
    if new_groups:
        connection.execute(insert(GROUPS), [{"name": name} for name in new_groups])
        for part in first_codes.in_chunks(new_groups):
            known.group_ids.update({name: gid for gid, name in connection.execute(
                select(GROUPS.c.id, GROUPS.c.name).where(GROUPS.c.name.in_(part)))})
    add, remove = [], []
    for uid, wanted in wanted_by_user.items():
        wanted_ids = {known.group_ids[g] for g in wanted}
        current = known.class_groups_of.get(uid, set())
        add += [{"user_id": uid, "group_id": gid} for gid in wanted_ids - current]
        remove += [{"uid": uid, "gid": gid} for gid in current - wanted_ids]
        known.class_groups_of[uid] = wanted_ids
    if add:
        connection.execute(insert(MEMBERS), add)
    if remove:
        connection.execute(delete(MEMBERS).where(and_(MEMBERS.c.user_id == bindparam("uid"),
                                                      MEMBERS.c.group_id == bindparam("gid"))), remove)


def reset_password(data: DataDir, database_url: str, login: str) -> str:
    """A new first code for an account (its password, if it had set one, is forgotten)."""
    session = open_session(database_url)
    try:
        if session.scalar(select(Account.login).where(Account.login == login)) is None:
            raise KeyError(login)
        session.execute(delete(UserInfo).where(UserInfo.username == login))
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        code = first_codes.issue(session.connection(), data.secret(first_codes.KEY_NAME), [login], now)[login]
        session.commit()
        return code
    finally:
        session.close()
