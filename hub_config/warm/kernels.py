"""Warm kernels: a student's server asks its nursery, not a fresh Python, for each kernel.

The nursery is forked by the server's process (server_child.py) before the server starts, so it
is a single-threaded copy of the warm image that is already the student, in the student's cgroup
and session. The server's kernel provisioner (WarmKernelProvisioner, jupyter_client's entry point
`stemlab-warm`) asks it for each Python kernel; jupyter_client then drives that kernel as any
other: its connection file, interrupt (SIGINT to its process group), restart, shutdown.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from setproctitle import setproctitle

from hub_config.warm.forkserver import Channel, WarmStartFailed, close_all_but, runs_this_python, serve, take_environment

PR_SET_PDEATHSIG = 1
KERNEL_LAUNCHER = "ipykernel_launcher"


@dataclass(frozen=True)
class Nursery:
    channel: Channel
    pid: int


NURSERY: Nursery | None = None  # set in a warm-started server's process


def start_nursery() -> Nursery:
    global NURSERY
    ours, theirs = Channel.pair()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        ours.sock.close()
        # it lives exactly as long as its server (the thread that forked it is the server's main one)
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(0)
        setproctitle(f"{sys.executable} -m hub_config.warm.kernels (the kernel nursery of server {parent})")
        close_all_but(theirs.fileno())
        try:
            serve(theirs, become_kernel)
        finally:
            os._exit(0)
    theirs.close()
    NURSERY = Nursery(ours, pid)
    return NURSERY


def is_python_kernel(cmd: list[str]) -> bool:
    """The nursery holds this Python's IPython: any other kernel (another language, another
    environment) starts plainly."""
    return runs_this_python(cmd, KERNEL_LAUNCHER)


def become_kernel(request: dict[str, Any]) -> Callable[[], int]:
    from autograders.zygote import run_ipykernel

    cmd: list[str] = request["cmd"]
    if not is_python_kernel(cmd):
        raise ValueError(f"not this Python's IPython kernel: {cmd[:3]}")
    setproctitle(" ".join(cmd))
    os.setsid()  # its own process group: an interrupt reaches the kernel and what it started
    os.chdir(request["cwd"])
    take_environment(request["env"])

    def run() -> int:
        sys.argv = [cmd[0], *cmd[3:]]
        # ipykernel reads JPY_PARENT_PID when its module is imported (here: in the warm process,
        # which had none): given again, it ends itself when its nursery (so its server) is gone
        run_ipykernel([*cmd[3:], f"--IPKernelApp.parent_handle={os.getppid()}"])
        return 0

    return run


class WarmKernelProvisioner(LocalProvisioner):
    """LocalProvisioner, with the kernel forked by the server's nursery when there is one."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        nursery = NURSERY
        if nursery is not None and is_python_kernel(cmd):
            env = dict(kwargs.get("env") or os.environ)
            # ipykernel ends itself when this process is no longer its parent: the nursery is
            env["JPY_PARENT_PID"] = str(nursery.pid)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                process = await asyncio.to_thread(nursery.channel.ask, {"cmd": cmd, "env": env, "cwd": cwd})
            except WarmStartFailed as err:
                self.log.warning("A warm kernel could not start (%s): starting it plainly", err)
            else:
                self.process = process  # type: ignore[assignment]  # what jupyter_client calls of a Popen
                self.pid = self.pgid = process.pid  # it called setsid: its pid is its group
                self.cwd = cwd
                return self.connection_info
        return await super().launch_kernel(cmd, **kwargs)
