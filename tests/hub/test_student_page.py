"""A student's assignments page in their own server: fetch, check, submit and read feedback in
Vietnamese, with the course's titles and the school's local times; nbgrader's English panels are
off for students, and a class that was not given the course sees nothing of it."""

from __future__ import annotations

import html
import json
import re

import pytest

from ..conftest import FILES, launch, leftovers_after_stop
from .helpers import open_server, page_text, stemlab_on, wait_for_service

pytestmark = pytest.mark.hub
OFFERING = "python-co-ban-10a1-2025-2026"
ASSIGNMENT = "bai01-bien-va-kieu-du-lieu"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    hub = launch(tmp_path_factory.mktemp("student") / "var", roster=FILES / "two_classes.csv")
    try:
        stemlab_on(hub, "courses", "offer", "python-co-ban", "--class", "10A1", "--year", "2025-2026")
        wait_for_service(hub, OFFERING)
        stemlab_on(hub, "courses", "release", OFFERING, ASSIGNMENT, "--due", "2099-06-01T07:00")
        yield hub
    finally:
        hub.stop()
        leftovers_after_stop(hub.data_dir)


def student(hub, classes="10A1", index=0):
    acc = hub.account("student", index, classes=classes)
    s = hub.login(acc["login"], acc["password"])
    open_server(s, hub.url, acc["login"])
    return acc["login"], s


def page(s, hub, login, **params):
    r = s.get(f"{hub.url}/user/{login}/stemlab/assignments", params=params, timeout=60)
    assert r.status_code == 200, r.text[:500]
    return html.unescape(page_text(r))


def act(s, hub, login, action, **fields):
    text = page(s, hub, login)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', text).group(1)
    r = s.post(f"{hub.url}/user/{login}/stemlab/assignments/{action}", timeout=120,
               data={"_xsrf": xsrf, "course_id": OFFERING, "assignment_id": ASSIGNMENT, **fields})
    assert r.status_code == 200, r.text[:500]
    return html.unescape(page_text(r))


def test_fetch_check_and_submit_in_vietnamese(hub):
    login, s = student(hub)
    text = page(s, hub, login)
    assert "Bài tập của em" in text and "Lập trình Python cơ bản · 10A1" in text
    assert "Biến, lệnh gán và kiểu dữ liệu" in text and "07:00 01/06/2099" in text and "chưa nhận" in text
    text = act(s, hub, login, "fetch")
    assert "Đã nhận bài" in text and "đã nhận, đang làm" in text
    notebook = f"{OFFERING}/{ASSIGNMENT}/bai01.ipynb"
    # a wrong answer to question 1, through the server's contents API as JupyterLab saves it
    from .helpers import xsrf_headers

    model = s.get(f"{hub.url}/user/{login}/api/contents/{notebook}", params={"content": 1}).json()
    for cell in model["content"]["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "cau1-loi-giai":
            cell["source"] = "def chu_vi_hinh_chu_nhat(dai, rong):\n    return dai + rong"
    saved = s.put(f"{hub.url}/user/{login}/api/contents/{notebook}", headers=xsrf_headers(s, login),
                  json={"type": "notebook", "format": "json", "content": model["content"]})
    assert saved.status_code == 200, saved.text
    text = act(s, hub, login, "validate", path=notebook)
    assert "kiểm tra chưa đạt" in text, text[:3000]
    assert "Sân 5 m × 3 m có chu vi 16 m, hàm của em trả về 8" in text, "the test's own bilingual message"
    text = act(s, hub, login, "submit")
    assert "Đã nộp bài" in text and re.search(r"nộp lúc \d\d:\d\d \d\d/\d\d/\d{4}", text)
    english = page(s, hub, login, lang="en")
    assert "My assignments" in english and "Variables, assignment and data types" in english


def test_a_class_without_the_course_sees_nothing_of_it(hub):
    login, s = student(hub, classes="10A2")
    text = page(s, hub, login)
    assert "Chưa có bài tập nào" in text and "Lập trình Python" not in text


def test_students_have_no_english_nbgrader_panels_and_a_vietnamese_menu(hub):
    login, s = student(hub, index=1)
    lab = page_text(s.get(f"{hub.url}/user/{login}/lab", timeout=60))
    config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                  lab, re.S).group(1))
    for plugin in ("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment", "@jupyter/nbgrader:menu"):
        assert plugin in config["disabledExtensions"], plugin
    menus = s.get(f"{hub.url}/user/{login}/lab/api/settings/@jupyterlab/mainmenu-extension:plugin", timeout=60).json()
    menu = next(m for m in menus["settings"]["menus"] if m["id"] == "jp-mainmenu-stemlab")
    assert menu["label"] == "Bài tập" and menu["items"][0]["args"]["url"] == f"/user/{login}/stemlab/assignments"
