"""Ending processes that may not want to end: the one way the platform stops a group of them,
a grading sandbox's account (confinement.kill_account_processes) as the hub's leftovers and a
server's cgroup (hub_config). It lives here, the lowest package that needs it, so both can."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import psutil


def end_processes(find: Callable[[], Iterable[psutil.Process]], grace: float = 5.0, gentle: bool = True) -> int:
    """Ask every process `find` returns to stop (SIGTERM; SIGKILL at once when not `gentle`), ask
    again for the ones it finds later (a process may start others while it stops: a fork bomb), and
    kill what is left after `grace` seconds. Returns how many processes were found first."""
    first = list(find())
    deadline = time.monotonic() + grace
    victims = first
    asked: set[psutil.Process] = set()
    while victims and time.monotonic() < deadline:
        for p in victims:
            if p not in asked:
                _signal(p, psutil.Process.terminate if gentle else psutil.Process.kill)
                asked.add(p)
        _, alive = psutil.wait_procs(victims, timeout=min(0.2, max(0.0, deadline - time.monotonic())))
        victims = [p for p in {*alive, *find()} if _running(p)]
    for p in victims:
        _signal(p, psutil.Process.kill)
    psutil.wait_procs(victims, timeout=1)
    return len(first)


def with_descendants(processes: Iterable[psutil.Process]) -> list[psutil.Process]:
    family: set[psutil.Process] = set()
    for p in processes:
        family.add(p)
        try:
            family.update(p.children(recursive=True))
        except psutil.Error:
            continue
    return list(family)


def processes_of_pids(pids: Iterable[int]) -> list[psutil.Process]:
    out = []
    for pid in pids:
        try:
            out.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return out


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE  # is_running also checks pid reuse
    except psutil.Error:
        return False


def _signal(p: psutil.Process, how: Callable[[psutil.Process], None]) -> None:
    try:
        how(p)
    except psutil.Error:
        pass
