"""A look at the student's own code before it runs: what could fake or dodge the tests is flagged
for the teacher, with the cell and the reason. The sandbox and the strict test execution already
give most of these the score the honest code earns; the flag says why to look anyway."""

from __future__ import annotations

import ast
import threading
from typing import Any

from .flags import Flag

# CPython 3.11 keeps the AST converter's recursion depth in state shared between threads: two
# grading workers parsing at once fail one submission with "SystemError: AST constructor
# recursion depth mismatch" (python/cpython#106905). Every parse in the runner's threads holds this.
AST_LOCK = threading.Lock()


def parse(source: str) -> ast.Module:
    with AST_LOCK:
        return ast.parse(source)

COMPARISONS = {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__bool__"}
IPYTHON_HOOKS = {"ast_transformers", "input_transformers_post", "input_transformers_cleanup", "register_magic_function",
                 "events", "set_custom_exc", "showtraceback", "run_cell", "run_cell_magic", "user_expressions",
                 "run_ast_nodes", "run_code", "transform_cell", "display_formatter", "displayhook", "do_execute",
                 "shell_handlers", "execute_request", "raw_input", "_input_request", "user_global_ns"}
FUNCTION_INTERNALS = {"__defaults__", "__kwdefaults__", "__code__", "__globals__", "__closure__", "__wrapped__"}
EXITS = {("sys", "exit"), ("os", "_exit"), ("os", "kill"), ("os", "abort"), ("signal", "signal"),
         ("os", "killpg"), ("os", "fork"), ("builtins", "exit")}


class _Scanner(ast.NodeVisitor):
    def __init__(self, teacher_names: set[str], modules: dict[str, str] | None = None):
        self.teacher_names = teacher_names
        self.reasons: list[str] = []
        self.modules = {} if modules is None else modules  # names for modules, from this cell and those before

    def say(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name in COMPARISONS:
                self.say(f"class {node.name} defines {item.name}, which could fake the tests' comparisons")
            if isinstance(item, (ast.Assign, ast.AnnAssign)):
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                if any(isinstance(t, ast.Name) and t.id == "__class__" for t in targets):
                    self.say(f"class {node.name} pretends to be another type (__class__)")
            if isinstance(item, ast.FunctionDef) and item.name == "__class__":
                self.say(f"class {node.name} pretends to be another type (__class__)")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in IPYTHON_HOOKS:
            self.say(f"changes how IPython runs code (.{node.attr})")
        if node.attr == "__class__" and isinstance(node.ctx, ast.Store):
            self.say("changes an object's __class__")
        if node.attr in FUNCTION_INTERNALS and isinstance(node.ctx, (ast.Store, ast.Del)):
            self.say(f"changes a function's {node.attr}")
        if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in EXITS:
            self.say(f"calls {node.value.id}.{node.attr} (ends or signals the kernel)")
        if isinstance(node.value, ast.Name) and node.value.id in ("builtins", "__builtins__") and isinstance(node.ctx, ast.Store):
            self.say(f"replaces the builtin {node.attr}")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._defines([t.id for t in node.targets if isinstance(t, ast.Name)], "assignment")
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr == "__class__":
                self.say("changes an object's __class__")
            elif isinstance(target, ast.Attribute) and self._module_path(target.value):
                self.say(f"replaces {self._module_path(target.value)}.{target.attr}, a library's own "
                         "(a test could rely on it)")
        self.generic_visit(node)

    def _module_path(self, node: ast.AST) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.modules and self.modules[node.id] != "builtins":
            return ".".join([self.modules[node.id], *reversed(parts)])
        return None

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__stemlab"):
            self.say(f"touches the grader's own helper {node.id}")
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self._grader_module([a.name for a in node.names])
        for alias in node.names:
            self.modules[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._grader_module([node.module or ""])
        self.generic_visit(node)

    def _grader_module(self, names: list[str]) -> None:
        for name in names:
            if name.split(".")[0] in ("autograders", "nbgrader", "ipykernel", "jupyter_client", "zmq") or \
                    name.startswith("lab_hardware.sim"):
                self.say(f"imports {name}, a part of the grader")

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "__builtins__" and isinstance(node.ctx, ast.Store):
            self.say("replaces builtins")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Name) and first.id in ("builtins", "__builtins__"):
                self.say("replaces builtins (setattr)")
            second = node.args[1] if len(node.args) > 1 else None
            if isinstance(second, ast.Constant) and second.value in IPYTHON_HOOKS | FUNCTION_INTERNALS:
                self.say(f"changes {second.value} (setattr)")
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        for handler in (h for n in ast.walk(node) if isinstance(n, ast.Try) for h in n.handlers):
            caught = handler.type
            names = {caught.id} if isinstance(caught, ast.Name) else (
                {e.id for e in caught.elts if isinstance(e, ast.Name)} if isinstance(caught, ast.Tuple) else set())
            if caught is None or names & {"KeyboardInterrupt", "BaseException"}:
                self.say("a loop that catches KeyboardInterrupt (cannot be stopped)")
        self.generic_visit(node)

    def _defines(self, names: list[str], where: str) -> None:
        for name in names:
            if name in self.teacher_names:
                self.say(f"redefines {name}, which the teacher's cells define ({where})")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._defines([node.name], "def")
        self.generic_visit(node)



def helper_functions(source: str) -> set[str]:
    """What a teacher's cell defines or imports (test helpers and libraries a student might rebind)."""
    try:
        tree = parse(source)
    except SyntaxError:
        return set()
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    return names


def scan_notebook(nb: Any) -> list[Flag]:
    """Flags for the student's cells (answers and free cells), judged against the teacher's."""
    teacher: set[str] = set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("locked") and not meta.get("grade"):
            teacher |= helper_functions(cell.source)
    flags: list[Flag] = []
    modules: dict[str, str] = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            try:  # the teacher's imports: a student may change `math.isclose` without importing math
                _Scanner(teacher, modules).visit(ast.Module(body=[n for n in parse(cell.source).body
                                                                  if isinstance(n, ast.Import)], type_ignores=[]))
            except SyntaxError:
                pass
            continue
        try:
            tree = parse(cell.source)
        except SyntaxError:
            continue  # the run reports it
        scanner = _Scanner(teacher, modules)
        scanner.visit(tree)
        for reason in scanner.reasons:
            flags.append(Flag(meta.get("grade_id") or index, reason))
    return flags
