"""The simulated board's MCU: MicroPython's REPLs (friendly, raw, raw-paste) over a byte stream,
running the code it is sent with simulated hardware.

Run as its own process (`python -m lab_hardware.sim.board`), with the serial line on stdin and
stdout; `lab_hardware.sim.kit` puts it behind a pseudo-terminal. A hard reset is a new process,
as it is a new boot on a real board; the flash is a folder, so it survives.

It runs CPython, not MicroPython: the protocol is byte for byte the firmware's, the modules behave
as documented, but the language is Python 3.11 (more permissive than MicroPython) and speed and
memory are the host's. See the README's "Simulated kits".
"""

from __future__ import annotations

import argparse
import builtins
import json
import os
import queue
import signal
import struct
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from . import modules as board_modules
from .flash import Flash
from .hardware import MODELS, Clock, Hardware, Scenario

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
RAW_PASTE_WINDOW = 128
USER_FILES = ("<stdin>", "main.py", "boot.py")


def friendly_banner(model_machine: str) -> bytes:
    return (f"MicroPython v1.23.0 on 2024-06-02; {model_machine}\r\n"
            'Type "help()" for more information.\r\n').encode()


def format_traceback(exc: BaseException) -> str:
    """MicroPython's traceback text: only the board's own frames, innermost last."""
    lines = ["Traceback (most recent call last):"]
    if isinstance(exc, SyntaxError) and exc.filename in USER_FILES + tuple(f for f in [exc.filename] if f and f.endswith(".py")):
        lines.append(f'  File "{exc.filename}", line {exc.lineno}')
        return "\n".join(lines + [f"SyntaxError: {exc.msg}"]) + "\n"
    tb: TracebackType | None = exc.__traceback__
    for frame, lineno in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name in USER_FILES or (name.endswith(".py") and not name.startswith("/")):
            where = "<module>" if frame.f_code.co_name == "<module>" else frame.f_code.co_name
            lines.append(f'  File "{name}", line {lineno}, in {where}')
    message = str(exc)
    lines.append(f"{micropython_name(exc)}: {message}")
    return "\n".join(lines) + "\n"


def micropython_name(exc: BaseException) -> str:
    """MicroPython has no OSError subclasses (tools match 'OSError: [Errno 2] ENOENT')."""
    if isinstance(exc, OSError):
        return "OSError"
    if isinstance(exc, ModuleNotFoundError):
        return "ImportError"
    if isinstance(exc, RecursionError):
        return "RuntimeError"
    return type(exc).__name__


