"""Accounts: people from rosters, kept in the hub database beside JupyterHub's own tables.

One import is one database transaction that updates, together, our account records, the
NativeAuthenticator password rows and JupyterHub's users and class groups; either all of a
roster lands or none of it does. Roles are derived from these records when the hub starts
(see ``hub_view``).
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
from jupyterhub import orm as hub_orm
from nativeauthenticator.orm import UserInfo
from sqlalchemy import DateTime, Engine, String, make_url, select
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub_config.site.errors import DatabaseError, RosterError
from hub_config.people.logins import derive_login, generate_password, grade_code, id_fingerprint
from hub_config.site.paths import DataDir
from hub_config.people.roster import RosterEntry
from hub_config.people.schools import SITE_SCHOOL, ClassRef
from hub_config.people.tables import Base, remember_school_names, school_names
from hub_config.people.roles import Role

BCRYPT_ROUNDS = 10  # ~60 ms per hash: a roster of 1,000 imports in about a minute


class Account(Base):
    __tablename__ = "stemlab_accounts"
    # A keyed hash of the school's person ID: the ID itself is never stored.
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # a Role's value
    classes: Mapped[str] = mapped_column(String(1024), default="")
    # What the grade sheet shows as "Mã học sinh" (logins.grade_code: never a citizen ID in clear)
    grade_code: Mapped[str | None] = mapped_column(String(64))
    # The school's code; NULL (or '') is the site's own school, as every account before schools
    school: Mapped[str | None] = mapped_column(String(64))
    created: Mapped[dt.datetime] = mapped_column(DateTime)
    updated: Mapped[dt.datetime] = mapped_column(DateTime)

    @property
    def class_list(self) -> list[str]:
        return [c for c in self.classes.split(";") if c]

    @property
    def school_code(self) -> str:
        return self.school or SITE_SCHOOL

    @property
    def class_refs(self) -> list[ClassRef]:
        return [ClassRef(self.school_code, c) for c in self.class_list]


@dataclass
class NewAccount:
    login: str
    full_name: str
    role: str
    classes: list[str]
    password: str
    school: str = SITE_SCHOOL


@dataclass
class ImportReport:
    created: list[NewAccount] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    sheets: list[Path] = field(default_factory=list)


def open_session(database_url: str) -> Session:
    """A session on the hub database; creates JupyterHub's schema on a fresh database."""
    # JupyterHub's schema stamping logs through alembic at INFO; a CLI run should stay quiet.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        factory = hub_orm.new_session_factory(database_url)
        session = factory()
        bind = session.get_bind()
        Base.metadata.create_all(bind)
        assert isinstance(bind, Engine)  # JupyterHub's session factory binds an engine
        _add_missing_columns(bind)
        UserInfo.__table__.create(bind, checkfirst=True)
    except (OperationalError, ArgumentError, ImportError) as err:
        shown = make_url(database_url).render_as_string(hide_password=True) if "://" in database_url else database_url
        reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
        raise DatabaseError(
            f"Không dùng được cơ sở dữ liệu của hub {shown}: {reason}. Hãy kiểm tra storage.database_url "
            "trong stemlab.toml, xem máy chủ cơ sở dữ liệu có đang chạy không và người dùng có quyền tạo bảng "
            "không.",
            f"Cannot use the hub database {shown}: {reason}. Check storage.database_url in stemlab.toml, "
            "that the database server runs and that the user may create tables."
        ) from err
    return session


def _add_missing_columns(bind: Engine) -> None:
    """Columns added to our table since a data directory was made (nullable, so old rows stay
    valid). Until the table is under alembic migrations, this is how an old site is upgraded."""
    from sqlalchemy import inspect, text

    have = {c["name"] for c in inspect(bind).get_columns(Account.__tablename__)}
    missing = [c for c in Account.__table__.columns if c.name not in have]
    if not missing:
        return
    with bind.begin() as connection:
        for column in missing:
            kind = column.type.compile(dialect=bind.dialect)
            connection.execute(text(f"ALTER TABLE {Account.__tablename__} ADD COLUMN {column.name} {kind}"))


def _hash(password: str) -> bytes:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS))


def _unique_login(session: Session, key: str, entry: RosterEntry) -> str:
    for attempt in range(100):
        login = derive_login(key, entry.person_id, entry.role, attempt)
        if session.scalar(select(Account).where(Account.login == login)) is None:
            return login
    raise RuntimeError("no free login after 100 attempts")  # 2^-3900: not reachable in practice


