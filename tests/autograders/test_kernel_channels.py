"""A message that pyzmq's asyncio wait sleeps through is still read within a fraction of a second.

The lost wakeup is made on purpose: the reply comes in while the socket is used through a bare
handle to the same ZMQ socket (as libzmq takes in a message while the socket sends from another
task), which uses up the edge of ZMQ's descriptor that the asyncio wait is parked on.
"""

import asyncio
import time
from queue import Empty

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from autograders.kernel_channels import WAKE_EVERY, WakefulChannel, WakefulKernelClient
from autograders.zygote import SandboxKernelClient

TIMEOUT = 3.0


async def wait_through_a_lost_wakeup(channel_class) -> tuple[str, float]:
    context = zmq.asyncio.Context()
    router = context.socket(zmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = context.socket(zmq.DEALER)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    try:
        session = Session(key=b"test")
        channel = channel_class(dealer, session)
        session.send(dealer, "kernel_info_request")
        ident, *frames = await router.recv_multipart()
        waiting = asyncio.ensure_future(channel.get_msg(timeout=TIMEOUT))
        await asyncio.sleep(0.05)  # the wait is parked on the descriptor
        bare = zmq.Socket.shadow(dealer.underlying)
        router.send_multipart([ident, *frames])  # the "reply" comes back
        deadline = time.monotonic() + 2
        while not bare.get(zmq.EVENTS) & zmq.POLLIN:  # taken in outside the asyncio wait
            assert time.monotonic() < deadline, "the reply never reached the socket"
            time.sleep(0.001)
        started = time.monotonic()
        try:
            msg = await waiting
            outcome = msg["msg_type"]
        except Empty:
            outcome = "nothing"
        return outcome, time.monotonic() - started
    finally:
        dealer.close(0)
        router.close(0)
        context.term()


def test_jupyter_clients_own_channel_sleeps_through_it():
    """The model is faithful: jupyter_client's channel reads the reply only when its wait ends."""
    outcome, waited = asyncio.run(wait_through_a_lost_wakeup(AsyncZMQSocketChannel))
    assert outcome == "kernel_info_request"
    assert waited > TIMEOUT - 0.5, f"read after {waited:.2f} s: the wakeup was not lost, the test shows nothing"


def test_a_wakeful_channel_reads_it_within_a_slice():
    outcome, waited = asyncio.run(wait_through_a_lost_wakeup(WakefulChannel))
    assert outcome == "kernel_info_request"
    assert waited < WAKE_EVERY + 0.5, f"read after {waited:.2f} s"


def test_a_wakeful_wait_still_ends_at_its_timeout():
    async def wait_for_nothing() -> float:
        context = zmq.asyncio.Context()
        dealer = context.socket(zmq.DEALER)
        dealer.connect("tcp://127.0.0.1:9")  # nobody answers
        try:
            started = time.monotonic()
            with pytest.raises(Empty):
                await WakefulChannel(dealer, Session()).get_msg(timeout=0.6)
            return time.monotonic() - started
        finally:
            dealer.close(0)
            context.term()

    waited = asyncio.run(wait_for_nothing())
    assert 0.55 <= waited < 0.6 + WAKE_EVERY, waited


@pytest.mark.parametrize("client_class", [WakefulKernelClient, SandboxKernelClient])
def test_the_clients_that_drive_kernels_use_it(client_class):
    """Grading's runner (SandboxKernelClient) and the courses' checks (WakefulKernelClient)."""
    client = client_class()
    for name in ("shell", "iopub", "stdin", "control"):
        assert issubclass(getattr(client, f"{name}_channel_class"), WakefulChannel), name


def test_nbgrader_runs_a_students_check_with_it(tmp_path, monkeypatch):
    """The student's Check (hub_config/singleuser/assignments_page.py) is nbgrader's Validator,
    given CLIENT_CLASS as config: nbgrader's nbclient must make its kernel client from it."""
    import nbformat
    from nbgrader.validator import Validator
    from traitlets.config import Config

    from autograders.kernel_channels import CLIENT_CLASS

    made = []
    original = WakefulKernelClient.start_channels

    def start_channels(self, *args, **kwargs):
        made.append(type(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(WakefulKernelClient, "start_channels", start_channels)
    notebook = tmp_path / "bai.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), notebook)
    config = Config()
    config.KernelManager.client_class = CLIENT_CLASS
    assert Validator(config=config).validate(str(notebook)) == {}
    assert made == [WakefulKernelClient]
