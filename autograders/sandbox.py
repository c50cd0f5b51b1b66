"""A sandbox per submission: student code runs as an unprivileged account of its own, in a private
folder, with no network and with limits, and everything it started is gone when its grading ends.

Enforced as root (the grading runner is started by `stemlab grade`, or by the formgrader's
autograde through nbgrader), by `Confinement`, which a process applies to itself before it runs
any student code (a grading kernel forked by the zygote, or a command run with `Sandbox.run`):
- account: one of `stemlab-sbx-0..N-1`, one per worker, in no group of ours: it reaches no course
  folder, gradebook, home or other submission (they are all closed to others);
- folder: a private 0700 copy of what this one submission needs, on a file system of its own
  (a tmpfs of `Limits.max_disk_bytes`): all its files together, not each one, are bounded;
- network: a network namespace of its own with no interface up (not even loopback);
- memory and CPU: a cgroup, from the limiter the caller hands the pool (the platform's,
  hub_config/system/limits.py: this package does not import it); processes (a fork bomb) and file
  size: rlimits;
- time: a wall-clock limit for the whole run; output: capped in bytes, not lines;
- afterwards: every process of the account is killed (detached ones too) and the folder removed.

Without root (a teacher's laptop, a demo) none of that can be enforced; the pool says which
limits are missing, once, and runs the code as the current user.
"""

from __future__ import annotations

import io
import fcntl
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Queue
from typing import TYPE_CHECKING

import psutil

from lab_hardware import GRADING_ENV

from .confinement import (GRADING_ROOT, MNT_DETACH, MS_NODEV, MS_NOSUID, MS_REMOUNT, Confinement, _account_processes,
                          _ensure_account, _libc, _mount, kill_account_processes, private_temp_folders)
from .limits import Cgroup, Limiter, LimiterFactory, Limits
from .zygote import Zygote

if TYPE_CHECKING:
    from .judge import Judge

ACCOUNT_PREFIX = "stemlab-sbx-"
JUDGE_ACCOUNT_PREFIX = "stemlab-jdg-"  # the judges' accounts, one per slot: never a sandbox's


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