def _set_password(session: Session, login: str, password: str) -> None:
    info = UserInfo.find(session, login)
    if info is None:
        session.add(UserInfo(username=login, password=_hash(password), is_authorized=True))
    else:
        info.password = _hash(password)
        info.is_authorized = True


def _hub_user(session: Session, login: str) -> hub_orm.User:
    user = hub_orm.User.find(session, login)
    if user is None:
        user = hub_orm.User(name=login)
        session.add(user)
    return user


def _sync_class_groups(session: Session, user: hub_orm.User, groups: Iterable[str]) -> None:
    """Set the user's class groups exactly (a student who changed class leaves the old one)."""
    wanted = set(groups)
    for group in list(user.groups):
        if group.name.startswith("class-") and group.name not in wanted:
            user.groups.remove(group)
    have = {g.name for g in user.groups}
    for name in sorted(wanted - have):
        group = hub_orm.Group.find(session, name)
        if group is None:
            group = hub_orm.Group(name=name)
            session.add(group)
        user.groups.append(group)


def _school_changes(session: Session, key: str, entries: list[RosterEntry], move: bool) -> list[str]:
    """A person ID is the education database's, unique province-wide: a roster giving an existing
    person another school is a transfer, made only when asked for (else two schools' local codes
    that happen to match would merge two people into one account)."""
    if move:
        return []
    problems = []
    for entry in entries:
        account = session.get(Account, id_fingerprint(key, entry.person_id))
        if account is not None and account.school_code != entry.school:
            was, now = account.school_code or "trường của hệ thống", entry.school or "trường của hệ thống"
            was_en, now_en = account.school_code or "the site school", entry.school or "the site school"
            problems.append(
                f"dòng {entry.line}: mã {entry.person_id} là của một người ở {was}, không phải {now}. Mã phải là mã "
                "định danh trên cơ sở dữ liệu ngành (không trùng giữa các trường); nếu người này chuyển trường, "
                f"nhập lại với --move-school / line {entry.line}: ID {entry.person_id} belongs to a person of "
                f"{was_en}, not {now_en}. IDs must be the education database's (unique across schools); if the "
                "person moved school, import again with --move-school")
    return problems


def apply_roster(data: DataDir, database_url: str, entries: list[RosterEntry], source: str = "roster",
                 move_school: bool = False) -> ImportReport:
    """Create or update an account per roster entry, all in one transaction; `move_school` lets
    the roster move existing people to the school it names."""
    key = data.secret("login_key")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    report = ImportReport()
    session = open_session(database_url)
    try:
        problems = _school_changes(session, key, entries, move_school)
        if problems:
            raise RosterError(source, problems)
        remember_school_names(session, {e.school: e.school_name for e in entries})
        for entry in entries:
            fingerprint = id_fingerprint(key, entry.person_id)
            account = session.get(Account, fingerprint)
            classes = ";".join(entry.classes)
            code = grade_code(entry.person_id, entry.grade_code)
            school = entry.school or None
            if account is None:
                login = _unique_login(session, key, entry)
                password = generate_password()
                account = Account(
                    fingerprint=fingerprint,
                    login=login,
                    full_name=entry.full_name,
                    role=entry.role,
                    classes=classes,
                    grade_code=code,
                    school=school,
                    created=now,
                    updated=now,
                )
                session.add(account)
                session.flush()
                _set_password(session, login, password)
                report.created.append(NewAccount(login, entry.full_name, entry.role, list(entry.classes), password,
                                                 entry.school))
            elif (account.full_name, account.role, account.classes, account.grade_code, account.school_code) != (
                    entry.full_name, entry.role, classes, code, entry.school):
                account.full_name, account.role, account.classes, account.grade_code = (
                    entry.full_name, entry.role, classes, code)
                account.school, account.updated = school, now
                report.updated.append(account.login)
            else:
                report.unchanged.append(account.login)
            user = _hub_user(session, account.login)
            student_groups = entry.groups if entry.role == Role.STUDENT else ()
            _sync_class_groups(session, user, student_groups)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    report.sheets = write_password_sheets(data, report.created, now)
    return report


