"""Values as plain data, between a student's grading kernel and the judge (autograders/judge.py).

What crosses is JSON: numbers, strings, lists, and tagged objects for the rest (`{"@": "tuple",
...}`). Only data types are rebuilt on the other side (tuples, dicts, sets, bytes, complex numbers,
numpy arrays and scalars of numeric, boolean or text dtypes, fractions, decimals, ranges); no code
and no pickle. Anything else (a function, a model, an instance of the student's class) crosses as
a handle: a number the sending side keeps the object under, with its type's name.

The same module runs in both kernels; neither trusts what it decodes: sizes and depths are bounded.
"""

from __future__ import annotations

import base64
import decimal
import fractions
import json
import math
import sys
from typing import Any, Callable

MAX_DEPTH = 64
MAX_BYTES = 64 * 1024 * 1024
ARRAY_KINDS = "biufcUS?"  # numpy dtype kinds that are data (no objects, no structured records)


class NotPlainData(Exception):
    """A value that cannot cross as data (too deep, too large, a type the other side refuses)."""


def _numpy() -> Any:
    return sys.modules.get("numpy")  # only values of an imported numpy can be numpy values


def encode(value: Any, handle: Callable[[Any], dict[str, Any]], depth: int = 0) -> Any:
    """`value` as JSON-ready data; `handle(obj)` stands in for what is not data."""
    if depth > MAX_DEPTH:
        raise NotPlainData(f"a value nested more than {MAX_DEPTH} deep")
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"@": "float", "v": repr(value)}
    if kind is list:
        return [encode(v, handle, depth + 1) for v in value]
    if kind is tuple:
        return {"@": "tuple", "v": [encode(v, handle, depth + 1) for v in value]}
    if kind is dict:
        return {"@": "dict", "k": [encode(k, handle, depth + 1) for k in value],
                "v": [encode(v, handle, depth + 1) for v in value.values()]}
    if kind in (set, frozenset):
        return {"@": kind.__name__, "v": [encode(v, handle, depth + 1) for v in value]}
    if kind in (bytes, bytearray):
        return {"@": kind.__name__, "b64": base64.b64encode(value).decode()}
    if kind is complex:
        return {"@": "complex", "re": repr(value.real), "im": repr(value.imag)}
    if kind is range:
        return {"@": "range", "v": [value.start, value.stop, value.step]}
    if kind is fractions.Fraction:
        return {"@": "fraction", "v": str(value)}
    if kind is decimal.Decimal:
        return {"@": "decimal", "v": str(value)}
    np = _numpy()
    if np is not None:
        if kind is np.ndarray and value.dtype.kind in ARRAY_KINDS:
            if value.nbytes > MAX_BYTES:
                raise NotPlainData(f"an array of {value.nbytes} bytes")
            data = np.ascontiguousarray(value)
            return {"@": "ndarray", "dtype": data.dtype.str, "shape": list(data.shape),
                    "b64": base64.b64encode(data.tobytes()).decode()}
        if isinstance(value, np.generic) and kind.__module__ == "numpy" and value.dtype.kind in ARRAY_KINDS:
            return {"@": "npscalar", "dtype": value.dtype.str, "b64": base64.b64encode(value.tobytes()).decode()}
    return handle(value)


def decode(data: Any, handle: Callable[[dict[str, Any]], Any], depth: int = 0) -> Any:
    """What `encode` made, back as values; `handle(tag)` rebuilds what crossed as a handle."""
    if depth > MAX_DEPTH:
        raise NotPlainData(f"a value nested more than {MAX_DEPTH} deep")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(v, handle, depth + 1) for v in data]
    if type(data) is not dict or not isinstance(data.get("@"), str):
        raise NotPlainData("not a value of ours")
    tag = data["@"]
    items = lambda: [decode(v, handle, depth + 1) for v in data["v"]]  # noqa: E731
    if tag == "tuple":
        return tuple(items())
    if tag == "dict":
        return dict(zip([decode(k, handle, depth + 1) for k in data["k"]], items()))
    if tag in ("set", "frozenset"):
        return (set if tag == "set" else frozenset)(items())
    if tag in ("bytes", "bytearray"):
        raw = base64.b64decode(data["b64"])
        return raw if tag == "bytes" else bytearray(raw)
    if tag == "float":
        return float(data["v"])
    if tag == "complex":
        return complex(float(data["re"]), float(data["im"]))
    if tag == "range":
        start, stop, step = (int(v) for v in data["v"])
        return range(start, stop, step)
    if tag == "fraction":
        return fractions.Fraction(str(data["v"]))
    if tag == "decimal":
        return decimal.Decimal(str(data["v"]))
    if tag in ("ndarray", "npscalar"):
        import numpy as np

        dtype = np.dtype(str(data["dtype"]))
        if dtype.kind not in ARRAY_KINDS:
            raise NotPlainData(f"an array of dtype {dtype}")
        raw = base64.b64decode(data["b64"])
        if tag == "npscalar":
            return np.frombuffer(raw, dtype=dtype)[0]
        shape = tuple(int(n) for n in data["shape"])
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if tag == "handle":
        return handle(data)
    raise NotPlainData(f"an unknown kind of value: {tag[:40]!r}")


def dumps(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False)
    if len(text) > MAX_BYTES:
        raise NotPlainData(f"a value of {len(text)} bytes")
    return text


def loads(text: str) -> Any:
    if len(text) > MAX_BYTES:
        raise NotPlainData(f"a value of {len(text)} bytes")
    try:
        return json.loads(text)
    except RecursionError:
        raise NotPlainData(f"a value nested more than {MAX_DEPTH} deep") from None


def type_name(kind: type) -> dict[str, str]:
    return {"module": str(getattr(kind, "__module__", "") or ""), "qualname": str(getattr(kind, "__qualname__", "?"))}


def describe_exception(err: BaseException, traceback_text: str) -> dict[str, Any]:
    """An exception raised by the student's code, as data: its type, its bases' names, its message."""
    mro = [type_name(k) for k in type(err).__mro__ if k not in (object, BaseException)]
    try:
        message = str(err)
    except Exception:  # noqa: BLE001  (a student's __str__ may itself raise)
        message = "?"
    return {"type": type_name(type(err)), "mro": mro, "message": message[:10_000], "traceback": traceback_text[-20_000:]}
