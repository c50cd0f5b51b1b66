"""nbgrader's exchange kept by the hub's exchange service (`[exchange] kind = "service"`), in
production mode with real Linux accounts: students' servers share no folder with each other or
with the service, as pods on Kubernetes do not.

The teacher releases, students fetch and submit through their servers' nbgrader API, the teacher
collects, grades and releases feedback; a student fetches their own feedback. A student who has
read our source tries the service with their server's own token: a classmate's submission, a
release or feedback of their own making, a submission in a classmate's name, a back-dated one; a
token without the service's scope and a student of another class are refused.
"""

import json
import os
import pwd
import stat

import pytest
import requests

from hub_config.site.paths import DataDir
from hub_config.teaching.offerings import list_offerings

from ..conftest import production_hub
from .helpers import (PAGE, answer_and_submit, open_page, page_text, post_form, run_code, stemlab_on, students_with_servers,
                      wait_for_service, wait_job, xsrf_headers)

pytestmark = [pytest.mark.hub, pytest.mark.root]
COURSE = "python-co-ban"
OFFERING = "python-co-ban-10a1-2025-2026"
ASSIGNMENT = "bai01-bien-va-kieu-du-lieu"
LATE = "bai02-cau-lenh-re-nhanh"
SERVICE = "/services/stemlab-exchange/"
CORRECT = {
    "cau1-loi-giai": "def chu_vi_hinh_chu_nhat(dai, rong):\n    return 2 * (dai + rong)",
    "cau2-loi-giai": "def doi_nhiet_do(do_c):\n    return do_c * 9 / 5 + 32",
}


@pytest.fixture(scope="module")
def hub():
    yield from production_hub('[exchange]\nkind = "service"\n')


def stemlab(hub, *args):
    return stemlab_on(hub, *args, "--config", str(hub.config))


@pytest.fixture(scope="module")
def course(hub):
    stemlab(hub, "courses", "offer", COURSE, "--class", "10A1", "--year", "2025-2026")
    wait_for_service(hub, OFFERING)
    stemlab(hub, "courses", "release", OFFERING, ASSIGNMENT)
    stemlab(hub, "courses", "release", OFFERING, LATE, "--due", "2020-09-05T07:00")
    people = students_with_servers(hub)
    answer_and_submit(hub, people["a"]["session"], people["a"]["login"], OFFERING, ASSIGNMENT, CORRECT)
    answer_and_submit(hub, people["b"]["session"], people["b"]["login"], OFFERING, ASSIGNMENT, None)
    offering = next(o for o in list_offerings(DataDir(hub.data_dir)) if o.id == OFFERING)
    return offering, people


def in_kernel(hub, who, code: str) -> dict:
    """Run code in the student's own kernel (their server's token is in its environment); the
    last line it prints is JSON."""
    out = run_code(who["session"], hub.url, who["login"], code)
    return json.loads(out.strip().splitlines()[-1])


CALL = """
import io, json, os, tarfile, requests
URL = "http://127.0.0.1:{port}{service}api/courses/"
H = {{"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}}
def tar(**files):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name.replace("__", "/")); info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return b.getvalue()
def names(r):
    return sorted(m.name for m in tarfile.open(fileobj=io.BytesIO(r.content))) if r.status_code == 200 else r.status_code
"""


def test_the_exchange_lives_with_the_service_alone(hub, course):
    offering, people = course
    data = DataDir(hub.data_dir)
    store = data.exchange_store_dir
    info = os.stat(store)
    assert pwd.getpwuid(info.st_uid).pw_name == "stemlab-exchange" and stat.S_IMODE(info.st_mode) == 0o700
    inbound = store / OFFERING / "inbound"
    assert sorted(p.name.split("+")[0] for p in inbound.iterdir()) == sorted([people["a"]["login"]])
    assert not (data.exchange_dir / OFFERING / "inbound").exists() or not any((data.exchange_dir / OFFERING / "inbound").iterdir()), \
        "nothing went through the folder exchange"
    for who, other in ((people["a"], people["b"]), (people["b"], people["a"])):
        places = [str(store), str(hub.home_root / other["login"])]
        seen = in_kernel(hub, who, "import os, json\nr = {}\n"
                                   f"for p in {places!r}:\n"
                                   "    try:\n        os.listdir(p); r[p] = 'read'\n"
                                   "    except PermissionError:\n        r[p] = 'denied'\nprint(json.dumps(r))")
        assert set(seen.values()) == {"denied"}, seen


