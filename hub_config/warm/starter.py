"""The hub's side of warm starts: its warm process, kept running, and a server asked of it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from autograders.zygote import ForkedProcess
from hub_config.server_identity import ServerIdentity
from hub_config.warm.forkserver import REQUEST_TIMEOUT, Channel, WarmStartFailed
from hub_config.warm.server_child import server_request


class WarmServers:
    """One warm process per hub, started at once (so the first class finds it warm) and started
    again if it ended; every failure is a WarmStartFailed naming why, and the caller starts plainly."""

    def __init__(self, folder: Path):
        self.folder = folder  # readable by every server: matplotlib's font cache, built once
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: Channel | None = None

    def ensure_running(self) -> None:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()

    def _start(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.folder.chmod(0o755)
        except OSError as err:
            raise WarmStartFailed(f"the warm process's folder {self.folder} is not usable ({err.strerror or err})") from err
        ours, theirs = Channel.pair()
        # Python's needs only: its environment block would be readable in every process it forks.
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8",
               "HOME": "/nonexistent", "MPLCONFIGDIR": str(self.folder), "PYDEVD_DISABLE_FILE_VALIDATION": "1",
               # Numerical libraries start a thread pool per core as they load: none in a process
               # that forks (only the forking thread survives a fork), and on a lab server shared
               # by a class, one core per student's computation is the fair share anyway.
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "hub_config.warm.image", str(theirs.fileno())], env=env, cwd="/",
                stdin=subprocess.DEVNULL, pass_fds=[theirs.fileno()], start_new_session=True)
        except OSError as err:
            raise WarmStartFailed(f"the warm process could not start ({err})") from err
        finally:
            theirs.close()
        self._channel = ours

    def start_server(self, identity: ServerIdentity, cmd: list[str], env: dict[str, str],
                     timeout: float = REQUEST_TIMEOUT) -> ForkedProcess:
        """Thread-safe; blocks until the child has become the student (or failed, or `timeout`)."""
        request = server_request(identity, cmd, env)
        for attempt in (1, 2):  # a warm process that ended is started again, once
            self.ensure_running()
            channel = self._channel
            assert channel is not None
            try:
                return channel.ask(request, timeout=timeout).process
            except WarmStartFailed:
                if attempt == 2 or (self._process is not None and self._process.poll() is None):
                    raise
        raise AssertionError("unreachable")
