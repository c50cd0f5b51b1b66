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
    assert "YOUR CODE HERE" in text and "BEGIN SOLUTION" not in text and "2 * (dai + rong)" not in text
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


def test_students_get_no_teacher_tools_and_teachers_keep_them(offered):
    """nbgrader's authoring tools (Create Assignment, Formgrader, Course List) are off in students'
    servers, on the server and in JupyterLab; a teacher's own server keeps them."""
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
    assert t.get(f"{offered.url}/user/{teacher['login']}/formgraders").status_code == 200
    teacher_lab = page_config(t.get(f"{offered.url}/user/{teacher['login']}/lab").content.decode())
    assert "@jupyter/nbgrader:create-assignment" not in teacher_lab["disabledExtensions"]


def page_config(html: str) -> dict:
    """JupyterLab's page config, which the page embeds as JSON."""
    import re

    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "JupyterLab page config"
    return json.loads(found.group(1))
