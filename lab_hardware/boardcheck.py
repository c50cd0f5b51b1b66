"""A static check of board code against the board's stubs, before it is sent: it names the misused
API (`led.toggel`: machine.Pin has no `toggel`; did you mean `toggle`?) and the line.

It reads the stubs with `ast` (no type checker to start, so it answers in milliseconds) and
follows the simple shapes lesson code has: `import machine`, `from yolobit import *`,
`led = Pin(2, Pin.OUT)` then `led.value(1)`. What it cannot follow it leaves alone: it reports
only what is certainly wrong on that board.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from functools import lru_cache

from .stubs import stub_file

# CPython libraries a student may try on a board, where they do not exist.
NOT_ON_BOARDS = {"numpy", "pandas", "matplotlib", "sklearn", "scipy", "tkinter", "turtle", "pathlib",
                 "subprocess", "multiprocessing", "requests", "ipywidgets", "serial", "threading"}


@dataclass
class Arity:
    least: int
    most: int | None  # None: *args


@dataclass
class ClassInfo:
    name: str
    members: dict[str, list[Arity] | None] = field(default_factory=dict)  # None: an attribute
    bases: list[str] = field(default_factory=list)


@dataclass
class ModuleInfo:
    name: str
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    functions: dict[str, list[Arity]] = field(default_factory=dict)
    values: dict[str, str | None] = field(default_factory=dict)  # name -> class name of its type, if known

    def names(self) -> set[str]:
        return set(self.classes) | set(self.functions) | set(self.values)


@dataclass
class Problem:
    line: int
    message_vi: str
    message_en: str

    def __str__(self) -> str:
        return f"dòng / line {self.line}: {self.message_vi} / {self.message_en}"


def _arity(fn: ast.FunctionDef, method: bool) -> Arity:
    args = fn.args
    positional = args.posonlyargs + args.args
    if method and positional:
        positional = positional[1:]
    least = len(positional) - len(args.defaults)
    return Arity(max(0, least), None if args.vararg else len(positional))


def _annotation_class(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


@lru_cache(maxsize=64)
def load_module(port: str, name: str) -> ModuleInfo | None:
    path = stub_file(port, name)
    if path is None:
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"))
    info = ModuleInfo(name)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            cls = ClassInfo(node.name, bases=[b.id for b in node.bases if isinstance(b, ast.Name)])
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    cls.members.setdefault(item.name, []).append(_arity(item, method=True))  # type: ignore[union-attr]
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    cls.members[item.target.id] = None
                elif isinstance(item, ast.Assign):
                    for target in item.targets:
                        if isinstance(target, ast.Name):
                            cls.members[target.id] = None
            info.classes[node.name] = cls
        elif isinstance(node, ast.FunctionDef):
            info.functions.setdefault(node.name, []).append(_arity(node, method=False))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            info.values[node.target.id] = _annotation_class(node.annotation)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    info.values[target.id] = None
        elif isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith(("typing", "_")):
            for alias in node.names:
                info.values.setdefault(alias.asname or alias.name, None)
    return info


def _members(module: ModuleInfo, cls: ClassInfo) -> dict[str, list[Arity] | None]:
    members: dict[str, list[Arity] | None] = {}
    for base in cls.bases:
        if base in module.classes and base != cls.name:
            members.update(_members(module, module.classes[base]))
    members.update(cls.members)
    return members


def _suggest(name: str, candidates: set[str] | dict) -> tuple[str, str]:
    """The closest name, as a bilingual hint (Vietnamese, English), or two empty strings."""
    close = difflib.get_close_matches(name, [c for c in candidates if not c.startswith("_")], n=1, cutoff=0.6)
    return (f"; có phải `{close[0]}`?", f"; did you mean `{close[0]}`?") if close else ("", "")


def _arity_problem(arities: list[Arity], call: ast.Call) -> tuple[int, str] | None:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    given = len(call.args)
    keywords = len(call.keywords)
    for a in arities:
        if (a.most is None or given <= a.most) and given + keywords >= a.least:
            return None
    most = max((a.most for a in arities if a.most is not None), default=None)
    least = min(a.least for a in arities)
    expected = f"{least}" if most == least else f"{least}–{most if most is not None else '…'}"
    return given, expected


class _Checker(ast.NodeVisitor):
    def __init__(self, port: str):
        self.port = port
        self.problems: list[Problem] = []
        self.modules: dict[str, ModuleInfo] = {}          # local name -> module
        self.imported: dict[str, tuple[ModuleInfo, str]] = {}  # local name -> (module, name in it)
        self.typed: dict[str, tuple[ModuleInfo, ClassInfo]] = {}  # variable -> its board class

    def problem(self, node: ast.AST, vi: str, en: str) -> None:
        self.problems.append(Problem(getattr(node, "lineno", 0), vi, en))

    # ---- imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top in NOT_ON_BOARDS:
                self.problem(node, f"kit không có thư viện `{top}` (chỉ có trên máy tính)",
                             f"`{top}` does not exist on the board (it is a computer library)")
                continue
            module = load_module(self.port, alias.name)
            if module:
                self.modules[alias.asname or alias.name] = module

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if not node.module:
            return
        top = node.module.split(".")[0]
        if top in NOT_ON_BOARDS:
            self.problem(node, f"kit không có thư viện `{top}`", f"`{top}` does not exist on the board")
            return
        module = load_module(self.port, node.module)
        if module is None:
            return
        for alias in node.names:
            if alias.name == "*":
                for name in module.names():
                    self.imported[name] = (module, name)
                    self._type_value(name, module, name)
            elif alias.name not in module.names():
                vi, en = _suggest(alias.name, module.names())
                self.problem(node, f"`{node.module}` không có `{alias.name}`{vi}",
                             f"`{node.module}` has no `{alias.name}`{en}")
            else:
                self.imported[alias.asname or alias.name] = (module, alias.name)
                self._type_value(alias.asname or alias.name, module, alias.name)

    def _type_value(self, local: str, module: ModuleInfo, name: str) -> None:
        cls = module.values.get(name)
        if cls and cls in module.classes:
            self.typed[local] = (module, module.classes[cls])

    # ---- names
    def _class_of_call(self, call: ast.expr) -> tuple[ModuleInfo, ClassInfo] | None:
        if not isinstance(call, ast.Call):
            return None
        f = call.func
        if isinstance(f, ast.Name) and f.id in self.imported:
            module, name = self.imported[f.id]
            if name in module.classes:
                return module, module.classes[name]
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in self.modules:
            module = self.modules[f.value.id]
            if f.attr in module.classes:
                return module, module.classes[f.attr]
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        typed = self._class_of_call(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                if typed:
                    self.typed[target.id] = typed
                else:
                    self.typed.pop(target.id, None)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)
        if not isinstance(node.value, ast.Name):
            return
        owner = node.value.id
        if owner in self.modules:
            module = self.modules[owner]
            if node.attr not in module.names():
                vi, en = _suggest(node.attr, module.names())
                self.problem(node, f"`{module.name}` không có `{node.attr}`{vi}", f"`{module.name}` has no `{node.attr}`{en}")
            return
        target = self.typed.get(owner)
        if target is None and owner in self.imported:
            module, name = self.imported[owner]
            if name in module.classes:
                target = (module, module.classes[name])
        if target:
            module, cls = target
            members = _members(module, cls)
            if node.attr not in members:
                vi, en = _suggest(node.attr, members)
                self.problem(node, f"`{owner}.{node.attr}`: {module.name}.{cls.name} không có `{node.attr}`{vi}",
                             f"`{owner}.{node.attr}`: {module.name}.{cls.name} has no `{node.attr}`{en}")

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        arities: list[Arity] | None = None
        label = ""
        f = node.func
        created = self._class_of_call(node)
        if created:
            module, cls = created
            arities, label = _members(module, cls).get("__init__"), f"{module.name}.{cls.name}()"
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            if f.value.id in self.modules:
                module = self.modules[f.value.id]
                arities, label = module.functions.get(f.attr), f"{module.name}.{f.attr}()"
            elif f.value.id in self.typed:
                module, cls = self.typed[f.value.id]
                arities, label = _members(module, cls).get(f.attr), f"{cls.name}.{f.attr}()"
        elif isinstance(f, ast.Name) and f.id in self.imported:
            module, name = self.imported[f.id]
            arities, label = module.functions.get(name), f"{module.name}.{name}()"
        if arities:
            wrong = _arity_problem(arities, node)
            if wrong:
                given, expected = wrong
                self.problem(node, f"{label} nhận {expected} đối số, em truyền {given}",
                             f"{label} takes {expected} positional arguments, {given} given")


def check_cell(source: str, port: str = "esp32") -> list[Problem]:
    """Problems in board code for the given port (esp32, rp2); a syntax error is one problem."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        return [Problem(err.lineno or 0, f"lỗi cú pháp: {err.msg}", f"syntax error: {err.msg}")]
    checker = _Checker(port)
    checker.visit(tree)
    return sorted(checker.problems, key=lambda p: p.line)
