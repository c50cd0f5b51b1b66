"""Importing rosters into the hub database: idempotent, atomic, groups and roles derived."""

import csv

import bcrypt
import pytest
from jupyterhub import orm as hub_orm
from nativeauthenticator.orm import UserInfo

from hub_config.people.accounts import list_accounts, open_session
from hub_config.people.hub_view import KITS_MANAGE_SCOPE, hub_view
from hub_config.people import first_codes
from hub_config.people.roster_import import apply_roster, reset_password
from hub_config.site.paths import DataDir
from hub_config.people.roster import parse_roster

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
    key = data.secret(first_codes.KEY_NAME)
    assert first_codes.matches(session, key, an.login, an.password), "the sheet's code is the account's"
    assert not first_codes.matches(session, key, by_name["Đỗ Thị Bích"].login, an.password), "and no one else's"
    assert len(an.password) == first_codes.FIRST_CODE_LENGTH and first_codes.FIRST_CODE_BITS >= 64
    stored = session.get(first_codes.FirstCode, an.login)
    assert an.password not in (stored.digest, stored.salt), "the code is never kept in clear"
    assert UserInfo.find(session, an.login) is None, "no bcrypt hash until the first login"
    assert {r.name for r in hub_orm.User.find(session, an.login).roles} == {"user"}, "as JupyterHub grants it"
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
    session = open_session(url)
    session.add(UserInfo(username=created.login, password=bcrypt.hashpw(b"chosen-by-student", bcrypt.gensalt(4)),
                         is_authorized=True))
    session.commit()
    new = reset_password(data, url, created.login)
    key = data.secret(first_codes.KEY_NAME)
    assert first_codes.matches(session, key, created.login, new) and new != created.password
    assert not first_codes.matches(session, key, created.login, created.password), "the old code is void"
    assert UserInfo.find(session, created.login) is None, "the forgotten password no longer logs in"
    session.close()
    with pytest.raises(KeyError):
        reset_password(data, url, "hsnobody")


def test_grade_codes_are_kept_and_citizen_ids_never_in_clear(site, write_roster):
    data, url = site
    rows = [["079207001234", "Nguyễn Văn An", "10A1", "", ""],        # the citizen ID as the roster's ID
            ["079207005678", "Đỗ Thị Bích", "10A1", "", "HS0002"],   # ... with the school's code beside it
            ["HS003", "Lê Minh Châu", "10A1", "", ""]]
    header = ("Mã học sinh", "Họ và tên", "Lớp", "Vai trò", "Mã SMAS")
    apply_roster(data, url, parse_roster(write_roster("r", rows, header=header)))
    codes = {a.full_name: a.grade_code for a in list_accounts(url)}
    assert codes == {"Nguyễn Văn An": "••••••••1234", "Đỗ Thị Bích": "HS0002", "Lê Minh Châu": "HS003"}
    assert b"079207001234" not in data.hub_db.read_bytes()
    rows[2][4] = "HS0003"
    report = apply_roster(data, url, parse_roster(write_roster("r2", rows, header=header)))
    assert len(report.updated) == 1 and {a.full_name: a.grade_code for a in list_accounts(url)}["Lê Minh Châu"] == "HS0003"


def test_a_citizen_id_in_the_grade_code_column_is_refused(write_roster):
    from hub_config.site.errors import RosterError

    header = ("Mã học sinh", "Họ và tên", "Lớp", "Mã SMAS")
    with pytest.raises(RosterError) as err:
        parse_roster(write_roster("r", [["HS001", "Nguyễn Văn An", "10A1", "079207001234"]], header=header))
    assert "line 2" in str(err.value) and "citizen ID" in str(err.value)


def test_many_rosters_in_one_run_each_land_alone_and_a_bad_one_stops_none(tmp_path, write_roster):
    """`stemlab accounts import a.csv b.csv c.csv`: each file is its own transaction; a bad file is
    told, changes nothing, and the files after it still land; re-running the good ones changes nothing."""
    import subprocess

    from tests.conftest import STEMLAB

    data = tmp_path / "var"
    first = write_roster("truong-a", [["A001", "Nguyễn Văn An", "6A1", ""], ["A002", "Lê Thị Bảy", "6A1", ""]])
    bad = write_roster("truong-b", [["B001", "Phan Văn Cường", "7A1", ""], ["B002", "Tên 123", "7A1", ""]])
    last = write_roster("truong-c", [["C001", "Võ Thị Dung", "8A1", ""], ["A001", "Nguyễn Văn An", "6A1", ""]])

    def run(*files):
        return subprocess.run([STEMLAB, "accounts", "import", *map(str, files), "--data", str(data)],
                              capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})

    result = run(first, bad, last)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "truong-b.csv" in result.stdout and "Tên 123" in result.stdout and "no account was changed" in result.stdout
    url = f"sqlite:///{DataDir(data).hub_db}"
    names = sorted(a.full_name for a in list_accounts(url))
    assert names == ["Lê Thị Bảy", "Nguyễn Văn An", "Võ Thị Dung"], "the bad file's good row is not in either"
    again = run(first, last)
    assert again.returncode == 0 and again.stdout.count("0 tạo mới") == 2, again.stdout
    session = open_session(url)
    try:
        an = next(a for a in list_accounts(url) if a.full_name == "Nguyễn Văn An")
        assert groups_of(url, an.login) == ["class-6a1"]
        assert {r.name for r in hub_orm.User.find(session, an.login).roles} == {"user"}
    finally:
        session.close()
