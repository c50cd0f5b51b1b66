"""Memory and CPU limits per student server, enforced by Linux control groups.

A server's cgroup is created before it starts; the server's process puts itself into it
(between fork and exec), so every kernel and subprocess it starts is inside too. Works on the
unified hierarchy (cgroup v2) and on v1's separate memory and cpu controllers.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from autograders.processes import end_processes, processes_of_pids

CGROUP_ROOT = Path("/sys/fs/cgroup")
CFS_PERIOD_US = 100_000


class LimitsUnavailable(RuntimeError):
    """This machine cannot enforce limits (not root, no writable cgroup controllers)."""


def _own_cgroup(controller: str | None) -> str:
    """The hub's own cgroup path for a controller (v1) or the unified one (controller None)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller is None and controllers == "":
            return path
        if controller is not None and controller in controllers.split(","):
            return path
    return "/"


@dataclass(frozen=True)
class ServerCgroup:
    """The cgroup directories of one server: one on v2, one per controller on v1."""

    dirs: tuple[Path, ...]
    version: int

    def attach(self, pid: int) -> None:
        for d in self.dirs:
            (d / "cgroup.procs").write_text(str(pid))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except FileNotFoundError:
                continue
        return found

    def memory_limit(self) -> int:
        d = self.dirs[0]
        raw = (d / ("memory.max" if self.version == 2 else "memory.limit_in_bytes")).read_text().strip()
        return int(raw)

    def kill_all(self, timeout: float = 5) -> None:
        """Stop every process left in the group (a kernel or a detached job the server left)."""
        end_processes(lambda: processes_of_pids(self.pids()), grace=timeout)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(20):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)  # the last process is still being reaped


class CgroupLimiter:
    """Creates per-server cgroups under the hub's own cgroup (``<hub cgroup>/stemlab/<name>``)."""

    def __init__(self, root: Path = CGROUP_ROOT):
        self.root = root
        if os.geteuid() != 0:
            raise LimitsUnavailable("memory and CPU limits need root")
        if (root / "cgroup.controllers").exists():
            controllers = (root / "cgroup.controllers").read_text().split()
            missing = {"memory", "cpu"} - set(controllers)
            if missing:
                raise LimitsUnavailable(f"cgroup v2 lacks the {', '.join(sorted(missing))} controller(s)")
            self.version = 2
            self.bases: tuple[Path, ...] = (root / _own_cgroup(None).lstrip("/") / "stemlab",)
        elif (root / "memory").is_dir() and (root / "cpu").is_dir():
            self.version = 1
            self.bases = (
                root / "memory" / _own_cgroup("memory").lstrip("/") / "stemlab",
                root / "cpu" / _own_cgroup("cpu").lstrip("/") / "stemlab",
            )
        else:
            raise LimitsUnavailable(f"no memory and cpu cgroup controllers under {root}")
        for base in self.bases:
            try:
                base.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise LimitsUnavailable(f"cannot create {base}: {err.strerror}") from err
        if self.version == 2:
            # Controllers must be delegated to children before a child can use them.
            self._enable_v2_controllers(self.bases[0])

    def _enable_v2_controllers(self, base: Path) -> None:
        control = base / "cgroup.subtree_control"
        try:
            control.write_text("+memory +cpu")
        except OSError as err:
            raise LimitsUnavailable(f"cannot delegate memory and cpu to {base}: {err.strerror}") from err

    def create(self, name: str, mem_bytes: int | None, cpu_cores: float | None) -> ServerCgroup:
        dirs = tuple(base / name for base in self.bases)
        for d in dirs:
            d.mkdir(exist_ok=True)
        group = ServerCgroup(dirs, self.version)
        if self.version == 2:
            d = dirs[0]
            (d / "memory.max").write_text(str(mem_bytes) if mem_bytes else "max")
            if (d / "memory.swap.max").exists():
                (d / "memory.swap.max").write_text("0")
            quota = f"{int(cpu_cores * CFS_PERIOD_US)} {CFS_PERIOD_US}" if cpu_cores else f"max {CFS_PERIOD_US}"
            (d / "cpu.max").write_text(quota)
        else:
            mem_dir, cpu_dir = dirs
            (mem_dir / "memory.limit_in_bytes").write_text(str(mem_bytes) if mem_bytes else "-1")
            (cpu_dir / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
            (cpu_dir / "cpu.cfs_quota_us").write_text(str(int(cpu_cores * CFS_PERIOD_US)) if cpu_cores else "-1")
        return group

    def existing(self, name: str) -> ServerCgroup:
        return ServerCgroup(tuple(base / name for base in self.bases), self.version)