class Sandbox:
    def __init__(self, pool: "SandboxPool", index: int):
        self.pool = pool
        self.index = index
        self.account = _ensure_account(f"{ACCOUNT_PREFIX}{index}") if pool.as_root else None
        self.cgroup: Cgroup | None = None
        if pool.limiter:
            self.cgroup = pool.limiter.create(f"grading-{index}", pool.limits.memory_bytes, pool.limits.cpu_cores)
        # as root, a small file system of its own (a tmpfs at a fixed place per slot, so a batch that
        # died leaves no more mounts behind than there are slots): its size is the disk quota
        self.workdir = GRADING_ROOT / f"slot-{index}" if pool.as_root else pool.base / f"sbx-{index}"
        if pool.as_root:
            self._mount_workdir()
        self._judge: "Judge | None" = None

    def _mount_workdir(self) -> None:
        self.workdir.mkdir(mode=0o700, exist_ok=True)
        options = f"size={self.pool.limits.max_disk_bytes},nr_inodes=16384,mode=0700".encode()
        if os.path.ismount(self.workdir):  # left by an earlier batch of this slot: its size may differ
            _mount(None, str(self.workdir), None, MS_REMOUNT | MS_NOSUID | MS_NODEV, options)
        else:
            _mount(b"tmpfs", str(self.workdir), b"tmpfs", MS_NOSUID | MS_NODEV, options)
        self._empty_workdir()

    def _empty_workdir(self) -> None:
        for item in self.workdir.iterdir():
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)

    def unmount(self) -> None:
        if self.pool.as_root and os.path.ismount(self.workdir):
            _libc.umount2(str(self.workdir).encode(), MNT_DETACH)

    @property
    def judge(self) -> "Judge":
        """This slot's judge (autograders/judge.py): started with the first notebook, kept for the batch."""
        if self._judge is None:
            from .judge import Judge

            self._judge = Judge(self)
        return self._judge

    def judge_confinement(self, account: pwd.struct_passwd | None) -> Confinement:
        """The judge's: an account of its own, no network, private scratch folders, the same
        rlimits; not the sandbox's cgroup (its clean-up between cells would end the judge)."""
        limits = self.pool.limits
        return Confinement(uid=account.pw_uid if account else None, gid=account.pw_gid if account else None,
                           max_file_bytes=limits.max_file_bytes, max_processes=limits.max_processes,
                           isolate_network=account is not None, private_temp=account is not None,
                           private_folders=self.pool.private_folders)

    # ---- the private folder
    def fresh_workdir(self) -> Path:
        if self.pool.as_root:
            self._empty_workdir()
            self.workdir.chmod(0o700)
        else:
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

    @property
    def confinement(self) -> Confinement:
        limits = self.pool.limits
        return Confinement(uid=self.account.pw_uid if self.account else None,
                           gid=self.account.pw_gid if self.account else None,
                           cgroup_procs=tuple(str(d / "cgroup.procs") for d in self.cgroup.dirs) if self.cgroup else (),
                           max_file_bytes=limits.max_file_bytes, max_processes=limits.max_processes,
                           isolate_network=self.account is not None, private_temp=self.account is not None,
                           private_folders=self.pool.private_folders)

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(self.workdir), "LANG": "C.UTF-8",
                "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(self.workdir), "JUPYTER_RUNTIME_DIR": str(self.workdir),
                "IPYTHONDIR": str(self.workdir / ".ipython"), "MPLCONFIGDIR": str(self.workdir / ".mpl"),
                **(extra or {})}

    # ---- running
    def start_kernel(self, connection_file: str) -> int:
        """A grading kernel in this sandbox, forked by the pool's zygote; returns its pid."""
        path = Path(connection_file)
        if self.account:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)
        return self.pool.zygote.spawn_kernel(str(path), str(self.workdir), self.environment({GRADING_ENV: "1"}),
                                             asdict(self.confinement))

    def _preexec(self) -> None:
        os.setsid()
        self.confinement.apply()

    def run(self, argv: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> RunResult:
        limits = self.pool.limits
        start = time.monotonic()
        proc = subprocess.Popen(argv, cwd=self.workdir, env=self.environment(env), preexec_fn=self._preexec,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = bytearray(), bytearray()
        truncated = [False]

        def drain(stream: io.BufferedReader, sink: bytearray, cap: int) -> None:
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

    def kill_strays(self, keep: set[int | None]) -> None:
        """Processes a cell left behind (a fork bomb's children, a detached job): ended before the
        next cell, so they cannot slow it or talk on the kernel's sockets."""
        if self.cgroup:  # no process can leave its cgroup (the cgroup files are root's)
            victims = [psutil.Process(pid) for pid in self.cgroup.pids() - keep if psutil.pid_exists(pid)]
        elif self.account:
            victims = [p for p in _account_processes(self.account.pw_uid) if p.pid not in keep]
        else:  # no account of its own: only what the kernel itself started can be told apart
            victims = [c for pid in keep if pid and psutil.pid_exists(pid) for c in psutil.Process(pid).children(True)]
        for process in victims:
            try:
                process.kill()
            except psutil.Error:
                continue

    def clean_up(self) -> int:
        """Everything the run started is gone: by account (detached processes too), by cgroup."""
        count = 0
        if self.account:
            count = kill_account_processes(self.account.pw_uid)
        if self.cgroup:
            self.cgroup.kill_all()
        return count


def _claim_slots(size: int) -> dict[int, int]:
    """Sandbox numbers no other grading batch on this machine is using (two teachers may grade at
    once): each slot's account and cgroup belong to one batch, held by an exclusive file lock that
    the system releases if the batch dies."""
    folder = Path("/run/lock") if os.access("/run/lock", os.W_OK) else Path(tempfile.gettempdir())
    claimed: dict[int, int] = {}
    index = 0
    while len(claimed) < size:
        fd = os.open(folder / f"stemlab-sandbox-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            claimed[index] = fd
        except BlockingIOError:
            os.close(fd)
        index += 1
    return claimed


class SandboxPool:
    """One sandbox per worker; `missing` says what cannot be enforced here (said once)."""

    def __init__(self, size: int, limits: Limits | None = None, base: Path | None = None,
                 limiter: LimiterFactory | None = None):
        self.limits = limits or Limits()
        self.as_root = os.geteuid() == 0
        self.missing: list[str] = []
        self.limiter: Limiter | None = None
        if not self.as_root:
            self.missing += ["a separate account per submission (needs root): the code runs as you",
                             "a judge apart from the student's code (needs root): the tests' verdicts are made "
                             "in a kernel of yours, which the student's code could reach",
                             "no network (needs root)", "process limit per submission (needs root)"]
        if limiter is None:
            self.missing.append("memory and CPU limits (the grading sandbox was given no cgroup limiter)")
        else:
            try:
                self.limiter = limiter()
            except RuntimeError as err:
                self.missing.append(f"memory and CPU limits ({err})")
        self.private_folders, shared = private_temp_folders() if self.as_root else ((), [])
        self.missing += shared
        self.zygote = Zygote()
        if self.as_root:  # outside /tmp, which each sandbox replaces with its own
            GRADING_ROOT.mkdir(mode=0o711, parents=True, exist_ok=True)
            # whatever umask the process that made it had (a hub's is 077): sandbox accounts pass
            GRADING_ROOT.chmod(0o711)
        self._tmp = tempfile.TemporaryDirectory(prefix="stemlab-grading-", dir=GRADING_ROOT if self.as_root else None)
        self.base = Path(base or self._tmp.name)
        self.base.chmod(0o711)
        # only root's sandboxes share something machine-wide (accounts, cgroups): they claim numbers
        self._slot_locks = _claim_slots(size) if self.as_root else {}
        self.sandboxes = [Sandbox(self, i) for i in (sorted(self._slot_locks) if self.as_root else range(size))]
        self._free: Queue[Sandbox] = Queue()
        for s in self.sandboxes:
            self._free.put(s)

    def acquire(self) -> Sandbox:
        return self._free.get()

    def release(self, sandbox: Sandbox) -> None:
        sandbox.clean_up()
        if self.as_root:
            sandbox._empty_workdir()
        else:
            shutil.rmtree(sandbox.workdir, ignore_errors=True)
        self._free.put(sandbox)

    def judge_account(self, index: int) -> pwd.struct_passwd | None:
        return _ensure_account(f"{JUDGE_ACCOUNT_PREFIX}{index}") if self.as_root else None

    def close(self) -> None:
        for s in self.sandboxes:
            if s._judge is not None:
                s._judge.close()
            s.clean_up()
            s.unmount()
            if s.cgroup:
                s.cgroup.remove()
        self.zygote.close()
        self._tmp.cleanup()
        for lock in self._slot_locks.values():
            os.close(lock)  # the slots are free for the next batch
