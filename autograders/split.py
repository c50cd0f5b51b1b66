"""Which side runs what: a notebook's cells split between the student's kernel and the judge.

Read in notebook order, each name has an owner. The student's cells make the names they bind the
student's; the teacher's given cells run in both kernels (the judge runs their imports, functions
and classes, and those statements that need nothing of the student's); a test cell runs in the
judge, rewritten so that each read of a name the student owns (or that nobody the judge knows
defined) becomes `__stemlab_student__("name")`, a question to the student's kernel.

A test that depends on what the student's code left in its own process rather than on values
(a matplotlib figure, a file, `globals()`, an IPython magic, a change to the student's object)
cannot be judged from outside: it is planned "in the student's kernel", with the reason, and run
there as before (autograders/execute.py says so to the teacher).
"""

from __future__ import annotations

import ast
import builtins
import enum
from dataclasses import dataclass, field
from typing import Any

from .kernel_side.judge_side import STUDENT
from .names import (BUILTIN_NAMES, dotted_name, names_read, ToStudent, bound_names, changed_names, python_source,
                    reads)

# Modules whose functions compute from their arguments, so the judge's copy answers as the
# student's would; a name in IMPURE_PARTS (a file read, a plot) still sends the test to the kernel.
PURE_ROOTS = frozenset({
    "math", "cmath", "numpy", "fractions", "decimal", "statistics", "operator", "itertools", "functools",
    "collections", "string", "re", "json", "typing", "copy", "nose", "pandas", "sklearn", "scipy", "random",
    "datetime", "unicodedata", "textwrap", "autograders", "heapq", "bisect", "numbers", "enum", "dataclasses",
    "csv"})
IMPURE_PARTS = frozenset({
    "load", "loadtxt", "genfromtxt", "fromfile", "save", "savez", "savetxt", "tofile", "memmap", "read_csv",
    "read_excel", "read_json", "read_table", "read_pickle", "read_parquet", "to_csv", "to_excel", "to_pickle",
    "dump", "load_npz", "io", "last_program"})
KERNEL_BUILTINS = frozenset({
    "open", "exec", "eval", "globals", "locals", "vars", "input", "__import__", "compile", "breakpoint", "exit",
    "quit", "get_ipython", "dir", "help"})


class Owner(enum.Enum):
    JUDGE = "judge"
    STUDENT = "student"


class Role(enum.Enum):
    GIVEN = "given"      # a locked cell of the teacher's
    TEST = "test"        # a graded cell without a solution
    STUDENT = "student"  # an answer or a cell of the student's own
    OTHER = "other"      # markdown, raw


def role(cell: Any) -> Role:
    if cell.cell_type != "code":
        return Role.OTHER
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return Role.TEST
    if meta.get("locked") and not meta.get("solution"):
        return Role.GIVEN
    return Role.STUDENT


@dataclass(frozen=True)
class TestPlan:
    judge_code: str | None            # what the judge runs; None: judged in the student's kernel
    in_kernel_reason: str | None = None
    student_part: str | None = None   # the test's visible part, for the student's kernel (its names are needed later)


@dataclass
class NotebookPlan:
    judge_parts: dict[int, str] = field(default_factory=dict)  # cell index: what the judge runs of a given cell
    tests: dict[int, TestPlan] = field(default_factory=dict)   # (or the imports of a student's cell)


