"""The judge: for each sandbox slot, a kernel that runs the teacher's cells and never the student's.

It runs as an account of its own (`stemlab-jdg-N`, not the sandbox's: the student's processes can
neither trace nor signal it, nor read its folder or its connection file), with no network, forked
by the same zygote as the grading kernels. It lives for the whole batch; each submission gets a
fresh namespace in it (autograders/kernel_side/judge_side.py), since nothing of a student's ever
runs there, only the teacher's code and plain data.

The runner drives it with a blocking client: while a test runs, every `input_request` on its
stdin channel is a question for the student's kernel, which the runner asks (through `ask`) and
answers with the reply.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from lab_hardware import GRADING_ENV

from .model import FEATURES_DIR, HiddenSet
from .zygote import ForkedProcess

if TYPE_CHECKING:
    from .sandbox import Sandbox

STATUS = "__import__('autograders.kernel_side.judge_side', fromlist=['_']).status()"
RUN = "__import__('autograders.kernel_side.judge_side', fromlist=['_']).run({source!r}, {cell!r})"
BEGIN = "__import__('autograders.kernel_side.judge_side', fromlist=['_']).begin()"


class JudgeLost(Exception):
    """The judge stopped answering (it died, or the teacher's code in it ran past its time)."""


@dataclass
class JudgeOutcome:
    ok: bool
    outputs: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    remote: bool = False                 # one of the student's objects (not data) took part
    unsplittable: str | None = None      # a value could not cross: judge it in the student's kernel


class Judge:
    def __init__(self, sandbox: "Sandbox"):
        self.sandbox = sandbox
        self.folder = sandbox.pool.base / f"judge-{sandbox.index}"
        self.account = sandbox.pool.judge_account(sandbox.index)
        self.client: BlockingKernelClient | None = None
        self.process: ForkedProcess | None = None
        self.data_key: tuple[Any, ...] | None = None

    # ---- life
    def ensure(self, release_dir: Path | None, hidden: dict[str, HiddenSet]) -> None:
        """A running judge with the assignment's data files (and hidden features) in its folder,
        and a fresh namespace for the next submission."""
        key = (str(release_dir), tuple(sorted(hidden)))
        if self.client is None or self.process is None or self.process.poll() is not None or key != self.data_key:
            self.close()
            self._start(release_dir, hidden)
            self.data_key = key
        self._silently(BEGIN)

    def _start(self, release_dir: Path | None, hidden: dict[str, HiddenSet]) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(mode=0o700)
        if release_dir is not None and release_dir.is_dir():
            from .notebook_run import copy_data  # the same rule as the sandbox's: plain files, no links

            copy_data(release_dir, self.folder, top=True)
        for hidden_set in hidden.values():
            hidden_set.write_features(self.folder / FEATURES_DIR)
        connection_file = self.folder / f"judge-{uuid.uuid4().hex[:8]}.json"
        write_connection_file(str(connection_file), transport="ipc", ip=str(self.folder / "judge-ipc"))
        if self.account is not None:
            for path in [self.folder, *self.folder.rglob("*")]:
                os.lchown(path, self.account.pw_uid, self.account.pw_gid)
        confinement = self.sandbox.judge_confinement(self.account)
        env = self.sandbox.environment({GRADING_ENV: "1"}) | {"HOME": str(self.folder), "TMPDIR": str(self.folder),
                                                             "JUPYTER_RUNTIME_DIR": str(self.folder),
                                                             "IPYTHONDIR": str(self.folder / ".ipython"),
                                                             "MPLCONFIGDIR": str(self.folder / ".mpl")}
        pid = self.sandbox.pool.zygote.spawn_kernel(str(connection_file), str(self.folder), env, asdict(confinement))
        self.process = ForkedProcess(pid)
        client = BlockingKernelClient()
        client.load_connection_file(str(connection_file))
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
        except RuntimeError as err:
            client.stop_channels()
            raise JudgeLost(f"the judge did not start: {err}") from err
        self.client = client

    def close(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=5)
            self.process = None

    # ---- running
    def _silently(self, code: str) -> None:
        assert self.client is not None
        msg_id = self.client.execute(code, silent=True, store_history=False)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                reply = self.client.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001  (queue.Empty: the judge does not answer)
                break
            if reply["parent_header"].get("msg_id") == msg_id:
                return
        raise JudgeLost("the judge does not answer")

    async def run(self, source: str, cell: str, ask: Callable[[str, float], Awaitable[str]],
                  timeout: float, max_output_bytes: int) -> JudgeOutcome:
        """Run one cell's judge code; each question it has for the student's kernel goes to `ask`."""
        client = self.client
        assert client is not None and self.process is not None
        msg_id = client.execute(RUN.format(source=source, cell=cell), silent=False, store_history=False,
                                user_expressions={"s": STATUS}, allow_stdin=True)
        poller = zmq.Poller()
        sockets = {client.shell_channel.socket: "shell", client.iopub_channel.socket: "iopub",
                   client.stdin_channel.socket: "stdin"}
        for socket in sockets:
            poller.register(socket, zmq.POLLIN)
        outputs: list[dict[str, Any]] = []
        size = 0
        reply: dict[str, Any] | None = None
        idle = False
        deadline = time.monotonic() + timeout
        interrupted = False
        while reply is None or not idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if interrupted or self.process.poll() is not None:
                    self.close()
                    raise JudgeLost(f"the test ran longer than {timeout:g} s in the judge")
                self.process.send_signal(signal.SIGINT)
                interrupted, deadline = True, time.monotonic() + 5
                continue
            ready = dict(poller.poll(int(min(remaining, 1.0) * 1000)))
            if not ready and self.process.poll() is not None:
                self.close()
                raise JudgeLost("the judge died")
            for socket in ready:
                channel = sockets[socket]
                if channel == "stdin":
                    message = client.get_stdin_msg(timeout=0)
                    if message["msg_type"] == "input_request":
                        client.input(await ask(message["content"]["prompt"], max(0.1, deadline - time.monotonic())))
                elif channel == "shell":
                    message = client.get_shell_msg(timeout=0)
                    if message["parent_header"].get("msg_id") == msg_id:
                        reply = message
                else:
                    message = client.get_iopub_msg(timeout=0)
                    if message["parent_header"].get("msg_id") != msg_id:
                        continue
                    kind = message["msg_type"]
                    if kind == "status" and message["content"].get("execution_state") == "idle":
                        idle = True
                    elif kind in ("stream", "display_data") and size < max_output_bytes:
                        size += len(json.dumps(message["content"]))
                        outputs.append(output_of(kind, message["content"]))
        return self._outcome(reply, outputs)

    @staticmethod
    def _outcome(reply: dict[str, Any], outputs: list[dict[str, Any]]) -> JudgeOutcome:
        result = reply["content"].get("user_expressions", {}).get("s", {})
        if result.get("status") != "ok":
            return JudgeOutcome(False, outputs, {"ename": "JudgeError", "evalue": "the judge gave no status",
                                                 "traceback": []})
        status = json.loads(ast.literal_eval(result["data"]["text/plain"]))
        return JudgeOutcome(bool(status["ok"]), outputs, status.get("error"), bool(status.get("remote")),
                            status.get("unsplittable"))


def output_of(kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """An IOPub message as a notebook output."""
    import nbformat

    if kind == "stream":
        return nbformat.v4.new_output("stream", name=content.get("name", "stdout"), text=content.get("text", ""))
    return nbformat.v4.new_output("display_data", data=content.get("data", {}), metadata=content.get("metadata", {}))
