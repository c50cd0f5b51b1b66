"""Benchmark: a class of 40 logging in at the same moment, this platform against plain JupyterHub.

Run from the project root after `make test-deps` (or `make bench`):

    .venv/bin/python tests/bench/login_storm.py [--students 40]

The hubs run on this machine in turn, on loopback ports, with local-process spawners and no
isolation (our demo mode; plain JupyterHub's SimpleLocalProcessSpawner, defaults otherwise):
this platform with warm starts (its default: servers and kernels forked from a warm process,
hub_config/warm), the same with the teacher having pre-started the class (`stemlab class start
--wait`), the same with plain starts (`[server] warm_starts = false`), and plain JupyterHub.
For each: servers started, failures, p50/p95 seconds from the login POST to a kernel that answers,
and memory per student (PSS of the server and everything under it, its kernel after
`import sklearn`). Prints the ratios against plain starts and plain JupyterHub.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.conftest import free_port, import_roster  # noqa: E402
from tests.hub.helpers import execute, xsrf_headers  # noqa: E402

PER_STUDENT_LIMIT = 300  # seconds a student keeps trying before we count them as failed


@dataclass
class StormResult:
    name: str
    seconds: dict[str, float] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    pss_per_student_mb: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)


def login(url: str, user: str, password: str) -> requests.Session:
    s = requests.Session()
    s.get(f"{url}/hub/login", timeout=60)
    r = s.post(f"{url}/hub/login?next=", data={"username": user, "password": password,
                                               "_xsrf": s.cookies.get("_xsrf", path="/hub/")},
               allow_redirects=False, timeout=120)
    if r.status_code != 302:
        raise RuntimeError(f"login answered {r.status_code}")
    return s


def one_student(url: str, user: str, password: str, barrier: threading.Barrier, result: StormResult,
                lock: threading.Lock, sessions: dict) -> None:
    barrier.wait()
    t0 = time.monotonic()
    try:
        s = login(url, user, password)
        s.hooks["response"].append(lambda r, *a, **k: record_status(result, lock, r.status_code))
        s.get(f"{url}/hub/spawn/{user}", timeout=PER_STUDENT_LIMIT, allow_redirects=False)
        # Wait as the spawn-pending page does: on the hub's progress event stream, not by polling.
        ready = False
        with s.get(f"{url}/hub/api/users/{user}/server/progress", stream=True, timeout=PER_STUDENT_LIMIT,
                   headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")}) as stream:
            for line in stream.iter_lines(decode_unicode=True):
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event.get("failed"):
                        raise RuntimeError(f"spawn failed: {event.get('message', '')[:120]}")
                    if event.get("ready"):
                        ready = True
                        break
                if time.monotonic() - t0 > PER_STUDENT_LIMIT:
                    break
        if not ready:
            model = s.get(f"{url}/hub/api/users/{user}", timeout=60,
                          headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")}).json()
            if not model.get("servers", {}).get("", {}).get("ready"):
                raise RuntimeError("no server within the limit")
        r = s.get(f"{url}/user/{user}/lab", timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"JupyterLab answered {r.status_code}")
        kernel = s.post(f"{url}/user/{user}/api/kernels", json={"name": "python3"}, headers=xsrf_headers(s, user),
                        timeout=60).json()["id"]
        if execute(s, url, user, kernel, "print(1 + 1)", timeout=120).strip() != "2":
            raise RuntimeError("kernel gave a wrong answer")
        with lock:
            result.seconds[user] = time.monotonic() - t0
            sessions[user] = (s, kernel)
    except Exception as err:  # one student's failure is a measurement, not a crash
        with lock:
            result.failures[user] = f"{type(err).__name__}: {err}"[:200]


def record_status(result: StormResult, lock: threading.Lock, status: int) -> None:
    if status >= 400:
        with lock:
            result.statuses[status] = result.statuses.get(status, 0) + 1


def storm(name: str, url: str, accounts: list[tuple[str, str]]) -> StormResult:
    result = StormResult(name)
    lock = threading.Lock()
    sessions: dict = {}
    barrier = threading.Barrier(len(accounts))
    threads = [threading.Thread(target=one_student, args=(url, u, p, barrier, result, lock, sessions))
               for u, p in accounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(PER_STUDENT_LIMIT + 200)
    result.pss_per_student_mb = memory_per_student(url, sessions)
    return result


def memory_per_student(url: str, sessions: dict) -> float:
    """Mean PSS (MB) of each student's server plus its kernel, after `import sklearn` in the kernel."""
    totals = []
    for user, (s, kernel) in sessions.items():
        try:
            execute(s, url, user, kernel, "import sklearn, os; print(os.getpid())", timeout=120)
        except Exception:
            continue
    time.sleep(2)
    # a student's server and everything under it (its kernels; a warm server's nursery), each
    # server found by its command line (a warm-started one shows the plain one's, setproctitle)
    servers = [p for p in psutil.process_iter(["cmdline"]) if "singleuser" in " ".join(p.info["cmdline"] or [])]
    roots = {p.pid: p for p in servers}
    for proc in servers:
        try:
            if proc.ppid() in roots:
                continue
            family = [proc, *proc.children(recursive=True)]
            totals.append(sum(p.memory_full_info().pss for p in family) / 2**20)
        except psutil.Error:
            continue
    return statistics.mean(totals) if totals else float("nan")


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hub exited with {proc.returncode}")
        try:
            if requests.get(f"{url}/hub/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("hub did not come up")


def stop(proc: subprocess.Popen, marker: str) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
    for p in psutil.process_iter(["cmdline", "environ"]):
        try:
            if marker in " ".join(p.info["cmdline"] or []) or marker in (p.info["environ"] or {}).get("HOME", ""):
                p.kill()
        except psutil.Error:
            continue


def run_ours(work: Path, students: int, name: str, settings: str = "", prestart: bool = False) -> StormResult:
    data = work / name.replace(" ", "-").replace(",", "")
    roster = work / "roster.csv"
    rows = ["Mã học sinh,Họ và tên,Lớp,Vai trò"] + [f"B{i:03d},Học Sinh Số {chr(65 + i % 26)},10C1," for i in range(students)]
    roster.write_text("\n".join(rows), encoding="utf-8")
    import_roster(data, roster)
    accounts = []
    for sheet in (data / "accounts" / "sheets").glob("class-*.csv"):
        for line in sheet.read_text(encoding="utf-8-sig").splitlines()[1:]:
            parts = line.split(",")
            accounts.append((parts[3], parts[4]))
    config = work / f"{data.name}.toml"
    config.write_text(settings, encoding="utf-8")
    port = free_port()
    stemlab = str(ROOT / ".venv" / "bin" / "stemlab")
    proc = subprocess.Popen([stemlab, "up", "--data", str(data), "--port", str(port), "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url, proc)
        time.sleep(3)  # the hub's services (and its warm process) finish starting, as before a lesson
        if prestart:
            subprocess.run([stemlab, "class", "start", "10C1", "--wait", "--data", str(data), "--config", str(config)],
                           check=True, stdout=subprocess.DEVNULL, timeout=900)
        result = storm(name, url, accounts)
        if result.failures:  # the hub's log says what the failed students met
            kept = Path(tempfile.mkdtemp(prefix="stemlab-storm-log-"))
            shutil.copy(data / "logs" / "hub.log", kept / "hub.log")
            print(f"{'':24} the hub's log of this run: {kept / 'hub.log'}")
        return result
    finally:
        stop(proc, str(data))


def run_plain(work: Path, students: int) -> StormResult:
    data = work / "plain"
    data.mkdir()
    password = secrets.token_hex(8)
    users = [f"u{i:03d}" for i in range(students)]
    proxy = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    port = free_port()
    config = data / "jupyterhub_config.py"
    config.write_text(textwrap.dedent(f"""
        c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
        c.JupyterHub.hub_port = {free_port()}
        c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
        c.ConfigurableHTTPProxy.command = [{str(proxy)!r}]
        c.JupyterHub.authenticator_class = "dummy"
        c.DummyAuthenticator.password = {password!r}
        c.Authenticator.allowed_users = set({users!r})
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = {str(data / "homes" / "{username}")!r}
        c.Spawner.default_url = "/lab"
        c.Spawner.args = {["--allow-root"] if os.geteuid() == 0 else []!r}
        c.JupyterHub.db_url = "sqlite:///{data / "jupyterhub.sqlite"}"
        c.JupyterHub.cookie_secret_file = {str(data / "cookie_secret")!r}
    """))
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "jupyterhub"), "-f", str(config)], cwd=data, env=env,
                            stdout=(data / "hub.log").open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url, proc)
        return storm("plain JupyterHub", url, [(u, password) for u in users])
    finally:
        stop(proc, str(data))


