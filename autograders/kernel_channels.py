"""Kernel channels that cannot sleep through a message.

pyzmq's asyncio sockets wait on ZMQ's file descriptor, which signals an edge, not a level: when
libzmq takes in a message while doing something else on the same socket (nbclient's stand-in for
an Output widget sends its state on the shell socket from within IOPub's handler, right as the
cell's reply comes in), the edge can be used up and the waiting poll is never woken. The reply is
then read only when the wait for it times out: measured in the courses' checks, a widgets cell's
next cell waited the whole cell timeout (30 s, or nbclient's 120) about once in 70 notebooks, and
grading's runner drives kernels the same way. `zmq_poll` itself, which the end of each wait calls,
always sees the message, so these channels wait in short slices: a lost wakeup costs at most a
slice (a fraction of a second) instead of the whole timeout.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

WAKE_EVERY = 0.25  # seconds: the most a lost wakeup costs; an idle wait wakes this often
CLIENT_CLASS = f"{__name__}.WakefulKernelClient"  # for jupyter_client's KernelManager.client_class


class WakefulChannel(AsyncZMQSocketChannel):
    """jupyter_client's asyncio channel, whose wait for a message looks again every WAKE_EVERY."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            wait = WAKE_EVERY if left is None else min(WAKE_EVERY, left)
            if await self.socket.poll(int(wait * 1000)):
                return await self._recv()
            if left is not None and left <= wait:
                raise Empty


class WakefulKernelClient(AsyncKernelClient):
    """An asyncio kernel client whose channels are WakefulChannel (heartbeat aside: it has its own
    thread and polls with zmq_poll)."""

    shell_channel_class = Type(WakefulChannel)
    iopub_channel_class = Type(WakefulChannel)
    stdin_channel_class = Type(WakefulChannel)
    control_channel_class = Type(WakefulChannel)