class Planner:
    """Walks a notebook's cells in order, keeping each name's owner."""

    def __init__(self, data_files: frozenset[str] = frozenset()) -> None:
        self.data_files = data_files                     # the files the judge has too (the release's)
        self.owner: dict[str, Owner] = {}
        self.origin: dict[str, str] = {}                 # an imported name the judge has: its dotted origin
        self.modules: set[str] = set()                   # names bound to modules by `import`
        # what the teacher's cells import or define (functions, classes): a test that calls one means
        # the teacher's, whatever the student's cells bind to that name (the scan flags it)
        self.teachers: set[str] = set()
        self.helper_uses: dict[str, set[str]] = {}       # a teacher's function: what it reaches
        self.plan = NotebookPlan()

    # ---- the student's cells
    def student_cell(self, index: int, tree: ast.Module | None) -> None:
        """What the student's cell binds or changes is theirs; but a module it imports (numpy, math)
        the judge imports itself, so a test's `np.isclose` is never the student's."""
        if tree is None:
            return
        imports: list[ast.stmt] = [s for s in tree.body
                                   if isinstance(s, (ast.Import, ast.ImportFrom)) and self._pure_import(s)]
        imported = bound_names(ast.Module(body=imports, type_ignores=[]))
        for name in (bound_names(tree) | (changed_names(tree) - self.modules - imported)) - self.teachers:
            self.owner[name] = Owner.STUDENT
        for statement in imports:
            self._record_imports(statement)
            for name in bound_names(ast.Module(body=[statement], type_ignores=[])):
                self.owner[name] = Owner.JUDGE
        rebound = bound_names(ast.Module(body=[s for s in tree.body if s not in imports], type_ignores=[]))
        for name in rebound - self.teachers:  # bound again by the student's own code after the import
            self.owner[name] = Owner.STUDENT
        if imports:
            self.plan.judge_parts[index] = ast.unparse(ast.Module(body=imports, type_ignores=[]))

    @staticmethod
    def _pure_import(statement: ast.Import | ast.ImportFrom) -> bool:
        if isinstance(statement, ast.ImportFrom):
            return statement.module is not None and not statement.level and statement.module.split(".")[0] in PURE_ROOTS \
                and all(a.name != "*" for a in statement.names)
        return all(a.name.split(".")[0] in PURE_ROOTS for a in statement.names)

    # ---- the teacher's given cells
    def given_cell(self, index: int, tree: ast.Module | None) -> None:
        if tree is None:
            return
        kept: list[ast.stmt] = []
        for statement in tree.body:
            names = bound_names(ast.Module(body=[statement], type_ignores=[]))
            defines = isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                                             ast.ClassDef))
            if defines:  # a recursive function reads its own name
                self.owner.update({name: Owner.JUDGE for name in names})
                self.teachers |= names
            needs_student = [n for n in reads(statement) if self._is_students(n.id) and (
                n.id not in names or defines or self.owner.get(n.id) is Owner.STUDENT)]
            if defines or not needs_student and not self._is_magic(statement):
                kept.append(self._rewritten(statement, needs_student) if defines else statement)
                self._record_imports(statement)
                for name in names:
                    self.owner[name] = Owner.JUDGE
                    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        self.helper_uses[name] = self._reaches(statement)
            else:
                for name in names:
                    self.owner[name] = Owner.STUDENT
        if kept:
            self.plan.judge_parts[index] = ast.unparse(ast.Module(body=kept, type_ignores=[]))

    # ---- test cells
    def test_cell(self, index: int, tree: ast.Module | None, visible: str, needed_later: bool) -> None:
        if tree is None:
            self.plan.tests[index] = TestPlan(None, "the test cell is not Python the runner can read")
            return
        bound_here = bound_names(tree)
        for statement in tree.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                self._record_imports(statement)
        first_binding: dict[str, int] = {}
        for position, statement in enumerate(tree.body):
            for name in bound_names(ast.Module(body=[statement], type_ignores=[])):
                first_binding.setdefault(name, position)
        to_student: set[int] = set()
        reason = None
        for position, statement in enumerate(tree.body):
            for node in reads(statement):
                if node.id in bound_here and not (self.owner.get(node.id) is Owner.STUDENT
                                                  and position < first_binding[node.id]):
                    continue
                if self._is_students(node.id):
                    to_student.add(id(node))
            reason = reason or self._kernel_only(statement, to_student, bound_here)
        if reason is None:
            reached = self._reaches(tree, exclude=to_student)
            reason = self._kernel_only_reach(reached)
        for name in bound_here:  # a test judged in the student's kernel leaves its names there
            self.owner[name] = Owner.JUDGE if reason is None else Owner.STUDENT
        if reason is not None:
            self.plan.tests[index] = TestPlan(None, reason)
            return
        code = ast.unparse(ast.fix_missing_locations(ToStudent(to_student).visit(tree)))
        self.plan.tests[index] = TestPlan(code, None, visible if needed_later else None)

    # ---- helpers
    def _is_students(self, name: str) -> bool:
        owner = self.owner.get(name)
        if owner is not None:
            return owner is Owner.STUDENT
        return name not in BUILTIN_NAMES and name != STUDENT

    @staticmethod
    def _is_magic(statement: ast.stmt) -> bool:
        return any(isinstance(n, ast.Name) and n.id == "get_ipython" for n in ast.walk(statement))

    def _rewritten(self, statement: ast.stmt, names: list[ast.Name]) -> ast.stmt:
        ids = {id(n) for n in names}
        return ast.fix_missing_locations(ToStudent(ids).visit(statement)) if ids else statement

    def _record_imports(self, statement: ast.stmt) -> None:
        if isinstance(statement, ast.Import):
            self.modules |= {(a.asname or a.name).split(".")[0] for a in statement.names}
            for alias in statement.names:
                self.origin[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            for alias in statement.names:
                self.origin[alias.asname or alias.name] = f"{statement.module}.{alias.name}"

    def _reaches(self, node: ast.AST, exclude: set[int] | None = None) -> set[str]:
        """The dotted names (modules' functions, builtins) a piece of the teacher's code uses,
        through the teacher's functions it calls."""
        found: set[str] = set()
        exempt = self._data_reads(node)
        for name in reads(node):
            if exclude and id(name) in exclude or id(name) in exempt:
                continue
            if name.id in self.helper_uses:
                found |= self.helper_uses[name.id]
            elif name.id in self.origin:
                found.add(self.origin[name.id])
            elif name.id in KERNEL_BUILTINS and self.owner.get(name.id) is None:
                found.add(f"builtins.{name.id}")
        for attribute in (n for n in ast.walk(node) if isinstance(n, ast.Attribute) and id(n) not in exempt):
            path = dotted_name(attribute)
            if path and path[0] in self.origin and not (exclude and any(
                    isinstance(n, ast.Name) and id(n) in exclude for n in ast.walk(attribute))):
                found.add(".".join([self.origin[path[0]], *path[1:]]))
        if any(isinstance(n, ast.Import | ast.ImportFrom) for n in ast.walk(node)):
            for n in ast.walk(node):
                if isinstance(n, ast.Import):
                    found |= {a.name for a in n.names}
                elif isinstance(n, ast.ImportFrom) and n.module:
                    found.add(n.module)
        return found

    def _data_reads(self, node: ast.AST) -> set[int]:
        """The calls that only read one of the judge's own data files by name (`open("data.csv")`,
        `np.loadtxt("x.csv")`): the judge has the same file, so they need no student's kernel."""
        exempt: set[int] = set()
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            first = call.args[0] if call.args else None
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value in self.data_files):
                continue
            modes = [a for a in call.args[1:2]] + [k.value for k in call.keywords if k.arg == "mode"]
            if any(not (isinstance(m, ast.Constant) and isinstance(m.value, str) and set(m.value) <= set("rbt"))
                   for m in modes):
                continue
            exempt |= {id(n) for n in ast.walk(call.func)}
        return exempt

    @staticmethod
    def _kernel_only_reach(reached: set[str]) -> str | None:
        for dotted in sorted(reached):
            parts = dotted.split(".")
            if parts[0] == "builtins":
                return f"the test calls {parts[1]}(), which sees the student's kernel, not values"
            if parts[0] not in PURE_ROOTS:
                return f"the test uses {dotted}, whose state lives in the student's kernel"
            if IMPURE_PARTS.intersection(parts[1:]):
                return f"the test uses {dotted}, which reads or writes files the student's code made"
        return None

    def _kernel_only(self, statement: ast.stmt, to_student: set[int], bound_here: set[str]) -> str | None:
        for node in ast.walk(statement):
            if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
                if any(isinstance(n, ast.Name) and id(n) in to_student for n in ast.walk(node.value)):
                    return "the test changes one of the student's objects"
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and \
                    self.owner.get(node.target.id) is Owner.STUDENT:
                return "the test changes one of the student's values in place"
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del) and self.owner.get(node.id) is not Owner.JUDGE:
                return f"the test deletes the student's {node.id} (to see what then fails)"
            if isinstance(node, (ast.Global, ast.Nonlocal)) and set(node.names) - bound_here:
                return "the test declares the student's names global"
        return None

    # ---- the notebook
    def walk(self, cells: list[Any]) -> NotebookPlan:
        trees = [python_source(c.source) if c.cell_type == "code" else None for c in cells]
        roles = [role(c) for c in cells]
        read_sets = [names_read(t) for t in trees]
        for index, (cell, tree, kind) in enumerate(zip(cells, trees, roles)):
            try:
                if kind is Role.STUDENT:
                    self.student_cell(index, tree)
                elif kind is Role.GIVEN:
                    self.given_cell(index, tree)
                elif kind is Role.TEST:
                    later = set().union(set(), *(r for r, k in zip(read_sets[index + 1:], roles[index + 1:])
                                                 if k is not Role.TEST))
                    needed = bool(tree is not None and bound_names(tree) & later)
                    self.test_cell(index, tree, visible_part(cell.source), needed)
            except (RecursionError, MemoryError, ValueError):
                # code too deep for the walk: a student's cell then binds nothing known (its names
                # stay the student's, as every unknown name is); a teacher's test is judged as before
                if kind is Role.TEST:
                    self.plan.tests[index] = TestPlan(None, "the test cell is nested too deeply for the runner to split")
        return self.plan


def visible_part(source: str, begin: str = "BEGIN HIDDEN TESTS", end: str = "END HIDDEN TESTS") -> str:
    """A test cell as the student's notebook shows it: without its hidden tests."""
    kept, hiding = [], False
    for line in source.split("\n"):
        if begin in line:
            hiding = True
        elif end in line:
            hiding = False
        elif not hiding:
            kept.append(line)
    return "\n".join(kept)


def plan_notebook(cells: list[Any], data_files: frozenset[str] = frozenset()) -> NotebookPlan:
    return Planner(data_files).walk(cells)
