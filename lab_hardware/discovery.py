"""Finding kits on this machine's USB serial ports (pyserial's port list, our board table)."""

from __future__ import annotations

import grp
import os
from dataclasses import dataclass

from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from .boards import BoardHint, hint_for


@dataclass(frozen=True)
class KitPort:
    device: str
    usb_id: str | None
    serial_number: str | None
    location: str | None  # physical USB path: stays the same when a kit is replugged into the same socket
    description: str
    hint: BoardHint | None
    access_problem: str | None

    @property
    def stable_name(self) -> str:
        """A name that survives replugging: the USB serial number, else the physical port."""
        if self.serial_number:
            return f"usb-sn:{self.serial_number}"
        if self.location:
            return f"usb-port:{self.location}"
        return self.device


def access_problem(device: str) -> str | None:
    """Why this user could not open the port, in words a technician can act on."""
    if os.access(device, os.R_OK | os.W_OK):
        return None
    try:
        group = grp.getgrgid(os.stat(device).st_gid).gr_name
    except (KeyError, OSError):
        group = "dialout"
    return (f"no permission to open {device}: add this user to the '{group}' group "
            f"(sudo usermod -aG {group} $USER, then log in again) or add a udev rule")


def kit_port(info: ListPortInfo) -> KitPort | None:
    """Our view of one of pyserial's port records; None for ports that are not USB (no kit)."""
    if info.vid is None or info.pid is None:  # built-in UARTs (/dev/ttyS*) are not kits
        return None
    return KitPort(
        device=info.device,
        usb_id=f"{info.vid:04X}:{info.pid:04X}",
        serial_number=info.serial_number,
        location=info.location,
        description=info.description or "",
        hint=hint_for(info.vid, info.pid),
        access_problem=access_problem(info.device),
    )


def usb_serial_ports() -> list[KitPort]:
    ports = [p for p in (kit_port(info) for info in list_ports.comports()) if p is not None]
    return sorted(ports, key=lambda p: p.device)
