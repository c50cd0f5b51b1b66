"""A line for starting servers, so a class logging in at once does not starve the CPU.

Starting a server costs about a second of CPU; forty at once on two cores made every start slow
enough to hit JupyterHub's timeouts. Waiting here happens before JupyterHub's start timeout
begins (in the pre-spawn hook), each start holds a place until its server answers, and every
waiting student can see their place in line.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict


class SpawnQueue:
    def __init__(self, capacity: int):
        self.capacity = max(1, capacity)
        self._running: set[str] = set()
        self._waiting: OrderedDict[str, asyncio.Future[None]] = OrderedDict()

    def position(self, key: str) -> int | None:
        """1 for the next in line; None when not waiting."""
        for index, waiting in enumerate(self._waiting):
            if waiting == key:
                return index + 1
        return None

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def running(self) -> int:
        return len(self._running)

    async def acquire(self, key: str) -> None:
        if key in self._running:
            return
        if len(self._running) < self.capacity and not self._waiting:
            self._running.add(key)
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting[key] = turn
        try:
            await turn
        except BaseException:
            if self._waiting.pop(key, None) is None and key in self._running:
                self.release(key)  # cancelled just after being let in: pass the place on
            raise

    def release(self, key: str) -> None:
        self._running.discard(key)
        while self._waiting and len(self._running) < self.capacity:
            next_key, turn = self._waiting.popitem(last=False)
            if turn.done():
                continue
            self._running.add(next_key)
            turn.set_result(None)