class Board:
    def __init__(self, model: str, flash_dir: Path, realtime: bool = True, faults: frozenset[str] = frozenset(),
                 scenario: Scenario | None = None, board_id: bytes = b"\x24\x0a\xc4\x00\x00\x01",
                 out_fd: int = 1, in_fd: int = 0):
        self.model = MODELS[model]
        self.faults = faults
        self.out_fd, self.in_fd = out_fd, in_fd
        self.inbox: queue.Queue[int] = queue.Queue()
        self.executing = False
        self.hardware = Hardware(self.model, Clock(realtime), scenario)
        self.flash = Flash(flash_dir)
        self.rt = board_modules.Runtime(self.hardware, self.flash, self.write_text, board_id)
        self.namespace: dict[str, Any] = {}

    # ---- the serial line
    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.out_fd, view)
            view = view[written:]

    def write_text(self, text: str) -> None:
        self.send(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8", "replace"))

    def _reader(self) -> None:
        while True:
            try:
                data = os.read(self.in_fd, 4096)
            except OSError:
                data = b""
            if not data:
                os._exit(0)  # the line is gone: the board loses power
            for byte in data:
                if byte == 3 and self.executing and self.rt.ctrl_c_enabled:
                    os.kill(os.getpid(), signal.SIGINT)
                else:
                    self.inbox.put(byte)

    def getc(self) -> int:
        return self.inbox.get()

    # ---- running code
    def _builtins(self) -> dict[str, Any]:
        env = dict(vars(builtins))

        def board_print(*args: Any, sep: str = " ", end: str = "\n", file: Any = None, **kw: Any) -> None:
            text = sep.join(str(a) for a in args) + end
            if file is not None and hasattr(file, "write"):
                file.write(text)
            else:
                self.write_text(text)

        def board_input(prompt: str = "") -> str:
            self.write_text(prompt)
            line = bytearray()
            while (c := self.getc()) not in (10, 13):
                line.append(c)
            self.write_text("\n")
            return line.decode("utf-8", "replace")

        env.update(print=board_print, input=board_input, open=self.flash.open, __import__=board_modules.make_import(self.rt),
                   help=lambda *a: self.write_text("Simulated kit (STEM-Lab Hub). See the README.\n"))
        return env

    def run_source(self, source: str | bytes, filename: str = "<stdin>", mode: str = "exec") -> str:
        """Run code on the board; return MicroPython's traceback text ('' on success)."""
        try:
            text = source.decode("utf-8") if isinstance(source, bytes) else source
            code = compile(text, filename, mode, dont_inherit=True)
        except SyntaxError as exc:
            return format_traceback(exc)
        self.executing = True
        try:
            exec(code, self.namespace)
            self.hardware.clock.sleep_ms(0)
            return ""
        except SystemExit:
            return ""
        except BaseException as exc:  # noqa: BLE001  (the board reports every error as a traceback)
            return format_traceback(exc)
        finally:
            self.executing = False
            self.hardware.clock.deadline_ms = None  # `_sim.run_for` bounds one program, not the next

    def soft_reset(self, run_main: bool) -> None:
        self.rt.ctrl_c_enabled = True
        self.rt.soft_reset_requested = False
        self.rt.modules = board_modules.build(self.rt)
        self.rt.builtins = self._builtins()
        self.namespace = {"__name__": "__main__", "__builtins__": self.rt.builtins}
        self.hardware.timeline.restart()
        for name in ("boot.py", "main.py") if run_main else ("boot.py",):
            source = self.flash.read_bytes(name)
            if source is not None:
                self.write_text(self.run_source(source, name))

    # ---- the REPLs
    def serve(self) -> None:
        signal.signal(signal.SIGINT, self._on_interrupt)
        threading.Thread(target=self._reader, daemon=True).start()
        if "silent" in self.faults:
            threading.Event().wait()  # a board that never answers
        if "garbage" in self.faults:
            self.send(bytes(range(0x80, 0xFF)) + b"\xff\xfe ets Jun  8 2016 00:22:57\r\n\x00\x1b[0m")
        self.soft_reset(run_main=True)
        self.send(friendly_banner(self.model.machine))
        mode = "friendly"
        while True:
            mode = self.friendly() if mode == "friendly" else self.raw()

    def _on_interrupt(self, signum: int, frame: Any) -> None:
        if self.executing:
            raise KeyboardInterrupt

    def friendly(self) -> str:
        self.send(b">>> ")
        line = bytearray()
        lines: list[str] = []
        while True:
            c = self.getc()
            if c == 1:
                self.send(b"\r\n" + RAW_BANNER)
                return "raw"
            if c == 2:
                self.send(b"\r\n" + friendly_banner(self.model.machine))
                return "friendly"
            if c == 3:
                self.send(b"\r\n")
                return "friendly"
            if c == 4 and not line and not lines:
                self.send(b"\r\nMPY: soft reboot\r\n")
                self.soft_reset(run_main=True)
                self.send(friendly_banner(self.model.machine))
                return "friendly"
            if c in (8, 127):
                if line:
                    line.pop()
                    self.send(b"\x08 \x08")
                continue
            if c == 13:
                self.send(b"\r\n")
                text = line.decode("utf-8", "replace")
                if lines or text.rstrip().endswith(":"):
                    if text.strip() == "" and lines:
                        self.write_text(self.run_source("\n".join(lines) + "\n", mode="single"))
                        return "friendly"
                    lines.append(text)
                    line.clear()
                    self.send(b"... ")
                    continue
                if text.strip():
                    self.write_text(self.run_source(text, mode="single"))
                return "friendly"
            if c == 10:
                continue
            line.append(c)
            self.send(bytes([c]))

    def raw(self) -> str:
        """At the raw prompt ('>' already sent)."""
        buffer = bytearray()
        while True:
            c = self.getc()
            if c == 1:
                self.send(b"\r\n" + RAW_BANNER)
                buffer.clear()
            elif c == 2:
                self.send(b"\r\n" + friendly_banner(self.model.machine))
                return "friendly"
            elif c == 3:
                buffer.clear()
            elif c == 4 and not buffer:
                self.send(b"OK\r\nMPY: soft reboot\r\n")
                self.soft_reset(run_main=False)
                self.send(RAW_BANNER)
            elif c == 4:
                self.send(b"OK")
                self._execute_and_report(bytes(buffer))
                buffer.clear()
            elif c == 5 and not buffer:
                if not self._raw_paste():
                    buffer.clear()
            else:
                buffer.append(c)

    def _raw_paste(self) -> bool:
        """After Ctrl-E at the raw prompt: expect 'A' Ctrl-A, then receive with flow control."""
        if self.getc() != ord("A") or self.getc() != 1:
            return False
        if "old-firmware" in self.faults:
            self.send(RAW_BANNER)  # firmware that predates raw-paste just reprints the banner
            return False
        if "refuse-raw-paste" in self.faults:
            self.send(b"R\x00")
            return False
        self.send(b"R\x01" + struct.pack("<H", RAW_PASTE_WINDOW) + b"\x01")
        data = bytearray()
        received = 0
        while True:
            c = self.getc()
            if c == 4:
                break
            if c == 3:  # as MicroPython does: the paste is dropped, reported as a KeyboardInterrupt
                self.send(b"\x04\x04")
                self.write_text("KeyboardInterrupt: \n")
                self.send(b"\x04>")
                return True
            data.append(c)
            received += 1
            if received % RAW_PASTE_WINDOW == 0:
                self.send(b"\x01")  # the window was consumed: grant another
        self.send(b"\x04")
        self._execute_and_report(bytes(data))
        return True

    def _execute_and_report(self, source: bytes) -> None:
        error = self.run_source(source)
        self.send(b"\x04")
        self.write_text(error)
        self.send(b"\x04")
        if self.rt.soft_reset_requested:
            self.send(b"MPY: soft reboot\r\n")
            self.soft_reset(run_main=False)
            self.send(RAW_BANNER)
        else:
            self.send(b">")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A simulated MicroPython board on stdin/stdout.")
    parser.add_argument("--model", default="yolobit", choices=sorted(MODELS))
    parser.add_argument("--flash", required=True, type=Path)
    parser.add_argument("--virtual-time", action="store_true")
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--scenario", help="JSON: what happens to the board (buttons, light, ...)")
    parser.add_argument("--board-id", default="240ac4000001")
    args = parser.parse_args(argv)
    scenario = Scenario.from_dict(json.loads(args.scenario)) if args.scenario else None
    board = Board(args.model, args.flash, realtime=not args.virtual_time, faults=frozenset(args.fault),
                  scenario=scenario, board_id=bytes.fromhex(args.board_id))
    board.serve()


if __name__ == "__main__":
    main()
