"""MicroPython's modules on the simulated board: machine, time, os, micropython, sys, network, espnow, yolobit, ...

Each boot builds fresh module objects bound to the board's hardware and flash, and code on the
board imports them instead of CPython's. Standard modules MicroPython also has (math, struct,
json, random, ...) are CPython's own; anything else is "no module named", as on a board.
"""

from __future__ import annotations

import binascii
import builtins
import hashlib
import sys as host_sys
import types
from typing import Any, Callable

from .flash import Flash
from .hardware import Hardware

MICROPYTHON_VERSION = (1, 23, 0)
PASSTHROUGH = {"math", "cmath", "struct", "json", "random", "collections", "re", "array", "errno", "io",
               "heapq", "select", "asyncio", "gc"}
ALIASES = {"utime": "time", "uos": "os", "ujson": "json", "ustruct": "struct", "urandom": "random",
           "uhashlib": "hashlib", "ubinascii": "binascii", "ucollections": "collections", "ure": "re",
           "uerrno": "errno", "uio": "io", "uasyncio": "asyncio", "uselect": "select"}


class Runtime:
    """What the modules need from the board: its hardware, flash, output and Ctrl-C switch."""

    def __init__(self, hardware: Hardware, flash: Flash, write: Callable[[str], None], board_id: bytes):
        self.hardware, self.flash, self.write, self.board_id = hardware, flash, write, board_id
        self.ctrl_c_enabled = True
        self.modules: dict[str, types.ModuleType] = {}
        self.soft_reset_requested = False
        self.builtins: dict[str, Any] = {}


def _module(name: str, **attrs: Any) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    return mod


