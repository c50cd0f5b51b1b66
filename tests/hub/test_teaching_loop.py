"""The whole teaching loop through the real hub, for a class of three.

The teacher offers the course and releases an assignment; each student fetches it through their
own server's nbgrader API; one answers everything, one answers part, one hands in nothing. The
teacher collects, autogrades, grades the written answer in the formgrader and releases feedback;
students fetch their feedback; the exported grades are exactly what the answers earned.
"""

import csv
import html
import json

import openpyxl
import pytest

from ..conftest import FILES, launch, leftovers_after_stop
from .helpers import answer_and_submit, open_server, stemlab_on, wait_for_service, xsrf_headers

pytestmark = pytest.mark.hub
OFFERING = "python-co-ban-10a3-2025-2026"
ASSIGNMENT = "bai01-bien-va-kieu-du-lieu"
ANSWERS = {
    "cau1-loi-giai": "def chu_vi_hinh_chu_nhat(dai, rong):\n    return 2 * (dai + rong)",
    "cau2-loi-giai": "def doi_nhiet_do(do_c):\n    return do_c * 9 / 5 + 32",
    "cau3-loi-giai": "def gioi_thieu(ho_ten, tuoi):\n    return 'Em là ' + ho_ten + ', ' + str(int(tuoi)) + ' tuổi.'",
    "cau4-tra-loi": "input() trả về xâu nên a + b nối xâu. Sửa: print(int(a) + int(b)).",
}
PARTIAL = {"cau1-loi-giai": ANSWERS["cau1-loi-giai"], "cau2-loi-giai": "def doi_nhiet_do(do_c):\n    return do_c"}


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    hub = launch(tmp_path_factory.mktemp("loop") / "var", roster=FILES / "three_students.csv")
    yield hub
    hub.stop()
    leftovers_after_stop(hub.data_dir)


def test_release_submit_collect_grade_feedback_export(loop):
    hub = loop
    stemlab_on(hub, "courses", "offer", "python-co-ban", "--class", "10A3", "--year", "2025-2026")
    wait_for_service(hub, OFFERING)
    stemlab_on(hub, "courses", "release", OFFERING, ASSIGNMENT, "--due", "2099-06-01T07:00")

    by_name = {a["name"]: a for a in hub.accounts() if a["role"] == "student"}
    plan = {"Trần Minh Khoa": ANSWERS, "Lý Thu Trang": PARTIAL, "Vũ Đức Bảo": None}
    sessions = {}
    for name, answers in plan.items():
        acc = by_name[name]
        s = hub.login(acc["login"], acc["password"])
        open_server(s, hub.url, acc["login"])
        answer_and_submit(hub, s, acc["login"], OFFERING, ASSIGNMENT, answers)
        sessions[name] = (acc["login"], s)

    # Validate, as the students' "Validate" button does: the complete answer passes, the partial fails
    path = f"{OFFERING}/{ASSIGNMENT}/bai01.ipynb"
    verdicts = {}
    for name in ("Trần Minh Khoa", "Lý Thu Trang"):
        login, s = sessions[name]
        verdicts[name] = s.post(f"{hub.url}/user/{login}/assignments/validate", data={"path": path},
                                headers=xsrf_headers(s, login)).json()
    assert verdicts["Trần Minh Khoa"]["success"] and "failed" not in verdicts["Trần Minh Khoa"]["value"], verdicts
    assert "failed" in verdicts["Lý Thu Trang"]["value"], verdicts

    stemlab_on(hub, "courses", "collect", OFFERING, ASSIGNMENT)
    stemlab_on(hub, "grade", OFFERING, ASSIGNMENT)

    # the teacher grades Khoa's written answer in the formgrader, through the hub
    teacher = hub.account("teacher")
    t = hub.login(teacher["login"], teacher["password"])
    fg = f"{hub.url}/services/{OFFERING}/formgrader/api"
    assert t.get(f"{hub.url}/services/{OFFERING}/").status_code == 200
    headers = {"X-XSRFToken": t.cookies.get("_xsrf", path=f"/services/{OFFERING}/") or ""}
    # demo mode: every server is one Linux account, so nbgrader's owner check would call each honest
    # submission a possible cheat in the formgrader's Collect log; it is off there
    collected = t.post(f"{fg}/assignment/{ASSIGNMENT}/collect", headers=headers).json()
    assert collected["success"] and "cheating" not in json.dumps(collected), collected
    # the formgrader's Autograde button grades one student again, in the grading sandbox too
    regraded = t.post(f"{fg}/submission/{ASSIGNMENT}/{by_name['Trần Minh Khoa']['login']}/autograde",
                      headers=headers).json()
    assert regraded["success"], regraded
    notebooks = t.get(f"{fg}/submitted_notebooks/{ASSIGNMENT}/bai01", headers=headers).json()
    khoa = next(n for n in notebooks if n["student"] == by_name["Trần Minh Khoa"]["login"])
    assert khoa["code_score"] == 8, khoa
    grades = t.get(f"{fg}/grades", params={"submission_id": khoa["id"]}, headers=headers).json()
    written = next(g for g in grades if g["name"] == "cau4-tra-loi")
    r = t.put(f"{fg}/grade/{written['id']}", json={"manual_score": 2}, headers=headers)
    assert r.status_code == 200, r.text

    stemlab_on(hub, "courses", "feedback", OFFERING, ASSIGNMENT)
    login, s = sessions["Trần Minh Khoa"]
    listed = s.post(f"{hub.url}/user/{login}/assignments/fetch_feedback",
                    data={"course_id": OFFERING, "assignment_id": ASSIGNMENT}, headers=xsrf_headers(s, login)).json()
    assert listed["success"], listed
    feedback = list((hub.data_dir / "homes" / login / OFFERING / ASSIGNMENT / "feedback").rglob("bai01.html"))
    assert feedback and "chu_vi_hinh_chu_nhat" in feedback[0].read_text(encoding="utf-8")
    shown = html.unescape(feedback[0].read_text(encoding="utf-8"))
    leaked = [line for line in hidden_test_lines(ASSIGNMENT) if line in shown]
    assert not leaked, f"hidden tests published in the feedback: {leaked}"
    assert "kiểm tra ẩn" in shown, "the feedback says where hidden tests ran"

    out = stemlab_on(hub, "grades", "export", OFFERING)
    sheet = hub.data_dir / "grades" / f"{OFFERING}-grades.csv"
    assert str(sheet) in out
    raw = sheet.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "BOM, so Excel shows Vietnamese names"
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0][:4] == ["STT", "Mã học sinh", "Họ và tên", "Biến, lệnh gán và kiểu dữ liệu (/10)"]
    # STT, the school's code (the roster's ID), name, bai01, total, late: sorted by given name,
    # as Vietnamese class lists are: Bảo, Khoa, Trang
    assert [row[:6] for row in rows[1:]] == [
        ["1", "HS0303", "Vũ Đức Bảo", "chưa nộp", "0,0", ""],       # nothing handed in
        ["2", "HS0301", "Trần Minh Khoa", "10", "10,0", ""],        # 2 + 3 + 3 autograded, 2 written
        ["3", "HS0302", "Lý Thu Trang", "2", "2,0", ""],            # question 1 only
    ]
    wb = openpyxl.load_workbook(hub.data_dir / "grades" / f"{OFFERING}-grades.xlsx")
    values = [[c.value for c in row] for row in wb.active.iter_rows(min_row=3)]
    assert [(v[2], v[4]) for v in values] == [("Vũ Đức Bảo", 0.0), ("Trần Minh Khoa", 10.0), ("Lý Thu Trang", 2.0)]


