"""The kits used in Vietnamese STEM-Labs: each model, the MicroPython port whose stubs apply to it,
and what a USB serial port may be, by USB VID:PID.

A VID:PID is only a hint: 1A86:7523 (CH340) is on Yolo:Bit v4, xBot and many ESP32 clones, so
the board itself is asked to confirm (see the hardware bridge). This table is the first step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KitModel:
    key: str                 # what commands, course.toml and the simulator call it
    names: tuple[str, ...]   # what the board turns out to be when asked (inventory.model_from_answer)
    port: str                # the MicroPython port whose stubs check code for it


KIT_MODELS = (
    KitModel("yolobit", ("Yolo:Bit v4", "Yolo:Bit v5"), "esp32"),
    KitModel("xbot", ("xBot",), "esp32"),
    KitModel("esp32", ("ESP32 DevKit", "Yolo UNO"), "esp32"),
    KitModel("pico", ("Raspberry Pi Pico",), "rp2"),
)
DEFAULT_PORT = "esp32"  # most kits in the programme's labs


def kit_model(model: str) -> KitModel | None:
    """A model by its key or by one of its names."""
    return next((m for m in KIT_MODELS if model == m.key or model in m.names), None)


def port_of(model: str) -> str:
    found = kit_model(model)
    return found.port if found else DEFAULT_PORT


@dataclass(frozen=True)
class UsbId:
    vid: int
    pid: int

    def __str__(self) -> str:
        return f"{self.vid:04X}:{self.pid:04X}"


@dataclass(frozen=True)
class BoardHint:
    bridge: str
    candidates: tuple[str, ...]


USB_BOARDS: dict[UsbId, BoardHint] = {
    UsbId(0x1A86, 0x7523): BoardHint("CH340", ("Yolo:Bit v4", "xBot", "ESP32 DevKit")),
    UsbId(0x1A86, 0x5523): BoardHint("CH341", ("ESP32 DevKit",)),
    UsbId(0x1A86, 0x55D4): BoardHint("CH9102", ("ESP32 DevKit",)),
    UsbId(0x10C4, 0xEA60): BoardHint("CP210x", ("ESP32 DevKit",)),
    UsbId(0x303A, 0x1001): BoardHint("Espressif native USB", ("Yolo:Bit v5", "Yolo UNO")),
    UsbId(0x2E8A, 0x0005): BoardHint("RP2040 native USB", ("Raspberry Pi Pico",)),
    UsbId(0x0D28, 0x0204): BoardHint("DAPLink", ("BBC micro:bit",)),
    UsbId(0xF055, 0x9802): BoardHint("MicroPython native USB", ("MicroPython board (stm32/samd/nrf)",)),
}
FTDI_VID = 0x0403


def hint_for(vid: int | None, pid: int | None) -> BoardHint | None:
    if vid is None or pid is None:
        return None
    if vid == FTDI_VID:
        return BoardHint("FTDI", ("board on an FTDI adapter",))
    return USB_BOARDS.get(UsbId(vid, pid))
