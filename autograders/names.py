"""What a piece of Python binds, changes and reads: the name analysis the runner's planner
(split.py) decides with, read with the same transformers as IPython's."""

from __future__ import annotations

import ast
import builtins

from IPython.core.inputtransformer2 import TransformerManager

from .kernel_side.judge_side import STUDENT
from .scan import AST_LOCK

BUILTIN_NAMES = frozenset(dir(builtins)) | {"display", "get_ipython", "In", "Out"}


def python_source(source: str) -> ast.Module | None:
    """A cell as Python (IPython's magics become calls), or None if it does not parse."""
    try:
        with AST_LOCK:
            return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _targets(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}


def bound_names(tree: ast.Module) -> set[str]:
    """The module-level names a cell binds (not its functions' locals, but their `global`s)."""
    names: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if top:
                    names.add(child.name)
                names.update(n for g in ast.walk(child) if isinstance(g, ast.Global) for n in g.names)
                continue
            if isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            if top and isinstance(child, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in child.names if a.name != "*")
            if top and isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
                names.add(child.id)
            if top and isinstance(child, ast.NamedExpr):
                names.add(child.target.id)
            if top and isinstance(child, ast.ExceptHandler) and child.name:
                names.add(child.name)
            if top and isinstance(child, ast.MatchAs | ast.MatchStar) and child.name:
                names.add(child.name)
            visit(child, top)

    visit(tree, True)
    return names


def changed_names(tree: ast.Module, calls_ignored: frozenset[str] = BUILTIN_NAMES) -> set[str]:
    """Names a student's cell may change without binding them: `x.sort()`, `x[0] = 1`, `f(x)`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                isinstance(node.value.func, ast.Name) and node.value.func.id in calls_ignored:
            continue
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names |= {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            names.add(node.func.value.id)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            names |= {a.id for a in node.value.args if isinstance(a, ast.Name)}
        elif isinstance(node, ast.AugAssign):
            names |= _targets(node.target) | {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    return names


def _local_names(node: ast.AST) -> set[str]:
    """The names local to a function, lambda, comprehension or class body."""
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return set().union(*(_targets(g.target) for g in node.generators))
    args = getattr(node, "args", None)
    params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)} | (
        {args.vararg.arg} if args.vararg else set()) | ({args.kwarg.arg} if args.kwarg else set()) if args else set()
    if isinstance(node, ast.Lambda):
        return params
    declared = {n for g in ast.walk(node) if isinstance(g, (ast.Global, ast.Nonlocal)) for n in g.names}
    body = ast.Module(body=list(node.body), type_ignores=[])  # type: ignore[attr-defined]
    return (params | bound_names(body)) - declared


def dotted_name(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


class _Reads(ast.NodeVisitor):
    """The module-level names a piece of code reads (each with the node), scope by scope."""

    SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp,
              ast.DictComp, ast.GeneratorExp)

    def __init__(self) -> None:
        self.local: list[set[str]] = []
        self.reads: list[ast.Name] = []

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, self.SCOPES):
            for decorator in getattr(node, "decorator_list", []):
                self.visit(decorator)
            args = getattr(node, "args", None)
            for default in (getattr(args, "defaults", []) + [d for d in getattr(args, "kw_defaults", []) if d]) if args else []:
                self.visit(default)
            self.local.append(_local_names(node))
            for child in ast.iter_child_nodes(node):
                if child not in getattr(node, "decorator_list", []) and not isinstance(child, ast.arguments):
                    self.visit(child)
            self.local.pop()
            return
        super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and not any(node.id in scope for scope in self.local):
            self.reads.append(node)


def reads(node: ast.AST) -> list[ast.Name]:
    visitor = _Reads()
    visitor.visit(node)
    return visitor.reads


class ToStudent(ast.NodeTransformer):
    def __init__(self, names: set[int]):
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if id(node) in self.names:
            call = ast.Call(ast.Name(STUDENT, ast.Load()), [ast.Constant(node.id)], [])
            return ast.copy_location(call, node)
        return node


def names_read(tree: ast.Module | None) -> set[str]:
    try:
        return {n.id for n in reads(tree)} if tree is not None else set()
    except (RecursionError, MemoryError):
        return set()
