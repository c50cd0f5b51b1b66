"""The whole teaching loop through the real hub, for a class of three.

The teacher offers the course and releases an assignment; each student fetches it through their
own server's nbgrader API; one answers everything, one answers part, one hands in nothing. The
teacher collects, autogrades, grades the written answer in the formgrader and releases feedback;
students fetch their feedback; the exported grades are exactly what the answers earned.
"""

import csv

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

    stemlab_on(hub, "courses", "collect", OFFERING, ASSIGNMENT)
    stemlab_on(hub, "grade", OFFERING, ASSIGNMENT)

    # the teacher grades Khoa's written answer in the formgrader, through the hub
    teacher = hub.account("teacher")
    t = hub.login(teacher["login"], teacher["password"])
    fg = f"{hub.url}/services/{OFFERING}/formgrader/api"
    assert t.get(f"{hub.url}/services/{OFFERING}/").status_code == 200
    headers = {"X-XSRFToken": t.cookies.get("_xsrf", path=f"/services/{OFFERING}/") or ""}
    notebooks = t.get(f"{fg}/submitted_notebooks/{ASSIGNMENT}/bai01", headers=headers).json()
    khoa = next(n for n in notebooks if n["student"] == by_name["Trần Minh Khoa"]["login"])
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

    out = stemlab_on(hub, "grades", "export", OFFERING)
    sheet = hub.data_dir / "grades" / f"{OFFERING}-grades.csv"
    assert str(sheet) in out
    raw = sheet.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "BOM, so Excel shows Vietnamese names"
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    totals = {row[1]: (row[2], row[3], row[4]) for row in rows[1:]}
    # sorted by given name, as Vietnamese class lists are: Bảo, Khoa, Trang
    assert [row[1] for row in rows[1:]] == ["Vũ Đức Bảo", "Trần Minh Khoa", "Lý Thu Trang"]
    assert totals == {
        "Trần Minh Khoa": ("10", "10,0", ""),   # 2 + 3 + 3 autograded, 2 written
        "Lý Thu Trang": ("2", "2,0", ""),       # question 1 only
        "Vũ Đức Bảo": ("", "0,0", ""),          # nothing handed in
    }
    wb = openpyxl.load_workbook(hub.data_dir / "grades" / f"{OFFERING}-grades.xlsx")
    values = [[c.value for c in row] for row in wb.active.iter_rows(min_row=3)]
    assert [(v[1], v[3]) for v in values] == [("Vũ Đức Bảo", 0.0), ("Trần Minh Khoa", 10.0), ("Lý Thu Trang", 2.0)]
