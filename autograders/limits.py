"""What one submission may use while it is graded: the sandbox enforces these, the platform's
settings set them ([grading] in stemlab.toml), one record for every way of grading."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 300.0   # the whole notebook
    cell_seconds: float = 30.0    # one cell, before it is interrupted
    memory_bytes: int = 768 * 1024**2
    cpu_cores: float = 1.0
    max_processes: int = 64
    max_file_bytes: int = 32 * 1024**2
    max_output_bytes: int = 4 * 1024**2
    max_disk_bytes: int = 256 * 1024**2  # all of a submission's files together (its folder)


class Cgroup(Protocol):
    """A control group the sandbox's processes join (memory and CPU limits)."""

    @property
    def dirs(self) -> tuple[Path, ...]: ...

    def pids(self) -> set[int]: ...
    def kill_all(self, timeout: float = 5) -> None: ...
    def remove(self) -> None: ...


class Limiter(Protocol):
    def create(self, name: str, mem_bytes: int | None, cpu_cores: float | None) -> Cgroup: ...


# Makes the machine's limiter, or raises RuntimeError saying why it cannot (not root, no cgroups).
LimiterFactory = Callable[[], Limiter]