def build(rt: Runtime) -> dict[str, types.ModuleType]:
    hw, clock = rt.hardware, rt.hardware.clock

    # ---- time
    def ticks_ms() -> int:
        clock.tick()
        return int(clock.now_ms()) & 0x3FFFFFFF

    def ticks_us() -> int:
        clock.tick(0.001)
        return int(clock.now_ms() * 1000) & 0x3FFFFFFF

    def ticks_diff(a: int, b: int) -> int:
        half = 0x20000000
        return ((a - b + half) & 0x3FFFFFFF) - half

    time_mod = _module(
        "time",
        sleep=lambda s: clock.sleep_ms(s * 1000),
        sleep_ms=lambda ms: clock.sleep_ms(ms),
        sleep_us=lambda us: clock.sleep_ms(us / 1000),
        ticks_ms=ticks_ms, ticks_us=ticks_us, ticks_diff=ticks_diff,
        ticks_add=lambda t, d: (t + d) & 0x3FFFFFFF,
        ticks_cpu=ticks_us,
        time=lambda: int(clock.now_ms() // 1000),
        time_ns=lambda: int(clock.now_ms() * 1_000_000),
        localtime=lambda secs=None: (2000, 1, 1, 0, 0, int(secs if secs is not None else clock.now_ms() // 1000) % 60, 5, 1),
    )

    # ---- os
    flash = rt.flash
    uname = types.SimpleNamespace(sysname=hw.model.sysname, nodename=hw.model.sysname, release="1.23.0",
                                  version="v1.23.0 on 2024-06-02 (STEM-Lab Hub simulated kit)",
                                  machine=hw.model.machine)
    os_mod = _module(
        "os", listdir=flash.listdir, ilistdir=flash.ilistdir, stat=flash.stat, mkdir=flash.mkdir,
        rmdir=flash.rmdir, remove=flash.remove, unlink=flash.remove, rename=flash.rename, chdir=flash.chdir,
        getcwd=flash.getcwd, statvfs=flash.statvfs, uname=lambda: uname, sep="/",
        urandom=lambda n: bytes(__import__("random").getrandbits(8) for _ in range(n)),
        sync=lambda: None,
    )

    # ---- sys, micropython
    impl = types.SimpleNamespace(name="micropython", version=MICROPYTHON_VERSION + ("",), _mpy=6,
                                 _machine=hw.model.machine)
    sys_mod = _module("sys", implementation=impl, platform=hw.model.platform, version="3.4.0; MicroPython v1.23.0",
                      version_info=(3, 4, 0), byteorder="little", maxsize=2**31 - 1, path=["", "/lib"],
                      modules={}, argv=[], exit=host_sys.exit, print_exception=_print_exception(rt),
                      stdout=_Stream(rt), stderr=_Stream(rt), stdin=None)

    def kbd_intr(char: int) -> None:
        rt.ctrl_c_enabled = char == 3

    micropython_mod = _module("micropython", kbd_intr=kbd_intr, const=lambda x: x,
                              mem_info=lambda *a: rt.write("stack: 736 out of 15360\nGC: total: 111168, used: 5040, free: 106128\n"),
                              opt_level=lambda *a: 0, alloc_emergency_exception_buf=lambda n: None,
                              schedule=lambda f, arg: f(arg), native=lambda f: f, viper=lambda f: f)

    hashlib_mod = _module("hashlib", sha256=hashlib.sha256, sha1=hashlib.sha1, md5=hashlib.md5)
    binascii_mod = _module("binascii", hexlify=binascii.hexlify, unhexlify=binascii.unhexlify,
                           a2b_base64=binascii.a2b_base64, b2a_base64=binascii.b2a_base64, crc32=binascii.crc32)

    from .machine import build_machine
    from .radio import build_radio

    machine_mod = build_machine(rt)
    modules = {"time": time_mod, "os": os_mod, "sys": sys_mod, "micropython": micropython_mod,
               "hashlib": hashlib_mod, "binascii": binascii_mod, "machine": machine_mod, "_sim": _sim_module(rt)}
    # after machine: it resets the clock's hooks, and the radio adds its own (deliveries in time)
    modules.update(build_radio(rt))  # network, and espnow on an ESP32
    if hw.model.has_yolobit:
        from .yolobit import build_yolobit

        modules["yolobit"] = build_yolobit(rt, machine_mod)
    return modules


def _sim_module(rt: Runtime) -> types.ModuleType:
    """Only on the simulated kit: what the board did (for notebooks and graders) and what the world
    does to it. Real boards have no `_sim`; code that needs one of them checks `sys.platform`."""

    def set_scenario(json_text: str) -> None:
        from .hardware import Scenario
        import json

        rt.hardware.scenario = Scenario.from_dict(json.loads(json_text))

    def restart() -> None:
        rt.hardware.timeline.restart()
        rt.hardware.clock.deadline_ms = None

    def run_for(ms: float) -> None:
        """End the program (TimeUp) once `ms` have passed since the timeline's restart."""
        rt.hardware.clock.deadline_ms = rt.hardware.timeline.origin + ms

    return _module("_sim", timeline=lambda: rt.hardware.timeline.to_json(), restart=restart, run_for=run_for,
                   set_scenario=set_scenario, now=rt.hardware.timeline.now)


class _Stream:
    def __init__(self, rt: Runtime):
        self.rt = rt

    def write(self, text: str) -> int:
        self.rt.write(text if isinstance(text, str) else bytes(text).decode("utf-8", "replace"))
        return len(text)

    def flush(self) -> None:
        pass


def _print_exception(rt: Runtime) -> Callable[..., None]:
    def print_exception(exc: BaseException, file: Any = None) -> None:
        from .board import format_traceback

        (file or _Stream(rt)).write(format_traceback(exc))

    return print_exception


def make_import(rt: Runtime) -> Callable[..., Any]:
    real_import = builtins.__import__

    def board_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        base = ALIASES.get(name, name)
        if base in rt.modules:
            return rt.modules[base]
        if base in PASSTHROUGH:
            return real_import(base, globals, locals, fromlist, level)
        module = _import_from_flash(rt, base)
        if module is not None:
            return module
        raise ImportError(f"no module named '{name}'")

    return board_import


def _import_from_flash(rt: Runtime, name: str) -> types.ModuleType | None:
    """A .py file the user put on the board (in / or /lib) imports, as on MicroPython."""
    for path in (f"{name}.py", f"lib/{name}.py"):
        source = rt.flash.read_bytes("/" + path)
        if source is not None:
            module = types.ModuleType(name)
            module.__dict__["__builtins__"] = rt.builtins
            rt.modules[name] = module
            exec(compile(source.decode("utf-8"), path, "exec"), module.__dict__)
            return module
    return None
