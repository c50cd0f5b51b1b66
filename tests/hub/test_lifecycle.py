"""Starting, stopping, restarting and refusing to start: nothing lost, nothing left behind."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from ..conftest import STEMLAB, free_port, leftovers_after_stop, processes_using
from .helpers import execute, open_server, run_code, xsrf_headers

pytestmark = pytest.mark.hub


def wait_for(predicate, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_stop_cleans_up_and_second_run_reuses_data(start_hub, tmp_path):
    hub = start_hub()
    student = hub.account("student")
    s = hub.login(student["login"], student["password"])
    open_server(s, hub.url, student["login"])
    run_code(s, hub.url, student["login"], "open('bai_lam.py', 'w').write('print(1)')")
    assert any("singleuser" in " ".join(p.cmdline()) for p in processes_using(hub.data_dir))

    assert hub.stop() == 0
    assert leftovers_after_stop(hub.data_dir) == [], "SIGTERM stops hub, proxy and every server"
    assert "Stopped hub, proxy and user" in hub.output
    accounts_before = hub.accounts()

    again = start_hub(hub.data_dir)
    assert "Demo accounts" not in again.output, "demo accounts are created (and printed) only once"
    assert again.accounts() == accounts_before
    s2 = again.login(student["login"], student["password"])
    open_server(s2, again.url, student["login"])
    assert run_code(s2, again.url, student["login"], "print(open('bai_lam.py').read())") == "print(1)\n"


def test_hub_restart_keeps_a_running_kernel(start_hub):
    hub = start_hub()
    student = hub.account("student")
    login = student["login"]
    s = hub.login(login, student["password"])
    open_server(s, hub.url, login)
    r = s.post(f"{hub.url}/user/{login}/api/kernels", json={"name": "python3"}, headers=xsrf_headers(s, login))
    kernel_id = r.json()["id"]
    execute(s, hub.url, login, kernel_id, "x = 41")

    state_file = hub.data_dir / "run" / "launcher.json"
    old_hub_pid = json.loads(state_file.read_text())["hub_pid"]
    os.kill(old_hub_pid, signal.SIGKILL)  # the hub crashes; the launcher restarts it
    wait_for(lambda: json.loads(state_file.read_text())["hub_pid"] != old_hub_pid, what="hub restart")
    wait_for(lambda: requests.get(f"{hub.url}/hub/health").status_code == 200, what="hub health")

    assert execute(s, hub.url, login, kernel_id, "print(x + 1)") == "42\n", "same kernel, same state"
    assert "restarting it" in hub.output


def run_up(tmp_path, *args, env=None):
    return subprocess.run(
        [STEMLAB, "up", *args], capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_port_in_use_is_refused_clearly(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_up(tmp_path, "--data", str(tmp_path / "var"), "--port", str(port))
    assert result.returncode == 2
    assert f"Port {port} on 127.0.0.1 is in use" in result.stdout
    assert f"--port {port + 1}" in result.stdout
    assert processes_using(tmp_path / "var") == []


def test_second_platform_on_the_same_data_dir_is_refused(start_hub, tmp_path):
    """Any port: a second `stemlab up` on a running platform's data directory names the running one
    and leaves it, its students' servers and its files alone."""
    hub = start_hub()
    student = hub.account("student")
    s = hub.login(student["login"], student["password"])
    open_server(s, hub.url, student["login"])
    kernel_id = s.post(f"{hub.url}/user/{student['login']}/api/kernels", json={"name": "python3"},
                       headers=xsrf_headers(s, student["login"])).json()["id"]
    execute(s, hub.url, student["login"], kernel_id, "z = 'vẫn còn'")
    state_before = (hub.data_dir / "run" / "launcher.json").read_text()
    launcher_pid = json.loads(state_before)["launcher_pid"]

    result = run_up(tmp_path, "--data", str(hub.data_dir), "--port", str(free_port()))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is already running on the data directory" in result.stdout and "đang chạy" in result.stdout
    assert f"pid {launcher_pid}" in result.stdout and hub.url in result.stdout
    assert (hub.data_dir / "run" / "launcher.json").read_text() == state_before
    assert execute(s, hub.url, student["login"], kernel_id, "print(z)") == "vẫn còn\n", "first hub's kernel untouched"

    # once the first has stopped, the data directory is free again (the lock died with it)
    assert hub.stop() == 0
    again = start_hub(hub.data_dir)
    assert requests.get(f"{again.url}/hub/health").status_code == 200


