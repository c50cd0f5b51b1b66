"""A simulated kit on a real pseudo-terminal: the USB-serial bridge, with the board's MCU behind it.

The pseudo-terminal stays while the MCU process restarts (a hard reset), as a USB-UART bridge stays
enumerated while the ESP32 behind it reboots. Tools open the printed device path like any serial
port: this package's transport, mpremote, Thonny.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .hardware import MODELS

FAULTS = ("silent", "garbage", "refuse-raw-paste", "old-firmware")


@dataclass
class SimKitOptions:
    model: str = "yolobit"
    flash_dir: str | None = None     # default: a fresh temporary folder
    realtime: bool = True
    faults: tuple[str, ...] = ()
    scenario: dict[str, Any] | None = None
    board_id: str = "240ac4000001"
    baud: int | None = None          # pace the line like a UART at this rate (None: as fast as the pty)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown simulated board {self.model!r}; choose one of {', '.join(sorted(MODELS))}")
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(sorted(unknown))}; known: {', '.join(FAULTS)}")


class SimKit:
    def __init__(self, options: SimKitOptions | None = None, **kwargs: Any):
        self.options = options or SimKitOptions(**kwargs)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if self.options.flash_dir:
            self.flash_dir = Path(self.options.flash_dir)
            self.flash_dir.mkdir(parents=True, exist_ok=True)
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="stemlab-simkit-")
            self.flash_dir = Path(self._tmp.name)
        self.master = self.slave = -1
        self.path = ""
        self.mcu: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._wake = (-1, -1)  # a pipe that ends the host-side reader's wait at stop
        self._threads: list[threading.Thread] = []
        self.bytes_to_board = 0
        self.bytes_from_board = 0

    # ---- lifecycle
    def start(self) -> "SimKit":
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self._wake = os.pipe()
        self._boot()
        self._thread(self._host_to_board, f"simkit-in {self.path}")
        return self

    def _thread(self, target: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=name)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _boot(self) -> None:
        o = self.options
        cmd = [sys.executable, "-m", "lab_hardware.sim.board", "--model", o.model, "--flash", str(self.flash_dir),
               "--board-id", o.board_id]
        if not o.realtime:
            cmd.append("--virtual-time")
        for fault in o.faults:
            cmd += ["--fault", fault]
        if o.scenario:
            cmd += ["--scenario", json.dumps(o.scenario)]
        self.mcu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                                    start_new_session=True)
        self._thread(self._board_to_host, f"simkit-out {self.path}", self.mcu)

    def hard_reset(self) -> None:
        """The EN/RESET line: the MCU restarts from power-on; the flash keeps its files."""
        with self._lock:
            self._kill_mcu()
            if not self._stopped.is_set():
                self._boot()

    def unplug(self) -> None:
        """The cable is pulled: the device disappears under whoever has it open."""
        self.stop()

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        with self._lock:
            self._kill_mcu()
        if self._wake[1] >= 0:
            os.write(self._wake[1], b"x")
        # the wire's threads end before its descriptors close: a number closed under a thread
        # still reading or writing it is soon another pty's or file's, and the thread would use that
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        for fd in (self.master, self.slave, *self._wake):
            if fd >= 0:
                os.close(fd)
        if self._tmp:
            self._tmp.cleanup()

    def _kill_mcu(self) -> None:
        if self.mcu and self.mcu.poll() is None:
            os.killpg(self.mcu.pid, signal.SIGKILL)
            self.mcu.wait()

    def __enter__(self) -> "SimKit":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the wire
    def _host_to_board(self) -> None:
        while not self._stopped.is_set():
            try:
                ready, _, _ = select.select([self.master, self._wake[0]], [], [])
                if self.master not in ready:
                    continue
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.bytes_to_board += len(data)
            self._pace(len(data))
            mcu = self.mcu
            try:
                if mcu and mcu.stdin:
                    mcu.stdin.write(data)
            except (BrokenPipeError, ValueError, OSError):
                pass  # the MCU is resetting: bytes sent meanwhile are lost, as on a board

    def _board_to_host(self, mcu: subprocess.Popen[bytes]) -> None:
        assert mcu.stdout
        while True:
            data = mcu.stdout.read1(4096) if hasattr(mcu.stdout, "read1") else os.read(mcu.stdout.fileno(), 4096)
            if not data:
                return
            self.bytes_from_board += len(data)
            self._pace(len(data))
            view = memoryview(data)
            while view:
                try:
                    written = os.write(self.master, view)
                except OSError:
                    return
                view = view[written:]

    def _pace(self, n: int) -> None:
        if self.options.baud:
            time.sleep(n * 10 / self.options.baud)  # 8N1: ten bits on the wire per byte

    def describe(self) -> dict[str, Any]:
        return {"path": self.path, **asdict(self.options), "flash_dir": str(self.flash_dir)}
