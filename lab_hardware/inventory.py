"""The lab's kits: USB ports, kits on other machines (rfc2217://), simulated kits, their labels,
and what each board says it is.

Kept in the data directory (lab_hardware/folders.py): labels and network kits in the kits file,
and the device record of each simulated kit while it runs (`stemlab kits sim`).
"""

from __future__ import annotations

import json
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import tomli_w

from . import board_side
from .discovery import KitPort, usb_serial_ports
from .errors import KitError
from .folders import KitFolders
from .transport import KitConnection

@dataclass(frozen=True)
class Identity:
    model: str          # our table's name, confirmed by the board
    machine: str        # os.uname().machine
    firmware: str       # MicroPython release
    platform: str       # sys.platform: esp32, rp2, ...
    unique_id: str
    i2c: tuple[int, ...]


def model_from_answer(machine: str, platform: str, has_yolobit: bool, i2c: list[int]) -> str:
    if has_yolobit:
        return "Yolo:Bit v5" if "S3" in machine else "Yolo:Bit v4"
    if platform == "rp2":
        return "Raspberry Pi Pico"
    if platform == "microbit" or "micro:bit" in machine:
        return "BBC micro:bit"
    if platform == "esp32" and 0x68 in i2c:
        return "xBot"
    if platform == "esp32":
        return "Yolo UNO" if "S3" in machine else "ESP32 DevKit"
    return f"MicroPython board ({machine or platform})"


def identify(link: KitConnection) -> Identity:
    machine, release, platform, uid, has_yolobit, i2c = board_side.call(link, "identify", "identify", timeout=10)
    return Identity(model_from_answer(machine, platform, has_yolobit, list(i2c)), machine, release, platform, uid,
                    tuple(i2c))


class KitKind(StrEnum):
    USB = "usb"              # a board on this machine's USB
    REMOTE = "remote"        # a board on another machine (rfc2217://)
    SIMULATED = "simulated"  # the simulated kit, on a pseudo-terminal


@dataclass(frozen=True)
class Kit:
    url: str                      # what pyserial opens
    stable_name: str              # survives replugging
    label: str | None = None
    port: KitPort | None = None   # USB details, when on USB
    kind: KitKind = KitKind.USB
    identity: Identity | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        return self.label or self.stable_name

    @property
    def names(self) -> set[str]:
        """What a person may call this kit: its port or URL, its stable name, its label."""
        return {n for n in (self.url, self.stable_name, self.label) if n}


def find_kits(kits: list[Kit], wanted: list[str]) -> tuple[list[Kit], list[str]]:
    """The kits a person named (by port, stable name or label), and the names that matched none."""
    chosen = [k for k in kits if k.names & set(wanted)]
    known = {n for k in chosen for n in k.names}
    return chosen, [w for w in wanted if w not in known]


@dataclass
class KitsFile:
    path: Path
    labels: dict[str, str] = field(default_factory=dict)
    remote: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, folders: KitFolders) -> KitsFile:
        path = folders.kits_file
        if not path.exists():
            return cls(path)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(path, dict(data.get("labels", {})), list(data.get("remote", [])))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(tomli_w.dumps({"labels": self.labels, "remote": self.remote}), encoding="utf-8")
        self.path.chmod(0o644)  # the kits service reads it under its own account


def simulated_kits(folders: KitFolders) -> list[Kit]:
    out = []
    for record in folders.device_records():
        info = json.loads(record.read_text(encoding="utf-8"))
        if Path(info["path"]).exists():
            out.append(Kit(info["path"], f"sim:{record.parent.name}", kind=KitKind.SIMULATED))
    return out


def all_kits(folders: KitFolders) -> list[Kit]:
    """Every kit this machine can reach, with its label; not yet asked."""
    kits_file = KitsFile.load(folders)
    kits = [Kit(p.device, p.stable_name, port=p) for p in usb_serial_ports()]
    kits += [Kit(r["url"], r.get("name", r["url"]), kind=KitKind.REMOTE) for r in kits_file.remote]
    kits += simulated_kits(folders)
    return [replace(k, label=kits_file.labels.get(k.stable_name)) for k in kits]


def probe(kit: Kit, timeout: float = 3.0) -> Kit:
    """Ask the board what it is; a kit that cannot be asked gets the reason instead."""
    if kit.port and kit.port.access_problem:
        return replace(kit, problem=kit.port.access_problem)
    try:
        with KitConnection.open(kit.url, timeout=timeout) as link:
            return replace(kit, identity=identify(link))
    except KitError as err:
        return replace(kit, problem=str(err))


def probe_all(kits: list[Kit], timeout: float = 3.0) -> list[Kit]:
    if not kits:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(kits))) as pool:
        return list(pool.map(lambda k: probe(k, timeout), kits))
