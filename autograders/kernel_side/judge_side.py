"""Runs in the judge: a kernel of its own account that runs the teacher's cells and never the student's.

The runner hands it each test cell, rewritten so that every name of the student's is read through
`__stemlab_student__("name")` (autograders/split.py). Such a read asks the student's kernel (through
the runner, as an `input_request` on this kernel's stdin channel) and gets plain data back: a
number, a list, an array. What is not data (a function, a model, an instance) comes back as a
`Remote`: calling it, or asking its attributes, asks the student's kernel again. So the student's
code runs where it always ran, on inputs the test chose, and every comparison, `isclose`,
`numpy.testing`, `isinstance` and `except` is made here, with the real ones.

`status()` tells the runner how the cell went: passed, failed (with the error), whether a Remote was
involved, and whether a value could not cross (then the runner judges the cell the old way and
says so).
"""

from __future__ import annotations

import builtins
import json
import sys
import traceback
from typing import Any

from . import plain

STUDENT = "__stemlab_student__"
_NAMESPACE: dict[str, Any] = {}
_STATE: dict[str, Any] = {}
_REFUSED_ATTRIBUTES = ("__deepcopy__", "__copy__", "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__")
_ACTIVE = False


def active() -> bool:
    """Whether this process is a judge (the graders' helpers ask, to run their steps the right side)."""
    return _ACTIVE


class StudentKernelUnreadable(BaseException):
    """The student's kernel answered with something that is not an answer. A BaseException, so
    that no `except ValueError:` in a test takes it for the student's own exception."""


def _kernel_stdin(prompt: str) -> str:
    from ipykernel.kernelapp import IPKernelApp

    return str(IPKernelApp.instance().kernel.raw_input(prompt))


TRANSPORT = _kernel_stdin  # how a question reaches the runner: this kernel's stdin channel


def _ask(request: dict[str, Any]) -> Any:
    answer = TRANSPORT(plain.dumps(request))
    try:
        reply = plain.loads(answer)
        if type(reply) is not dict:
            raise TypeError("not a reply")
        if "raised" in reply:
            error = _rebuild(reply["raised"])
        else:
            return plain.decode(reply["value"], _remote), reply.get("args_after")
    except plain.NotPlainData:
        raise
    except Exception as err:  # noqa: BLE001  (whatever the answer was, it is not the student's exception)
        raise StudentKernelUnreadable(
            "Máy chấm không đọc được câu trả lời từ kernel của em / the grader could not read the answer "
            f"of the student's kernel ({type(err).__name__})") from None
    raise error


def _request(request: dict[str, Any]) -> Any:
    return _ask(request)[0]


def _remote(tag: dict[str, Any]) -> "Remote":
    _STATE["remote"] = True
    return Remote(tag)


def _outgoing(value: Any) -> Any:
    """A value the test hands to the student's code: data, or the student's own object back."""
    def handle(obj: Any) -> dict[str, Any]:
        if type(obj) is Remote:
            return {"@": "handle", "id": object.__getattribute__(obj, "_tag")["id"]}
        raise _cannot_cross(f"a {type(obj).__name__} cannot be handed to the student's code as data")

    return plain.encode(value, handle)


def _cannot_cross(reason: str) -> plain.NotPlainData:
    _STATE["unsplittable"] = reason
    return plain.NotPlainData(reason)


def _local_class(name: dict[str, str]) -> type | None:
    """The judge's own class of that name, if the judge has it (builtins, or a module already imported)."""
    module = sys.modules.get(name.get("module", "")) if name.get("module") not in ("__main__", None) else None
    target: Any = module
    for part in str(name.get("qualname", "")).split("."):
        target = getattr(target, part, None) if target is not None and part != "<locals>" else None
    return target if isinstance(target, type) else None


def _rebuild(info: dict[str, Any]) -> BaseException:
    """The student's exception as one the test can catch: the judge's own class where it has one
    (ValueError, ZeroDivisionError, numpy's LinAlgError), else a class of the same name."""
    if info.get("type", {}).get("qualname") == "NotPlainData":
        return _cannot_cross(str(info.get("message", "")))
    base: type = Exception
    exact = False
    for position, name in enumerate(info.get("mro", [])):
        found = _local_class(name)
        if found is not None and issubclass(found, Exception):
            base, exact = found, position == 0
            break
    kind: type[BaseException] = base if exact else type(str(info.get("type", {}).get("qualname", "Error")).rsplit(".", 1)[-1], (base,), {})
    message = str(info.get("message", ""))
    try:
        err = kind(message)
    except Exception:  # noqa: BLE001  (some exception classes want more arguments than a message)
        err = BaseException.__new__(kind)
        BaseException.__init__(err, message)
    if info.get("traceback"):
        err.add_note("Trong mã của em / in your code:\n" + str(info["traceback"]).rstrip())
    return err


def _write_back(originals: tuple[Any, ...], after: list[Any] | None) -> None:
    """What the student's function did to a list, dict, set or array it was given, done to ours."""
    for original, data in zip(originals, after or []):
        if data is None:
            continue
        new = plain.decode(data, _remote)
        kind = type(original)
        if kind in (list, bytearray):
            original[:] = new
        elif kind in (dict, set):
            original.clear()
            original.update(new)
        elif kind.__name__ == "ndarray" and getattr(new, "shape", None) == original.shape and original.flags.writeable:
            original[...] = new


