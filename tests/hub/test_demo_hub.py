"""The embedded default, end to end: real hub, real proxy, real servers and kernels."""

from pathlib import Path

import pytest
import requests

from .helpers import open_server, page_text, run_code, xsrf_headers

pytestmark = pytest.mark.hub


def test_login_page_is_bilingual(demo_hub):
    page = page_text(requests.get(f"{demo_hub.url}/hub/login"))
    for text in ("Đăng nhập", "Sign in", "Tên đăng nhập", "Mật khẩu", "Password", demo_hub_school()):
        assert text in page


def demo_hub_school():
    return "Trường THPT Mẫu (demo)"


def test_demo_mode_says_students_are_not_isolated(demo_hub):
    student = demo_hub.account("student")
    s = demo_hub.login(student["login"], student["password"])
    home = page_text(s.get(f"{demo_hub.url}/hub/home"))
    assert "KHÔNG được tách biệt" in home and "NOT isolated" in home
    assert "NOT isolated" in demo_hub.output


def test_demo_accounts_printed_once_with_sheets(demo_hub):
    accounts = demo_hub.accounts()
    roles = sorted(a["role"] for a in accounts)
    assert roles.count("teacher") == 1 and roles.count("technician") == 1 and roles.count("student") >= 5
    for a in accounts:
        assert a["login"] in demo_hub.output and a["password"] in demo_hub.output


def test_wrong_password_is_a_clear_403_not_a_500(demo_hub):
    student = demo_hub.account("student", 1)
    s = requests.Session()
    s.get(f"{demo_hub.url}/hub/login")
    r = s.post(f"{demo_hub.url}/hub/login?next=",
               data={"username": student["login"], "password": "wrong-password", "_xsrf": s.cookies.get("_xsrf")})
    assert r.status_code == 403
    assert "Sai tên đăng nhập hoặc mật khẩu" in page_text(r) and "Wrong login or password" in r.text


def test_student_logs_in_spawns_and_runs_code_in_a_kernel(demo_hub):
    student = demo_hub.account("student", 2)
    s = demo_hub.login(student["login"], student["password"])
    open_server(s, demo_hub.url, student["login"])
    status = s.get(f"{demo_hub.url}/user/{student['login']}/api/status")
    assert status.status_code == 200
    assert run_code(s, demo_hub.url, student["login"], "print(6 * 7)") == "42\n"
    home = run_code(s, demo_hub.url, student["login"], "import os; print(os.getcwd())").strip()
    assert home == str(demo_hub.data_dir / "homes" / student["login"])


def test_jupyterlab_is_vietnamese_by_default_and_english_selectable(demo_hub):
    student = demo_hub.account("student", 3)
    login = student["login"]
    s = demo_hub.login(login, student["password"])
    open_server(s, demo_hub.url, login)
    settings_url = f"{demo_hub.url}/user/{login}/lab/api/settings/@jupyterlab/translation-extension:plugin"
    assert s.get(settings_url).json()["settings"]["locale"] == "vi_VN"
    packs = s.get(f"{demo_hub.url}/user/{login}/lab/api/translations/").json()["data"]
    assert "vi_VN" in packs
    strings = s.get(f"{demo_hub.url}/user/{login}/lab/api/translations/vi_VN").json()["data"]
    assert strings, "the Vietnamese language pack has translations"
    r = s.put(settings_url, json={"raw": '{"locale": "en"}'}, headers=xsrf_headers(s, login))
    assert r.status_code == 204, r.text
    assert s.get(settings_url).json()["settings"]["locale"] == "en"


def test_demo_started_by_root_runs_no_user_code_as_root(demo_hub):
    """A school admin usually starts the demo as root: no student's server, kernel, terminal or
    kit program may then run as root or read what the site keeps closed."""
    import json
    import os
    import pwd

    import psutil

    from hub_config.teaching.catalog import load_catalog

    from .helpers import stemlab_on, wait_for_service

    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root; this test must run there")
        pytest.skip("started by an ordinary user, the demo cannot run servers as anyone else")
    stemlab_on(demo_hub, "courses", "offer", "python-co-ban", "--class", "10A1")
    data = demo_hub.data_dir
    offering = next((data / "offerings").iterdir())
    wait_for_service(demo_hub, offering.name)  # the offer reloads the hub
    catalog = load_catalog()
    closed = {
        "course source (solutions, hidden tests)": next(catalog.courses["python-co-ban"].root.glob("source/*/*.ipynb")),
        "hidden data set": next(catalog.courses["nhap-mon-ai"].root.glob("hidden/*/*.csv")),
        "gradebook": offering / "gradebook.db",
        "password sheet": next((data / "accounts" / "sheets").glob("*.csv")),
        "site secret": data / "secrets" / "jupyterhub_cookie_secret",
        "hub database": data / "jupyterhub.sqlite",
        "hub log": data / "logs" / "hub.log",
        "hub environment": Path(f"/proc/{running_hub_pid(data)}/environ"),
    }
    student = demo_hub.account("student", 4)
    s = demo_hub.login(student["login"], student["password"])
    open_server(s, demo_hub.url, student["login"])
    probe = (
        "import json, os\n"
        f"paths = {json.dumps({k: str(v) for k, v in closed.items()})}\n"
        "out = {'uid': os.getuid(), 'groups': os.getgroups()}\n"
        "for what, path in paths.items():\n"
        "    try:\n"
        "        open(path, 'rb').read(1); out[what] = 'READ'\n"
        "    except PermissionError:\n"
        "        out[what] = 'denied'\n"
        "print(json.dumps(out))\n"
    )
    seen = json.loads(run_code(s, demo_hub.url, student["login"], probe))
    assert seen.pop("uid") == pwd.getpwnam("stemlab-demo").pw_uid
    assert 0 not in seen.pop("groups")
    assert seen == {what: "denied" for what in closed}, seen
    # the kits service runs students' programs on its simulated kits: not as root either
    kits = [p for p in psutil.process_iter(["cmdline", "username"]) if "lab_hardware.service" in " ".join(p.info["cmdline"] or [])
            and str(data) in " ".join(p.info["cmdline"])]
    assert kits and {p.info["username"] for p in kits} == {"stemlab-kits"}


def running_hub_pid(data):
    """The hub's pid once the launcher has recorded the restarted hub (it writes its state after
    the hub answers, so a reload leaves the old pid there for a moment)."""
    import json
    import time

    import psutil

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid = json.loads((data / "run" / "launcher.json").read_text())["hub_pid"]
        if psutil.pid_exists(pid):
            return pid
        time.sleep(0.2)
    raise AssertionError("the launcher did not record a running hub")
