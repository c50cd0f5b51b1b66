"""Production mode, as root: real Linux accounts, private homes, enforced limits, restarts.

Each boundary is checked with real requests and real code running in the students' kernels.
"""

import json
import os
import pwd
import shutil
import signal
import tempfile
import time
from pathlib import Path

import psutil
import pytest
import requests

from .helpers import execute, run_code, students_with_servers, xsrf_headers

pytestmark = [pytest.mark.hub, pytest.mark.root]
MEM_LIMIT = 400 * 1024**2


@pytest.fixture(scope="module")
def students(prod_hub):
    return students_with_servers(prod_hub)


def run(prod_hub, who, code):
    return run_code(who["session"], prod_hub.url, who["login"], code)


def test_demo_warning_is_gone(prod_hub, students):
    assert "NOT isolated" not in prod_hub.output
    home = students["a"]["session"].get(f"{prod_hub.url}/hub/home").content.decode()
    assert "NOT isolated" not in home


def test_each_server_runs_as_its_student_with_a_private_home(prod_hub, students):
    for who in students.values():
        out = run(prod_hub, who, "import os, pwd; h = os.path.expanduser('~'); "
                                 "print(pwd.getpwuid(os.getuid()).pw_name, h, oct(os.stat(h).st_mode & 0o777))")
        login, home, mode = out.split()
        assert login == who["login"]
        assert home == str(prod_hub.home_root / who["login"])
        assert mode == "0o700"
        assert pwd.getpwnam(who["login"]).pw_uid != 0


def test_student_cannot_read_list_or_write_a_classmates_files(prod_hub, students):
    a, b = students["a"], students["b"]
    run(prod_hub, b, "open('bai_kiem_tra.py', 'w').write('dap_an = 42')")
    b_home = prod_hub.home_root / b["login"]
    out = run(prod_hub, a, f"""
import os
for label, action in [
    ("read", lambda: open({str(b_home / 'bai_kiem_tra.py')!r}).read()),
    ("list", lambda: os.listdir({str(b_home)!r})),
    ("write", lambda: open({str(b_home / 'x.py')!r}, 'w').write('hacked')),
    ("hub-db", lambda: open({str(prod_hub.data_dir / 'jupyterhub.sqlite')!r}, 'rb').read(10)),
    ("secrets", lambda: os.listdir({str(prod_hub.data_dir / 'secrets')!r})),
]:
    try:
        action()
        print(label, "ALLOWED")
    except PermissionError:
        print(label, "denied")
""")
    assert out.split() == ["read", "denied", "list", "denied", "write", "denied", "hub-db", "denied", "secrets", "denied"]
    assert (b_home / "bai_kiem_tra.py").read_text() == "dap_an = 42"
    assert not (b_home / "x.py").exists()


def test_files_in_tmp_are_private_too(prod_hub, students):
    a, b = students["a"], students["b"]
    path = f"/tmp/stemlab-test-{a['login']}.txt"
    run(prod_hub, a, f"open({path!r}, 'w').write('bài làm')")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    out = run(prod_hub, b, f"""
try:
    open({path!r}).read(); print("ALLOWED")
except PermissionError:
    print("denied")
""")
    assert out.strip() == "denied"
    os.unlink(path)