class Remote:
    """One of the student's objects, living in the student's kernel."""

    __slots__ = ("_tag",)

    def __init__(self, tag: dict[str, Any]):
        object.__setattr__(self, "_tag", tag)

    def _op(self, op: str, **fields: Any) -> Any:
        return _request({"op": op, "id": object.__getattribute__(self, "_tag")["id"], **fields})

    # isinstance(model, DecisionTreeClassifier) holds when the judge has that class
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return _local_class(object.__getattribute__(self, "_tag").get("type", {})) or Remote

    def __getattr__(self, name: str) -> Any:
        if name in _REFUSED_ATTRIBUTES or name.startswith(("_repr_", "_ipython")):
            raise AttributeError(name)
        return self._op("getattr", name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise _cannot_cross("a test changes the student's object")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tag = object.__getattribute__(self, "_tag")
        value, after = _ask({"op": "call", "id": tag["id"], "args": _outgoing(list(args)),
                             "kwargs": _outgoing(kwargs)})
        _write_back(args, after)
        return value

    def __instancecheck__(self, obj: Any) -> bool:  # isinstance(x, StudentClass)
        if type(obj) is not Remote:
            return False
        return bool(type(obj)._op(obj, "isinstance", kinds=object.__getattribute__(self, "_tag")["id"]))

    def __getitem__(self, key: Any) -> Any:
        return self._op("getitem", key=_outgoing(key))

    def __contains__(self, item: Any) -> bool:
        return bool(self._op("contains", item=_outgoing(item)))

    def __iter__(self) -> Any:
        return iter(self._op("unary", name="list"))

    def __len__(self) -> int:
        return int(self._op("unary", name="len"))

    def __bool__(self) -> bool:
        return self._op("unary", name="bool") is True

    def __str__(self) -> str:
        return str(self._op("unary", name="str"))

    def __repr__(self) -> str:
        return str(self._op("unary", name="repr"))

    def __hash__(self) -> int:
        return hash(object.__getattribute__(self, "_tag")["id"])

    def __float__(self) -> float:
        return float(self._op("unary", name="float"))

    def __int__(self) -> int:
        return int(self._op("unary", name="int"))

    def __index__(self) -> int:
        return int(self._op("unary", name="index"))

    def __neg__(self) -> Any:
        return self._op("unary", name="neg")

    def __abs__(self) -> Any:
        return self._op("unary", name="abs")

    def _binary(self, name: str, other: Any, reflected: bool = False) -> Any:
        return self._op("binary", name=name, other=_outgoing(other), reflected=reflected)

    def _compare(self, name: str, other: Any) -> Any:
        # Only two of the student's objects are compared by the student's code: against a value of
        # the test's, an object of the student's is never "equal" (it could say it is to anything).
        return self._binary(name, other) if type(other) is Remote else NotImplemented

    def __eq__(self, other: object) -> Any:
        return self._compare("eq", other)

    def __ne__(self, other: object) -> Any:
        return self._compare("ne", other)

    def __lt__(self, other: object) -> Any:
        return self._compare("lt", other)

    def __le__(self, other: object) -> Any:
        return self._compare("le", other)

    def __gt__(self, other: object) -> Any:
        return self._compare("gt", other)

    def __ge__(self, other: object) -> Any:
        return self._compare("ge", other)


for _name, _op in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "truediv"),
                   ("floordiv", "floordiv"), ("mod", "mod"), ("pow", "pow"), ("matmul", "matmul")):
    setattr(Remote, f"__{_name}__", lambda self, other, _o=_op: self._binary(_o, other))
    setattr(Remote, f"__r{_name}__", lambda self, other, _o=_op: self._binary(_o, other, reflected=True))


def student(name: str) -> Any:
    """The student's value of `name` (rewritten test code calls this for each of the student's names)."""
    return _request({"op": "lookup", "name": name})


def library(name: str, **kwargs: Any) -> Any:
    """One of the graders' own steps that runs beside the student's code (a kit run), as data."""
    return _request({"op": "library", "name": name, "kwargs": _outgoing(kwargs)})


def begin() -> None:
    """A new submission: a namespace of its own, with nothing of the one before."""
    global _ACTIVE
    _ACTIVE = True
    _NAMESPACE.clear()
    _NAMESPACE.update({"__name__": "__main__", "__builtins__": builtins, STUDENT: student})


def run(source: str, cell: str) -> None:
    """Run one cell's judge code; how it went is in `status()`."""
    _STATE.clear()
    _STATE.update({"ok": True, "remote": False, "unsplittable": None, "error": None})
    try:
        exec(compile(source, f"<{cell}>", "exec"), _NAMESPACE)  # noqa: S102  (the teacher's code, rewritten)
    except BaseException as err:  # noqa: BLE001  (a failed test is an outcome, not a crash)
        # only the cell's own frames: the judge's are nobody's business, and no source line is
        # quoted (the file names are the cells', not in linecache): a hidden test stays hidden
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith("<")]
        _STATE.update(ok=False, error={"ename": type(err).__name__, "evalue": str(err),
                                       "traceback": traceback.format_list(frames) +
                                       traceback.format_exception_only(err)})


def status() -> str:
    return json.dumps(_STATE)
