"""Accounts: people from rosters, kept in the hub database beside JupyterHub's own tables.

Rosters land through roster_import (one transaction per roster); roles are derived from these
records when the hub starts (hub_view); first passwords are one-time codes (first_codes).
"""

from __future__ import annotations

import csv
import os
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub import orm as hub_orm
from jupyterhub.orm import DatabaseSchemaMismatch
from nativeauthenticator.orm import UserInfo
from sqlalchemy import DateTime, Engine, Index, String, create_engine, inspect, make_url, select, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub_config.site.errors import DatabaseError, DataVersionError
from hub_config.site.paths import DataDir
from hub_config.people.schools import SITE_SCHOOL, ClassRef
from hub_config.people import first_codes  # its table is created with ours
from hub_config.people.schema import (JUPYTERHUB_MIGRATIONS, SchemaState, migrate, platform_revision, revision_at,
                                      version_error)
from hub_config.people.tables import Base, school_names
from hub_config.people.roles import Role


class Account(Base):
    __tablename__ = "stemlab_accounts"
    __table_args__ = (Index("ix_stemlab_accounts_school_role", "school", "role"),)  # migration 0002
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
        assert isinstance(bind, Engine)  # JupyterHub's session factory binds an engine
        check_platform_tables(bind)
        UserInfo.__table__.create(bind, checkfirst=True)
        # NativeAuthenticator finds a login's row by username, which it leaves unindexed: with a
        # province's 100,000 rows every login would read the whole table
        with bind.begin() as connection:
            connection.execute(text("CREATE INDEX IF NOT EXISTS ix_users_info_username ON users_info (username)"))
    except DatabaseSchemaMismatch as err:
        raise jupyterhub_version_error(database_url) from err
    except UNUSABLE_DATABASE as err:
        raise unusable_database(database_url, err) from err
    return session


UNUSABLE_DATABASE = (OperationalError, ArgumentError, ImportError)


def unusable_database(database_url: str, err: Exception) -> DatabaseError:
    """What the admin reads when the hub database cannot be reached or used (its password hidden)."""
    shown = _shown(database_url)
    reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
    return DatabaseError(
        f"Không dùng được cơ sở dữ liệu của hub {shown}: {reason}. Hãy kiểm tra storage.database_url "
        "trong stemlab.toml, xem máy chủ cơ sở dữ liệu có đang chạy không và người dùng có quyền tạo bảng "
        "không.",
        f"Cannot use the hub database {shown}: {reason}. Check storage.database_url in stemlab.toml, "
        "that the database server runs and that the user may create tables.")


def check_platform_tables(engine: Engine) -> None:
    """Make the tables on a fresh database; refuse one another release wrote (hub_config/people/schema.py)."""
    found = platform_revision(engine)
    if found.state is SchemaState.FRESH:
        migrate(engine)
    elif found.state is not SchemaState.CURRENT:
        raise version_error(found, engine.url.render_as_string(hide_password=True))


def jupyterhub_version_error(database_url: str) -> DataVersionError:
    found = revision_at(database_url, JUPYTERHUB_MIGRATIONS, "alembic_version", "users")
    return version_error(found, f"JupyterHub, {_shown(database_url)}")


def _shown(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True) if "://" in database_url else database_url


def every_login(database_url: str) -> list[str]:
    """Every account's login, read from any release's table (a backup before an upgrade needs them)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            if "stemlab_accounts" not in inspect(connection).get_table_names():
                return []
            return [row[0] for row in connection.execute(text("SELECT login FROM stemlab_accounts"))]
    except UNUSABLE_DATABASE as err:
        raise unusable_database(database_url, err) from err
    finally:
        engine.dispose()


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


def has_accounts(database_url: str) -> bool:
    session = open_session(database_url)
    try:
        return session.scalar(select(Account.login).limit(1)) is not None
    finally:
        session.close()


def account_of(database_url: str, login: str) -> Account | None:
    session = open_session(database_url)
    try:
        return session.scalar(select(Account).where(Account.login == login))
    finally:
        session.close()


def _of_school(school: str) -> Any:
    return Account.school.is_(None) | (Account.school == "") if school == SITE_SCHOOL else Account.school == school


def members_of(database_url: str, klass: ClassRef, role: Role | None = None) -> list[Account]:
    """A class's people (its students, its teachers), found by the database, not by reading everyone."""
    name = klass.name
    in_class = ((Account.classes == name) | Account.classes.startswith(f"{name};", autoescape=True)
                | Account.classes.endswith(f";{name}", autoescape=True)
                | Account.classes.contains(f";{name};", autoescape=True))
    query = select(Account).where(in_class & _of_school(klass.school))
    if role is not None:
        query = query.where(Account.role == role)
    session = open_session(database_url)
    try:
        return [a for a in session.scalars(query) if klass in a.class_refs]
    finally:
        session.close()