def summary(r: StormResult, students: int) -> dict:
    times = sorted(r.seconds.values())
    q = statistics.quantiles(times, n=20) if len(times) >= 2 else times * 19
    return {
        "started": len(times), "failures": len(r.failures),
        "p50": statistics.median(times) if times else float("nan"),
        "p95": q[18] if times else float("nan"),
        "pss": r.pss_per_student_mb, "errors": r.statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stemlab-storm-"))
    work.chmod(0o755)
    try:
        print(f"Login storm: {args.students} students at once on {os.cpu_count()} cores "
              f"(each: login → server → kernel answers; limit {PER_STUDENT_LIMIT} s)", flush=True)
        print(f"{'':24} {'started':>8} {'failed':>7} {'p50 s':>7} {'p95 s':>7} {'PSS MB/student':>15}  HTTP errors seen")
        runs = (("ours, warm", lambda: run_ours(work, args.students, "ours, warm")),
                ("ours, warm, pre-started", lambda: run_ours(work, args.students, "ours, pre-started", prestart=True)),
                ("ours, plain starts", lambda: run_ours(work, args.students, "ours, plain",
                                                        "[server]\nwarm_starts = false\n")),
                ("plain JupyterHub", lambda: run_plain(work, args.students)))
        results = {}
        for name, run in runs:
            raw = run()
            s = results[name] = summary(raw, args.students)
            print(f"{name:24} {s['started']:>8} {s['failures']:>7} {s['p50']:>7.1f} {s['p95']:>7.1f} {s['pss']:>15.0f}  "
                  f"{s['errors']}", flush=True)
            for reason in sorted(set(raw.failures.values()))[:3]:
                print(f"{'':24} failure: {reason}")
        warm = results["ours, warm"]
        for other in ("ours, plain starts", "plain JupyterHub"):
            them = results[other]
            if warm["started"] and them["started"]:
                print(f"ratio {other}/warm: p50 {them['p50'] / warm['p50']:.2f}x, p95 {them['p95'] / warm['p95']:.2f}x, "
                      f"memory {them['pss'] / warm['pss']:.2f}x; started {warm['started']} vs {them['started']}")
            else:
                print(f"servers started: warm {warm['started']} vs {other} {them['started']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
