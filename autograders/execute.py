"""Executes one sanitized notebook with nbclient, in a kernel inside a grading sandbox (forked by
the pool's zygote). What it met on the way goes into the notebook's metadata (`stemlab.flags`),
each with the cell and the reason, for the teacher.

- The notebook (with its hidden tests) stays in the runner's process: it never touches the
  sandbox's disk, and the sandbox's account cannot read the runner's memory.
- Test cells run in the sandbox's judge (autograders/judge.py), which asks the student's kernel
  for the student's values; the few that must be judged in the student's kernel (split.py says
  which) skip IPython's input and AST transformers (a student's transformer could strip
  `assert`): they run as an expression of the execute request, with strict `==` and `isinstance`
  (kernel_side/in_kernel.py).
- A kernel that dies (os._exit, a kill, the memory limit) or that ignores the interrupt after
  the cell timeout is restarted; the cells before it run again, and grading goes on.
- Output is capped per cell in bytes.
"""

from __future__ import annotations

import ast
import json
import queue
import time
from typing import TYPE_CHECKING, Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync

from .flags import Flag
from .judge import Judge, JudgeLost, JudgeOutcome
from .model import MIME, HiddenSet, score
from .scan import AST_LOCK
from .split import NotebookPlan, Role, plan_notebook, role

if TYPE_CHECKING:
    from .sandbox import Sandbox


class _StrictAsserts(ast.NodeTransformer):
    """`assert x == y` -> `assert __stemlab_strict_eq(x, y)` (and `!=` likewise), and
    `isinstance(x, T)` -> the type's own answer (not `x.__class__`), in test cells."""

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            node.func = ast.Name("__stemlab_isinstance", ast.Load())
        return node

    def visit_Assert(self, node: ast.Assert) -> ast.Assert:
        self.generic_visit(node)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq)):
            call = ast.Call(ast.Name("__stemlab_strict_eq", ast.Load()), [test.left, test.comparators[0]], [])
            node.test = call if isinstance(test.ops[0], ast.Eq) else ast.UnaryOp(ast.Not(), call)
        return node


def test_payload(source: str) -> str:
    """A test cell as one expression that IPython evaluates without transforming it."""
    try:
        with AST_LOCK:
            body = ast.unparse(ast.fix_missing_locations(_StrictAsserts().visit(ast.parse(source))))
    except SyntaxError:
        body = source
    return f"__stemlab_test({body!r}, globals())"


def _is_test(cell: Any) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


GUARD_EXPR = "__import__('autograders.kernel_side.in_kernel', fromlist=['_']).guard_ids(globals())"
# Before any cell: the in-kernel tests' runner (holding the builtins as they are now), and the
# bridge that answers the judge.
KERNEL_PREPARATION = ("from autograders.kernel_side.in_kernel import run_test as __stemlab_test\n"
                      "import autograders.kernel_side.student_side as __stemlab_bridge")


