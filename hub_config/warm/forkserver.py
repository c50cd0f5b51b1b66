"""One request, one fork: the mechanism under every warm start (servers and kernels alike).

The asker sends, over a long-lived channel (a SOCK_SEQPACKET socketpair), one end of a socket
made for this request only. The warm process forks at once and goes back to waiting; it never
reads the request. The child closes everything it inherited but that socket, reads the request
from it, prepares what it was asked to become, and answers with its pid and a pidfd of itself
(so the asker follows exactly this process, whatever later happens to the number), then runs.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograders.zygote import ForkedProcess

REQUEST_TIMEOUT = 30.0  # seconds an asker waits for the child's answer before starting plainly
_MAX_REPLY = 4096

# Given a request, prepare to become it (raise to refuse, with the reason) and return what runs.
Become = Callable[[dict[str, Any]], Callable[[], int]]


def runs_this_python(cmd: list[str], module: str) -> bool:
    """Whether cmd is `<this Python> -m module ...`: what a warm process can become instead."""
    return len(cmd) >= 3 and cmd[1:3] == ["-m", module] and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable)


def close_all_but(keep: int) -> None:
    """Close every descriptor above the standard streams but `keep`."""
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)


def take_environment(env: dict[str, str]) -> None:
    """What a fresh process would start with: no input, the asker's environment in place of the
    warm one's, its TZ applied."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()


class WarmStartFailed(RuntimeError):
    """A warm start did not happen; the message says why (for the log: the plain start follows)."""


@dataclass(frozen=True)
class Channel:
    """The asker's end of a warm process's channel."""

    sock: socket.socket

    @classmethod
    def pair(cls) -> tuple[Channel, socket.socket]:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        return cls(ours), theirs

    def ask(self, request: dict[str, Any], timeout: float = REQUEST_TIMEOUT) -> ForkedProcess:
        ours, theirs = socket.socketpair()
        try:
            with theirs:
                try:
                    socket.send_fds(self.sock, [b"fork"], [theirs.fileno()])
                except OSError as err:
                    raise WarmStartFailed(f"the warm process is gone ({err.strerror or err})") from err
            ours.settimeout(timeout)
            try:
                ours.sendall(json.dumps(request).encode())
                ours.shutdown(socket.SHUT_WR)
                message, fds, _, _ = socket.recv_fds(ours, _MAX_REPLY, 1)
            except TimeoutError as err:
                raise WarmStartFailed(f"the warm process did not answer within {timeout:g} s") from err
            except OSError as err:
                raise WarmStartFailed(f"the warm process's child broke off ({err.strerror or err})") from err
        finally:
            ours.close()
        text = message.decode("utf-8", "replace")
        if text.startswith("ok ") and len(fds) == 1:
            return ForkedProcess(int(text[3:]), pidfd=fds[0])
        for fd in fds:
            os.close(fd)
        raise WarmStartFailed(text.removeprefix("error: ") or "the warm process's child ended before it started")


def serve(channel: socket.socket, become: Become) -> None:
    """Fork a child for every request socket received on `channel`, until the asker closes it."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the children are reaped by the system
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(channel, 16, 1)
        except InterruptedError:
            continue
        if not message and not fds:
            return  # the asker is gone
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        if os.fork() == 0:
            _child(fds[0], become)  # never returns
        os.close(fds[0])


def _child(request_fd: int, become: Become) -> None:
    code = 70
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # what the child starts, it waits for itself
        # Nothing of the warm process stays open: above all not its channel, through which a
        # student's code could otherwise ask for forks of its own.
        close_all_but(request_fd)
        conn = socket.socket(fileno=request_fd)
        try:
            run = become(json.loads(_read_all(conn)))
        except BaseException as err:  # noqa: BLE001  (the asker must hear why; the child then ends)
            conn.sendall(f"error: {type(err).__name__}: {err}".encode()[:_MAX_REPLY])
            conn.close()
            os._exit(70)
        pidfd = os.pidfd_open(os.getpid())
        socket.send_fds(conn, [f"ok {os.getpid()}".encode()], [pidfd])
        os.close(pidfd)
        conn.close()
        try:
            code = run()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        atexit._run_exitfuncs()  # what a process ending normally does (IPython saves its history)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001  (what a plain process would print as it died)
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
