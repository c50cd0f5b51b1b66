"""The teacher's page through the real hub: a teacher of 10A1 runs the whole loop with buttons,
in Vietnamese (English selectable), and reaches nothing of 10A2's; students and others are told
the page is not theirs."""

from __future__ import annotations

import html
import io
import re
import time

import bcrypt
import openpyxl
import pytest
import requests
from nativeauthenticator.orm import UserInfo

from hub_config.people import first_codes
from hub_config.people.accounts import open_session

from hub_config.teaching.catalog import load_catalog
from hub_config.teaching.frameworks import TagKind

from ..conftest import import_roster, launch_school, leftovers_after_stop
from .helpers import (PAGE, answer_and_submit, form_xsrf, open_page, open_server, page_text, post_form, settled_hub_pid,
                      wait_for_new_hub, wait_job)

pytestmark = pytest.mark.hub
ASSIGNMENT = "bai01-bien-va-kieu-du-lieu"
OFFERING = "python-co-ban-10a1-"  # + school year


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    hub = launch_school(tmp_path_factory.mktemp("teach") / "var")
    try:
        yield hub
    finally:
        hub.stop()
        leftovers_after_stop(hub.data_dir)


@pytest.fixture(scope="module")
def teacher(hub):
    acc = hub.account("teacher", classes="10A1")
    return hub.login(acc["login"], acc["password"])