def test_student_token_cannot_reach_another_server(prod_hub, students):
    a, c = students["a"], students["c"]
    s = a["session"]
    token = s.post(f"{prod_hub.url}/hub/api/users/{a['login']}/tokens", json={},
                   headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")}).json()["token"]
    headers = {"Authorization": f"token {token}"}
    assert requests.get(f"{prod_hub.url}/user/{c['login']}/api/contents", headers=headers).status_code == 403
    assert requests.get(f"{prod_hub.url}/user/{a['login']}/api/contents", headers=headers).status_code == 200
    assert s.get(f"{prod_hub.url}/user/{c['login']}/api/contents").status_code == 403


def test_memory_limit_is_enforced(prod_hub, students):
    a = students["a"]
    out = run(prod_hub, a, """
import subprocess, sys
small = subprocess.run([sys.executable, "-c", "b = bytearray(100 * 1024 * 1024); print('ok')"], capture_output=True, text=True)
big = subprocess.run([sys.executable, "-c", "b = bytearray(700 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); print('ok')"], capture_output=True, text=True)
print(small.stdout.strip(), big.returncode)
""")
    small, big_code = out.split()
    assert small == "ok"
    assert int(big_code) == -signal.SIGKILL, "the kernel's 700 MB child was killed by the 400 MB limit"


def test_cpu_limit_is_enforced(prod_hub, students):
    b = students["b"]
    out = run(prod_hub, b, """
import os, time
start = time.monotonic(); cpu0 = time.process_time()
while time.monotonic() - start < 3:
    pass
print(round(time.process_time() - cpu0, 2))
""")
    cpu_seconds = float(out)
    assert cpu_seconds < 2.2, f"a busy loop got {cpu_seconds} s of CPU in 3 s with a 0.5-core limit"


def test_hub_restart_keeps_a_running_kernel(prod_hub, students):
    c = students["c"]
    s, login = c["session"], c["login"]
    kernel_id = s.post(f"{prod_hub.url}/user/{login}/api/kernels", json={"name": "python3"},
                       headers=xsrf_headers(s, login)).json()["id"]
    execute(s, prod_hub.url, login, kernel_id, "diem = 9.5")
    state_file = prod_hub.data_dir / "run" / "launcher.json"
    old = json.loads(state_file.read_text())["hub_pid"]
    os.kill(old, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while json.loads(state_file.read_text())["hub_pid"] == old or requests.get(f"{prod_hub.url}/hub/health").status_code != 200:
        assert time.monotonic() < deadline, "hub did not come back"
        time.sleep(0.5)
    assert execute(s, prod_hub.url, login, kernel_id, "print(diem)") == "9.5\n"


def test_stopping_a_server_ends_every_process_of_it(prod_hub, students):
    b = students["b"]
    run(prod_hub, b, "import subprocess; subprocess.Popen(['sleep', '600'], start_new_session=True)")
    uid = pwd.getpwnam(b["login"]).pw_uid
    assert any(p.info["uids"].real == uid for p in psutil.process_iter(["uids"]))
    token = (prod_hub.data_dir / "secrets" / "launcher_token").read_text().strip()
    r = requests.delete(f"{prod_hub.url}/hub/api/users/{b['login']}/server", headers={"Authorization": f"token {token}"})
    assert r.status_code in (202, 204)
    deadline = time.monotonic() + 30
    while any(p.info["uids"].real == uid and p.info["status"] != psutil.STATUS_ZOMBIE
              for p in psutil.process_iter(["uids", "status"])):
        assert time.monotonic() < deadline, "a detached process of the student outlived their server"
        time.sleep(0.5)
    assert not list(Path("/sys/fs/cgroup").rglob(f"stemlab/{b['login']}")), "the server's cgroup is removed"


def test_production_mode_refuses_to_run_without_root(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    import subprocess

    from ..conftest import STEMLAB, free_port

    work = Path(tempfile.mkdtemp(prefix="stemlab-nonroot-", dir="/tmp"))
    work.chmod(0o777)
    config = work / "stemlab.toml"
    config.write_text("[mode]\nproduction = true\n")
    config.chmod(0o644)
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", STEMLAB, "up", "--config", str(config),
         "--data", str(work / "var"), "--port", str(free_port())],
        capture_output=True, text=True, cwd=work, timeout=120, env={**os.environ, "HOME": str(work), "COLUMNS": "200"},
    )
    shutil.rmtree(work, ignore_errors=True)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Production mode needs root" in result.stdout


def test_teacher_reaches_only_their_own_class(prod_hub, students):
    teacher = prod_hub.account("teacher", classes="10A1")
    s = prod_hub.login(teacher["login"], teacher["password"])
    token = s.post(f"{prod_hub.url}/hub/api/users/{teacher['login']}/tokens", json={},
                   headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")}).json()["token"]
    headers = {"Authorization": f"token {token}"}
    own, other = students["a"]["login"], students["c"]["login"]
    assert requests.get(f"{prod_hub.url}/user/{own}/api/contents", headers=headers).status_code == 200
    assert requests.get(f"{prod_hub.url}/user/{other}/api/contents", headers=headers).status_code == 403
    assert requests.get(f"{prod_hub.url}/hub/api/users/{other}", headers=headers).status_code in (403, 404)
