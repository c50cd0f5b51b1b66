"""Shared fixtures.

Index:
- ``write_roster(name, rows, fmt="csv", bom=True, header=...)``: write a roster file in tmp_path.
- ``open_for_servers(data_dir)``: make a data directory reachable by unprivileged servers (as root).
- ``start_hub(data_dir, **env)``: run ``stemlab up`` on a free loopback port as a real
  subprocess (real hub, real configurable-http-proxy); returns a ``RunningHub``; every hub it
  started is stopped with SIGTERM at the end of the test and checked to have left no process.
- ``demo_hub`` (module scope): one running hub with the demo school, shared by read-only tests.
- ``launch_school(data_dir)``: a hub with classes 10A1 and 10A2, their teachers, a technician and an admin.
- ``two_class_hub`` (module scope): a hub with classes 10A1 and 10A2 (tests/files/two_classes.csv).
- ``prod_hub`` (module scope, root only): the same classes in production mode, with real Linux
  accounts; ``.config`` is its stemlab.toml (pass it to `stemlab` commands), ``.home_root`` its homes.
- ``RunningHub.login(login, password)``: a requests.Session logged in through the login form.
- ``RunningHub.credentials(role or class)``: first passwords from the password sheets.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests

STEMLAB = str(Path(sys.executable).with_name("stemlab"))


def pytest_configure(config: pytest.Config) -> None:
    """As root, each session gets a temporary root of its own. Hubs started by root run their servers
    unprivileged, which must traverse to the data directory; pytest closes its shared
    /tmp/pytest-of-root (0700) again at the start of every session, which would lock a concurrent
    session's servers out of their homes mid-run."""
    if os.geteuid() == 0 and config.option.basetemp is None and not hasattr(config, "workerinput"):
        for old in Path(tempfile.gettempdir()).glob("stemlab-tests-*"):
            if time.time() - old.stat().st_mtime > 86400:
                shutil.rmtree(old, ignore_errors=True)
        config.option.basetemp = tempfile.mkdtemp(prefix="stemlab-tests-")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--kit", metavar="URL", default=None,
                     help="run the kit tests against a real board at this pyserial URL (e.g. /dev/ttyUSB0) "
                          "instead of a simulated kit; tests that need the simulator's controls are skipped")
