"""Code that runs on the board, as real MicroPython files (package data), loaded by name.

Each file defines functions; `call` sends the file with one call of one of them and reads back
the value it returns (printed with `repr`, read with `ast.literal_eval`). The files are checked
against the boards' stubs and run on the simulated kit by tests/lab_hardware/test_board_side.py.
They are kept short and without comments on purpose: every byte goes over the serial line.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..transport import KitConnection


def names() -> list[str]:
    """Every board-side file, by name."""
    return sorted(p.name[:-3] for p in resources.files(__package__).iterdir()
                  if p.name.endswith(".py") and not p.name.startswith("_"))


@lru_cache(maxsize=None)
def source(name: str) -> str:
    return (resources.files(__package__) / f"{name}.py").read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def _part(name: str, function: str) -> str:
    """What one call needs of a file: its imports, its module-level names, and the one function
    (every byte goes over the serial line: an upload calls several functions of `fs`)."""
    text = source(name)
    tree = ast.parse(text)
    kept = [node for node in tree.body
            if not isinstance(node, ast.FunctionDef) or node.name == function]
    if not any(isinstance(node, ast.FunctionDef) for node in kept):
        raise KeyError(f"{name}.py has no function {function}")
    return "\n".join(ast.get_source_segment(text, node) or "" for node in kept)


def program(name: str, function: str, *args: Any) -> str:
    """One call of a board-side function whose value is printed; its name is gone afterwards."""
    call = f"{function}({', '.join(repr(a) for a in args)})"
    return f"{_part(name, function)}\nprint(repr({call}))\ndel {function}"


def value_of(output: str) -> Any:
    """The value a `program` printed last (what it printed before is the caller's to read)."""
    return ast.literal_eval(output.strip().splitlines()[-1])


def call(link: KitConnection, name: str, function: str, *args: Any, timeout: float = 30.0) -> Any:
    return value_of(link.exec(program(name, function, *args), timeout=timeout))
