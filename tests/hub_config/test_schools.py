"""Many schools on one platform: a roster names its school (a column, or the import's --school),
and two schools' 10A1 never meet: not in a class group, a teacher's role, a password sheet or an
offering. The site's own school keeps the names it always had."""

import csv
import os
import subprocess

import pytest
from jupyterhub import orm as hub_orm

from hub_config.people.accounts import list_accounts, open_session
from hub_config.people.hub_view import hub_view
from hub_config.people.roster_import import apply_roster
from hub_config.people.roster import parse_roster
from hub_config.people.schools import ClassRef, school_code
from hub_config.site.errors import RosterError, StemlabError
from hub_config.site.paths import DataDir
from hub_config.teaching.catalog import load_catalog
from hub_config.teaching.offerings import list_offerings, offer

from ..conftest import STEMLAB

HEADER = ("Mã học sinh", "Họ và tên", "Lớp", "Vai trò", "Trường")
ROWS = [
    ["QN001", "Nguyễn Văn An", "10A1", "", "THPT Quy Nhơn"],
    ["QN002", "Đỗ Thị Bích", "10A1", "", "THPT Quy Nhơn"],
    ["QNGV1", "Trần Thị Hạnh", "10A1", "giáo viên", "THPT Quy Nhơn"],
    ["AN001", "Lê Minh Châu", "10A1", "", "thpt-an-nhon"],
    ["ANGV1", "Phạm Văn Dũng", "10A1", "giáo viên", "thpt-an-nhon"],
]


@pytest.fixture
def site(tmp_path):
    data = DataDir(tmp_path / "var").ensure()
    return data, f"sqlite:///{data.hub_db}"


def group_members(url: str, name: str) -> list[str]:
    session = open_session(url)
    try:
        group = hub_orm.Group.find(session, name)
        return sorted(u.name for u in group.users) if group else []
    finally:
        session.close()


def logins(url: str) -> dict[str, str]:
    return {a.full_name: a.login for a in list_accounts(url)}


@pytest.mark.parametrize(("written", "code"), [("THPT Quy Nhơn", "thpt-quy-nhon"), ("thpt_an_nhon", "thpt-an-nhon"),
                                               ("QN-01", "qn-01"), ("Trường Đống Đa", "truong-dong-da")])
def test_a_school_is_known_by_a_code_however_the_roster_writes_it(written, code):
    assert school_code(written) == code


@pytest.mark.parametrize("written", ["", "---", "x" * 41, "."])
def test_a_school_code_that_is_not_one_says_how_to_write_it(written):
    with pytest.raises(ValueError, match="is not a school code: use letters and digits"):
        school_code(written)


def test_a_class_is_named_by_its_school_and_the_site_schools_keep_their_names():
    assert ClassRef("", "10A1").group == "class-10a1" and ClassRef("", "10A1").key == "10A1"
    other = ClassRef("thpt-an-nhon", "10A1")
    assert other.group == "class-10a1.thpt-an-nhon" and other.key == "10A1@thpt-an-nhon"
    assert ClassRef.from_key(other.key) == other and ClassRef.from_key("10A1") == ClassRef("", "10A1")
    # a site-school class cannot take another school's group name: slugs and codes have no dot
    assert ClassRef("", "10a1.thpt-an-nhon").group == "class-10a1-thpt-an-nhon" != other.group