def reset_password(database_url: str, login: str) -> str:
    session = open_session(database_url)
    try:
        if session.scalar(select(Account).where(Account.login == login)) is None:
            raise KeyError(login)
        password = generate_password()
        _set_password(session, login, password)
        session.commit()
        return password
    finally:
        session.close()


def school_display_name(database_url: str, code: str, site_school: str) -> str:
    """What grade sheets and offerings call a school: the site's own by the settings' name,
    another by the name its roster gave (its code if the roster gave only that)."""
    if code == SITE_SCHOOL:
        return site_school
    session = open_session(database_url)
    try:
        return school_names(session).get(code, code)
    finally:
        session.close()


def list_accounts(database_url: str) -> list[Account]:
    session = open_session(database_url)
    try:
        return list(session.scalars(select(Account).order_by(Account.role, Account.classes, Account.full_name)))
    finally:
        session.close()


def sheet_school(name: str) -> str:
    """The school whose people a password sheet holds, from its name (see write_password_sheets)."""
    prefix = name.rsplit("-", 2)[0]  # the stamp is YYYYmmdd-HHMMSS
    return prefix.partition(".")[2] or SITE_SCHOOL


def write_password_sheets(data: DataDir, created: list[NewAccount], when: dt.datetime) -> list[Path]:
    """One CSV per class (UTF-8 with BOM so Excel shows Vietnamese names) with first passwords,
    named by the class's group (another school's carry its code: class-10a1.thpt-an-nhon-...)."""
    by_sheet: dict[str, list[NewAccount]] = {}
    for account in created:
        if account.classes and account.role == Role.STUDENT:
            sheet = ClassRef(account.school, account.classes[0]).group
        else:
            sheet = f"staff.{account.school}" if account.school else "staff"
        by_sheet.setdefault(sheet, []).append(account)
    written = []
    stamp = when.strftime("%Y%m%d-%H%M%S")
    for sheet, accounts in sorted(by_sheet.items()):
        path = data.sheets_dir / f"{sheet}-{stamp}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["Họ và tên / Full name", "Lớp / Class", "Vai trò / Role", "Tên đăng nhập / Login",
                             "Mật khẩu lần đầu / First password"])
            for a in sorted(accounts, key=lambda a: a.full_name.split()[-1:] + [a.full_name]):
                writer.writerow([a.full_name, ";".join(a.classes), a.role, a.login, a.password])
        path.chmod(0o600)
        written.append(path)
    return written


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
    accounts = list_accounts(database_url)
    teachers_of: dict[str, list[str]] = {}
    technicians = []
    school_admins: dict[str, list[str]] = {}
    for a in accounts:
        if a.role == Role.ADMIN and a.school_code != SITE_SCHOOL:
            school_admins.setdefault(a.school_code, []).append(a.login)
    for a in accounts:
        if a.role == Role.TEACHER:
            for ref in a.class_refs:
                teachers_of.setdefault(ref.group, []).append(a.login)
        elif a.role == Role.TECHNICIAN:
            technicians.append(a.login)
    roles: list[dict] = [
        {
            "name": f"teacher-{group}",
            "description": f"Teachers of {group}: see and help the students of this class only",
            "scopes": [s.format(g=group) for s in TEACHER_SCOPES] + ["admin-ui"],
            "users": sorted(logins),
        }
        for group, logins in sorted(teachers_of.items())
    ]
    for school, logins in sorted(school_admins.items()):
        groups = sorted({ref.group for a in accounts if a.school_code == school for ref in a.class_refs})
        roles.append({
            "name": f"school-admin-{school}",
            "description": f"Admins of the school {school}: its classes' students and servers, no other school's",
            "scopes": [s.format(g=g) for g in groups for s in TEACHER_SCOPES if s != KITS_MANAGE_SCOPE] + ["admin-ui"],
            "users": sorted(logins),
        })
    roles.append(
        {
            "name": "technician",
            "description": "Lab technicians: manage and test the kits",
            "scopes": ["self", KITS_MANAGE_SCOPE],
            "users": sorted(technicians),
        }
    )
    return HubView(
        users={a.login for a in accounts},
        admins={a.login for a in accounts if a.role == Role.ADMIN and a.school_code == SITE_SCHOOL},
        students={a.login for a in accounts if a.role == Role.STUDENT},
        roles=roles,
        display_names={a.login: a.full_name for a in accounts},
        role_of={a.login: a.role for a in accounts},
    )
