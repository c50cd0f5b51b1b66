"""Benchmark: a province on one hub. Accounts imported, hub start, logins; at 1,000 and 100,000.

Run from the project root after `make test-deps` (or `make bench`):

    .venv/bin/python tests/bench/province.py [--sizes 1000 100000] [--logins 200]

For each size, the same people (400 schools' students) are given to this platform and to plain
JupyterHub 6.1 on this machine, each on its own loopback ports and database:
- import: ours is `stemlab accounts import` of one province file, and of the same people as 400
  school files in one run; plain JupyterHub's is its own way to take a list of users, the config's
  allowed_users, which it writes (and grants their role) at its first start.
- start: from the command to the hub's first answer, with every account already in the database.
- login: POST /hub/login of `--logins` people picked at random, one after the other, after a
  warm-up; ours with the first codes of the password sheets (each login also turns its code into
  a bcrypt password), plain JupyterHub with DummyAuthenticator's shared password (no hash at all).
Figures are printed with the ratios the issue sets goals for (100,000 against 1,000; ours against plain).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.bench.login_storm import stop, wait_http  # noqa: E402
from tests.conftest import free_port  # noqa: E402

BIN = ROOT / ".venv" / "bin"
SCHOOLS = 400
LAST = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Thanh", "Hữu", "Gia", "Quốc"]
FIRST = ["An", "Bình", "Châu", "Dũng", "Giang", "Hạnh", "Khoa", "Linh", "Mai", "Nam", "Phúc", "Quân", "Tâm", "Vy"]


@dataclass
class Figures:
    imported: float = float("nan")
    imported_files: float = float("nan")
    started: float = float("nan")
    logins: list[float] = field(default_factory=list)

    def p(self, q: int) -> float:
        if len(self.logins) < 2:
            return float("nan")
        return statistics.quantiles(self.logins, n=100)[q - 1] * 1000


def write_rosters(work: Path, size: int) -> tuple[Path, list[Path]]:
    """One province file and the same people as one file per school."""
    rng = random.Random(size)
    rows = []
    for i in range(size):
        school = f"THCS Số {i % SCHOOLS + 1}"
        name = f"{rng.choice(LAST)} {rng.choice(MIDDLE)} {rng.choice(FIRST)}"
        rows.append([school, f"P{i:07d}", name, f"{6 + (i // 40) % 4}A{(i // 160) % 5 + 1}", ""])
    header = ["Trường", "Mã học sinh", "Họ và tên", "Lớp", "Vai trò"]
    folder = work / f"rosters-{size}"
    (folder / "schools").mkdir(parents=True)
    province = folder / "province.csv"
    with province.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    by_school: dict[str, list[list[str]]] = {}
    for row in rows:
        by_school.setdefault(row[0], []).append(row)
    files = []
    for n, (school, people) in enumerate(sorted(by_school.items())):
        path = folder / "schools" / f"truong-{n:03d}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([header, *people])
        files.append(path)
    return province, files


def timed(command: list[str], **kwargs: object) -> float:
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
    return time.monotonic() - start


def login_once(url: str, user: str, password: str) -> float:
    s = requests.Session()
    s.get(f"{url}/hub/login", timeout=60)
    start = time.monotonic()
    r = s.post(f"{url}/hub/login?next=", data={"username": user, "password": password,
                                               "_xsrf": s.cookies.get("_xsrf", path="/hub/")},
               allow_redirects=False, timeout=120)
    elapsed = time.monotonic() - start
    if r.status_code != 302:
        raise RuntimeError(f"login of {user} answered {r.status_code}")
    return elapsed


def measure_logins(url: str, people: list[tuple[str, str]], count: int) -> list[float]:
    chosen = random.Random(7).sample(people, min(len(people), count + 5))
    for user, password in chosen[:5]:  # warm-up: first requests compile templates, open pools
        login_once(url, user, password)
    return [login_once(url, user, password) for user, password in chosen[5:]]


def run_ours(work: Path, size: int, logins: int) -> Figures:
    figures = Figures()
    province, school_files = write_rosters(work, size)
    for label, files in (("province", [province]), ("schools", school_files)):
        data = work / f"ours-{size}-{label}"
        seconds = timed([str(BIN / "stemlab"), "accounts", "import", *map(str, files), "--data", str(data)],
                        env={**os.environ, "COLUMNS": "200"})
        if label == "province":
            figures.imported = seconds
        else:
            figures.imported_files = seconds
    data = work / f"ours-{size}-province"
    people = []
    for sheet in (data / "accounts" / "sheets").glob("class-*.csv"):
        with sheet.open(encoding="utf-8-sig") as f:
            people += [(row[3], row[4]) for row in list(csv.reader(f))[1:]]
    port = free_port()
    start = time.monotonic()
    proc = subprocess.Popen([str(BIN / "stemlab"), "up", "--data", str(data), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url, proc, timeout=600)
        figures.started = time.monotonic() - start
        figures.logins = measure_logins(url, people, logins)
    finally:
        stop(proc, str(data))
    return figures


def run_plain(work: Path, size: int, logins: int) -> Figures:
    figures = Figures()
    data = work / f"plain-{size}"
    data.mkdir()
    password = secrets.token_hex(8)
    users = [f"p{i:07d}" for i in range(size)]
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
        c.Authenticator.allowed_users = set(open({str(data / "users.txt")!r}).read().split())
        c.JupyterHub.db_url = "sqlite:///{data / "jupyterhub.sqlite"}"
        c.JupyterHub.cookie_secret_file = {str(data / "cookie_secret")!r}
    """))
    (data / "users.txt").write_text("\n".join(users))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    url = f"http://127.0.0.1:{port}"
    for first in (True, False):
        start = time.monotonic()
        proc = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(config)], cwd=data, env=env,
                                stdout=(data / "hub.log").open("ab"), stderr=subprocess.STDOUT)
        try:
            wait_http(url, proc, timeout=1800)
            if first:
                figures.imported = time.monotonic() - start
            else:
                figures.started = time.monotonic() - start
                figures.logins = measure_logins(url, [(u, password) for u in users], logins)
        finally:
            stop(proc, str(data))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--only", choices=["ours", "plain"], help="one platform only (no ratios between them)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stemlab-province-"))
    work.chmod(0o755)  # started by root, the platform runs servers unprivileged: they traverse to it
    try:
        print(f"Province benchmark on {os.cpu_count()} cores; {args.logins} logins per hub", flush=True)
        print(f"{'':26} {'accounts':>9} {'import s':>9} {'400 files s':>12} {'start s':>8} {'login p50 ms':>13} "
              f"{'p95 ms':>7}")
        results: dict[tuple[str, int], Figures] = {}
        for size in args.sizes:
            for name, run in (("STEM-Lab Hub", run_ours), ("plain JupyterHub", run_plain)):
                if args.only and not name.lower().startswith({"ours": "stem", "plain": "plain"}[args.only]):
                    continue
                f = results[name, size] = run(work, size, args.logins)
                print(f"{name:26} {size:>9,} {f.imported:>9.1f} {f.imported_files:>12.1f} {f.started:>8.1f} "
                      f"{f.p(50):>13.0f} {f.p(95):>7.0f}", flush=True)
        small, large = min(args.sizes), max(args.sizes)
        for name in sorted({name for name, _ in results}):
            a, b = results[name, small], results[name, large]
            print(f"{name}: {large:,} against {small:,}: login p95 {b.p(95) / a.p(95):.2f}x, "
                  f"start {b.started / a.started:.2f}x")
        if args.only:
            return
        ours, plain = results["STEM-Lab Hub", large], results["plain JupyterHub", large]
        print(f"at {large:,}: plain/ours import (plain's first start) {plain.imported / ours.imported:.1f}x, "
              f"start {plain.started / ours.started:.2f}x, login p95 {plain.p(95) / ours.p(95):.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
