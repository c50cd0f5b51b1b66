"""Exchange safety in production mode, with real Linux accounts.

nbgrader's default exchange is world-writable and trusts the name on a submission. Here a
student's own kernel tries to list, read and overwrite a classmate's submission, read the course
source (solutions, hidden tests) and the gradebook, plant a course in the exchange, and forge a
submission in a classmate's name; every attempt fails, and the forged submission is set aside at
collection (kept, for the teacher to see). The offering's nbgrader work and its formgrader run as its own grader account.
"""

import json
import os
import pwd
import shutil
import stat

import psutil
import pytest
import requests

from hub_config.teaching.offerings import list_offerings
from hub_config.site.paths import DataDir

from .helpers import (PAGE, answer_and_submit, open_page, page_text, post_form, run_code, stemlab_on, students_with_servers,
                      wait_for_service, wait_job)

pytestmark = [pytest.mark.hub, pytest.mark.root]
COURSE = "python-co-ban"
OFFERING = "python-co-ban-10a1-2025-2026"
ASSIGNMENT = "bai01-bien-va-kieu-du-lieu"
CORRECT = {
    "cau1-loi-giai": "def chu_vi_hinh_chu_nhat(dai, rong):\n    return 2 * (dai + rong)",
    "cau2-loi-giai": "def doi_nhiet_do(do_c):\n    return do_c * 9 / 5 + 32",
    "cau3-loi-giai": "def gioi_thieu(ho_ten, tuoi):\n    return 'Em là ' + ho_ten + ', ' + str(int(tuoi)) + ' tuổi.'",
}


def stemlab(hub, *args):
    return stemlab_on(hub, *args, "--config", str(hub.config))


@pytest.fixture(scope="module")
def course(prod_hub):
    stemlab(prod_hub, "courses", "offer", COURSE, "--class", "10A1", "--year", "2025-2026")
    wait_for_service(prod_hub, OFFERING)
    stemlab(prod_hub, "courses", "release", OFFERING, ASSIGNMENT)
    offering = next(o for o in list_offerings(DataDir(prod_hub.data_dir)) if o.id == OFFERING)
    people = students_with_servers(prod_hub)
    answer_and_submit(prod_hub, people["a"]["session"], people["a"]["login"], OFFERING, ASSIGNMENT, CORRECT)
    answer_and_submit(prod_hub, people["b"]["session"], people["b"]["login"], OFFERING, ASSIGNMENT, None)
    return offering, people


def attempt(prod_hub, who, actions: dict[str, str]) -> dict[str, str]:
    """Run each action in the student's own kernel; report 'denied' or what it achieved."""
    code = "import json, os, shutil\nresults = {}\n"
    for name, action in actions.items():
        code += (f"try:\n    results[{name!r}] = repr({action})[:200]\n"
                 f"except PermissionError:\n    results[{name!r}] = 'denied'\n")
    code += "print(json.dumps(results))"
    return json.loads(run_code(who["session"], prod_hub.url, who["login"], code).strip().splitlines()[-1])


def test_offering_and_its_exchange_belong_to_its_grader_account(prod_hub, course):
    offering, _ = course
    grader = pwd.getpwnam(offering.grader)
    assert offering.grader.startswith("gr") and grader.pw_uid != 0
    info = os.stat(offering.root)
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (grader.pw_uid, 0o700)
    assert os.stat(offering.root / "gradebook.db").st_uid == grader.pw_uid
    exchange = prod_hub.data_dir / "exchange"
    assert (os.stat(exchange).st_uid, stat.S_IMODE(os.stat(exchange).st_mode)) == (0, 0o755), "not world-writable"
    modes = {name: os.stat(exchange / OFFERING / name) for name in ("outbound", "inbound", "feedback")}
    assert {n: (m.st_uid, stat.S_IMODE(m.st_mode)) for n, m in modes.items()} == {
        "outbound": (grader.pw_uid, 0o755), "inbound": (grader.pw_uid, 0o3733), "feedback": (grader.pw_uid, 0o711)}


def test_formgrader_runs_as_the_grader_account_for_the_class_teachers_only(prod_hub, course):
    offering, people = course
    service = [p for p in psutil.process_iter(["cwd", "uids", "cmdline"])
               if p.info["cwd"] == str(offering.root) and "hub_config.singleuser.server" in " ".join(p.info["cmdline"] or [])]
    assert service and all(p.info["uids"].real == pwd.getpwnam(offering.grader).pw_uid for p in service)
    url = f"{prod_hub.url}/services/{OFFERING}/formgrader"
    own = prod_hub.account("teacher", classes="10A1")
    other = prod_hub.account("teacher", classes="10A2")
    assert prod_hub.login(own["login"], own["password"]).get(url).status_code == 200
    assert prod_hub.login(other["login"], other["password"]).get(url).status_code == 403
    assert people["a"]["session"].get(url).status_code == 403


