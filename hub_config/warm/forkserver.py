"""One request, one fork: the mechanism under every warm start (servers and kernels alike).

The asker sends, over a long-lived channel (a SOCK_SEQPACKET socketpair), one end of a socket
made for this request only. The warm process forks at once and goes back to waiting; it never
reads the request. The child closes everything it inherited but that socket, reads the request
from it, prepares what it was asked to become, and answers with its pid and a pidfd of itself
(so the asker follows exactly this process, whatever later happens to the number), then runs.

A warm process may also keep one child forked ahead (a spare: a kernel already initialized, say),
which waits for a request instead of the warm process forking one; the asker says whether a spare
may take its request, and the spare's answer adds what it reports of itself (a kernel: its ports).
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
from dataclasses import dataclass, field
from typing import Any

from autograders.zygote import ForkedProcess

REQUEST_TIMEOUT = 30.0  # seconds an asker waits for the child's answer before starting plainly
_MAX_REPLY = 4096



@dataclass(frozen=True)
class Becoming:
    """What a child prepared for a request: what it runs, and what it tells the asker of itself."""

    run: Callable[[], int]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Started:
    """What the asker gets: the child, followed by its pidfd, and what it told of itself."""

    process: ForkedProcess
    details: dict[str, Any] = field(default_factory=dict)


# Given a request, prepare to become it (raise to refuse, with the reason).
Become = Callable[[dict[str, Any]], Becoming]
# In a spare child, before any request: get ready, and return how a request is then taken.
Ahead = Callable[[], Become]


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

    def ask(self, request: dict[str, Any], timeout: float = REQUEST_TIMEOUT, spare: bool = False) -> Started:
        """`spare`: a child forked ahead may take the request (it was prepared without it)."""
        ours, theirs = socket.socketpair()
        try:
            with theirs:
                try:
                    socket.send_fds(self.sock, [b"spare" if spare else b"fork"], [theirs.fileno()])
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
            pid, _, details = text[3:].partition(" ")
            return Started(ForkedProcess(int(pid), pidfd=fds[0]), json.loads(details) if details else {})
        for fd in fds:
            os.close(fd)
        raise WarmStartFailed(text.removeprefix("error: ") or "the warm process's child ended before it started")


def serve(channel: socket.socket, become: Become, ahead: Ahead | None = None) -> None:
    """Fork a child for every request socket received on `channel`, until the asker closes it;
    with `ahead`, keep one spare forked ahead for the first request that a spare may take."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the children are reaped by the system
    spare = _fork_spare(ahead) if ahead is not None else None
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
        if spare is not None and message == b"spare":
            taken, spare = _hand_to(spare, fds[0]), None  # one spare: the next ones are forked
            if taken:
                continue
        if os.fork() == 0:
            _child(fds[0], become)  # never returns
        os.close(fds[0])


def _fork_spare(ahead: Ahead) -> socket.socket:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if os.fork() == 0:
        code = 70
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            close_all_but(theirs.fileno())
            become = ahead()  # what it opens now (a kernel's sockets) it keeps
            _, fds, _, _ = socket.recv_fds(theirs, 16, 1)
            theirs.close()
            if len(fds) == 1:
                _child(fds[0], become, forked_for_it=False)  # never returns
        except BaseException:  # noqa: BLE001  (a spare that failed ends; requests are then forked)
            traceback.print_exc()
        finally:
            os._exit(code)
    theirs.close()
    return ours


def _hand_to(spare: socket.socket, request_fd: int) -> bool:
    """Pass a request to the spare; False if it is gone (it failed to get ready)."""
    try:
        socket.send_fds(spare, [b"take"], [request_fd])
    except OSError:
        return False
    else:
        os.close(request_fd)
        return True
    finally:
        spare.close()


def _child(request_fd: int, become: Become, forked_for_it: bool = True) -> None:
    code = 70
    try:
        if forked_for_it:  # (a spare did this before it got ready)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # what the child starts, it waits for itself
            # Nothing of the warm process stays open: above all not its channel, through which a
            # student's code could otherwise ask for forks of its own.
            close_all_but(request_fd)
        conn = socket.socket(fileno=request_fd)
        try:
            becoming = become(json.loads(_read_all(conn)))
        except BaseException as err:  # noqa: BLE001  (the asker must hear why; the child then ends)
            conn.sendall(f"error: {type(err).__name__}: {err}".encode()[:_MAX_REPLY])
            conn.close()
            os._exit(70)
        pidfd = os.pidfd_open(os.getpid())
        answer = f"ok {os.getpid()}" + (f" {json.dumps(becoming.details)}" if becoming.details else "")
        socket.send_fds(conn, [answer.encode()], [pidfd])
        os.close(pidfd)
        conn.close()
        try:
            code = becoming.run()
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