def classes_with_students(database_url: str, school: str | None = None) -> set[ClassRef]:
    """Every class that has students (of one school, or of all when `school` is None)."""
    query = select(Account.classes, Account.school).where(Account.role == Role.STUDENT).distinct()
    if school is not None:
        query = query.where(_of_school(school))
    session = open_session(database_url)
    try:
        return {ClassRef(s or SITE_SCHOOL, c) for classes, s in session.execute(query) for c in classes.split(";") if c}
    finally:
        session.close()


def known_people(database_url: str, fingerprints: list[str]) -> set[str]:
    """Which of these people (by fingerprint) have an account already."""
    session = open_session(database_url)
    try:
        return {f for part in first_codes.in_chunks(fingerprints)
                for f in session.scalars(select(Account.fingerprint).where(Account.fingerprint.in_(part)))}
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


def write_password_sheets(data: DataDir, created: list[NewAccount], when: dt.datetime,
                          pending: str = "") -> list[Path]:
    """One CSV per class (UTF-8 with BOM so Excel shows Vietnamese names) with first passwords,
    named by the class's group (another school's carry its code: class-10a1.thpt-an-nhon-...).
    `pending`: the import's journal note (site/journal.py): written before the roster's transaction
    commits, under a name nothing lists (publish_sheets renames them once it has; settle_pending_sheets
    after a crash)."""
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
        path = data.sheets_dir / f"{sheet}-{stamp}.csv{PENDING_SUFFIX + pending if pending else ''}"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["Họ và tên / Full name", "Lớp / Class", "Vai trò / Role", "Tên đăng nhập / Login",
                             "Mật khẩu lần đầu / First password"])
            for a in sorted(accounts, key=lambda a: a.full_name.split()[-1:] + [a.full_name]):
                writer.writerow([a.full_name, ";".join(a.classes), a.role, a.login, a.password])
            f.flush()
            os.fsync(f.fileno())  # on disk before the accounts it holds are committed
        path.chmod(0o600)
        written.append(path)
    return written


PENDING_SUFFIX = ".pending"


def publish_sheets(pending: list[Path]) -> list[Path]:
    published = [path.with_name(path.name.split(PENDING_SUFFIX)[0]) for path in pending]
    for path, final in zip(pending, published):
        os.rename(path, final)
    return published


def settle_pending_sheets(data: DataDir, database_url: str, import_id: str) -> tuple[list[Path], list[Path]]:
    """The password sheets of a roster import that a crash cut short (its journal note's id):
    published when its accounts were committed (a login on the sheet holds the sheet's code as its
    first code), removed when they were not (the roster changed nothing and is imported again).
    Published, removed."""
    pending = sorted(data.sheets_dir.glob(f"*{PENDING_SUFFIX}{import_id}"))
    if not pending:
        return [], []
    published, removed = [], []
    key = data.secret(first_codes.KEY_NAME)
    session = open_session(database_url)
    try:
        for path in pending:
            try:
                with path.open(encoding="utf-8-sig", newline="") as f:
                    rows = list(csv.reader(f))[1:]
            except (OSError, UnicodeDecodeError):
                rows = []
            committed = bool(rows) and len(rows[0]) == 5 and first_codes.matches(session, key, rows[0][3], rows[0][4])
            if committed:
                published += publish_sheets([path])
            else:
                path.unlink()
                removed.append(path)
    finally:
        session.close()
    return published, removed
