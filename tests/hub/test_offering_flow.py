"""An offering through the real hub: the teacher releases, the class sees and fetches it in their
own servers, other classes do not, and only the class's teacher reaches its formgrader."""

import json

import pytest

from ..conftest import FILES
from .helpers import open_server, stemlab_on, wait_for_service, xsrf_headers

pytestmark = pytest.mark.hub
OFFERING = "python-co-ban-10a1-2025-2026"
ASSIGNMENT = "bai01-bien-va-kieu-du-lieu"


@pytest.fixture(scope="module")
def offered(tmp_path_factory):
    from ..conftest import launch, leftovers_after_stop

    hub = launch(tmp_path_factory.mktemp("offer") / "var", roster=FILES / "two_classes.csv")
    try:
        yield prepare(hub)
    finally:  # also when preparing fails: no hub is left running
        hub.stop()
        leftovers_after_stop(hub.data_dir)


def prepare(hub):
    stemlab_on(hub, "courses", "offer", "python-co-ban", "--class", "10A1", "--year", "2025-2026")
    wait_for_service(hub, OFFERING)  # the hub reloads with the offering's formgrader service
    out = stemlab_on(hub, "courses", "release", OFFERING, ASSIGNMENT)
    assert "Released" in out
    return hub


def student_session(hub, classes, index=0):
    acc = hub.account("student", index, classes=classes)
    s = hub.login(acc["login"], acc["password"])
    open_server(s, hub.url, acc["login"])
    return acc["login"], s


def test_class_sees_and_fetches_the_released_assignment(offered):
    login, s = student_session(offered, "10A1")
    courses = s.get(f"{offered.url}/user/{login}/courses").json()
    assert courses["success"] and OFFERING in courses["value"], courses
    listed = s.get(f"{offered.url}/user/{login}/assignments", params={"course_id": OFFERING}).json()
    assert listed["success"], listed
    assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [(ASSIGNMENT, "released")]
    fetched = s.post(f"{offered.url}/user/{login}/assignments/fetch",
                     data={"course_id": OFFERING, "assignment_id": ASSIGNMENT}, headers=xsrf_headers(s, login)).json()
    assert [a["status"] for a in fetched["value"]] == ["fetched"], fetched
    notebook = offered.data_dir / "homes" / login / OFFERING / ASSIGNMENT / "bai01.ipynb"
    text = notebook.read_text(encoding="utf-8")
    assert "Viết câu trả lời của em vào đây" in text and "BEGIN SOLUTION" not in text and "2 * (dai + rong)" not in text
    assert json.loads(text)["cells"], "a real notebook"


def test_another_class_does_not_see_the_offering(offered):
    login, s = student_session(offered, "10A2")
    courses = s.get(f"{offered.url}/user/{login}/courses").json()
    assert OFFERING not in courses.get("value", [])


def test_only_the_class_teacher_reaches_the_formgrader(offered):
    url = f"{offered.url}/services/{OFFERING}/"
    t1 = offered.account("teacher", classes="10A1")
    s = offered.login(t1["login"], t1["password"])
    r = s.get(url)
    assert r.status_code == 200 and f"/services/{OFFERING}/" in r.url
    formgrader = s.get(f"{offered.url}/services/{OFFERING}/formgrader/api/assignments")
    assert formgrader.status_code == 200 and ASSIGNMENT in formgrader.text
    t2 = offered.account("teacher", classes="10A2")
    assert offered.login(t2["login"], t2["password"]).get(url).status_code == 403
    student = offered.account("student", 1, classes="10A1")
    assert offered.login(student["login"], student["password"]).get(url).status_code == 403


def test_students_get_no_teacher_tools_and_teachers_keep_authoring(offered):
    """nbgrader's authoring tools (Create Assignment, Formgrader, Course List) are off in students'
    servers, on the server and in JupyterLab. A teacher's own server keeps Create Assignment; its
    Formgrader and Course List, which only frame a page the hub forbids framing ("refused to
    connect"), are off too: teachers reach each class's formgrader from their page."""
    login, s = student_session(offered, "10A1", 1)
    assert s.get(f"{offered.url}/user/{login}/formgrader").status_code == 404
    assert s.get(f"{offered.url}/user/{login}/formgraders").status_code == 404
    assert s.get(f"{offered.url}/user/{login}/assignments", params={"course_id": OFFERING}).json()["success"]
    lab = s.get(f"{offered.url}/user/{login}/lab").content.decode()
    disabled = page_config(lab)["disabledExtensions"]
    for plugin in ("@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
                   "@jupyter/nbgrader:course-list", "@jupyterlab/extensionmanager-extension:plugin"):
        assert plugin in disabled, plugin
    teacher = offered.account("teacher", classes="10A1")
    t = offered.login(teacher["login"], teacher["password"])
    open_server(t, offered.url, teacher["login"])
    assert t.get(f"{offered.url}/user/{teacher['login']}/formgraders").status_code == 404
    assert t.get(f"{offered.url}/user/{teacher['login']}/formgrader").status_code == 404
    teacher_lab = page_config(t.get(f"{offered.url}/user/{teacher['login']}/lab").content.decode())
    assert "@jupyter/nbgrader:create-assignment" not in teacher_lab["disabledExtensions"]
    for plugin in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list"):
        assert plugin in teacher_lab["disabledExtensions"], plugin