def test_a_student_sees_the_release_and_never_a_classmates_work(hub, course):
    _, people = course
    got = in_kernel(hub, people["b"], CALL.format(port=hub.port, service=SERVICE) + f"""
r = {{}}
v = requests.get(URL + "{OFFERING}/view", params={{"parts": "outbound,inbound,feedback"}}, headers=H)
r["view"] = names(v)
r["other"] = names(requests.get(URL + "python-co-ban-10a2-2025-2026/view", headers=H))
r["release"] = requests.post(URL + "{OFFERING}/release/{ASSIGNMENT}", data=tar(**{{"{OFFERING}__outbound__{ASSIGNMENT}__x.ipynb": "{{}}"}}), headers=H).status_code
r["feedback"] = requests.post(URL + "{OFFERING}/feedback", data=tar(**{{"{OFFERING}__feedback__{'0' * 32}.html": "x"}}), headers=H).status_code
r["anonymous"] = requests.get(URL + "{OFFERING}/view").status_code
print(json.dumps(r))
""")
    a = people["a"]
    listed = a["session"].get(f"{hub.url}/user/{a['login']}/assignments", params={"course_id": OFFERING}).json()
    assert listed["success"], listed
    status = {x["assignment_id"]: x["status"] for x in listed["value"]}
    assert status[LATE] == "released" and status[ASSIGNMENT] in ("fetched", "submitted"), status
    assert got["view"] and all("/outbound/" in n or n.endswith("/outbound") for n in got["view"]), got["view"]
    assert not any("inbound/" in n for n in got["view"]), "no submission reaches a student"
    assert got["other"] == 403 and got["release"] == 403 and got["feedback"] == 403, got
    assert got["anonymous"] in (302, 403), got


def test_a_submission_in_a_classmates_name_or_back_dated_is_the_senders_and_timed_now(hub, course):
    offering, people = course
    victim = people["a"]["login"]
    sent = in_kernel(hub, people["b"], CALL.format(port=hub.port, service=SERVICE) + f"""
body = tar(**{{"bai01.ipynb": "{{}}", "submission_secret.txt": "ab" * 32, "timestamp.txt": "2020-01-01 00:00:00.000000 UTC"}})
r = requests.post(URL + "{OFFERING}/submit/{LATE}", data=body, headers=H, params={{"student": "{victim}"}})
print(json.dumps({{"status": r.status_code, "said": r.json()}}))
""")
    assert sent["status"] == 200 and "2020" not in sent["said"]["timestamp"], sent
    store = DataDir(hub.data_dir).exchange_store_dir / OFFERING / "inbound"
    mine = [p for p in store.iterdir() if sent["said"]["timestamp"] in p.name]
    assert len(mine) == 1 and mine[0].name.startswith(people["b"]["login"] + "+"), mine
    assert (mine[0] / "timestamp.txt").read_text() == sent["said"]["timestamp"]


