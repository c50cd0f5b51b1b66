"""Warm kernels: a student's server asks its nursery, not a fresh Python, for each kernel.

The nursery is forked by the server's process (server_child.py) before the server starts, so it
is a single-threaded copy of the warm image that is already the student, in the student's cgroup
and session. The server's kernel provisioner (WarmKernelProvisioner, jupyter_client's entry point
`stemlab-warm`) asks it for each Python kernel; jupyter_client then drives that kernel as any
other: its connection file, interrupt (SIGINT to its process group), restart, shutdown.

The nursery also readies one kernel ahead, as the server starts: IPython made, its sockets bound
on ports it picked itself. The server's first kernel (the wait a student sees after logging in)
is that one, given its notebook's folder and environment; jupyter_client takes its ports and key
(a provisioner's connection info is the truth). Later kernels and restarts are forked on request.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from setproctitle import setproctitle

from hub_config.warm.forkserver import (Become, Becoming, Channel, WarmStartFailed, close_all_but, runs_this_python,
                                       serve, take_environment)

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
            serve(theirs, become_kernel, ahead=spare_kernel)
        finally:
            os._exit(0)
    theirs.close()
    NURSERY = Nursery(ours, pid)
    return NURSERY


def is_python_kernel(cmd: list[str]) -> bool:
    """The nursery holds this Python's IPython: any other kernel (another language, another
    environment) starts plainly."""
    return runs_this_python(cmd, KERNEL_LAUNCHER)


def takes_a_spare(cmd: list[str]) -> bool:
    """A spare was readied with no arguments but its connection file: a kernel asked with others
    (a kernelspec's own) is forked for them."""
    return is_python_kernel(cmd) and len(cmd) == 5 and cmd[3] == "-f"


def become_kernel(request: dict[str, Any]) -> Becoming:
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

    return Becoming(run)


def spare_kernel() -> Become:
    """In the nursery's spare child: an IPython kernel initialized ahead of its notebook."""
    from autograders.zygote import init_ipykernel

    nursery = os.getppid()
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # ready for its server only
    if os.getppid() != nursery:
        os._exit(0)
    os.setsid()
    setproctitle(f"{sys.executable} -m {KERNEL_LAUNCHER} (a kernel ready for the next notebook of server "
                 f"{_parent_of(nursery)})")
    app = init_ipykernel(["-f", f"kernel-ready-{os.getpid()}.json", f"--IPKernelApp.parent_handle={nursery}"])
    own_file = app.abs_connection_file

    def adopt(request: dict[str, Any]) -> Becoming:
        cmd: list[str] = request["cmd"]
        if not takes_a_spare(cmd):
            raise ValueError(f"a kernel readied ahead cannot become {cmd[:3]} with arguments {cmd[3:]}")
        setproctitle(" ".join(cmd))
        cwd = request["cwd"]
        os.chdir(cwd)
        take_environment(request["env"])
        sys.argv = [cmd[0], *cmd[3:]]
        # what a kernel started here and now would have taken from its folder and environment
        shell = app.shell
        assert shell is not None
        shell.history_manager.dir_hist[:] = [cwd]  # IPython's _dh
        if os.environ.get("JPY_SESSION_NAME"):
            shell.user_ns["__session__"] = os.environ["JPY_SESSION_NAME"]
        os.unlink(own_file)
        app.connection_file = cmd[4]  # jupyter_client's, rewritten with this kernel's ports and key
        return Becoming(lambda: app.start() or 0, connection_of(app))

    return adopt


def connection_of(app: Any) -> dict[str, Any]:
    return {"ip": app.ip, "transport": app.transport, "key": app.session.key.decode(),
            "signature_scheme": app.session.signature_scheme, "shell_port": app.shell_port,
            "iopub_port": app.iopub_port, "stdin_port": app.stdin_port, "control_port": app.control_port,
            "hb_port": app.hb_port}


def _parent_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[1]
    except OSError:
        return "?"


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
                started = await asyncio.to_thread(nursery.channel.ask, {"cmd": cmd, "env": env, "cwd": cwd},
                                                  spare=takes_a_spare(cmd))
            except WarmStartFailed as err:
                self.log.warning("A warm kernel could not start (%s): starting it plainly", err)
            else:
                process = started.process
                self.process = process  # type: ignore[assignment]  # what jupyter_client calls of a Popen
                self.pid = self.pgid = process.pid  # it called setsid: its pid is its group
                self.cwd = cwd
                if started.details:  # a kernel readied ahead: its own ports and key
                    details = {**started.details, "key": started.details["key"].encode()}
                    self.connection_info = cast(KernelConnectionInfo, details)
                return self.connection_info
        return await super().launch_kernel(cmd, **kwargs)