def test_a_student_cannot_reach_a_classmates_submission_the_sources_or_the_gradebook(prod_hub, course):
    offering, people = course
    exchange = prod_hub.data_dir / "exchange" / OFFERING
    submission = next((exchange / "inbound").glob(f"{people['a']['login']}+{ASSIGNMENT}+*"))
    source = offering.root / "source" / ASSIGNMENT / "bai01.ipynb"
    results = attempt(prod_hub, people["b"], {
        "list inbound": f"os.listdir({str(exchange / 'inbound')!r})",
        "read submission": f"open({str(submission / 'bai01.ipynb')!r}).read()",
        "overwrite submission": f"open({str(submission / 'bai01.ipynb')!r}, 'w')",
        "add to submission": f"open({str(submission / 'extra.txt')!r}, 'w')",
        "remove submission": f"shutil.rmtree({str(submission)!r})",
        "rename submission": f"os.rename({str(submission)!r}, {str(submission) + '-gone'!r})",
        "read course source": f"open({str(source.resolve())!r}).read()",
        "read gradebook": f"open({str(offering.root / 'gradebook.db')!r}, 'rb').read()",
        "list offerings": f"os.listdir({str(offering.root.parent)!r})",
        "plant a course": f"os.mkdir({str(exchange.parent / 'python-co-ban-10a1-2026-2027')!r})",
        "plant a release": f"open({str(exchange / 'outbound' / ASSIGNMENT / 'bai01.ipynb')!r}, 'w')",
        "read feedback list": f"os.listdir({str(exchange / 'feedback')!r})",
    })
    assert results == {name: "denied" for name in results}, results
    assert stat.S_IMODE(submission.stat().st_mode) == 0o750, "nbgrader's 0777 submission folder is closed"
    assert submission.exists() and not (submission / "extra.txt").exists()


def test_a_forged_submission_is_set_aside_and_the_real_one_is_graded(prod_hub, course):
    offering, people = course
    a, b = people["a"]["login"], people["b"]["login"]
    # b drops a submission named after a, newer than a's, with b's blank notebook inside.
    forged = f"{a}+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+forged"
    inbound = prod_hub.data_dir / "exchange" / OFFERING / "inbound"
    results = attempt(prod_hub, people["b"], {"forge": (
        f"shutil.copytree(os.path.expanduser('~/{OFFERING}/{ASSIGNMENT}'), {str(inbound / forged)!r}) and "
        f"open({str(inbound / forged / 'timestamp.txt')!r}, 'w').write('2099-01-01 00:00:00.000000 UTC')")})
    assert results["forge"] != "denied", "inbound is writable, so the forgery lands; collection must catch it"

    out = stemlab(prod_hub, "courses", "collect", OFFERING, ASSIGNMENT)
    assert "forged submission" in out and f"made by {b}" in out, out
    assert (inbound / f".forged+{forged}").is_dir() and not (inbound / forged).exists()
    collected = json.loads((offering.root / "submitted" / a / ASSIGNMENT / "bai01.ipynb").read_text(encoding="utf-8"))
    sources = {c["metadata"].get("nbgrader", {}).get("grade_id"): "".join(c["source"]) for c in collected["cells"]}
    assert sources["cau1-loi-giai"] == CORRECT["cau1-loi-giai"], "a's own work was collected"

    stemlab(prod_hub, "grade", OFFERING, ASSIGNMENT)
    # the formgrader runs as the grader account, which owns the gradebook: its Autograde button must
    # not run a student's code there; it has the staff service (root) grade that student in the sandbox
    teacher = prod_hub.account("teacher", classes="10A1")
    t = prod_hub.login(teacher["login"], teacher["password"])
    assert t.get(f"{prod_hub.url}/services/{OFFERING}/").status_code == 200
    fg = f"{prod_hub.url}/services/{OFFERING}/formgrader/api"
    headers = {"X-XSRFToken": t.cookies.get("_xsrf", path=f"/services/{OFFERING}/") or ""}
    shutil.rmtree(offering.root / "autograded" / a, ignore_errors=True)  # so the button must make it again
    regraded = t.post(f"{fg}/submission/{ASSIGNMENT}/{a}/autograde", headers=headers, timeout=600).json()
    assert regraded["success"], regraded
    assert (offering.root / "autograded" / a / ASSIGNMENT / "bai01.ipynb").stat().st_uid == pwd.getpwnam(offering.grader).pw_uid
    scores = {n["student"]: n["code_score"] for n in t.get(f"{fg}/submitted_notebooks/{ASSIGNMENT}/bai01", headers=headers).json()}
    assert scores[a] == 8, scores
    # nobody but the offering's own formgrader may ask the staff service to grade
    api = f"{prod_hub.url}/services/stemlab-teach/api/formgrader-autograde"
    ask = {"offering": OFFERING, "assignment": ASSIGNMENT, "student": a, "teacher": teacher["login"]}
    assert t.post(api, json=ask, timeout=60).status_code == 403, "a teacher's own login is not the formgrader"
    assert people["b"]["session"].post(api, json=ask, timeout=60).status_code == 403
    stemlab(prod_hub, "courses", "feedback", OFFERING, ASSIGNMENT)
    s = people["a"]["session"]
    base = f"{prod_hub.url}/user/{a}"
    fetched = s.post(f"{base}/assignments/fetch_feedback", data={"course_id": OFFERING, "assignment_id": ASSIGNMENT},
                     headers={"X-XSRFToken": s.cookies.get("_xsrf", path=f"/user/{a}/") or ""}).json()
    assert fetched["success"], fetched
    out = stemlab(prod_hub, "grades", "export", OFFERING)
    sheet = (prod_hub.data_dir / "grades" / f"{OFFERING}-grades.csv").read_text(encoding="utf-8-sig")
    row = next(line for line in sheet.splitlines() if people["a"]["name"] in line)
    assert row.split(";")[3:5] == ["8", "8,0"], row  # 2 + 3 + 3 autograded; the written answer awaits the teacher
    for path in (offering.root / "autograded").rglob("*"):
        assert path.stat().st_uid == pwd.getpwnam(offering.grader).pw_uid, f"{path} written as the grader, not root"
    assert requests.get(f"{prod_hub.url}/hub/health").status_code == 200


