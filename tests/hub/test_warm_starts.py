"""Warm starts (hub_config/warm): students' servers forked from the hub's warm process, their
kernels forked by each server's nursery; in demo mode and in production mode, as root.

Each check looks at the real processes (parents, accounts, groups, cgroups, descriptors,
environments) and drives the kernels as JupyterLab does (REST and websockets).
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from ..conftest import module_hub

from .helpers import execute, open_server, run_code, students_with_servers, xsrf_headers

pytestmark = pytest.mark.hub
WARM_ANSWER_SECONDS = 8  # a silent warm process costs its test this, not the default 30 s


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory):
    """conftest's demo hub, waiting WARM_ANSWER_SECONDS for the warm process's answer."""
    base = tmp_path_factory.mktemp("warm")
    config = base / "stemlab.toml"
    config.write_text(f"[server]\nwarm_answer_seconds = {WARM_ANSWER_SECONDS}\n", encoding="utf-8")
    yield from module_hub(base / "var", extra_args=("--config", str(config)))

WARM_MODULE = "hub_config.warm.image"
PROBE = """
import json, os, random, sys, numpy
print(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "uid": os.getuid(), "cwd": os.getcwd(),
                  "cwd_importable": "" in sys.path, "home": os.environ.get("HOME"),
                  "warm": all(m in sys.modules for m in ("sklearn", "matplotlib.pyplot", "ipywidgets")),
                  "draws": [random.random(), float(numpy.random.random())]}))
