"""The fork server under warm starts (hub_config/warm/forkserver.py), with a real forking process:
what the asker gets back, and the reason it is told when a warm start is not possible (the
spawner logs it and starts plainly)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub_config.warm.forkserver import Channel, WarmStartFailed

ROOT = Path(__file__).resolve().parents[2]

# A warm process whose children become what the request says: sleep, or refuse with a reason.
SERVER = """
import os, sys, socket, time
from hub_config.warm.forkserver import Becoming, serve

def become(request):
    if request.get("refuse"):
        raise PermissionError(request["refuse"])
    def run():
        time.sleep(request["sleep"])
        return 3
    return Becoming(run)

def ahead():  # a spare: readied before any request, keeps what it opened getting ready
    if sys.argv[2] == "failing":
        raise RuntimeError("could not get ready")
    readied, kept = time.monotonic(), os.open(os.devnull, os.O_RDONLY)
    def adopt(request):
        details = {"readied": readied, "kept_open": os.path.exists(f"/proc/self/fd/{kept}")}
        return Becoming(become(request).run, details)
    return adopt

serve(socket.socket(fileno=int(sys.argv[1])), become, ahead if sys.argv[2] != "none" else None)
"""


def start_warm(spare: str) -> tuple[Channel, subprocess.Popen]:
    ours, theirs = Channel.pair()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(theirs.fileno()), spare], pass_fds=[theirs.fileno()])
    theirs.close()
    return ours, process


@pytest.fixture
def warm() -> Iterator[tuple[Channel, subprocess.Popen]]:
    ours, process = start_warm("none")
    yield ours, process
    ours.sock.close()
    process.wait(10)  # it ends when its asker's channel closes


def test_a_spare_takes_the_first_request_that_allows_one_and_only_that():
    channel, process = start_warm("ready")
    try:
        time.sleep(0.5)
        asked = time.monotonic()
        forked = channel.ask({"sleep": 30})  # not allowed to take a spare: forked for it
        assert forked.details == {}
        spare = channel.ask({"sleep": 30}, spare=True)
        assert spare.details["readied"] < asked, "readied before it was asked for"
        assert spare.details["kept_open"], "what the spare opened getting ready stays open"
        with open(f"/proc/{spare.process.pid}/status") as status:
            assert f"PPid:\t{process.pid}" in status.read()
        later = channel.ask({"sleep": 30}, spare=True)
        assert later.details == {} and later.process.pid not in (forked.process.pid, spare.process.pid)
        for child in (forked, spare, later):
            child.process.kill()
            child.process.wait(5)
    finally:
        channel.sock.close()
        process.wait(10)


def test_a_spare_that_could_not_get_ready_leaves_requests_to_forks():
    channel, process = start_warm("failing")
    try:
        time.sleep(0.5)  # the spare has failed and ended
        child = channel.ask({"sleep": 0.1}, spare=True)
        assert child.details == {}
        child.process.wait(5)  # it ran and ended (its status went to its parent)
    finally:
        channel.sock.close()
        process.wait(10)


def test_a_forked_child_is_handed_over_and_followed_by_its_pidfd(warm):
    channel, process = warm
    child = channel.ask({"sleep": 30}).process
    assert child.poll() is None
    with open(f"/proc/{child.pid}/status") as status:
        assert f"PPid:\t{process.pid}" in status.read()  # the warm process's child, not ours
    child.terminate()
    assert child.wait(5) == -1  # ended: its status went to its parent, which let the system reap it


def test_two_requests_at_once_get_two_children(warm):
    channel, _ = warm
    first, second = channel.ask({"sleep": 30}).process, channel.ask({"sleep": 30}).process
    assert first.pid != second.pid
    for child in (first, second):
        child.kill()
        child.wait(5)


def test_a_child_that_refuses_says_why(warm):
    channel, process = warm
    with pytest.raises(WarmStartFailed, match="PermissionError: the home cannot be created"):
        channel.ask({"refuse": "the home cannot be created"})
    assert process.poll() is None  # the warm process goes on
    channel.ask({"sleep": 0.1}).process.wait(5)


def test_a_warm_process_that_does_not_answer_is_given_up_on_in_time(warm):
    channel, process = warm
    os.kill(process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(WarmStartFailed, match="did not answer within 1 s"):
            channel.ask({"sleep": 1}, timeout=1)
        assert time.monotonic() - started < 2
    finally:
        os.kill(process.pid, signal.SIGCONT)


def test_a_warm_process_that_is_gone_is_said_to_be(warm):
    channel, process = warm
    process.kill()
    process.wait(5)
    with pytest.raises(WarmStartFailed, match="gone|broke off|ended before"):
        channel.ask({"sleep": 1}, timeout=2)


SYS_INFO_PROBE = """
import subprocess, sys
from hub_config.warm.image import fill_shared_caches
if sys.argv[1] == "filled":
    fill_shared_caches()
started = []
real = subprocess.Popen.__init__
def counted(self, args, *rest, **kw):
    started.append(args)
    real(self, args, *rest, **kw)
subprocess.Popen.__init__ = counted
from jupyter_server.base.handlers import json_sys_info
json_sys_info()
print(len(started))
"""


def test_the_warm_process_works_out_the_pages_system_facts_once_for_every_server():
    """A server forked after fill_shared_caches starts no subprocess for its first page's facts; a
    fresh one, in a git checkout such as this, runs `git rev-parse` for them."""
    import jupyter_server

    def subprocesses(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", SYS_INFO_PROBE, mode], capture_output=True, text=True,
                              cwd="/", check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        return int(done.stdout.split()[-1])

    assert subprocesses("filled") == 0
    installed = Path(jupyter_server.__file__).parent
    if any((folder / ".git").exists() for folder in installed.parents):  # a venv inside a checkout
        assert subprocesses("fresh") >= 1, "the probe sees the subprocess it should prevent"
