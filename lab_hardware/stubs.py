"""Type stubs of the boards' MicroPython: micropython-stubs for each port, plus ours for `yolobit`.

The stub packages install top-level modules (`machine.pyi`, but also `math.pyi`, `time.pyi`...),
which would shadow CPython's for every tool in the environment. So they are installed into their
own folder per port (`python -m lab_hardware.stubs install`, run by `make install`), and a
notebook that talks to a kit gets a folder with only the board's own modules on its path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

STUB_PACKAGES = {
    "esp32": "micropython-esp32-stubs==1.29.0.post1",
    "rp2": "micropython-rp2-stubs==1.29.0.post1",
}
OURS = Path(__file__).parent / "board_stubs"
# Modules that exist only on boards: safe to put on a CPython kernel's path for completion.
BOARD_ONLY = ("machine", "network", "esp32", "esp", "micropython", "neopixel", "rp2", "dht", "onewire",
              "framebuf", "bluetooth", "espnow", "utime", "uos", "umachine", "_mpy_shed")


def stubs_root() -> Path:
    return Path(os.environ.get("STEMLAB_BOARD_STUBS", Path(sys.prefix) / "share" / "stemlab" / "board-stubs"))


def port_folder(port: str) -> Path:
    return stubs_root() / port


def install(ports: list[str] | None = None) -> None:
    for port in ports or list(STUB_PACKAGES):
        target = port_folder(port)
        if (target / "machine.pyi").exists():
            continue
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target),
                        STUB_PACKAGES[port]], check=True)


def stub_file(port: str, module: str) -> Path | None:
    """Where the stub of a board module is: ours first (yolobit), then the port's package."""
    for candidate in (OURS / f"{module}.pyi", port_folder(port) / f"{module}.pyi",
                      port_folder(port) / module / "__init__.pyi"):
        if candidate.exists():
            return candidate
    return None


def completion_path(port: str) -> Path:
    """A folder with only the board's own modules (and ours), for a CPython kernel's sys.path."""
    folder = Path(tempfile.gettempdir()) / f"stemlab-board-stubs-{os.getuid()}" / port
    folder.mkdir(parents=True, exist_ok=True)
    for module in BOARD_ONLY + ("yolobit",):
        source = stub_file(port, module)
        link = folder / (module if source and source.name == "__init__.pyi" else f"{module}.pyi")
        if source and not link.exists():
            link.symlink_to(source.parent if source.name == "__init__.pyi" else source)
    return folder


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        install()
    else:
        sys.exit("usage: python -m lab_hardware.stubs install")
