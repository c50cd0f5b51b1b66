"""The Linux parts of a grading sandbox, applied by a process to itself or to the machine as
root: a mount namespace with private temporary folders, no network, rlimits, the sandbox's own
account, and ending every process of that account (autograders/sandbox.py puts them together)."""

from __future__ import annotations

import ctypes
import grp
import os
import pwd
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from .errors import GradingError
from .processes import end_processes

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x20, 0x4000, 0x40000
MNT_DETACH = 0x2
PR_SET_NO_NEW_PRIVS = 38
# The machine's shared scratch places, each a small fresh tmpfs in a sandbox: what one
# submission leaves there no other sees, and none can fill the machine's disk through them.
SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm")
PRIVATE_TEMP_OPTIONS = b"size=64m,nr_inodes=4096,mode=1777"
# The sandboxes' own folders live where no sandbox mounts its private /tmp over them.
GRADING_ROOT = Path("/var/lib/stemlab-grading")

def _mount(source: bytes | None, target: str, kind: bytes | None, flags: int, options: bytes | None = None) -> None:
    if _libc.mount(source, target.encode(), kind, flags, options) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"cannot mount {target} in the sandbox: {os.strerror(err)}")


def _private_temp(folders: tuple[str, ...]) -> None:
    """In a mount namespace of its own (nothing propagates back to the machine), a fresh tmpfs
    on each of `folders`."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"cannot have private temporary folders: {os.strerror(err)}")
    _mount(b"none", "/", None, MS_REC | MS_PRIVATE)
    for folder in folders:
        _mount(b"tmpfs", folder, b"tmpfs", MS_NOSUID | MS_NODEV, PRIVATE_TEMP_OPTIONS)


def private_temp_folders() -> tuple[tuple[str, ...], list[str]]:
    """The shared scratch folders a sandbox can have its own of, and why any other cannot: one
    that holds the Python installation or this project (a checkout in /tmp, say) stays shared."""
    needed = needed_paths()
    usable, kept = [], []
    for folder in SHARED_TEMP:
        if not os.path.isdir(folder):
            continue
        holding = [p for p in needed if p == folder or p.startswith(folder + "/")]
        if holding:
            kept.append(f"a private {folder} per submission ({holding[0]} is in it: install elsewhere, e.g. /opt)")
        else:
            usable.append(folder)
    return tuple(usable), kept


def needed_paths() -> tuple[str, ...]:
    """What a sandboxed Python must still reach: its installation and this project's code."""
    project = Path(__file__).resolve().parents[1]
    found = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, os.path.dirname(sys.executable), project)}
    return tuple(sorted(found))


@dataclass(frozen=True)
class Confinement:
    """What a sandboxed process does to itself, as root, before it runs anything of the student's:
    join the sandbox's cgroup, leave the network, take the rlimits, become the sandbox account."""

    uid: int | None = None
    gid: int | None = None
    cgroup_procs: tuple[str, ...] = ()
    max_file_bytes: int | None = None
    max_processes: int | None = None
    isolate_network: bool = False
    private_temp: bool = False
    private_folders: tuple[str, ...] = ()  # each given a fresh tmpfs (with private_temp)

    def apply(self) -> None:
        for procs in self.cgroup_procs:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        if self.isolate_network and _libc.unshare(CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"cannot leave the network: {os.strerror(err)}")
        if self.private_temp:
            _private_temp(tuple(self.private_folders))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.max_file_bytes:
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.max_file_bytes, self.max_file_bytes))
        if self.uid is not None and self.gid is not None:
            if self.max_processes:
                # counted per account: the dedicated account makes this a per-submission fork limit
                resource.setrlimit(resource.RLIMIT_NPROC, (self.max_processes, self.max_processes))
            os.setgroups([])
            os.setresgid(self.gid, self.gid, self.gid)
            os.setresuid(self.uid, self.uid, self.uid)
            if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "cannot forbid new privileges")


OUR_ACCOUNTS = "STEM-Lab Hub"  # how every account of ours begins its comment (GECOS)


class ForeignAccount(GradingError):
    def __init__(self, name: str):
        super().__init__(f"Đã có tài khoản Linux tên {name} không phải của STEM-Lab Hub; đổi tên hoặc xóa nó rồi thử lại.",
                         f"A Linux account named {name} already exists and is not a STEM-Lab Hub account; rename or "
                         "remove it, then try again.")
        self.name = name


def ensure_system_account(name: str, comment: str, groups: tuple[str, ...] = ()) -> pwd.struct_passwd:
    """An unprivileged system account of ours (no home, no login shell), created if missing. An
    existing account of that name is used only if we made it (its comment says so): a site's own
    account is never taken over, and never has its processes ended as a sandbox's."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        present = []
        for group in groups:
            try:
                grp.getgrnam(group)
                present.append(group)
            except KeyError:
                continue
        program = shutil.which("useradd", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
        subprocess.run([program or "useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--comment", comment,
                        *(["--groups", ",".join(present)] if present else []), name],
                       check=True, capture_output=True)
        return pwd.getpwnam(name)
    if not entry.pw_gecos.startswith(OUR_ACCOUNTS):
        raise ForeignAccount(name)
    return entry


def _ensure_account(name: str) -> pwd.struct_passwd:
    return ensure_system_account(name, f"{OUR_ACCOUNTS} grading sandbox")


def _account_processes(uid: int, zombies: bool = False) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["uids", "status"]):
        try:
            if p.info["uids"] and p.info["uids"].real == uid and (zombies or p.info["status"] != psutil.STATUS_ZOMBIE):
                out.append(p)
        except psutil.Error:
            continue
    return out


def kill_account_processes(uid: int, timeout: float = 5.0) -> int:
    """Kill every process of the sandbox account; return how many there were. Then wait (a
    little) for their zombies to be reaped: they still count against the account's process limit,
    so the next submission in this sandbox could not start one (a fork bomb leaves hundreds)."""
    deadline = time.monotonic() + timeout
    count = end_processes(lambda: _account_processes(uid), grace=timeout, gentle=False)
    while time.monotonic() < deadline and _account_processes(uid, zombies=True):
        time.sleep(0.05)
    return count