def test_the_teachers_page_runs_the_loop_in_production(prod_hub, course):
    """The same steps by the teacher's buttons in production: each runs as the offering's grader
    account (the sandbox for grading), and the forged submission stays set aside."""
    offering, people = course
    teacher = prod_hub.account("teacher", classes="10A1")
    t = prod_hub.login(teacher["login"], teacher["password"])
    url = f"{prod_hub.url}{PAGE}offerings/{OFFERING}?assignment={ASSIGNMENT}"
    page = open_page(t, url)
    assert "10A1" in page_text(page)
    for step in ("collect", "autograde", "feedback"):
        job = wait_job(t, prod_hub, post_form(t, prod_hub, open_page(t, url), f"offerings/{OFFERING}/{ASSIGNMENT}/{step}"))
        assert job["state"] == "done", (step, job)
    grader = pwd.getpwnam(offering.grader).pw_uid
    for step in ("submitted", "autograded", "feedback"):
        for path in (offering.root / step).rglob("*"):
            assert path.stat().st_uid == grader, f"{path} written as the grader, not root"
    inbound = prod_hub.data_dir / "exchange" / OFFERING / "inbound"
    assert list(inbound.glob(".forged+*")), "the forgery is still set aside"
    sheet = t.get(f"{prod_hub.url}{PAGE}offerings/{OFFERING}/grades.csv", timeout=60)
    assert sheet.status_code == 200
    row = next(line for line in sheet.content.decode("utf-8-sig").splitlines() if people["a"]["name"] in line)
    assert row.split(";")[3] == "8", row


def test_a_hand_made_submission_of_links_brings_nothing_into_the_grading(prod_hub, course):
    """b places a submission folder in the inbound by hand (nbgrader's submit refuses links; the
    folder is writable) whose notebook is a link to the solution and which links the gradebook and
    a classmate's work. Collect, as the grader account, follows none of them and names b."""
    offering, people = course
    b = people["b"]["login"]
    inbound = prod_hub.data_dir / "exchange" / OFFERING / "inbound"
    stamp = "2099-02-01 00:00:00.000000 UTC"
    folder = inbound / f"{b}+{ASSIGNMENT}+{stamp}"
    solution = (offering.root / "source" / ASSIGNMENT / "bai01.ipynb").resolve()
    results = attempt(prod_hub, people["b"], {"plant": (
        f"os.mkdir({str(folder)!r}) or open({str(folder / 'timestamp.txt')!r}, 'w').write({stamp!r}) and "
        f"os.symlink({str(solution)!r}, {str(folder / 'bai01.ipynb')!r}) or "
        f"os.symlink({str(offering.root / 'gradebook.db')!r}, {str(folder / 'gradebook.db')!r}) or "
        f"os.symlink({str(offering.root / 'submitted')!r}, {str(folder / 'classmates')!r}) or "
        f"os.chmod({str(folder)!r}, 0o750)")})  # readable by the grader group, as nbgrader's submit leaves it
    assert results["plant"] != "denied", results
    out = stemlab(prod_hub, "courses", "collect", OFFERING, ASSIGNMENT)
    collected = offering.root / "submitted" / b / ASSIGNMENT
    assert not any(p.is_symlink() for p in collected.rglob("*"))
    assert not (collected / "bai01.ipynb").exists() and not (collected / "gradebook.db").exists()
    assert not (collected / "classmates").exists()
    assert f"{b}: bai01.ipynb" in out and "symbolic link" in out, out
