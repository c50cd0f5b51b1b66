"""Loaded into a student's grading kernel before any cell, for the tests that must be judged there
(autograders/split.py says which, and the teacher is told): the old way, hardened.

- `run_test` runs a test with the builtins as they were at import (before any student code): a
  student's `builtins.abs = ...` reaches neither the test nor the student's functions it calls.
- `strict_eq` and `strict_isinstance` stand in for `==` in asserts and for `isinstance` (the
  runner rewrites the test): an always-true `__eq__`, or an object faking `__class__`, does not
  equal a number or a string. They are put in the test's namespace afresh for every test.
- `guard_ids` lists what the tests rely on (builtins, the graders' helpers' modules, the teacher's
  functions, classes and modules) by identity, so the runner can flag what the student replaced.

All of this is within the student's reach; the judge (judge_side.py) is what is not.
"""

from __future__ import annotations

import builtins
import json
import sys
from typing import Any

GUARDED_MODULES = ("autograders.kit",)
_BUILTINS = dict(vars(builtins))
_NUMBERS = (int, float, complex, bool)
_PLAIN = (str, bytes, int, float, complex, bool, list, tuple, dict, set, frozenset, type(None))


# the builtins the helpers use, as they were at import: a student's patch of `builtins` misses them
_type, _sub, _all, _zip, _len, _float, _complex, _bool = type, issubclass, all, zip, len, float, complex, bool


def strict_eq(a: Any, b: Any) -> bool:
    ta, tb = _type(a), _type(b)
    if tb in _PLAIN or ta in _PLAIN:
        if ta in _NUMBERS and tb in _NUMBERS:
            if tb is _complex or ta is _complex:
                return _complex.__eq__(_complex(a), _complex(b))
            return _float.__eq__(_float(a), _float(b))
        if ta is not tb and not (_sub(ta, (list, tuple)) and _sub(tb, (list, tuple)) and ta is tb):
            return False
        if ta in (list, tuple):
            return _len(a) == _len(b) and _all(strict_eq(x, y) for x, y in _zip(a, b))
        if ta is dict:
            return a.keys() == b.keys() and _all(strict_eq(a[k], b[k]) for k in b)
        # the type's own comparison, unbound: not the (student's) left operand's
        return tb.__eq__(b, a) is True  # type: ignore[call-arg]
    return _bool(a == b)


def strict_isinstance(obj: Any, kinds: Any) -> bool:
    return _sub(_type(obj), kinds)


_exec, _compile = exec, compile


def run_test(source: str, g: dict[str, Any]) -> str:
    saved = g.get("__builtins__")
    g["__builtins__"] = _BUILTINS
    g["__stemlab_strict_eq"], g["__stemlab_isinstance"] = strict_eq, strict_isinstance
    try:
        _exec(_compile(source, "test cell", "exec"), g)
    finally:
        g["__builtins__"] = saved
    return "ok"


def guard_ids(g: dict[str, Any]) -> str:
    """`name: id(object)` for what a test relies on, as JSON text (IPython's pretty-printer would cut
    a long dict short)."""
    ids: dict[str, int] = {f"builtins.{k}": id(v) for k, v in vars(builtins).items() if not k.startswith("_")}
    for name in GUARDED_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        for key, value in vars(module).items():
            if key.startswith("_"):
                continue
            ids[f"{name}.{key}"] = id(value)
            if isinstance(value, type) and value.__module__ == name:
                ids.update({f"{name}.{key}.{a}": id(x) for a, x in vars(value).items() if not a.startswith("__")})
    for key, value in g.items():
        if key.startswith("_") and key != "__stemlab_test":
            continue
        if callable(value) or type(value).__name__ == "module":
            ids[key] = id(value)
        if type(value).__name__ == "module" and not key.startswith("_"):
            ids.update({f"{key}.{a}": id(getattr(value, a, None)) for a in dir(value) if not a.startswith("_")})
    return json.dumps(ids)
