"""One submitted notebook, run from start to end in a grading sandbox: a kernel forked by the
pool's zygote, the grading client (execute.py) cell by cell, a watchdog past each cell's timeout,
a restart for a kernel that died, the notebook's wall clock, and the files it may read."""

from __future__ import annotations

import copy
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from .flags import WHOLE_NOTEBOOK, Flag, write_flags
from .execute import GradingClient, _patch_execute
from .judge import JudgeLost
from .model import FEATURES_DIR, HiddenSet
from .split import Role, role
from .zygote import SandboxKernelManager

if TYPE_CHECKING:
    from .sandbox import Sandbox


class WallClockExceeded(Exception):
    """The notebook as a whole ran past the sandbox's wall-clock limit."""


def run(nb: Any, sandbox: "Sandbox", cell_timeout: float, deadline: float,
        hidden: dict[str, HiddenSet] | None = None, release_dir: Path | None = None) -> Any:
    """Execute the notebook's cells in a kernel in the sandbox, its tests in the sandbox's judge,
    restarting the kernel where a cell killed it; the flags go into the notebook's metadata, and
    the tests judged inside the student's kernel (with why) beside them."""
    limits = sandbox.pool.limits
    client = GradingClient(nb, hidden=hidden, judge=sandbox.judge, data_files=data_file_names(release_dir),
                           timeout=cell_timeout, interrupt_on_timeout=True, allow_errors=True,
                           kernel_name="python3", record_timing=False, startup_timeout=60,
                           shutdown_kernel="immediate")  # the sandbox's clean-up ends everything anyway
    client.max_output_bytes = limits.max_output_bytes // 8
    skipped: set[int] = set()
    index = 0
    while index < len(nb.cells):
        if time.monotonic() > deadline:
            raise WallClockExceeded()
        client.km = SandboxKernelManager(sandbox.workdir, sandbox.start_kernel)
        with client.setup_kernel():
            _patch_execute(client)
            client.prepare_kernel()
            _fresh_judge(client, release_dir, hidden or {})
            try:
                for i, cell in enumerate(nb.cells):
                    if i < index and i in skipped:
                        continue
                    if i < index:  # rebuilding the state after a restart
                        client.execute_cell(cell, i)
                        continue
                    index = i
                    _run_with_watchdog(client, sandbox, cell, i, cell_timeout, deadline)
                index = len(nb.cells)
                _judge_deferred_in_kernel(client, sandbox, cell_timeout, deadline)
            except DeadKernelError:
                if time.monotonic() > deadline:
                    raise WallClockExceeded() from None
                client.flag(index, "the kernel died in this cell (os._exit, a kill, or the memory limit); "
                                   "it was restarted and grading went on")
                nb.cells[index].outputs = [nbformat.v4.new_output(
                    "error", ename="DeadKernelError", evalue="the kernel died while running this cell", traceback=[])]
                skipped.add(index)
                index += 1
    write_flags(nb, client.flags)
    nb.metadata["stemlab"]["judged_in_kernel"] = client.in_kernel
    return nb


def _fresh_judge(client: GradingClient, release_dir: Path | None, hidden: dict[str, HiddenSet]) -> None:
    """The judge, with a namespace of its own for this run of the notebook (a restarted kernel
    replays the cells before, in both)."""
    if client.judge is None:
        return
    try:
        client.judge.ensure(release_dir, hidden)
        client.judge_broken = None
    except (JudgeLost, OSError) as err:
        client.judge_broken = f"it could not start ({err})"


def _judge_deferred_in_kernel(client: GradingClient, sandbox: "Sandbox", timeout: float, deadline: float) -> None:
    """Tests the judge failed where an object of the student's (not data) took part, or a value
    could not leave the student's kernel: run again there, the old way, after every other cell
    (nothing the student's code does from then on reaches the feedback). The judge's verdict
    stands; where the student's kernel says "passed", the teacher is asked to look, since an
    honest answer built on its own classes can meet what the judge cannot follow."""
    for index, outcome in sorted(client.deferred.items()):
        cell = client.nb.cells[index]
        judged = cell.outputs
        client.force_in_kernel.add(index)
        try:
            _run_with_watchdog(client, sandbox, cell, index, timeout, deadline)
        except DeadKernelError:
            return
        finally:
            client.force_in_kernel.discard(index)
            passed_inside = not any(o.get("output_type") == "error" for o in cell.outputs)
            cell.outputs = judged
        if passed_inside:
            why = outcome.unsplittable or "an object of the student's, not data, took part"
            client.flag(index, f"the judge failed this test ({why}), but inside the student's kernel, where the "
                               f"student's code can change the result, it passed: check this answer and give its "
                               f"points by hand if it is right")


