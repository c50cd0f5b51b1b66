"""Importing rosters into the hub database: idempotent, atomic, groups and roles derived."""

import csv

import bcrypt
import pytest
from jupyterhub import orm as hub_orm
from nativeauthenticator.orm import UserInfo

from hub_config.accounts import KITS_MANAGE_SCOPE, apply_roster, hub_view, list_accounts, open_session, reset_password
from hub_config.paths import DataDir
from hub_config.roster import parse_roster

ROWS = [
    ["HS001", "Nguyễn Văn An", "10A1", ""],
    ["HS002", "Đỗ Thị Bích", "10A1", ""],
    ["HS003", "Lê Minh Châu", "10A2", ""],
    ["GV001", "Trần Thị Hạnh", "10A1", "giáo viên"],
    ["KT001", "Lê Văn Đạt", "", "kỹ thuật viên"],
    ["QT001", "Ngô Văn Quản", "", "quản trị"],
]


@pytest.fixture
def site(tmp_path):
    data = DataDir(tmp_path / "var").ensure()
    return data, f"sqlite:///{data.hub_db}"


def groups_of(url, login):
    session = open_session(url)
    try:
        return sorted(g.name for g in hub_orm.User.find(session, login).groups)
    finally:
        session.close()


def test_import_creates_accounts_passwords_groups_and_sheets(site, write_roster):
    data, url = site
    report = apply_roster(data, url, parse_roster(write_roster("r", ROWS)))
    assert len(report.created) == 6
    by_name = {a.full_name: a for a in report.created}
    an = by_name["Nguyễn Văn An"]
    session = open_session(url)
    info = UserInfo.find(session, an.login)
    assert info.is_authorized and bcrypt.checkpw(an.password.encode(), info.password)
    session.close()
    assert groups_of(url, an.login) == ["class-10a1"]
    assert groups_of(url, by_name["Trần Thị Hạnh"].login) == [], "teachers are not members of the class group"
    sheet = next(p for p in report.sheets if p.name.startswith("class-10a1-"))
    with sheet.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert {r[0] for r in rows[1:]} == {"Nguyễn Văn An", "Đỗ Thị Bích"}
    assert oct(sheet.stat().st_mode & 0o777) == "0o600"
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbf"), "BOM so Excel shows Vietnamese names"


def test_reimport_is_idempotent_and_updates_in_place(site, write_roster):
    data, url = site
    first = apply_roster(data, url, parse_roster(write_roster("r", ROWS)))
    logins = {a.full_name: a.login for a in first.created}
    again = apply_roster(data, url, parse_roster(write_roster("r", ROWS)))
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], 6)
    assert again.sheets == []

    moved = [r[:] for r in ROWS]
    moved[0] = ["HS001", "Nguyễn Văn Ân", "10A2", ""]  # name corrected, changed class
    report = apply_roster(data, url, parse_roster(write_roster("r2", moved)))
    assert report.updated == [logins["Nguyễn Văn An"]] and not report.created
    assert groups_of(url, logins["Nguyễn Văn An"]) == ["class-10a2"]
    assert len(list_accounts(url)) == 6
    session = open_session(url)
    assert session.query(hub_orm.User).count() == 6
    session.close()


def test_hub_view_scopes_teachers_to_their_classes(site, write_roster):
    data, url = site
    apply_roster(data, url, parse_roster(write_roster("r", ROWS)))
    view = hub_view(url)
    teacher_roles = [r for r in view.roles if r["name"].startswith("teacher-")]
    assert [r["name"] for r in teacher_roles] == ["teacher-class-10a1"]
    # every scope on users and servers is filtered to the class; taking kits back is lab-wide
    assert all(s.endswith("!group=class-10a1") for s in teacher_roles[0]["scopes"]
               if s not in ("admin-ui", KITS_MANAGE_SCOPE))
    assert KITS_MANAGE_SCOPE in teacher_roles[0]["scopes"]
    assert len(view.admins) == 1 and next(iter(view.admins)).startswith("qt")
    assert any(r["name"] == "technician" and len(r["users"]) == 1 for r in view.roles)


def test_reset_password(site, write_roster):
    data, url = site
    created = apply_roster(data, url, parse_roster(write_roster("r", ROWS))).created[0]
    new = reset_password(url, created.login)
    session = open_session(url)
    assert bcrypt.checkpw(new.encode(), UserInfo.find(session, created.login).password)
    session.close()
    with pytest.raises(KeyError):
        reset_password(url, "hsnobody")