FILES = Path(__file__).parent / "files"
ARTIFACTS = Path(os.environ.get("STEMLAB_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningHub:
    url: str
    port: int
    data_dir: Path
    proc: subprocess.Popen
    output_path: Path
    sessions: list[requests.Session] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def accounts(self) -> list[dict[str, str]]:
        """Every first password written to the sheets: name, class, role, login, password."""
        out = []
        for sheet in sorted((self.data_dir / "accounts" / "sheets").glob("*.csv")):
            with sheet.open(encoding="utf-8-sig") as f:
                rows = list(csv.reader(f))
            for name, classes, role, login, password in rows[1:]:
                out.append({"name": name, "classes": classes, "role": role, "login": login, "password": password})
        return out

    def account(self, role: str, index: int = 0, classes: str | None = None) -> dict[str, str]:
        matches = [a for a in self.accounts() if a["role"] == role and (classes is None or a["classes"] == classes)]
        return matches[index]

    def login(self, login: str, password: str) -> requests.Session:
        s = requests.Session()
        s.get(f"{self.url}/hub/login")
        r = s.post(
            f"{self.url}/hub/login?next=",
            data={"username": login, "password": password, "_xsrf": s.cookies.get("_xsrf", path="/hub/")},
            allow_redirects=False,
        )
        assert r.status_code == 302, f"login of {login} failed: {r.status_code}"
        self.sessions.append(s)
        return s

    def hub_pids(self) -> set[int]:
        try:
            parent = psutil.Process(self.proc.pid)
            return {p.pid for p in [parent, *parent.children(recursive=True)]}
        except psutil.NoSuchProcess:
            return set()

    def stop(self, timeout: float = 90) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def all_descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def processes_using(data_dir: Path) -> list[psutil.Process]:
    """Live processes whose command line, working directory or home is in data_dir (servers, proxy)."""
    found = []
    for p in psutil.process_iter(["cmdline", "cwd", "environ", "status"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue  # exited; waits for a parent (PID 1 here may not reap orphans)
            text = " ".join(p.info["cmdline"] or []) + " " + (p.info["cwd"] or "")
            env = p.info.get("environ") or {}
            if str(data_dir) in text or str(data_dir) in env.get("STEMLAB_RUNTIME", "") or str(data_dir) in env.get(
                "HOME", ""
            ):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return [p for p in found if p.pid != os.getpid()]


def describe(processes: list[psutil.Process]) -> list[str]:
    out = []
    for p in processes:
        try:
            out.append(f"{p.pid} {' '.join(p.cmdline())}")
        except psutil.Error:
            continue
    return out


def leftovers_after_stop(data_dir: Path, grace: float = 15) -> list[str]:
    """Processes of this hub still alive after a grace period (kernels exit just after servers)."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        alive = describe(processes_using(data_dir))
        if not alive:
            return []
        time.sleep(0.3)
    return alive


def import_roster(data_dir: Path, roster: Path, *options: str) -> None:
    result = subprocess.run([STEMLAB, "accounts", "import", str(roster), "--data", str(data_dir), *options],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr


def open_for_servers(data_dir: Path) -> None:
    """Let other accounts traverse to data_dir, as `stemlab up` run by root requires: its servers run
    unprivileged and reach their homes and the exchange in it. pytest's temporary root is 0700."""
    for folder in [data_dir, *data_dir.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


def launch(data_dir: Path, port: int | None = None, extra_args: tuple[str, ...] = (), env: dict | None = None,
           wait: bool = True, roster: Path | None = None) -> RunningHub:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        open_for_servers(data_dir)
    if roster is not None:
        import_roster(data_dir, roster)
    output_path = data_dir.parent / f"stemlab-up-{port}.log"
    out = output_path.open("wb")
    proc = subprocess.Popen(
        [STEMLAB, "up", "--data", str(data_dir), "--port", str(port), *extra_args],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=data_dir.parent,
    )
    hub = RunningHub(f"http://127.0.0.1:{port}", port, data_dir, proc, output_path)
    if wait:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"stemlab up exited with {proc.returncode}:\n{hub.output}")
            if "Ctrl-C" in hub.output:
                break
            time.sleep(0.2)
        else:
            hub.stop()
            raise AssertionError(f"stemlab up did not come up:\n{hub.output}")
    return hub


def launch_school(data_dir: Path) -> RunningHub:
    """A demo-mode hub with classes 10A1 and 10A2 (tests/files/two_classes.csv: a teacher for each,
    a technician) and an admin (tests/files/one_admin.csv): every role of the staff pages."""
    data_dir.mkdir(parents=True, exist_ok=True)
    import_roster(data_dir, FILES / "one_admin.csv")
    return launch(data_dir, roster=FILES / "two_classes.csv")


@pytest.fixture
def start_hub(tmp_path: Path) -> Iterator:
    started: list[RunningHub] = []

    def _start(data_dir: Path | None = None, **kwargs) -> RunningHub:
        hub = launch(data_dir or tmp_path / "var", **kwargs)
        started.append(hub)
        return hub

    yield _start
    for hub in started:
        hub.stop()
    for data_dir in {hub.data_dir for hub in started}:
        leftovers = leftovers_after_stop(data_dir)
        for p in processes_using(data_dir):
            p.kill()
        assert not leftovers, f"processes left behind: {leftovers}"


def module_hub(data_dir: Path, **launch_args) -> Iterator[RunningHub]:
    """A hub for a module's fixture: launched, yielded, stopped, and anything left of it killed."""
    hub = launch(data_dir, **launch_args)
    yield hub
    hub.stop()
    for p in processes_using(hub.data_dir):
        p.kill()


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    yield from module_hub(tmp_path_factory.mktemp("demo") / "var")


@pytest.fixture(scope="module")
def two_class_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """A demo-mode hub with classes 10A1 and 10A2, a teacher for each and a technician."""
    yield from module_hub(tmp_path_factory.mktemp("two") / "var", roster=FILES / "two_classes.csv")


def production_hub(extra_settings: str = "") -> Iterator[RunningHub]:
    """Production mode as root: classes 10A1 and 10A2 as real Linux accounts; removed after."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root; production-mode tests must run there")
        pytest.skip("production mode needs root")
    # pytest's own temporary root is 0700: students could not reach their homes or the course
    # exchange under it, and production mode refuses to start then.
    base = Path(tempfile.mkdtemp(prefix="stemlab-prod-", dir="/tmp"))
    base.chmod(0o755)
    home_root = base / "home"
    config = base / "stemlab.toml"
    config.write_text(
        "[mode]\nproduction = true\n"
        f'home_root = "{home_root}"\n'
        '[limits]\nmem_limit = "400M"\ncpu_limit = 0.5\n'
        '[school]\nname = "THPT Chuyên Lê Quý Đôn"\n' + extra_settings,
        encoding="utf-8",
    )
    hub = launch(base / "var", roster=FILES / "two_classes.csv", extra_args=("--config", str(config)))
    hub.home_root = home_root
    hub.config = config
    yield hub
    hub.stop()
    leftovers_after_stop(hub.data_dir)
    for p in processes_using(hub.data_dir):
        p.kill()
    from hub_config.people.accounts import list_accounts
    from hub_config.teaching.offerings import list_offerings
    from hub_config.site.paths import DataDir
    from hub_config.system.linux_accounts import remove_grader_account, remove_linux_account

    people = [a.login for a in list_accounts(f"sqlite:///{hub.data_dir / 'jupyterhub.sqlite'}")]
    graders = [o.grader for o in list_offerings(DataDir(hub.data_dir)) if o.grader]
    for p in psutil.process_iter(["username"]):
        if p.info["username"] in people + graders:
            p.kill()
    for login in people:
        remove_linux_account(login)
    for login in graders:
        remove_grader_account(login)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def prod_hub() -> Iterator[RunningHub]:
    """Production mode as root (module scope): classes 10A1 and 10A2 as real Linux accounts."""
    yield from production_hub()


@pytest.fixture
def write_roster(tmp_path: Path):
    def _write(name: str, rows: list[list[str]], fmt: str = "csv", bom: bool = True,
               header: tuple[str, ...] = ("Mã học sinh", "Họ và tên", "Lớp", "Vai trò"), delimiter: str = ",") -> Path:
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "xlsx":
            import openpyxl

            wb = openpyxl.Workbook()
            ws = wb.active
            ws.append(list(header))
            for row in rows:
                ws.append(row)
            wb.save(path)
        else:
            with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
                writer = csv.writer(f, delimiter=delimiter)
                writer.writerow(header)
                writer.writerows(rows)
        return path

    return _write


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A private PostgreSQL cluster (Debian's server binaries) on a free loopback port."""
    import shutil
    import tempfile

    initdbs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdbs:
        if os.environ.get("CI"):
            pytest.fail("Debian's postgresql is not installed: .ci/install-system-deps should have installed it")
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    bindir = initdbs[-1].parent
    base = Path(tempfile.mkdtemp(prefix="stemlab-pg-", dir="/tmp"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(base, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = lambda *cmd: subprocess.run([*as_owner, *cmd], check=True, capture_output=True, text=True)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(base / "data"), "--auth=trust", "-U", "stemlab", "--encoding=UTF8")
    run(str(bindir / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "server.log"), "-w", "-o",
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start")
    run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "stemlab", "stemlab")
    try:
        yield f"postgresql://stemlab@127.0.0.1:{port}/stemlab"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "stop")
        shutil.rmtree(base, ignore_errors=True)