def test_a_token_without_the_services_scope_and_another_class_are_refused(hub, course):
    _, people = course
    a = people["a"]
    s = a["session"]
    made = s.post(f"{hub.url}/hub/api/users/{a['login']}/tokens", json={"scopes": [f"read:users:activity!user={a['login']}"]},
                  headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/") or ""})
    assert made.status_code in (200, 201), made.text
    narrow = {"Authorization": f"token {made.json()['token']}"}
    view = requests.get(f"{hub.url}{SERVICE}api/courses/{OFFERING}/view", headers=narrow)
    assert view.status_code == 403, view.text
    c = people["c"]  # 10A2: the Assignments panel's fetch of 10A1's course brings nothing
    fetched = c["session"].post(f"{hub.url}/user/{c['login']}/assignments/fetch",
                                data={"course_id": OFFERING, "assignment_id": ASSIGNMENT},
                                headers=xsrf_headers(c["session"], c["login"])).json()
    assert not fetched["success"], fetched
    there = run_code(c["session"], hub.url, c["login"], f"import os\nprint(os.path.exists({OFFERING!r}))")
    assert there.strip() == "False", "nothing of another class's course reaches the student"


def test_collect_grade_feedback_and_lateness_through_the_service(hub, course):
    offering, people = course
    a, b = people["a"], people["b"]
    answer_and_submit(hub, a["session"], a["login"], OFFERING, LATE, {})
    out = stemlab(hub, "courses", "collect", OFFERING, ASSIGNMENT)
    submitted = offering.root / "submitted"
    assert {p.name for p in submitted.iterdir() if (p / ASSIGNMENT).is_dir()} == {a["login"]}, out
    stemlab(hub, "courses", "collect", OFFERING, LATE)
    assert {p.name for p in submitted.iterdir() if (p / LATE).is_dir()} == {a["login"], b["login"]}
    stemlab(hub, "grade", OFFERING, LATE, "--student", a["login"])
    from nbgrader.api import Gradebook

    with Gradebook(offering.gradebook_url) as gradebook:
        late = gradebook.find_submission(LATE, a["login"])
        assert late.total_seconds_late > 0, "due in 2020: late by the service's clock"
    stemlab(hub, "grade", OFFERING, ASSIGNMENT)
    stemlab(hub, "courses", "feedback", OFFERING, ASSIGNMENT)
    s = a["session"]
    fetched = s.post(f"{hub.url}/user/{a['login']}/assignments/fetch_feedback",
                     data={"course_id": OFFERING, "assignment_id": ASSIGNMENT}, headers=xsrf_headers(s, a["login"])).json()
    assert fetched["success"], fetched
    page = run_code(s, hub.url, a["login"], f"import glob\nprint(glob.glob('{OFFERING}/{ASSIGNMENT}/feedback/*/*.html'))")
    assert "bai01.html" in page, page
    view = in_kernel(hub, b, CALL.format(port=hub.port, service=SERVICE) + f"""
print(json.dumps(names(requests.get(URL + "{OFFERING}/view", params={{"parts": "feedback"}}, headers=H))))
""")
    assert any((DataDir(hub.data_dir).exchange_store_dir / OFFERING / "feedback").glob("*.html"))
    assert not any(n.endswith(".html") for n in view), f"b sees no one's feedback but their own: {view}"


def test_the_formgrader_lists_and_collects_through_the_service(hub, course):
    teacher = hub.account("teacher", classes="10A1")
    t = hub.login(teacher["login"], teacher["password"])
    fg = f"{hub.url}/services/{OFFERING}/formgrader/api"
    assert t.get(f"{hub.url}/services/{OFFERING}/formgrader").status_code == 200
    headers = {"X-XSRFToken": t.cookies.get("_xsrf", path=f"/services/{OFFERING}/") or ""}
    assignments = {a["name"]: a for a in t.get(f"{fg}/assignments", headers=headers).json()}
    assert assignments[ASSIGNMENT]["status"] == "released", assignments[ASSIGNMENT]
    collected = t.post(f"{fg}/assignment/{ASSIGNMENT}/collect", headers=headers).json()
    assert collected["success"] and "cheating" not in json.dumps(collected), collected


def test_the_teachers_page_sees_the_services_releases_and_submissions(hub, course):
    _, people = course
    teacher = hub.account("teacher", classes="10A1")
    t = hub.login(teacher["login"], teacher["password"])
    url = f"{hub.url}{PAGE}offerings/{OFFERING}?assignment={ASSIGNMENT}"
    text = page_text(open_page(t, url))
    # a submitted, b fetched only (the class has two students in 10A1)
    assert "1 đã nộp (0 muộn), 1 đã nhận chưa nộp, 0 chưa nhận" in text, text
    job = wait_job(t, hub, post_form(t, hub, open_page(t, url), f"offerings/{OFFERING}/{ASSIGNMENT}/collect"))
    assert job["state"] == "done", job