def test_two_schools_10a1_are_two_classes_with_their_own_teachers_and_sheets(site, write_roster):
    data, url = site
    report = apply_roster(data, url, parse_roster(write_roster("province", ROWS, header=HEADER)))
    who = logins(url)
    assert group_members(url, "class-10a1.thpt-quy-nhon") == sorted([who["Nguyễn Văn An"], who["Đỗ Thị Bích"]])
    assert group_members(url, "class-10a1.thpt-an-nhon") == [who["Lê Minh Châu"]]
    assert group_members(url, "class-10a1") == [], "neither school's 10A1 is the site school's"
    roles = {r["name"]: r["users"] for r in hub_view(url).roles if r["name"].startswith("teacher-")}
    assert roles == {"teacher-class-10a1.thpt-an-nhon": [who["Phạm Văn Dũng"]],
                     "teacher-class-10a1.thpt-quy-nhon": [who["Trần Thị Hạnh"]]}
    sheets = {p.name.rsplit("-", 2)[0]: p for p in report.sheets}
    assert set(sheets) == {"class-10a1.thpt-quy-nhon", "class-10a1.thpt-an-nhon", "staff.thpt-quy-nhon",
                           "staff.thpt-an-nhon"}, "a sheet per school's class, and per school's staff"
    with sheets["class-10a1.thpt-an-nhon"].open(encoding="utf-8-sig") as f:
        assert [r[0] for r in list(csv.reader(f))[1:]] == ["Lê Minh Châu"], "a school's sheet holds only its people"


def test_the_import_option_names_the_school_of_a_roster_without_the_column(site, write_roster):
    data, url = site
    rows = [r[:4] for r in ROWS[:3]]
    apply_roster(data, url, parse_roster(write_roster("qn", rows), school="thpt-quy-nhon"))
    assert {a.school_code for a in list_accounts(url)} == {"thpt-quy-nhon"}
    with pytest.raises(RosterError) as err:
        parse_roster(write_roster("mixed", ROWS, header=HEADER), school="thpt-quy-nhon")
    assert "line 5: school thpt-an-nhon is not the school this import is for (thpt-quy-nhon)" in str(err.value)


def test_a_person_moves_school_only_when_asked_and_nothing_changes_otherwise(site, write_roster):
    data, url = site
    apply_roster(data, url, parse_roster(write_roster("province", ROWS, header=HEADER)))
    before = {(a.login, a.school_code, a.classes) for a in list_accounts(url)}
    moved = [["AN001", "Lê Minh Châu", "10A2", "", "THPT Quy Nhơn"], ["QN009", "Võ Thị Mới", "10A2", "", "THPT Quy Nhơn"]]
    roster = parse_roster(write_roster("moved", moved, header=HEADER))
    with pytest.raises(RosterError) as err:
        apply_roster(data, url, roster, "moved.csv")
    assert "line 2: ID AN001 belongs to a person of thpt-an-nhon, not thpt-quy-nhon" in str(err.value)
    assert "--move-school" in str(err.value)
    assert {(a.login, a.school_code, a.classes) for a in list_accounts(url)} == before, "all or nothing"
    apply_roster(data, url, roster, "moved.csv", move_school=True)
    chau = next(a for a in list_accounts(url) if a.full_name == "Lê Minh Châu")
    assert chau.school_code == "thpt-quy-nhon" and group_members(url, "class-10a2.thpt-quy-nhon") == sorted(
        [chau.login, logins(url)["Võ Thị Mới"]])
    assert group_members(url, "class-10a1.thpt-an-nhon") == [], "the student left the old school's class"


def test_an_offering_enrols_only_its_schools_class(site, write_roster):
    data, url = site
    apply_roster(data, url, parse_roster(write_roster("province", ROWS, header=HEADER)))
    course = load_catalog().course("python-co-ban")
    qn = offer(data, url, course, "10A1", "THPT Quy Nhơn", "2025-2026", school_code="thpt-quy-nhon")
    an = offer(data, url, course, "10A1", "THPT An Nhơn", "2025-2026", school_code="thpt-an-nhon")
    who = logins(url)
    assert qn.id == "python-co-ban-10a1.thpt-quy-nhon-2025-2026" != an.id
    assert group_members(url, an.student_group) == [who["Lê Minh Châu"]]
    assert group_members(url, an.grader_group) == [who["Phạm Văn Dũng"]]
    assert group_members(url, qn.grader_group) == [who["Trần Thị Hạnh"]]
    assert {o.id: o.class_ref for o in list_offerings(data)}[an.id] == ClassRef("thpt-an-nhon", "10A1")
    with pytest.raises(StemlabError, match=r"No class 10A1 with students; import its roster first. "
                                           r"Classes: 10A1 \(thpt-an-nhon\), 10A1 \(thpt-quy-nhon\)"):
        offer(data, url, course, "10A1", "THPT Mẫu", "2025-2026")