"""


def warm_process(hub) -> psutil.Process:
    for p in psutil.process_iter(["cmdline", "environ"]):
        try:
            if WARM_MODULE in " ".join(p.info["cmdline"] or []) and \
                    str(hub.data_dir) in (p.info["environ"] or {}).get("MPLCONFIGDIR", ""):
                return p
        except psutil.Error:
            continue
    raise AssertionError("no warm process runs for this hub")


def home_of(hub, login: str) -> str:
    root = getattr(hub, "home_root", None)
    return str(root / login) if root else str(hub.data_dir / "homes" / login)


def server_of(hub, login: str) -> psutil.Process:
    """A forked process's /proc environ is the warm process's (the block it was exec'd with); its
    own is in Python's os.environ. Its working folder says whose server it is."""
    warm = warm_process(hub)
    for child in warm.children():
        if child.cwd() == home_of(hub, login):
            shown = " ".join(child.cmdline())  # `ps` shows what it is, whose, for which hub
            assert "hub_config.singleuser.server" in shown and f"(server of {login}, hub " in shown, shown
            return child
    raise AssertionError(f"the server of {login} is not a child of the warm process")


def seqpacket_sockets(process: psutil.Process) -> int:
    """How many SOCK_SEQPACKET Unix sockets a process holds: the warm processes' channels are the
    only ones we make."""
    kinds = {}
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 7:
            kinds[fields[6]] = fields[4]  # inode -> type (0005: SOCK_SEQPACKET)
    count = 0
    for fd in Path(f"/proc/{process.pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and kinds.get(target[8:-1]) == "0005":
            count += 1
    return count


def probe(hub, session, login, kernel_id) -> dict:
    return json.loads(execute(session, hub.url, login, kernel_id, PROBE, timeout=60))


def new_kernel(hub, session, login) -> str:
    r = session.post(f"{hub.url}/user/{login}/api/kernels", json={"name": "python3"}, headers=xsrf_headers(session, login))
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture(scope="module")
def demo_student(demo_hub):
    student = demo_hub.account("student", 5)
    s = demo_hub.login(student["login"], student["password"])
    open_server(s, demo_hub.url, student["login"])
    return student["login"], s


def test_warm_process_holds_nothing_of_the_site(demo_hub, demo_student):
    warm = warm_process(demo_hub)
    env = warm.environ()
    assert not {k for k in env if k.startswith(("JUPYTERHUB", "STEMLAB", "CONFIGPROXY"))}, env
    assert env["HOME"] == "/nonexistent"
    # its standard streams and its channel: nothing else for a fork to inherit
    assert sorted(int(fd.name) for fd in Path(f"/proc/{warm.pid}/fd").iterdir())[:3] == [0, 1, 2]
    assert warm.num_fds() == 4, os.listdir(f"/proc/{warm.pid}/fd")


def test_demo_server_is_forked_warm_and_becomes_the_student(demo_hub, demo_student):
    login, s = demo_student
    server = server_of(demo_hub, login)
    home = home_of(demo_hub, login)
    env = json.loads(run_code(s, demo_hub.url, login, "import os, json; print(json.dumps(dict(os.environ)))"))
    assert env["HOME"] == home and env["JUPYTERHUB_USER"] == login
    assert "MPLCONFIGDIR" not in env  # the warm process's environment is replaced, not merged
    if os.geteuid() == 0:
        from hub_config.system.linux_accounts import DEMO_ACCOUNT

        assert server.uids().real == server.uids().effective == pwd.getpwnam(DEMO_ACCOUNT).pw_uid
    assert os.getsid(server.pid) == server.pid  # its own session, as a plain spawn's
    # the server holds its nursery's channel only: never the warm process's, through which its
    # student's code could ask for forks
    assert seqpacket_sockets(server) == 1
    [nursery] = [c for c in server.children() if "nursery" in " ".join(c.cmdline())]
    assert seqpacket_sockets(nursery) == 1 and nursery.num_fds() == 4


def test_demo_kernel_is_forked_warm_by_its_servers_nursery(demo_hub, demo_student):
    login, s = demo_student
    server = server_of(demo_hub, login)
    first, second = new_kernel(demo_hub, s, login), new_kernel(demo_hub, s, login)
    try:
        a, b = probe(demo_hub, s, login, first), probe(demo_hub, s, login, second)
        for facts in (a, b):
            assert facts["warm"], "scikit-learn, matplotlib and ipywidgets are imported before the first cell"
            kernel = psutil.Process(facts["pid"])
            assert kernel.parent().parent().pid == server.pid  # kernel <- nursery <- server
            assert facts["uid"] == server.uids().real
            assert facts["cwd"] == str(demo_hub.data_dir / "homes" / login)
            assert facts["cwd_importable"]  # the notebook's folder is importable, as in a fresh kernel
            assert seqpacket_sockets(kernel) == 0
        assert a["draws"][0] != b["draws"][0] and a["draws"][1] != b["draws"][1], "each kernel draws its own randomness"
        shown = execute(s, demo_hub.url, login, first,
                        "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show(); "
                        "import matplotlib; print(matplotlib.get_backend())")
        assert "inline" in shown
    finally:
        for kernel_id in (first, second):
            s.delete(f"{demo_hub.url}/user/{login}/api/kernels/{kernel_id}", headers=xsrf_headers(s, login))


def test_a_servers_first_kernel_is_readied_ahead_and_given_its_notebook(demo_hub, demo_student):
    login, s = demo_student
    hub_headers = {"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/") or ""}
    assert s.delete(f"{demo_hub.url}/hub/api/users/{login}/server", headers=hub_headers).status_code in (202, 204)
    deadline = time.monotonic() + 30
    while s.get(f"{demo_hub.url}/hub/api/users/{login}", headers=hub_headers).json()["servers"]:
        assert time.monotonic() < deadline, "the server stops"
        time.sleep(0.2)
    open_server(s, demo_hub.url, login)  # a fresh server: its first kernel is still to come
    [nursery] = [c for c in server_of(demo_hub, login).children() if "nursery" in " ".join(c.cmdline())]
    deadline = time.monotonic() + 30
    while not (ready := [k for k in nursery.children() if "a kernel ready" in " ".join(k.cmdline())]):
        assert time.monotonic() < deadline, "the nursery readies a kernel as its server starts"
        time.sleep(0.2)
    headers = xsrf_headers(s, login)
    assert s.put(f"{demo_hub.url}/user/{login}/api/contents/bai1", json={"type": "directory"}, headers=headers).ok
    r = s.post(f"{demo_hub.url}/user/{login}/api/sessions", headers=headers,
               json={"path": "bai1/luyen-tap.ipynb", "name": "luyen-tap.ipynb", "type": "notebook",
                     "kernel": {"name": "python3"}})
    assert r.status_code == 201, r.text
    kernel_id = r.json()["kernel"]["id"]
    facts = json.loads(execute(s, demo_hub.url, login, kernel_id,
                               "import os, json; print(json.dumps({'pid': os.getpid(), 'cwd': os.getcwd(), "
                               "'dh': _dh, 'session': __session__, 'env': os.environ.get('JPY_SESSION_NAME')}))"))
    assert facts["pid"] == ready[0].pid, "the kernel readied ahead is the notebook's"
    folder = os.path.join(home_of(demo_hub, login), "bai1")
    assert facts["cwd"] == folder and facts["dh"] == [folder]  # as if started in the notebook's folder
    assert facts["session"].endswith("bai1/luyen-tap.ipynb") and facts["env"] == facts["session"]
    assert "a kernel ready" not in " ".join(psutil.Process(facts["pid"]).cmdline())
    # a restart is forked for it: the next kernel is not readied ahead (one per server start)
    assert s.post(f"{demo_hub.url}/user/{login}/api/kernels/{kernel_id}/restart", headers=headers).ok
    again = json.loads(execute(s, demo_hub.url, login, kernel_id, "import os, json; print(json.dumps(os.getpid()))"))
    assert again != facts["pid"] and psutil.Process(again).parent().pid == nursery.pid
    s.delete(f"{demo_hub.url}/user/{login}/api/kernels/{kernel_id}", headers=headers)


def test_interrupt_restart_and_shutdown_of_a_warm_kernel(demo_hub, demo_student):
    login, s = demo_student
    base = f"{demo_hub.url}/user/{login}/api/kernels"
    kernel_id = new_kernel(demo_hub, s, login)
    before = probe(demo_hub, s, login, kernel_id)
    outcome: dict[str, str] = {}

    def run_long() -> None:
        try:
            execute(s, demo_hub.url, login, kernel_id, "import time\nx = 1\ntime.sleep(60)", timeout=90)
            outcome["result"] = "finished"
        except AssertionError as err:
            outcome["result"] = str(err)

    runner = threading.Thread(target=run_long)
    runner.start()
    time.sleep(2)
    started = time.monotonic()
    assert s.post(f"{base}/{kernel_id}/interrupt", headers=xsrf_headers(s, login)).status_code == 204
    runner.join(30)
    assert "KeyboardInterrupt" in outcome.get("result", ""), outcome
    assert time.monotonic() - started < 10
    assert execute(s, demo_hub.url, login, kernel_id, "print(x)").strip() == "1"  # the same kernel lives on

    r = s.post(f"{base}/{kernel_id}/restart", headers=xsrf_headers(s, login))
    assert r.status_code == 200, r.text
    after = probe(demo_hub, s, login, kernel_id)
    assert after["pid"] != before["pid"] and after["warm"]
    assert not psutil.pid_exists(before["pid"]) or psutil.Process(before["pid"]).status() == psutil.STATUS_ZOMBIE
    assert "NameError" in run_code_error(demo_hub, s, login, kernel_id, "print(x)")

    assert s.delete(f"{base}/{kernel_id}", headers=xsrf_headers(s, login)).status_code == 204
    deadline = time.monotonic() + 10
    while psutil.pid_exists(after["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(after["pid"])


def run_code_error(hub, s, login, kernel_id, code) -> str:
    try:
        execute(s, hub.url, login, kernel_id, code)
    except AssertionError as err:
        return str(err)
    return ""


def test_a_warm_kernel_ends_with_its_server(demo_hub):
    student = demo_hub.account("student", 0)
    login = student["login"]
    s = demo_hub.login(login, student["password"])
    open_server(s, demo_hub.url, login)
    kernel = psutil.Process(probe(demo_hub, s, login, new_kernel(demo_hub, s, login))["pid"])
    nursery = kernel.parent()
    server_of(demo_hub, login).kill()  # a server that crashed: nothing it started outlives it
    gone, alive = psutil.wait_procs([nursery, kernel], timeout=10)
    assert not alive, alive


def test_a_warm_process_that_died_is_started_again(demo_hub):
    warm = warm_process(demo_hub)
    warm.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while warm.is_running() and warm.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.1)
    student = demo_hub.account("student", 4)
    s = demo_hub.login(student["login"], student["password"])
    open_server(s, demo_hub.url, student["login"])
    assert warm_process(demo_hub).pid != warm.pid
    server_of(demo_hub, student["login"])  # warm again, not plain
    assert run_code(s, demo_hub.url, student["login"], "print(6 * 7)").strip() == "42"


def test_a_warm_process_that_does_not_answer_means_a_plain_start_and_the_log_says_why(demo_hub):
    warm = warm_process(demo_hub)
    student = demo_hub.account("student", 1)
    login = student["login"]
    warm.suspend()  # alive but silent: the start waits warm_answer_seconds, then goes plain
    try:
        s = demo_hub.login(login, student["password"])
        open_server(s, demo_hub.url, login, timeout=120)
    finally:
        warm.resume()
    assert run_code(s, demo_hub.url, login, "print(6 * 7)").strip() == "42"
    plain = [p for p in psutil.process_iter(["cmdline", "cwd"]) if p.info["cwd"] == home_of(demo_hub, login)
             and "singleuser" in " ".join(p.info["cmdline"] or []) and p.ppid() != warm.pid]
    assert plain, "the server started plainly"
    log = (demo_hub.data_dir / "logs" / "hub.log").read_text()
    assert f"The server of {login} starts plainly, not warm: the warm process did not answer within {WARM_ANSWER_SECONDS} s" in log


# ---------------------------------------------------------------- production mode, as root
@pytest.mark.root
def test_production_warm_server_and_kernel_are_the_student_in_their_cgroup(prod_hub):
    students = students_with_servers(prod_hub, plan=(("a", "10A1", 0), ("c", "10A2", 0)))
    for who in students.values():
        login, s = who["login"], who["session"]
        server = server_of(prod_hub, login)
        account = pwd.getpwnam(login)
        kernel_id = new_kernel(prod_hub, s, login)
        try:
            facts = probe(prod_hub, s, login, kernel_id)
            assert facts["warm"] and facts["home"] == account.pw_dir
            check_process_is_student(facts["pid"], login, account)
            check_process_is_student(server.pid, login, account)
        finally:
            s.delete(f"{prod_hub.url}/user/{login}/api/kernels/{kernel_id}", headers=xsrf_headers(s, login))


def check_process_is_student(pid: int, login: str, account: pwd.struct_passwd) -> None:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert set(fields["Uid"].split()) == {str(account.pw_uid)}
    assert set(fields["Gid"].split()) == {str(account.pw_gid)}
    assert set(map(int, fields["Groups"].split())) == set(os.getgrouplist(login, account.pw_gid))
    assert fields["Umask"].strip() == "0077"
    cgroup = Path(f"/proc/{pid}/cgroup").read_text()
    assert f"/stemlab/{login}\n" in cgroup, cgroup  # the student's limits, not the hub's