def _is_given(cell: Any) -> bool:
    """A code cell the teacher wrote and locked, that is neither an answer nor a test."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and meta.get("locked") and not meta.get("grade") and not meta.get("solution")


class GradingClient(NotebookClient):
    max_output_bytes = 1024 * 1024

    def __init__(self, nb: Any, hidden: dict[str, HiddenSet] | None = None, judge: Judge | None = None,
                 data_files: frozenset[str] = frozenset(), **kw: Any):
        super().__init__(nb, **kw)
        self.hidden = hidden or {}
        self.flags: list[Flag] = []
        self._expression: str | None = None
        self._bytes: dict[int, int] = {}
        self._guarded: dict[str, int] | None = None
        self.judge = judge
        self.plan: NotebookPlan = plan_notebook(nb.cells, data_files) if judge else NotebookPlan()
        self.judge_broken: str | None = None if judge else "no judge"
        self.in_kernel: dict[str, str] = {}          # test cell: why it was judged in the student's kernel
        self.deferred: dict[int, JudgeOutcome] = {}  # test cells to judge again in the student's kernel
        self.force_in_kernel: set[int] = set()
        self._plain_run = False  # a test's visible part, run for its names only

    def flag(self, cell_index: int, reason: str) -> None:
        grade_id = self.nb.cells[cell_index].metadata.get("nbgrader", {}).get("grade_id") if cell_index >= 0 else None
        self.flags.append(Flag(grade_id or cell_index, reason))

    # ---- test cells run as an expression of the execute request
    async def async_execute_cell(self, cell: Any, cell_index: int, execution_count: int | None = None,
                                 store_history: bool = True) -> Any:
        kind = role(cell)
        if kind is Role.TEST and cell_index not in self.force_in_kernel:
            test = self.plan.tests.get(cell_index)
            if test is not None and test.judge_code is not None and self.judge_broken is None:
                return await self._judged_test(cell, cell_index, test.judge_code, test.student_part)
            self.in_kernel[self._cell_name(cell, cell_index)] = (
                test.in_kernel_reason if test is not None and test.in_kernel_reason else f"the judge: {self.judge_broken}")
        result = await self._in_kernel(cell, cell_index, execution_count, store_history)
        part = self.plan.judge_parts.get(cell_index)
        if part is not None and self.judge_broken is None:
            await self._judge_part(part, cell, cell_index)
        return result

    @staticmethod
    def _cell_name(cell: Any, cell_index: int) -> str:
        return str(cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell-{cell_index}")

    async def _in_judge(self, code: str, cell: Any, cell_index: int) -> JudgeOutcome:
        """One cell's judge code; a judge that stopped is a failed outcome, and no more judge."""
        assert self.judge is not None
        try:
            return await self.judge.run(code, self._cell_name(cell, cell_index), self._ask, self.timeout or 30,
                                        self.max_output_bytes)
        except JudgeLost as err:
            self.judge_broken = str(err)
            return JudgeOutcome(False, error={"ename": "JudgeLost", "evalue": str(err), "traceback": []},
                                unsplittable=str(err))

    async def _judge_part(self, code: str, cell: Any, cell_index: int) -> None:
        """The judge's share of a teacher's given cell (or of a student's imports)."""
        outcome = await self._in_judge(code, cell, cell_index)
        if not outcome.ok and role(cell) is Role.GIVEN and self.judge_broken is None:
            error = outcome.error or {}
            self.judge_broken = (f"the teacher's cell {self._cell_name(cell, cell_index)} failed there "
                                 f"({error.get('ename')}: {error.get('evalue')})")

    async def _judged_test(self, cell: Any, cell_index: int, code: str, student_part: str | None) -> Any:
        """A test cell run by the judge; the student's kernel only answers its questions."""
        outcome = await self._in_judge(code, cell, cell_index)
        if outcome.unsplittable or (not outcome.ok and outcome.remote):
            self.deferred[cell_index] = outcome
        cell.outputs = list(outcome.outputs)
        if not outcome.ok:
            error = outcome.error or {}
            cell.outputs.append(nbformat.v4.new_output("error", ename=str(error.get("ename", "Error")),
                                                       evalue=str(error.get("evalue", "")),
                                                       traceback=list(error.get("traceback", []))))
        self._score_test_outputs(cell, cell_index)
        if self.km is not None and not await ensure_async(self.km.is_alive()):
            raise DeadKernelError("the student's kernel died while the judge asked it")
        if student_part:  # what later cells read of this test's names, as the student's notebook has them
            judged, original = cell.outputs, cell.source
            cell.source, self._plain_run = student_part, True
            try:
                await self._in_kernel(cell, cell_index, None, True)
            finally:
                cell.source, cell.outputs, self._plain_run = original, judged, False
        return cell

    async def _ask(self, request: str, timeout: float) -> str:
        """One question of the judge's, put to the student's kernel; its answer, as the judge reads it."""
        content = await self._silently("", {"r": f"__stemlab_bridge.serve({request!r})"}, timeout=timeout)
        if content is None:
            if self.km is not None and await ensure_async(self.km.is_alive()):
                await ensure_async(self.km.interrupt_kernel())
            return _raised("TimeoutError", "the student's code did not answer in time")
        result = content.get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            return _raised("RuntimeError", f"the student's kernel could not answer ({result.get('ename')})")
        try:
            with AST_LOCK:
                text = ast.literal_eval(result["data"]["text/plain"])
        except (ValueError, SyntaxError, TypeError, KeyError, MemoryError, RecursionError):
            text = None
        return text if isinstance(text, str) else _raised("RuntimeError", "the student's kernel answered with no value")

    async def _in_kernel(self, cell: Any, cell_index: int, execution_count: int | None = None,
                         store_history: bool = True) -> Any:
        before = await self._guard_ids() if _is_given(cell) else None
        as_test = _is_test(cell) and not self._plain_run
        if as_test:
            await self._check_guarded(cell_index)
        self._expression = test_payload(cell.source) if as_test else None
        original = cell.source
        if self._expression is not None:
            cell.source = "pass  # graded as an expression"
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            cell.source = original
            if self._expression is not None:
                self._score_test_outputs(cell, cell_index)
            self._expression = None
            if before is not None:
                await self._adopt_given(before)

    execute_cell = run_sync(async_execute_cell)  # nbclient's binds the base class's coroutine

    def _score_test_outputs(self, cell: Any, cell_index: int) -> None:
        """A test cell's result decides its partial credit in nbgrader, so only the grader makes
        one: a result the student's code produced is dropped, and predictions handed to the
        grader (autograders.model) are scored here, against labels the sandbox never had."""
        outputs = []
        reports = []
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                self.flag(cell_index, "the student's code produced a result inside a test cell (it could fake "
                                      "partial credit); it was dropped")
            elif MIME in output.get("data", {}):
                reports.append(output["data"][MIME])
            else:
                outputs.append(output)
        if reports:
            if len(reports) > 1:
                self.flag(cell_index, "more than one set of predictions was reported in this test; the first was scored")
            report = reports[0] if isinstance(reports[0], dict) else {}
            hidden = self.hidden.get(str(report.get("name")))
            if hidden is None:
                outputs.append(nbformat.v4.new_output(
                    "error", ename="HiddenDataMissing", traceback=[],
                    evalue=f"the grader has no hidden data set {report.get('name')!r} for this assignment"))
            else:
                result = score(hidden, report.get("predictions"), float(cell.metadata["nbgrader"].get("points", 0)))
                outputs.append(nbformat.v4.new_output("stream", name="stdout", text=result.feedback + "\n"))
                outputs.append(nbformat.v4.new_output("execute_result", data={"text/plain": f"{result.points:g}"},
                                                      execution_count=cell.get("execution_count")))
        cell.outputs = outputs

    async def _adopt_given(self, before: dict[str, int]) -> None:
        """What a teacher's cell defined (or redefined) is now what the tests may rely on."""
        after = await self._guard_ids()
        if self._guarded is None or after is None:
            return
        for name, ident in after.items():
            if name not in self._guarded or before.get(name) != ident:
                self._guarded[name] = ident

    async def _check_guarded(self, cell_index: int) -> None:
        now = await self._guard_ids()
        if self._guarded is None or now is None:
            return
        changed = sorted(k for k, v in self._guarded.items() if now.get(k) != v)
        if changed:
            kinds = [("builtins replaced", [k[len("builtins."):] for k in changed if k.startswith("builtins.")]),
                     ("test helpers replaced or removed", [k for k in changed if not k.startswith("builtins.")])]
            self.flag(cell_index, "; ".join(f"{what} before this test: {', '.join(names[:8])}"
                                            for what, names in kinds if names))
            self._guarded.update({k: now[k] for k in changed if k in now})  # flag once per change
            for k in changed:
                if k not in now:
                    self._guarded.pop(k)

    async def _silently(self, code: str, expressions: dict[str, str] | None = None,
                        timeout: float = 10) -> dict[str, Any] | None:
        """Run code in the kernel outside the notebook (no output, no history); the reply's content."""
        client: Any = self.kc  # an async kernel client (nbclient types it as the base class)
        assert client is not None
        msg_id = client.execute(code, silent=True, user_expressions=expressions or {})
        deadline = time.monotonic() + timeout
        try:
            reply = await ensure_async(client.get_shell_msg(timeout=timeout))
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = await ensure_async(client.get_shell_msg(timeout=max(0.01, deadline - time.monotonic())))
        except queue.Empty:
            return None  # the kernel does not answer; the cell's own watchdog deals with it
        return reply["content"]

    async def _guard_ids(self) -> dict[str, int] | None:
        content = await self._silently("", {"g": GUARD_EXPR})
        if content is None:
            return None
        result = content.get("user_expressions", {}).get("g", {})
        if result.get("status") != "ok":
            return {}
        try:
            with AST_LOCK:
                text = ast.literal_eval(result["data"]["text/plain"])
            return json.loads(text)
        except (ValueError, SyntaxError, TypeError):
            return {}

    def prepare_kernel(self) -> None:
        """Before any cell: the test runner, holding the builtins as they are now; what tests rely
        on; the bridge that answers the judge."""
        run_sync(self._silently)(KERNEL_PREPARATION)
        self._guarded = run_sync(self._guard_ids)()

    async def _check_raise_for_error(self, cell: Any, cell_index: int, exec_reply: Any) -> None:
        if self._expression is not None and exec_reply is not None:
            result = exec_reply["content"].get("user_expressions", {}).get("t", {})
            if result.get("status") != "ok":
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename=result.get("ename", "Error"), evalue=result.get("evalue", ""),
                    traceback=result.get("traceback", [])))
        await super()._check_raise_for_error(cell, cell_index, exec_reply)

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        size = len(json.dumps(msg.get("content", {})))
        used = self._bytes.get(cell_index, 0)
        self._bytes[cell_index] = used + size
        if used + size > self.max_output_bytes:
            if used <= self.max_output_bytes:
                self.flag(cell_index, f"output over {self.max_output_bytes} bytes was cut")
                outs.append(nbformat.v4.new_output("stream", name="stderr",
                                                   text=f"\n[… output cut at {self.max_output_bytes} bytes …]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)


def _raised(kind: str, message: str) -> str:
    return json.dumps({"raised": {"type": {"module": "builtins", "qualname": kind},
                                  "mro": [{"module": "builtins", "qualname": kind}], "message": message}})


def _patch_execute(client: GradingClient) -> None:
    """Send the test expression with the execute request of a test cell."""
    assert client.kc is not None
    original = client.kc.execute

    def execute(code: str, *args: Any, **kwargs: Any) -> str:
        if client._expression is not None:
            kwargs["user_expressions"] = {"t": client._expression}
            kwargs["silent"] = False
        return original(code, *args, **kwargs)

    client.kc.execute = execute  # type: ignore[method-assign]