def test_missing_proxy_is_refused_clearly(tmp_path):
    result = run_up(tmp_path, "--data", str(tmp_path / "var"), "--port", str(free_port()),
                    env={"STEMLAB_PROXY": str(tmp_path / "no-such-proxy")})
    assert result.returncode == 2
    assert "STEMLAB_PROXY" in result.stdout and "not an executable" in result.stdout


def test_unusable_data_dir_is_refused_clearly(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_up(tmp_path, "--data", str(blocker / "var"), "--port", str(free_port()))
    assert result.returncode == 2
    assert "is not usable" in result.stdout and "--data DIR" in result.stdout
    assert blocker.read_text() == "not a directory"


def test_roster_import_while_running_reloads_without_dropping_kernels(start_hub, write_roster, tmp_path):
    hub = start_hub()
    student = hub.account("student")
    s = hub.login(student["login"], student["password"])
    open_server(s, hub.url, student["login"])
    kernel_id = s.post(f"{hub.url}/user/{student['login']}/api/kernels", json={"name": "python3"},
                       headers=xsrf_headers(s, student["login"])).json()["id"]
    execute(s, hub.url, student["login"], kernel_id, "y = 'còn đây'")

    roster = write_roster("lop10a2", [["HS2001", "Trương Thị Mai", "10A2", ""]])
    result = subprocess.run([STEMLAB, "accounts", "import", str(roster), "--data", str(hub.data_dir)],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 created" in result.stdout and "asked to reload" in result.stdout
    newcomer = hub.account("student", classes="10A2")
    wait_for(lambda: "Reloading" in hub.output, what="reload")

    def can_log_in():
        try:
            hub.login(newcomer["login"], newcomer["password"])
            return True
        except (AssertionError, requests.RequestException):
            return False

    wait_for(can_log_in, what="new student can log in")
    assert execute(s, hub.url, student["login"], kernel_id, "print(y)") == "còn đây\n"


def test_a_server_that_cannot_start_is_explained_and_others_carry_on(start_hub):
    hub = start_hub()
    broken, fine = hub.account("student", 0), hub.account("student", 1)
    (hub.data_dir / "homes").mkdir(exist_ok=True)
    (hub.data_dir / "homes" / broken["login"]).write_text("a file where the home folder should be")
    s = hub.login(broken["login"], broken["password"])
    first = s.get(f"{hub.url}/hub/spawn/{broken['login']}")
    assert first.status_code == 503, "a clear 'service unavailable' page, not a bare 500"
    assert "Your working folder could not be created" in first.content.decode() and "hãy báo thầy cô" in first.content.decode()
    headers = {"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")}
    wait_for(lambda: not s.get(f"{hub.url}/hub/api/users/{broken['login']}", headers=headers).json()["pending"],
             what="failed spawn to settle")
    page = s.get(f"{hub.url}/hub/user/{broken['login']}/lab").content.decode()
    assert "Your working folder could not be created" in page and "hãy báo thầy cô" in page
    ok = hub.login(fine["login"], fine["password"])
    open_server(ok, hub.url, fine["login"])
    assert run_code(ok, hub.url, fine["login"], "print('vẫn chạy')") == "vẫn chạy\n"
    assert (hub.data_dir / "homes" / broken["login"]).read_text() == "a file where the home folder should be"


def test_demo_runs_as_an_ordinary_user():
    """The README's run command works without root: hub, proxy and a student's server and kernel."""
    import tempfile

    from ..conftest import RunningHub

    if os.geteuid() != 0:
        pytest.skip("this run is already an ordinary user's; the other tests cover it")
    work = Path(tempfile.mkdtemp(prefix="stemlab-user-", dir="/tmp"))
    work.chmod(0o777)
    port = free_port()
    log = work / "up.log"
    proc = subprocess.Popen(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", STEMLAB, "up", "--data", str(work / "var"),
         "--port", str(port)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=work,
        env={**os.environ, "HOME": str(work), "COLUMNS": "200"},
    )
    hub = RunningHub(f"http://127.0.0.1:{port}", port, work / "var", proc, log)
    try:
        wait_for(lambda: "Ctrl-C" in hub.output or proc.poll() is not None, timeout=120, what="hub start")
        assert proc.poll() is None, hub.output
        student = hub.account("student")
        s = hub.login(student["login"], student["password"])
        open_server(s, hub.url, student["login"])
        assert run_code(s, hub.url, student["login"], "import os; print(os.getuid())") == "65534\n"
    finally:
        hub.stop()
        leftovers_after_stop(work / "var")
        shutil.rmtree(work, ignore_errors=True)