def _kernel_pid(client: GradingClient) -> int | None:
    process = getattr(getattr(client.km, "provisioner", None), "process", None)
    return getattr(process, "pid", None)


def _kill_kernel(client: GradingClient) -> None:
    process = getattr(getattr(client.km, "provisioner", None), "process", None)
    if process is not None:
        process.kill()


def _run_with_watchdog(client: GradingClient, sandbox: "Sandbox", cell: Any, index: int, timeout: float,
                       deadline: float) -> None:
    """A cell that ignores the interrupt (a loop that swallows KeyboardInterrupt) or hangs the
    kernel (a broken builtin) is ended by killing the kernel, which the caller restarts; so is
    every cell once the notebook's wall-clock time is up."""
    budget = 2 * timeout + 5 if role(cell) is Role.TEST else timeout + 5  # a judged test may also run its visible part
    timer = threading.Timer(max(0.0, min(budget, deadline - time.monotonic())), _kill_kernel, args=(client,))
    timer.start()
    try:
        client.execute_cell(cell, index)
    except CellTimeoutError:
        client.flag(index, f"the cell ran longer than {timeout:g} s and was interrupted")
    finally:
        timer.cancel()
        sandbox.kill_strays({_kernel_pid(client)})
    if any(o.get("ename") == "KeyboardInterrupt" for o in cell.get("outputs", [])):
        client.flag(index, f"the cell ran longer than {timeout:g} s and was interrupted")


def execute_notebook(sandbox: "Sandbox", nb: Any, data_dir: Path, cell_timeout: float,
                     hidden: dict[str, HiddenSet] | None = None, release_dir: Path | None = None) -> Any:
    """Run one sanitized notebook in the sandbox, with the submission's files beside it, the
    released data files over them (the teacher's data wins over a student's edited or missing
    copy), and the hidden data sets' features (never their labels). The notebook itself (with its
    hidden tests) stays in this process: it is never on the sandbox's disk."""
    work = sandbox.fresh_workdir()
    for folder in (data_dir, release_dir):
        if folder is not None and folder.is_dir():
            copy_data(folder, work, top=True)
    for hidden_set in (hidden or {}).values():
        hidden_set.write_features(work / FEATURES_DIR)
    sandbox.give(work)
    wall = sandbox.pool.limits.wall_seconds
    original = copy.deepcopy(nb)
    try:
        return run(nb, sandbox, cell_timeout, time.monotonic() + wall, hidden, release_dir)
    except WallClockExceeded:
        return failed(original, f"the notebook ran longer than {wall:g} s and was stopped")


def data_file_names(folder: Path | None) -> frozenset[str]:
    """The data files of a release, as a test names them (relative paths)."""
    if folder is None or not folder.is_dir():
        return frozenset()
    return frozenset(str(p.relative_to(folder)) for p in folder.rglob("*")
                     if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb" and not p.name.startswith("."))


def copy_data(source: Path, target: Path, top: bool = False) -> None:
    """A submission's (or a release's) data files, as plain files and folders: links, sockets and pipes a
    student left in the folder are not followed or opened (a pipe would block the copy)."""
    for item in source.iterdir():
        if item.name.startswith(".") or top and (item.suffix == ".ipynb" or item.name == "timestamp.txt"):
            continue
        if item.is_symlink():
            continue
        if item.is_dir():
            (target / item.name).mkdir(exist_ok=True)
            copy_data(item, target / item.name)
        elif item.is_file():
            shutil.copy2(item, target / item.name)


def failed(nb: Any, reason: str) -> Any:
    """The notebook as graded when it could not be run to the end: every test cell fails, with why."""
    write_flags(nb, [Flag(WHOLE_NOTEBOOK, reason)])
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.outputs = [nbformat.v4.new_output("error", ename="GradingStopped", evalue=reason, traceback=[])]
    return nb
