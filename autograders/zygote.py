"""Grading kernels started by fork from a warmed-up process (a "zygote"), not by a fresh Python.

A fresh kernel costs about a second before the first cell (Python, IPython, ipykernel, then
numpy or scikit-learn when the notebook imports them); that is most of what `nbgrader autograde`
spends per notebook. The zygote imports all of that once. For each notebook it forks a child
that confines itself (the sandbox's account, cgroup, rlimits, network namespace: see
`confinement.Confinement`), then becomes an IPython kernel on the connection file it was given.

The zygote runs as root (the one that started it) and holds nothing but imported modules: a
child shares no secret with it, and a kernel cannot signal or trace it (another account).

Driver side: `Zygote.spawn_kernel` (thread-safe) and `SandboxKernelManager`, a jupyter_client
kernel manager whose provisioner asks the zygote instead of running a command, so nbclient
drives these kernels exactly as it drives any other.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import os
import random
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from .kernel_channels import WakefulKernelClient

if TYPE_CHECKING:
    from ipykernel.kernelapp import IPKernelApp

# What students' notebooks import most; a module that is not installed is skipped.
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
           "IPython.core.interactiveshell", "autograders.kit", "numpy", "sklearn",
           "sklearn.neighbors", "sklearn.tree", "sklearn.model_selection", "sklearn.metrics")


class ZygoteError(RuntimeError):
    """The zygote could not start a kernel (it died, or the child could not confine itself)."""


# ---------------------------------------------------------------- inside the zygote process
def _become_kernel(request: dict[str, Any], status_fd: int) -> None:
    from .confinement import Confinement  # imported by serve(), before any fork

    os.setsid()
    # the zygote ignores SIGCHLD; the kernel must not (its subprocesses' exit statuses are its own).
    # SIGINT and SIGPIPE stay as Python sets them: KeyboardInterrupt, and BrokenPipeError.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    Confinement(**request["confinement"]).apply()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.write(status_fd, b"ok\n")
    os.closerange(3, 65536)  # the zygote's pipes and the status pipe: nothing of theirs stays open
    run_ipykernel(["-f", request["connection_file"]])


def init_ipykernel(arguments: list[str]) -> IPKernelApp:
    """An IPython kernel initialized in this process, forked from a warmed one (the hub's warm
    kernels use this too): its sockets bound, its shell made, not yet serving."""
    # a fork shares its parent's random state: each kernel draws its own, as a fresh one would
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(arguments)
    return app


def run_ipykernel(arguments: list[str]) -> None:
    """Become an IPython kernel in this process and serve until it is shut down."""
    init_ipykernel(arguments).start()


def serve(preload: tuple[str, ...] = PRELOAD) -> None:
    for name in ("autograders.sandbox", *preload):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  (a missing optional library only means a slower first import)
            pass
    # what is imported now is shared with every kernel: keep the collector off it, or its first
    # pass in each kernel would copy every page of it (copy-on-write)
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernels are reaped by the system, never zombies
    commands, replies = sys.stdin.buffer, sys.stdout.buffer
    replies.write(b'{"ready": true}\n')
    replies.flush()
    for line in commands:
        request = json.loads(line)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            try:
                _become_kernel(request, write_end)
            except BaseException as err:  # noqa: BLE001  (the driver must hear why, then the child goes)
                try:
                    os.write(write_end, f"{type(err).__name__}: {err}\n".encode()[:4000])
                finally:
                    os._exit(70)
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as status:
            answer = status.readline().decode("utf-8", "replace").strip()
        reply = {"pid": pid} if answer == "ok" else {"error": answer or "the kernel process ended at once"}
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()


# ---------------------------------------------------------------- driver side
class Zygote:
    def __init__(self, preload: tuple[str, ...] = PRELOAD):
        self.preload = preload
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        project = str(Path(__file__).resolve().parents[1])
        # Only what Python needs: the zygote's environment block stays readable in every kernel it
        # forks (/proc/self/environ, and its memory), and the grading command's may hold the
        # hub's tokens or a database password.
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [project, os.environ.get("PYTHONPATH")])),
               # one core per sandbox: numerical libraries must not start a thread per core
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        process = subprocess.Popen([sys.executable, "-m", "autograders.zygote", *self.preload], env=env,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/")
        assert process.stdout is not None
        if not process.stdout.readline():
            raise ZygoteError("the kernel zygote did not start")
        return process

    def spawn_kernel(self, connection_file: str, cwd: str, env: dict[str, str], confinement: dict[str, Any]) -> int:
        request = json.dumps({"connection_file": connection_file, "cwd": cwd, "env": env,
                              "confinement": confinement}).encode() + b"\n"
        with self._lock:
            for attempt in (1, 2):  # a zygote that died (it should not) is started again, once
                if self._process is None or self._process.poll() is not None:
                    self._process = self._start()
                assert self._process.stdin and self._process.stdout
                try:
                    self._process.stdin.write(request)
                    self._process.stdin.flush()
                    line = self._process.stdout.readline()
                except BrokenPipeError:
                    line = b""
                if line:
                    break
                self._process = None
            else:
                raise ZygoteError("the kernel zygote stopped answering")
        reply = json.loads(line)
        if "error" in reply:
            raise ZygoteError(f"the grading kernel could not start: {reply['error']}")
        return int(reply["pid"])

    def close(self) -> None:
        with self._lock:
            if self._process and self._process.poll() is None:
                assert self._process.stdin
                self._process.stdin.close()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
            self._process = None


class ForkedProcess:
    """What jupyter_client expects of a kernel's Popen, for a process the zygote forked (not our
    child: a pidfd follows exactly that process, whatever happens to its pid afterwards)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, pidfd: int | None = None):
        self.pid = pid
        self.returncode: int | None = None
        if pidfd is not None:  # handed over by the process itself: no window for its pid to be reused
            self._pidfd: int | None = pidfd
            return
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            self._pidfd, self.returncode = None, -1

    def _ended_within(self, timeout: float | None) -> bool:
        # poll(), not select(): a hub with many connections has descriptors past select's 1024
        assert self._pidfd is not None
        watch = select.poll()
        watch.register(self._pidfd, select.POLLIN)
        return bool(watch.poll(None if timeout is None else int(timeout * 1000)))

    def poll(self) -> int | None:
        if self.returncode is None and self._pidfd is not None and self._ended_within(0):
            self.returncode = -1  # ended; its exit status went to the zygote, not to us
            os.close(self._pidfd)
            self._pidfd = None
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and self._pidfd is not None and not self._ended_within(timeout):
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        return self.poll() if self.returncode is None else self.returncode  # type: ignore[return-value]

    def __enter__(self) -> ForkedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        """As a Popen's: JupyterHub's spawner leaves `with proc:` once the process has ended."""

    def send_signal(self, signum: int) -> None:
        if self.poll() is None and self._pidfd is not None:
            try:
                signal.pidfd_send_signal(self._pidfd, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ZygoteProvisioner(LocalProvisioner):
    launch: Any = None  # set by SandboxKernelManager: (connection_file) -> pid

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        manager: Any = self.parent  # the SandboxKernelManager that owns this provisioner
        pid = self.launch(manager.connection_file)
        # what jupyter_client needs of a Popen, for a process the zygote forked
        self.process = ForkedProcess(pid)  # type: ignore[assignment]
        self.pid = self.pgid = pid  # the child called setsid: its pid is its process group
        self.cwd = kwargs.get("cwd")
        return self.connection_info

    async def wait(self) -> int | None:
        if self.process is None:
            return 0
        while self.process.poll() is None:  # ends within milliseconds of a kill (LocalProvisioner looks every 0.1 s)
            await asyncio.sleep(0.005)
        code, self.process = self.process.returncode, None
        return code

    async def send_signal(self, signum: int) -> None:
        if self.process:
            self.process.send_signal(signum)

    async def kill(self, restart: bool = False) -> None:
        if self.process:
            self.process.kill()

    async def terminate(self, restart: bool = False) -> None:
        if self.process:
            self.process.terminate()


class SandboxKernelClient(WakefulKernelClient):
    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        """jupyter_client's, without its closing wait for IOPub to stay silent for 0.2 s: per kernel
        that is a fifth of a second of nothing, and nbclient matches IOPub messages to their request."""
        deadline = time.monotonic() + (timeout or 60)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)  # IOPub is connected too
                    self._handle_kernel_info_reply(reply)
                    return
                except Empty:
                    pass
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    wait_for_ready = _async_wait_for_ready


class SandboxKernelManager(AsyncKernelManager):
    """A kernel in a sandbox's folder, over Unix sockets (the sandbox has no network at all)."""

    def __init__(self, workdir: Path, launch: Any, **kwargs: Any):
        super().__init__(kernel_name="python3", transport="ipc", **kwargs)
        self.client_factory = SandboxKernelClient
        self.ip = str(workdir / "kernel-ipc")
        self.connection_file = str(workdir / f"kernel-{uuid.uuid4().hex[:8]}.json")
        self._launch = launch

    async def _async_wait(self, pollinterval: float = 0.005) -> None:
        # jupyter_client looks every 0.1 s for the killed kernel to be gone; per notebook, that
        # is a tenth of a second of nothing
        await super()._async_wait(pollinterval)

    async def _async_pre_start_kernel(self, **kw: Any) -> Any:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or str(uuid.uuid4())
            self.provisioner = ZygoteProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
            self.provisioner.launch = self._launch
        return await super()._async_pre_start_kernel(**kw)


if __name__ == "__main__":
    serve(tuple(sys.argv[1:]) or PRELOAD)