def hidden_test_lines(assignment: str) -> list[str]:
    """The code lines of the assignment's hidden tests (from its source), each enough to give it away."""
    import nbformat

    lines, hiding = [], False
    for path in (FILES.parent.parent / "courses" / "python-co-ban" / "source" / assignment).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for line in cell.source.splitlines():
                if "BEGIN HIDDEN TESTS" in line or "END HIDDEN TESTS" in line:
                    hiding = "BEGIN" in line
                elif hiding and line.strip().startswith(("kq =", "assert")):
                    lines.append(line.strip())
    assert lines, "the assignment has hidden tests"
    return lines


def solutions(assignment: str) -> dict[str, str]:
    """The course's own solutions, markers removed: what a student who got everything right writes."""
    import nbformat

    from courses import COURSES_ROOT

    path = next((COURSES_ROOT / "python-co-ban" / "source" / assignment).glob("*.ipynb"))
    out = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            out[meta["grade_id"]] = "\n".join(line for line in cell.source.splitlines() if "### " not in line)
    return out


def test_a_late_submission_is_marked_late_and_a_broken_one_is_reported_not_lost(loop):
    """After the first test: bai02 is due in the past. Khoa hands in a correct notebook (late);
    Trang hands in a file that is not JSON. Grading names Trang's file and what to do, grades
    Khoa, and leaves bai01's grades as they were."""
    import subprocess

    from ..conftest import STEMLAB

    hub = loop
    late_one = "bai02-cau-lenh-re-nhanh"
    stemlab_on(hub, "courses", "release", OFFERING, late_one, "--due", "2020-09-05T07:00")
    by_name = {a["name"]: a for a in hub.accounts() if a["role"] == "student"}
    khoa, trang = by_name["Trần Minh Khoa"], by_name["Lý Thu Trang"]
    s = hub.login(khoa["login"], khoa["password"])
    open_server(s, hub.url, khoa["login"])
    answer_and_submit(hub, s, khoa["login"], OFFERING, late_one, solutions(late_one))

    s = hub.login(trang["login"], trang["password"])
    open_server(s, hub.url, trang["login"])
    answer_and_submit(hub, s, trang["login"], OFFERING, late_one, None)
    base = f"{hub.url}/user/{trang['login']}"
    saved = s.put(f"{base}/api/contents/{OFFERING}/{late_one}/bai02.ipynb",
                  json={"type": "file", "format": "text", "content": '{"cells": [ bị cắt giữa chừng'},
                  headers=xsrf_headers(s, trang["login"]))
    assert saved.status_code in (200, 201), saved.text
    submitted = s.post(f"{base}/assignments/submit", data={"course_id": OFFERING, "assignment_id": late_one},
                       headers=xsrf_headers(s, trang["login"])).json()
    assert submitted["success"], submitted

    stemlab_on(hub, "courses", "collect", OFFERING, late_one)
    graded = subprocess.run([STEMLAB, "grade", OFFERING, late_one, "--data", str(hub.data_dir)],
                            capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert graded.returncode != 0, "a broken submission needs a person"
    assert trang["login"] in graded.stdout and "bai02.ipynb" in graded.stdout and "not valid JSON" in graded.stdout
    assert "submit again" in graded.stdout and "nộp lại" in graded.stdout

    stemlab_on(hub, "grades", "export", OFFERING)
    raw = (hub.data_dir / "grades" / f"{OFFERING}-grades.csv").read_bytes()
    rows = {row[2]: row for row in csv.reader(raw.decode("utf-8-sig").splitlines()[1:], delimiter=";")}
    # columns: STT, code, name, bai01, bai02, total on 10, late (by title), review, login
    assert rows["Trần Minh Khoa"][3:8] == ["10", "8", "9,0", "Câu lệnh rẽ nhánh if", ""]   # (10 + 8) / 20 × 10
    assert rows["Lý Thu Trang"][3:8] == ["2", "chưa chấm", "1,0", "", ""]   # bai01 untouched, bai02 broken
    assert rows["Vũ Đức Bảo"][3:8] == ["chưa nộp", "chưa nộp", "0,0", "", ""]


def test_the_term_backed_up_while_running_comes_back_whole_on_a_fresh_machine(loop, tmp_path):
    """After the two tests above: back up the running platform, restore into an empty data
    directory (a new machine's), start a hub on it; every grade, submission, feedback and file is
    there, students and the teacher log in with their passwords, no server of the old hub is taken
    for the new one's."""
    import hashlib
    import subprocess

    from hub_config.operations.backup import complete_backups

    from ..conftest import STEMLAB

    hub = loop
    out = stemlab_on(hub, "backup", "--to", str(tmp_path / "usb"))
    assert "Backed up" in out
    [backup] = complete_backups(tmp_path / "usb")
    fresh = tmp_path / "new-machine" / "var"
    restored = subprocess.run([STEMLAB, "restore", str(backup), "--data", str(fresh)], capture_output=True,
                              text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert restored.returncode == 0, restored.stdout + restored.stderr

    def sheet(data_dir) -> list[list[str]]:
        subprocess.run([STEMLAB, "grades", "export", OFFERING, "--data", str(data_dir)], check=True,
                       capture_output=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
        raw = (data_dir / "grades" / f"{OFFERING}-grades.csv").read_bytes()
        return list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))

    assert sheet(fresh) == sheet(hub.data_dir)  # every grade, late mark and "not graded"

    def work(data_dir) -> dict[str, str]:  # what students handed in, got back, and keep in their homes
        places = [*(data_dir / "homes").rglob("*.ipynb"), *(data_dir / "homes").rglob("*.html"),
                  *(data_dir / "exchange").rglob("*.ipynb"), *(data_dir / "offerings").rglob("*.ipynb")]
        return {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in places if ".ipynb_checkpoints" not in p.parts}

    assert work(fresh) == work(hub.data_dir) and len(work(fresh)) > 10

    new = launch(fresh)
    try:
        by_name = {a["name"]: a for a in new.accounts() if a["role"] == "student"}
        khoa = by_name["Trần Minh Khoa"]
        s = new.login(khoa["login"], khoa["password"])  # the password the first code became
        open_server(s, new.url, khoa["login"])
        assert (new.data_dir / "homes" / khoa["login"] / OFFERING / ASSIGNMENT / "feedback").is_dir()
        teacher = new.account("teacher")
        t = new.login(teacher["login"], teacher["password"])
        wait_for_service(new, OFFERING)
        assert t.get(f"{new.url}/services/{OFFERING}/").status_code == 200
        # the old hub's servers run on: none of them is the new hub's
        old_user = {a["name"]: a for a in hub.accounts()}["Lý Thu Trang"]["login"]
        model = t.get(f"{new.url}/hub/api/users/{old_user}",
                      headers={"X-XSRFToken": t.cookies.get("_xsrf", path="/hub/") or ""})
        assert model.status_code in (200, 403, 404)
        trang = by_name["Lý Thu Trang"]
        s2 = new.login(trang["login"], trang["password"])
        me = s2.get(f"{new.url}/hub/api/user", headers={"X-XSRFToken": s2.cookies.get("_xsrf", path="/hub/") or ""})
        assert me.status_code == 200 and not me.json()["servers"], me.text
    finally:
        new.stop()
        leftovers_after_stop(new.data_dir)