def test_a_schools_admin_holds_its_classes_scopes_and_is_no_hub_admin(site, write_roster):
    data, url = site
    rows = ROWS + [["QNQT1", "Hồ Văn Hiệu", "", "quản trị", "THPT Quy Nhơn"], ["SOQT1", "Đinh Thị Sở", "", "quản trị", ""]]
    apply_roster(data, url, parse_roster(write_roster("province", rows, header=HEADER)))
    view, who = hub_view(url), logins(url)
    assert view.admins == {who["Đinh Thị Sở"]}, "only the site's (the province's) admins are hub admins"
    role = next(r for r in view.roles if r["name"] == "school-admin-thpt-quy-nhon")
    assert role["users"] == [who["Hồ Văn Hiệu"]]
    filtered = [s for s in role["scopes"] if s != "admin-ui"]
    assert filtered and all(s.endswith("!group=class-10a1.thpt-quy-nhon") for s in filtered), filtered


def test_the_commands_take_a_school_by_its_code(tmp_path, write_roster):
    data = tmp_path / "var"

    def stemlab(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([STEMLAB, *args, "--data", str(data)], capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "200"})

    roster = write_roster("an-nhon", [["AN001", "Lê Minh Châu", "10A1", ""], ["ANGV1", "Phạm Văn Dũng", "10A1", "giáo viên"]])
    assert stemlab("accounts", "import", str(roster), "--school", "THPT An Nhơn").returncode == 0
    offered = stemlab("courses", "offer", "python-co-ban", "--class", "10A1", "--school", "thpt-an-nhon", "--year",
                      "2025-2026")
    assert offered.returncode == 0 and "python-co-ban-10a1.thpt-an-nhon-2025-2026" in offered.stdout, offered.stdout
    meta = (data / "offerings" / "python-co-ban-10a1.thpt-an-nhon-2025-2026" / "offering.toml").read_text(encoding="utf-8")
    assert 'school = "THPT An Nhơn"' in meta, "the school's name as the import named it, for the grade sheets"
    plain = stemlab("courses", "offer", "python-co-ban", "--class", "10A1", "--year", "2025-2026")
    assert plain.returncode == 2 and "No class 10A1 with students" in plain.stdout, "the site school has no 10A1"
    bad = stemlab("courses", "offer", "python-co-ban", "--class", "10A1", "--school", "...")
    assert bad.returncode == 2 and "không phải mã trường" in bad.stdout and "is not a school code" in bad.stdout


def test_a_school_is_called_by_the_name_its_first_roster_gave(site, write_roster):
    from hub_config.people.accounts import school_display_name

    data, url = site
    apply_roster(data, url, parse_roster(write_roster("province", ROWS, header=HEADER)))
    assert school_display_name(url, "thpt-quy-nhon", "Sở GD&ĐT") == "THPT Quy Nhơn"
    assert school_display_name(url, "thpt-an-nhon", "Sở GD&ĐT") == "thpt-an-nhon", "its roster gave only the code"
    assert school_display_name(url, "", "Sở GD&ĐT") == "Sở GD&ĐT", "the site school: the settings' name"
    renamed = [["QN003", "Mai Văn Sơn", "10A2", "", "Thpt Quy Nhon"]]
    apply_roster(data, url, parse_roster(write_roster("later", renamed, header=HEADER)))
    assert school_display_name(url, "thpt-quy-nhon", "Sở GD&ĐT") == "THPT Quy Nhơn", "a later spelling renames nothing"
