"""A sandbox per submission: student code runs as an unprivileged account of its own, in a private
folder, with no network and with limits, and everything it started is gone when its grading ends.

Enforced as root (the grading runner is started by `stemlab grade`, or by the formgrader's
autograde through nbgrader):
- account: one of `stemlab-sbx-0..N-1`, one per worker, in no group of ours: it reaches no course
  folder, gradebook, home or other submission (they are all closed to others);
- folder: a private 0700 copy of what this one submission needs;
- network: a network namespace of its own with no interface up (not even loopback);
- memory and CPU: a cgroup (hub_config.limits); processes (a fork bomb) and file size: rlimits;
- time: a wall-clock limit for the whole run; output: capped in bytes, not lines;
- afterwards: every process of the account is killed (detached ones too) and the folder removed.

Without root (a teacher's laptop, a demo) none of that can be enforced; the pool says which
limits are missing, once, and runs the code as the current user.
"""

from __future__ import annotations

import os
import pwd
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue

import psutil

from hub_config.limits import CgroupLimiter, LimitsUnavailable, ServerCgroup

ACCOUNT_PREFIX = "stemlab-sbx-"


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 300.0
    memory_bytes: int = 768 * 1024**2
    cpu_cores: float = 1.0
    max_processes: int = 64
    max_file_bytes: int = 32 * 1024**2
    max_output_bytes: int = 4 * 1024**2


@dataclass
class RunResult:
    returncode: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    killed: str | None = None          # why the sandbox stopped it: "time", or None
    output_truncated: bool = False
    leftover_processes: int = 0        # processes it left behind, all killed
    notes: list[str] = field(default_factory=list)


def _ensure_account(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        program = shutil.which("useradd", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
        subprocess.run([program or "useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--comment", "STEM-Lab Hub grading sandbox", name],
                       check=True, capture_output=True)
        return pwd.getpwnam(name)


def _account_processes(uid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["uids", "status"]):
        try:
            if p.info["uids"] and p.info["uids"].real == uid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            continue
    return out


def kill_account_processes(uid: int, timeout: float = 5.0) -> int:
    """Kill every process of the sandbox account; return how many there were."""
    victims = _account_processes(uid)
    count = len(victims)
    deadline = time.monotonic() + timeout
    while victims and time.monotonic() < deadline:
        for p in victims:
            try:
                p.kill()
            except psutil.Error:
                pass
        time.sleep(0.05)
        victims = _account_processes(uid)
    return count


class Sandbox:
    def __init__(self, pool: "SandboxPool", index: int):
        self.pool = pool
        self.index = index
        self.account = _ensure_account(f"{ACCOUNT_PREFIX}{index}") if pool.as_root else None
        self.cgroup: ServerCgroup | None = None
        if pool.limiter:
            self.cgroup = pool.limiter.create(f"grading-{index}", pool.limits.memory_bytes, pool.limits.cpu_cores)
        self.workdir = pool.base / f"sbx-{index}"

    # ---- the private folder
    def fresh_workdir(self) -> Path:
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(mode=0o700)
        if self.account:
            os.chown(self.workdir, self.account.pw_uid, self.account.pw_gid)
        return self.workdir

    def give(self, path: Path) -> None:
        """Hand a file or folder inside the workdir to the sandbox account."""
        if not self.account:
            return
        for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
            os.lchown(p, self.account.pw_uid, self.account.pw_gid)

    # ---- running
    def _preexec(self) -> None:
        os.setsid()
        limits = self.pool.limits
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_bytes, limits.max_file_bytes))
        if self.account:
            # counted per account: the dedicated account makes this a per-submission fork limit
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        if self.cgroup:
            self.cgroup.attach(os.getpid())

    def run(self, argv: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> RunResult:
        limits = self.pool.limits
        command = list(argv)
        if self.account:
            command = ["setpriv", f"--reuid={self.account.pw_uid}", f"--regid={self.account.pw_gid}", "--clear-groups",
                       "--no-new-privs", "--", *command]
            command = ["unshare", "--net", "--", *command]
        environment = {"PATH": "/usr/bin:/bin", "HOME": str(self.workdir), "LANG": "C.UTF-8",
                       "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(self.workdir), **(env or {})}
        start = time.monotonic()
        proc = subprocess.Popen(command, cwd=self.workdir, env=environment, preexec_fn=self._preexec,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = bytearray(), bytearray()
        truncated = [False]

        def drain(stream, sink: bytearray, cap: int) -> None:  # type: ignore[no-untyped-def]
            while chunk := stream.read1(65536):
                room = cap - len(sink)
                if room > 0:
                    sink += chunk[:room]
                if len(chunk) > max(room, 0):
                    truncated[0] = True  # keep reading, so the program never blocks on a full pipe

        readers = [threading.Thread(target=drain, args=(proc.stdout, out, limits.max_output_bytes), daemon=True),
                   threading.Thread(target=drain, args=(proc.stderr, err, 64 * 1024), daemon=True)]
        for r in readers:
            r.start()
        if stdin is not None and proc.stdin:
            try:
                proc.stdin.write(stdin)
            except BrokenPipeError:
                pass
        if proc.stdin:
            proc.stdin.close()
        killed = None
        try:
            proc.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            killed = "time"
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        leftovers = self.clean_up()
        for r in readers:
            r.join(timeout=5)
        return RunResult(proc.returncode, bytes(out), bytes(err), time.monotonic() - start, killed, truncated[0],
                         leftovers)

    def clean_up(self) -> int:
        """Everything the run started is gone: by account (detached processes too), by cgroup."""
        count = 0
        if self.account:
            count = kill_account_processes(self.account.pw_uid)
        if self.cgroup:
            self.cgroup.kill_all()
        return count


class SandboxPool:
    """One sandbox per worker; `missing` says what cannot be enforced here (said once)."""

    def __init__(self, size: int, limits: Limits | None = None, base: Path | None = None):
        self.limits = limits or Limits()
        self.as_root = os.geteuid() == 0
        self.missing: list[str] = []
        self.limiter: CgroupLimiter | None = None
        if not self.as_root:
            self.missing += ["a separate account per submission (needs root): the code runs as you",
                             "no network (needs root)", "process limit per submission (needs root)"]
        try:
            self.limiter = CgroupLimiter()
        except LimitsUnavailable as err:
            self.missing.append(f"memory and CPU limits ({err})")
        if self.as_root and not (shutil.which("unshare") and shutil.which("setpriv")):
            raise RuntimeError("the grading sandbox needs `unshare` and `setpriv` (Debian's util-linux)")
        self._tmp = tempfile.TemporaryDirectory(prefix="stemlab-grading-")
        self.base = Path(base or self._tmp.name)
        self.base.chmod(0o711)
        self.sandboxes = [Sandbox(self, i) for i in range(size)]
        self._free: Queue[Sandbox] = Queue()
        for s in self.sandboxes:
            self._free.put(s)

    def acquire(self) -> Sandbox:
        return self._free.get()

    def release(self, sandbox: Sandbox) -> None:
        sandbox.clean_up()
        shutil.rmtree(sandbox.workdir, ignore_errors=True)
        self._free.put(sandbox)

    def close(self) -> None:
        for s in self.sandboxes:
            s.clean_up()
            if s.cgroup:
                s.cgroup.remove()
        self._tmp.cleanup()
