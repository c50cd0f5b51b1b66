"""Runs in a student's grading kernel: answers the judge's questions about the student's namespace.

The judge (autograders/kernel_side/judge_side.py, in a kernel that never runs student code) runs
each test cell; when the test reads a name of the student's, calls one of the student's functions,
or asks an attribute of the student's object, the request comes here as JSON (through the runner,
as a `user_expressions` entry), and the answer goes back as plain data (plain.py). No test source
and no expected value ever reaches this kernel, only the inputs the student's code is called with.

Everything here is within the student's reach, by design: what it can forge is the evidence
(values its own code could return anyway), never the verdict, which the judge makes.
"""

from __future__ import annotations

import builtins
import json
import operator
import traceback
from typing import Any, Callable

from . import plain

HANDLES: dict[int, Any] = {}
MUTABLE = (list, dict, set, bytearray)
BINARY = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor", "lshift", "rshift",
    "eq", "ne", "lt", "le", "gt", "ge")}
UNARY: dict[str, Callable[[Any], Any]] = {"len": len, "str": str, "repr": repr, "bool": bool, "float": float, "int": int, "index": operator.index,
         "neg": operator.neg, "pos": operator.pos, "abs": abs, "hash": hash, "list": list}


def _handle(obj: Any) -> dict[str, Any]:
    key = id(obj)
    HANDLES[key] = obj
    return {"@": "handle", "id": key, "type": plain.type_name(type(obj)), "callable": callable(obj),
            "is_class": isinstance(obj, type)}


def _value(data: Any) -> Any:
    return plain.decode(data, lambda tag: HANDLES[int(tag["id"])])


def _namespace() -> dict[str, Any]:
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _answer(request: dict[str, Any]) -> Any:
    op = request["op"]
    if op == "lookup":
        namespace, name = _namespace(), str(request["name"])
        if name in namespace:
            return namespace[name]
        if hasattr(builtins, name):
            return getattr(builtins, name)
        raise NameError(f"name {name!r} is not defined")
    if op == "library":  # the graders' own steps that must run beside the student's code (a kit run)
        from .. import kit

        if request["name"] != "kit_run_data":
            raise LookupError("no such grading step")
        return kit.kit_run_data(**_value(request["kwargs"]))
    target = HANDLES[int(request["id"])]
    if op == "getattr":
        return getattr(target, str(request["name"]))
    if op == "getitem":
        return target[_value(request["key"])]
    if op == "contains":
        return _value(request["item"]) in target
    if op == "unary":
        return UNARY[str(request["name"])](target)
    if op == "binary":
        function = BINARY[str(request["name"])]
        other = _value(request["other"])
        return function(other, target) if request.get("reflected") else function(target, other)
    if op == "isinstance":
        kinds: Any = HANDLES[int(request["kinds"])]
        return isinstance(target, kinds)
    raise LookupError(f"unknown request {op!r}")


def serve(request_json: str) -> str:
    """One request from the judge; the answer: {"value": ...}, or {"raised": ...} with the
    exception the student's code raised, and the arguments of a call as they are afterwards
    (a function that sorts a list in place)."""
    reply: dict[str, Any]
    try:
        request = json.loads(request_json)
        args = _value(request["args"]) if request.get("op") == "call" else None
        if args is not None:
            function: Any = HANDLES[int(request["id"])]
            result = function(*args, **_value(request["kwargs"]))
        else:
            result = _answer(request)
        reply = {"value": plain.encode(result, _handle)}
        if args is not None:
            reply["args_after"] = [plain.encode(a, _handle) if isinstance(a, MUTABLE) or _is_array(a) else None
                                   for a in args]
    except BaseException as err:  # noqa: BLE001  (whatever the student's code raised is the judge's to see)
        reply = {"raised": plain.describe_exception(err, "".join(traceback.format_exception(err)))}
    try:
        return plain.dumps(reply)
    except (plain.NotPlainData, TypeError, ValueError) as err:
        return json.dumps({"raised": plain.describe_exception(plain.NotPlainData(str(err)), "")})


def _is_array(value: Any) -> bool:
    return type(value).__name__ == "ndarray" and type(value).__module__ == "numpy"