def test_the_formgrader_service_is_the_formgrader_alone(offered):
    """The offering's service opens at the formgrader; it has no JupyterLab (English, and a file
    browser over the gradebook), no terminal and starts no kernel; nbgrader's file links land on a
    read-only preview inside the service, which renders notebooks without their scripts."""
    teacher = offered.account("teacher", classes="10A1")
    t = offered.login(teacher["login"], teacher["password"])
    base = f"{offered.url}/services/{OFFERING}"
    home = t.get(f"{base}/")
    assert home.status_code == 200 and home.url.endswith("/formgrader/manage_assignments"), home.url
    assert f"/services/{OFFERING}/stemlab/formgrader-links.js" in home.text
    assert "linkTo" in t.get(f"{base}/stemlab/formgrader-links.js").text
    headers = {"X-XSRFToken": t.cookies.get("_xsrf", path=f"/services/{OFFERING}/") or ""}
    for path in ("lab", "tree", "notebooks/source", "terminals/1"):
        assert t.get(f"{base}/{path}").status_code == 404, path
    assert t.post(f"{base}/api/terminals", headers=headers).status_code == 404
    kernel = t.post(f"{base}/api/kernels", json={"name": "python3"}, headers=headers)
    assert kernel.status_code >= 400 and not t.get(f"{base}/api/kernels").json(), kernel.text

    folder = t.get(f"{base}/stemlab/preview/source/{ASSIGNMENT}")
    assert folder.status_code == 200 and "Xem trước" in folder.text and "bai01.ipynb" in folder.text, folder.text
    released = t.get(f"{base}/stemlab/preview/release/{ASSIGNMENT}/bai01.ipynb")
    assert released.status_code == 200 and "Viết câu trả lời của em vào đây" in released.text
    assert released.headers["Content-Security-Policy"].startswith("sandbox"), "an opaque origin: no script of the hub's"
    assert t.get(f"{base}/stemlab/preview/../../etc/passwd").status_code == 404
    english = t.get(f"{base}/stemlab/preview/source", params={"lang": "en"})
    assert "Preview" in english.text and "Xem trước" not in english.text

    hostile = offered.data_dir / "offerings" / OFFERING / "hostile.ipynb"
    hostile.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "<script>alert('md')</script>"},
        {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": 1, "source": "x", "outputs": [
            {"output_type": "display_data", "metadata": {}, "data": {
                "text/html": "<img src=x onerror=\"fetch('/hub/api/users')\"><svg onload=alert(1)></svg>"
                             "<a href=\"javascript:alert(1)\">x</a><script>alert('out')</script>"}}]}]}))
    try:
        assert live_markup(t.get(f"{base}/stemlab/preview/hostile.ipynb").text) == []
    finally:
        hostile.unlink()


def live_markup(html: str) -> list[str]:
    """What in a page would run a student's code: scripts, on* handlers, javascript: links (shown
    as escaped text they are harmless)."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Finder(HTMLParser):
        in_script = False

        def handle_starttag(self, tag, attrs):
            self.in_script = tag == "script"
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                    found.append(f"<{tag} {name}={value}>")

        def handle_data(self, data):
            if self.in_script and "alert(" in data:
                found.append(data.strip())

        def handle_endtag(self, tag):
            self.in_script = False

    Finder().feed(html)
    return found


def page_config(html: str) -> dict:
    """JupyterLab's page config, which the page embeds as JSON."""
    import re

    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "JupyterLab page config"
    return json.loads(found.group(1))


def test_coverage_of_a_class_counts_only_its_released_work(offered):
    import subprocess

    from hub_config.teaching.catalog import load_catalog
    from hub_config.teaching.frameworks import TagKind

    from ..conftest import STEMLAB

    course = load_catalog().course("python-co-ban")
    bai01 = course.assignment(ASSIGNMENT)
    whole = stemlab_on(offered, "courses", "coverage", "python-co-ban")
    for_class = stemlab_on(offered, "courses", "coverage", "python-co-ban", "--class", "10A1")
    assert f"10A1 · 2025-2026: 1/{len(course.assignments)}" in for_class
    for kind in (TagKind.AI_STRAND, TagKind.DIGITAL_DOMAIN):
        total = len(load_catalog().frameworks.of(kind))
        built = {code for a in course.assignments for code in a.tags.codes(kind)}
        assert f"{kind.heading}: {len(built)}/{total}" in whole
        assert f"{kind.heading}: {len(set(bai01.tags.codes(kind)))}/{total}" in for_class, for_class
    assert "chưa / not yet" in for_class
    other = subprocess.run([STEMLAB, "courses", "coverage", "--class", "10A2", "--data", str(offered.data_dir)],
                           capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert other.returncode != 0 and "Lớp 10A2 chưa được giao" in other.stdout + other.stderr
