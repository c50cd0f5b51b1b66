"""A class starting at once: everyone gets a working server, waiting students see their place.

The hub is limited to one start at a time here so that the line is long enough to observe; the
benchmark tests/bench/login_storm.py measures the real 40-student storm.
"""

import json
import subprocess
import threading

import pytest
import requests

from ..conftest import STEMLAB
from .helpers import open_server, run_code

pytestmark = pytest.mark.hub
CLASS_SIZE = 8


@pytest.fixture
def class_roster(write_roster):
    rows = [["GV0900", "Hoàng Thị Nga", "10B1", "giáo viên"]]
    rows += [[f"HS09{i:02d}", f"Nguyễn Văn Học Sinh {chr(65 + i)}", "10B1", ""] for i in range(CLASS_SIZE)]
    return write_roster("lop10b1", rows)


@pytest.fixture
def one_at_a_time(tmp_path):
    config = tmp_path / "stemlab.toml"
    config.write_text("[limits]\nconcurrent_spawns = 1\nidle_timeout = 0\n")
    return ("--config", str(config))


def test_login_storm_everyone_gets_a_server_and_sees_their_place(start_hub, class_roster, one_at_a_time):
    hub = start_hub(roster=class_roster, extra_args=one_at_a_time)
    students = [a for a in hub.accounts() if a["role"] == "student"]
    assert len(students) == CLASS_SIZE
    results: dict[str, object] = {}
    bad_statuses: list[int] = []
    messages: dict[str, list[str]] = {}

    def student(acc):
        try:
            s = hub.login(acc["login"], acc["password"])
            s.hooks["response"].append(lambda r, *a, **k: bad_statuses.append(r.status_code)
                                       if r.status_code in (429, 500, 502, 503) else None)
            # what the spawn-pending page shows: the progress event stream
            s.get(f"{hub.url}/hub/spawn/{acc['login']}", allow_redirects=False)
            with s.get(f"{hub.url}/hub/api/users/{acc['login']}/server/progress", stream=True, timeout=120,
                       headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")}) as stream:
                for line in stream.iter_lines(decode_unicode=True):
                    if line.startswith("data:"):
                        event = json.loads(line[5:])
                        messages.setdefault(acc["login"], []).append(event.get("message", ""))
                        if event.get("ready") or event.get("failed"):
                            break
            open_server(s, hub.url, acc["login"])
            results[acc["login"]] = run_code(s, hub.url, acc["login"], "print('sẵn sàng')")
        except Exception as err:  # reported below, per student
            results[acc["login"]] = err

    threads = [threading.Thread(target=student, args=(acc,)) for acc in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    failures = {k: v for k, v in results.items() if v != "sẵn sàng\n"}
    assert not failures, failures
    assert bad_statuses == [], "nobody sees a bare 429 or 5xx"
    queued = [m for msgs in messages.values() for m in msgs if "bạn đứng thứ" in m]
    assert queued, f"some students waited in line and were told their place: {messages}"
    assert all("Waiting in line" in m for m in queued)


def test_teacher_prestarts_a_class_before_the_lesson(start_hub, class_roster, one_at_a_time):
    hub = start_hub(roster=class_roster, extra_args=one_at_a_time)
    result = subprocess.run([STEMLAB, "class", "start", "10B1", "--wait", "--timeout", "300", "--data", str(hub.data_dir)],
                            capture_output=True, text=True, timeout=360)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"start {CLASS_SIZE} servers" in result.stdout and "Every server is ready" in result.stdout
    token = (hub.data_dir / "secrets" / "launcher_token").read_text().strip()
    users = requests.get(f"{hub.url}/hub/api/groups/class-10b1", headers={"Authorization": f"token {token}"}).json()["users"]
    for user in users:
        model = requests.get(f"{hub.url}/hub/api/users/{user}", headers={"Authorization": f"token {token}"}).json()
        assert model["servers"][""]["ready"]
    # and a student who then logs in lands straight in JupyterLab
    student = hub.account("student")
    s = hub.login(student["login"], student["password"])
    assert open_server(s, hub.url, student["login"]) < 5


def test_prestart_of_unknown_class_or_stopped_hub_is_a_clear_error(start_hub, tmp_path, class_roster, one_at_a_time):
    result = subprocess.run([STEMLAB, "class", "start", "10B1", "--data", str(tmp_path / "nothing")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "No hub is running" in result.stdout
    hub = start_hub(roster=class_roster, extra_args=one_at_a_time)
    result = subprocess.run([STEMLAB, "class", "start", "12Z9", "--data", str(hub.data_dir)], capture_output=True, text=True)
    assert result.returncode == 2 and "No class 12Z9" in result.stdout
