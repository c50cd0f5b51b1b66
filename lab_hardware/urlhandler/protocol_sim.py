"""pyserial URL handler `sim://MODEL?options`: a simulated kit of one's own, on a real pseudo-terminal.

    serial.serial_for_url("sim://yolobit")                      # a Yolo:Bit
    serial.serial_for_url("sim://esp32?fault=refuse-raw-paste")  # firmware without raw-paste
    serial.serial_for_url("sim://yolobit?virtual=1&flash=/tmp/f")  # virtual time, a kept flash
    serial.serial_for_url("sim://yolobit?baud=115200")          # paced like a CH340 at 115200

The kit starts when the port opens and stops when it closes. Its RTS and DTR lines drive the
simulated EN/IO0 pins like the two-transistor auto-reset circuit of ESP32 boards, so a hard reset
through the port works as it does on a Yolo:Bit (see `KitConnection.hard_reset`).
"""

from __future__ import annotations

import json
import urllib.parse

from serial import SerialException
from serial.serialposix import Serial as PosixSerial

from lab_hardware.sim.kit import SimKit, SimKitOptions


def options_from_url(url: str) -> SimKitOptions:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "sim":
        raise SerialException(f"expected a sim:// URL, got {url!r}")
    query = urllib.parse.parse_qs(parts.query)
    try:
        return SimKitOptions(
            model=parts.netloc or "yolobit",
            flash_dir=query.get("flash", [None])[0],
            realtime=query.get("virtual", ["0"])[0] not in ("1", "true", "yes"),
            faults=tuple(query.get("fault", [])),
            scenario=json.loads(query["scenario"][0]) if "scenario" in query else None,
            board_id=query.get("id", ["240ac4000001"])[0],
            baud=int(query["baud"][0]) if "baud" in query else None,
        )
    except ValueError as err:
        raise SerialException(f"{url}: {err}") from err


class Serial(PosixSerial):
    kit: SimKit | None = None

    def open(self) -> None:
        url = self._port
        self.kit = SimKit(options_from_url(url)).start()
        self.sim_url = url
        self.portstr = self.kit.path  # what PosixSerial.open opens
        try:
            super().open()
        except Exception:
            self.kit.stop()
            raise
        self._reset_held = False

    def close(self) -> None:
        super().close()
        if self.kit:
            self.kit.stop()
            self.kit = None

    def from_url(self, url: str) -> str:
        return url

    # A pseudo-terminal has no modem lines: emulate the ESP32 auto-reset circuit instead.
    # EN (reset) is held low while RTS is asserted and DTR is not.
    def _update_rts_state(self) -> None:
        self._emulate_reset_circuit()

    def _update_dtr_state(self) -> None:
        self._emulate_reset_circuit()

    # Modem inputs a bridge reports with nothing attached to them (a pty has no modem lines).
    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True

    def _emulate_reset_circuit(self) -> None:
        held = bool(self._rts_state) and not bool(self._dtr_state)
        was_held = getattr(self, "_reset_held", False)
        self._reset_held = held
        if was_held and not held and self.kit:
            self.kit.hard_reset()