def test_the_whole_loop_by_buttons(hub, teacher):
    home = open_page(teacher, f"{hub.url}{PAGE}")
    text = page_text(home)
    assert "Trang giáo viên" in text and "Lớp của tôi" in text and "10A1" in text
    assert "10A2" not in text, "only the teacher's own classes"

    created = post_form(teacher, hub, home, "offerings", course="python-co-ban", **{"class": "10A1"})
    assert created.status_code == 200 and "/offerings/python-co-ban-10a1-" in created.url, created.url
    offering = created.url.split("/offerings/")[1].split("?")[0]

    page = open_page(teacher, f"{hub.url}{PAGE}offerings/{offering}?assignment={ASSIGNMENT}")
    assert covered_rows(page) == set(), "nothing released yet: no strand or domain covered"
    released = post_form(teacher, hub, page, f"offerings/{offering}/{ASSIGNMENT}/release", due="2099-06-01T07:00")
    job = wait_job(teacher, hub, released)
    assert job["state"] == "done", job
    page = open_page(teacher, f"{hub.url}{PAGE}offerings/{offering}?assignment={ASSIGNMENT}")
    assert "07:00 01/06/2099" in page_text(page), "the due date in the school's time, as typed"
    tags = load_catalog().course("python-co-ban").assignment(ASSIGNMENT).tags
    assert covered_rows(page) == {(kind.value, code) for kind in (TagKind.AI_STRAND, TagKind.DIGITAL_DOMAIN)
                                  for code in tags.codes(kind)}, "the released assignment's strands and domains"
    assert "Khung năng lực đã xây dựng" in page_text(page)

    # one student submits, one only fetches, nobody else has started
    anh = hub.account("student", 0, classes="10A1")
    chau = hub.account("student", 1, classes="10A1")
    for acc, answers in ((anh, {"cau1-loi-giai": "def chu_vi_hinh_chu_nhat(dai, rong):\n    return 2 * (dai + rong)"}),
                         (chau, None)):
        s = hub.login(acc["login"], acc["password"])
        open_server(s, hub.url, acc["login"])
        answer_and_submit(hub, s, acc["login"], offering, ASSIGNMENT, answers)
    page = page_text(open_page(teacher, f"{hub.url}{PAGE}offerings/{offering}?assignment={ASSIGNMENT}"))
    rows = dict(re.findall(r'<tr data-login="([^"]+)">.*?class="stage-[^"]+">([^<]+)</td>', page, re.S))
    assert rows == {anh["login"]: "đã nộp", chau["login"]: "đã nhận, chưa nộp"}, rows
    assert "1 đã nộp (0 muộn), 1 đã nhận chưa nộp, 0 chưa nhận" in page

    page = open_page(teacher, f"{hub.url}{PAGE}offerings/{offering}?assignment={ASSIGNMENT}")
    assert wait_job(teacher, hub, post_form(teacher, hub, page, f"offerings/{offering}/{ASSIGNMENT}/collect"))["state"] == "done"
    graded = wait_job(teacher, hub, post_form(teacher, hub, page, f"offerings/{offering}/{ASSIGNMENT}/autograde"))
    assert graded["state"] == "done" and graded["total"] == graded["done"] == 1, graded
    assert wait_job(teacher, hub, post_form(teacher, hub, page, f"offerings/{offering}/{ASSIGNMENT}/feedback"))["state"] == "done"

    sheet = teacher.get(f"{hub.url}{PAGE}offerings/{offering}/grades.xlsx", timeout=60)
    assert sheet.status_code == 200 and "attachment" in sheet.headers["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(sheet.content)).active
    header = [c.value for c in ws[2]]
    assert header[:4] == ["STT", "Mã học sinh", "Họ và tên", "Biến, lệnh gán và kiểu dữ liệu (/10)"]
    rows = {r[2]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert rows["Lê Hoàng Anh"][1] == "HS0101" and rows["Lê Hoàng Anh"][3] == 2.0, "question 1 only: 2 points"
    assert rows["Phạm Minh Châu"][3] == "chưa nộp"


def covered_rows(page) -> set[tuple[str, str]]:
    """(framework, tag) of every row the offering page marks as covered by released work."""
    found = set()
    for kind, table in re.findall(r'<table class="coverage" data-kind="([^"]+)">(.*?)</table>', page_text(page), re.S):
        found |= {(kind, tag) for tag in re.findall(r'<tr data-tag="([^"]+)" data-covered="yes">', table)}
    return found


def test_english_is_selectable(hub, teacher):
    page = html.unescape(page_text(open_page(teacher, f"{hub.url}{PAGE}?lang=en")))
    assert "Teacher's page" in page and "My classes" in page and "Lớp của tôi" not in page
    assert "Lớp của tôi" in page_text(open_page(teacher, f"{hub.url}{PAGE}?lang=vi"))


def test_a_teacher_reaches_only_their_own_classes(hub, teacher):
    assert teacher.get(f"{hub.url}{PAGE}classes/10A2", timeout=60).status_code == 403
    other = hub.account("teacher", classes="10A2")
    t2 = hub.login(other["login"], other["password"])
    home = open_page(t2, f"{hub.url}{PAGE}")
    denied = post_form(t2, hub, home, "offerings", course="python-co-ban", **{"class": "10A1"})
    assert denied.status_code == 403 and "Bạn không dạy lớp này" in page_text(denied)
    ours = [o for o in (hub.data_dir / "offerings").iterdir() if o.name.startswith(OFFERING)]
    for offering in ours:
        assert t2.get(f"{hub.url}{PAGE}offerings/{offering.name}", timeout=60).status_code == 403
        assert t2.get(f"{hub.url}{PAGE}offerings/{offering.name}/grades.xlsx", timeout=60).status_code == 403


def test_students_and_technicians_are_told_the_page_is_not_theirs(hub):
    for role in ("student", "technician"):
        acc = hub.account(role)
        s = hub.login(acc["login"], acc["password"])
        r = s.get(f"{hub.url}{PAGE}", timeout=60)
        assert r.status_code == 403 and "Trang này dành cho giáo viên" in page_text(r)


def test_prestarting_the_class_starts_its_servers(hub, teacher):
    page = open_page(teacher, f"{hub.url}{PAGE}classes/10A1")
    assert "Máy chủ của học sinh" in page_text(page)
    started = post_form(teacher, hub, page, "classes/10A1")
    assert started.status_code == 200
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = teacher.get(f"{hub.url}{PAGE}classes/10A1?format=json", timeout=60).json()["servers"]
        if all(s["state"] == "running" for s in states):
            break
        time.sleep(1)
    assert [s["text"] for s in states] == ["đang chạy", "đang chạy"], states


def test_the_hub_pages_lead_each_person_to_their_page_in_vietnamese(hub, teacher):
    home = page_text(teacher.get(f"{hub.url}/hub/home", timeout=60))
    assert 'href="/services/stemlab-teach/"' in home and "Trang giáo viên" in home
    assert "Khởi động máy chủ của tôi" in home and "Đăng xuất" in home and "Nguyễn Thị Lan" in home
    student = hub.account("student", 0, classes="10A2")
    s = hub.login(student["login"], student["password"])
    home = page_text(s.get(f"{hub.url}/hub/home", timeout=60))
    assert "stemlab-teach" not in home and "Bài tập" in home and "Đổi mật khẩu" in home
    tech = hub.account("technician")
    t = hub.login(tech["login"], tech["password"])
    assert 'href="/services/stemlab-kits/"' in page_text(t.get(f"{hub.url}/hub/home", timeout=60))


def test_changing_a_password_speaks_vietnamese(hub):
    student = hub.account("student", 1, classes="10A2")
    s = hub.login(student["login"], student["password"])
    page = s.get(f"{hub.url}/hub/change-password", timeout=60)
    assert "Mật khẩu hiện tại" in page_text(page) and "Nhập lại mật khẩu mới" in page_text(page)
    wrong = s.post(f"{hub.url}/hub/change-password", timeout=60, data={
        "_xsrf": form_xsrf(page_text(page)), "old_password": "sai-mat-khau", "new_password": "hoa-sen-2026",
        "new_password_confirmation": "hoa-sen-2026"})
    assert "Mật khẩu hiện tại chưa đúng" in page_text(wrong)
    done = s.post(f"{hub.url}/hub/change-password", timeout=60, data={
        "_xsrf": form_xsrf(page_text(page)), "old_password": student["password"], "new_password": "hoa-sen-2026",
        "new_password_confirmation": "hoa-sen-2026"})
    assert "Đã đổi mật khẩu" in page_text(done)
    hub.login(student["login"], "hoa-sen-2026")


def test_the_admins_page_says_when_the_data_was_last_backed_up(hub):
    from .helpers import stemlab_on

    admin = hub.account("admin")
    s = hub.login(admin["login"], admin["password"])
    backups = hub.data_dir / "backups"
    if backups.exists():  # (another test's)
        import shutil

        shutil.rmtree(backups)
    text = html.unescape(page_text(open_page(s, f"{hub.url}{PAGE}roster")))
    assert "Chưa có bản sao lưu nào" in text
    stemlab_on(hub, "backup")
    text = html.unescape(page_text(open_page(s, f"{hub.url}{PAGE}roster")))
    found = re.search(r"Bản sao lưu gần nhất: (\d\d/\d\d/\d{4} \d\d:\d\d), ([0-9.]+) MB", text)
    assert found and float(found.group(2)) > 0, text[:2000]
    english = html.unescape(page_text(open_page(s, f"{hub.url}{PAGE}roster?lang=en")))
    assert f"Last backup: {found.group(1)}" in english


def test_the_site_admins_health_page_shows_every_check_in_their_language(hub, teacher):
    """The checks of `stemlab status` (hub, proxy, each routed service, disk, backup, kits) for the
    site's admin, in Vietnamese and English; a teacher and a student are told it is not theirs."""
    admin = hub.account("admin")
    s = hub.login(admin["login"], admin["password"])
    page = open_page(s, f"{hub.url}{PAGE}health")
    states = dict(re.findall(r'data-check="([^"]+)"><td>[^<]+</td><td>([^<]+)</td>', page_text(page)))
    assert {states[n] for n in ("hub", "proxy", "service:stemlab-teach", "service:stemlab-kits")} == {"Tốt"}, states
    assert {"disk", "backup", "kits", "servers"} <= set(states)
    assert "Tình trạng hệ thống" in page_text(page) and 'id="nav-health"' in page_text(page)
    english = page_text(open_page(s, f"{hub.url}{PAGE}health?lang=en"))
    assert "System health" in english and "<td>OK</td>" in english and "Tốt" not in english
    open_page(s, f"{hub.url}{PAGE}health?lang=vi")
    assert 'id="nav-health"' not in page_text(open_page(teacher, f"{hub.url}{PAGE}"))
    r = teacher.get(f"{hub.url}{PAGE}health", timeout=60)
    assert r.status_code == 403 and "quản trị viên của cả hệ thống" in html.unescape(page_text(r))
    student = hub.account("student")
    r = hub.login(student["login"], student["password"]).get(f"{hub.url}{PAGE}health", timeout=60)
    assert r.status_code == 403 and "data-check" not in r.text


def test_an_admin_imports_a_roster_in_the_browser(hub, write_roster):
    """A bad line is explained in both languages and nothing changes; a good roster is previewed,
    then confirmed, and its password sheet downloads."""
    admin = hub.account("admin")
    s = hub.login(admin["login"], admin["password"])
    page = open_page(s, f"{hub.url}{PAGE}roster")
    assert "Danh sách lớp" in page_text(page)
    before = len(hub.accounts())
    bad = write_roster("lop10a3", [["HS0301", "Hồ Thị Xuân", "10A3", ""], ["HS0302", "Tên 123", "10A3", ""]])
    r = s.post(f"{hub.url}{PAGE}roster", data={"_xsrf": form_xsrf(page_text(page))},
               files={"roster": ("lop10a3.csv", bad.read_bytes(), "text/csv")}, timeout=60)
    text = html.unescape(page_text(r))
    assert "chưa được nhập; chưa có tài khoản nào thay đổi" in text, text[-3000:]
    assert "dòng 3: họ tên 'Tên 123' trống hoặc có chữ số" in text and "line 3: full name" in text
    good = write_roster("lop10a3-sua", [["HS0301", "Hồ Thị Xuân", "10A3", ""], ["HS0302", "Trịnh Văn Tâm", "10A3", ""]])
    r = s.post(f"{hub.url}{PAGE}roster", data={"_xsrf": form_xsrf(page_text(page))},
               files={"roster": ("lop10a3-sua.csv", good.read_bytes(), "text/csv")}, timeout=60)
    text = html.unescape(page_text(r))
    assert "hợp lệ: 2 người (2 mới, 0 đã có)" in text and "Trịnh Văn Tâm" in text
    assert len(hub.accounts()) == before, "nothing is written before the admin confirms"
    token = re.search(r'name="token" value="([^"]+)"', text).group(1)
    done = s.post(f"{hub.url}{PAGE}roster/confirm", data={"_xsrf": form_xsrf(text), "token": token}, timeout=60)
    text = html.unescape(page_text(done))
    assert "Đã nhập: 2 tạo mới" in text, text[-2000:]
    sheet = re.search(r'href="([^"]+class-10a3[^"]+\.csv)"', text).group(1)
    csv_text = s.get(f"{hub.url}{sheet}", timeout=60).content.decode("utf-8-sig")
    assert "Trịnh Văn Tâm" in csv_text and "Mật khẩu lần đầu" in csv_text
    teacher = hub.account("teacher", classes="10A1")
    t = hub.login(teacher["login"], teacher["password"])
    assert t.get(f"{hub.url}{PAGE}roster", timeout=60).status_code == 403


def test_another_schools_10a1_is_its_own_class_behind_its_own_teacher(hub, teacher, write_roster):
    """Two schools on one hub: the other school's teacher of 10A1 sees and offers only that
    school's 10A1, and neither 10A1's teacher reaches the other's class or offerings."""
    roster = write_roster("an-nhon", [["AN0001", "Lê Minh Châu", "10A1", ""], ["AN0002", "Phạm Văn Dũng", "10A1", "giáo viên"],
                                      ["AN0003", "Võ Thị Hiệu", "", "quản trị"]])
    hub_before = settled_hub_pid(hub)
    import_roster(hub.data_dir, roster, "--school", "THPT An Nhơn")
    wait_for_new_hub(hub, hub_before)  # the import reloads the hub: the new people and roles are known after
    sheets = {p.name.rsplit("-", 2)[0]: p for p in (hub.data_dir / "accounts" / "sheets").glob("*.csv")}
    staff_rows = [r.split(",") for r in sheets["staff.thpt-an-nhon"].read_text(encoding="utf-8-sig").splitlines()[1:]]
    staff = next(r for r in staff_rows if r[2] == "teacher")
    student = sheets["class-10a1.thpt-an-nhon"].read_text(encoding="utf-8-sig").splitlines()[1].split(",")
    other = hub.login(staff[3], staff[4])
    home = page_text(open_page(other, f"{hub.url}{PAGE}"))
    assert "10A1 (thpt-an-nhon)" in home and "classes/10A1%40thpt-an-nhon" in home
    assert other.get(f"{hub.url}{PAGE}classes/10A1", timeout=60).status_code == 403, "the site school's 10A1"
    servers = other.get(f"{hub.url}{PAGE}classes/10A1@thpt-an-nhon?format=json", timeout=60).json()["servers"]
    assert [s["login"] for s in servers] == [student[3]], "only that school's 10A1"
    page = open_page(other, f"{hub.url}{PAGE}")
    assert post_form(other, hub, page, "offerings", course="python-co-ban", **{"class": "10A1"}).status_code == 403
    hub_before = settled_hub_pid(hub)
    created = post_form(other, hub, page, "offerings", course="python-co-ban", **{"class": "10A1@thpt-an-nhon"})
    wait_for_new_hub(hub, hub_before)  # a new offering reloads the hub (its formgrader service)
    assert "/offerings/python-co-ban-10a1.thpt-an-nhon-" in created.url, created.url
    theirs = created.url.split("/offerings/")[1].split("?")[0]
    assert teacher.get(f"{hub.url}{PAGE}classes/10A1@thpt-an-nhon", timeout=60).status_code == 403
    assert teacher.get(f"{hub.url}{PAGE}offerings/{theirs}", timeout=60).status_code == 403
    for ours in (o.name for o in (hub.data_dir / "offerings").iterdir() if o.name.startswith(OFFERING)):
        assert other.get(f"{hub.url}{PAGE}offerings/{ours}", timeout=60).status_code == 403

    # the school's admin manages that school only: its classes, its rosters, its password sheets
    principal = next(r for r in staff_rows if r[2] == "admin")
    admin = hub.login(principal[3], principal[4])
    home = page_text(open_page(admin, f"{hub.url}{PAGE}"))
    assert "10A1 (thpt-an-nhon)" in home and "10A2" not in home and 'id="nav-roster"' in home
    assert admin.get(f"{hub.url}{PAGE}classes/10A1", timeout=60).status_code == 403
    assert admin.get(f"{hub.url}{PAGE}classes/10A1@thpt-an-nhon", timeout=60).status_code == 200
    page = open_page(admin, f"{hub.url}{PAGE}roster")
    site_student = hub.account("student", 0, classes="10A1")
    theirs_roster = write_roster("steal", [["HS0101", "Tên Khác", "10A1", ""]])  # the site school's student's ID
    r = admin.post(f"{hub.url}{PAGE}roster", data={"_xsrf": form_xsrf(page_text(page))},
                   files={"roster": ("steal.csv", theirs_roster.read_bytes(), "text/csv")}, timeout=60)
    token = re.search(r'name="token" value="([^"]+)"', html.unescape(page_text(r)))
    assert token, "the file itself is valid: it is previewed"
    done = admin.post(f"{hub.url}{PAGE}roster/confirm", timeout=60,
                      data={"_xsrf": form_xsrf(page_text(r)), "token": token.group(1)})
    assert "belongs to a person of the site school, not thpt-an-nhon" in html.unescape(page_text(done))
    assert any(a["login"] == site_student["login"] for a in hub.accounts()), "nobody was moved"
    for sheet, allowed in ((sheets["class-10a1.thpt-an-nhon"].name, 200), (next(
            p.name for p in sheets.values() if p.name.startswith("class-10a1-")), 403)):
        assert admin.get(f"{hub.url}{PAGE}roster/sheets/{sheet}", timeout=60).status_code == allowed, sheet


def test_a_first_code_becomes_the_password_at_the_first_login(hub, write_roster):
    """The sheet's one-time code logs in; the first login keeps it as a bcrypt password (the code's
    own row is gone), so it logs in again until the student changes it; a wrong code does not."""
    hub_before = settled_hub_pid(hub)
    import_roster(hub.data_dir, write_roster("lop10a9", [["HS0901", "Đinh Thị Mai", "10A9", ""]]))
    wait_for_new_hub(hub, hub_before)
    student = hub.account("student", 0, classes="10A9")
    url = f"sqlite:///{hub.data_dir / 'jupyterhub.sqlite'}"
    session = open_session(url)
    try:
        assert session.get(first_codes.FirstCode, student["login"]) is not None
    finally:
        session.close()
    with pytest.raises(AssertionError):
        hub.login(student["login"], student["password"][:-1] + ("a" if student["password"][-1] != "a" else "b"))
    hub.login(student["login"], student["password"])
    session = open_session(url)
    try:
        assert session.get(first_codes.FirstCode, student["login"]) is None
        info = UserInfo.find(session, student["login"])
        assert info.is_authorized and bcrypt.checkpw(student["password"].encode(), info.password)
    finally:
        session.close()
    hub.login(student["login"], student["password"])
