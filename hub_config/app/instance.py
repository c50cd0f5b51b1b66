"""One platform per data directory.

Two `stemlab up` on one data directory would share the hub database, the homes and the runtime
files; the second one's Ctrl-C would stop the first one's student servers. The first to start
holds an exclusive lock on a file in the data directory for as long as it runs; the kernel drops
the lock when the process ends, however it ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from hub_config.site.errors import LaunchError
from hub_config.site.paths import DataDir


@dataclass(frozen=True)
class Holder:
    """Who holds the data directory: written into the lock file by the holder itself."""

    pid: int
    url: str
    data_dir: str


class PlatformRunning(LaunchError):
    """Another `stemlab up` already runs on this data directory."""

    def __init__(self, holder: Holder | None, data_dir: Path):
        self.holder = holder
        if holder:
            who = f"pid {holder.pid}, {holder.url}"
            stop = f"kill {holder.pid}"
        else:
            who = "a process that is still starting"
            stop = "the other `stemlab up`"
        super().__init__(
            f"STEM-Lab Hub đang chạy trên thư mục dữ liệu {data_dir} ({who}). Dừng nó trước (Ctrl-C trong cửa sổ "
            f"của nó, hoặc {stop}) hoặc chọn thư mục khác với --data. / STEM-Lab Hub is already running on the "
            f"data directory {data_dir} ({who}). Stop it first (Ctrl-C in its terminal, or {stop}), or use another "
            "--data directory."
        )


class PlatformLock:
    def __init__(self, data: DataDir):
        self.data = data
        self.path = data.platform_lock
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, holder: Holder) -> None:
        """Take the data directory, or raise PlatformRunning naming the one that has it."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by the hub or proxy
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PlatformRunning(self.read_holder(), self.data.root) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(asdict(holder)).encode())
        self._fd = fd

    def read_holder(self) -> Holder | None:
        try:
            return Holder(**json.loads(self.path.read_text()))
        except (OSError, ValueError, TypeError):
            return None  # the holder has not written itself yet

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing drops the lock
        self._fd = None
