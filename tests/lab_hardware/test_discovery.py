"""Finding kits: board hints by USB id, names that survive replugging, clear permission hints.

No USB board is plugged in here, so port records are pyserial's own ListPortInfo, filled in as
its Linux backend fills them for a plugged-in kit, around a real pseudo-terminal.
"""

import os
import pty
import subprocess
from pathlib import Path

from serial.tools.list_ports_common import ListPortInfo

from lab_hardware.boards import hint_for
from lab_hardware.discovery import access_problem, kit_port

from ..conftest import STEMLAB, open_for_servers


def port(device, vid=None, pid=None, serial_number=None, location=None):
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number, info.location = vid, pid, serial_number, location
    return info


def test_usb_ids_give_board_hints():
    assert hint_for(0x1A86, 0x7523).candidates == ("Yolo:Bit v4", "xBot", "ESP32 DevKit")
    assert "Yolo:Bit v5" in hint_for(0x303A, 0x1001).candidates
    assert hint_for(0x2E8A, 0x0005).candidates == ("Raspberry Pi Pico",)
    assert hint_for(0x0403, 0x6015).bridge == "FTDI"
    assert hint_for(0x1234, 0x5678) is None and hint_for(None, None) is None


def test_kit_port_prefers_serial_number_then_physical_socket():
    master, slave = pty.openpty()
    try:
        device = os.ttyname(slave)
        with_sn = kit_port(port(device, 0x303A, 0x1001, serial_number="F412FA9C", location="1-1.2:1.0"))
        assert with_sn.stable_name == "usb-sn:F412FA9C" and with_sn.usb_id == "303A:1001"
        no_sn = kit_port(port(device, 0x1A86, 0x7523, location="1-1.3"))
        assert no_sn.stable_name == "usb-port:1-1.3"
        assert no_sn.hint.bridge == "CH340"
        assert kit_port(port("/dev/ttyS0")) is None, "built-in UARTs are not kits"
    finally:
        os.close(master)
        os.close(slave)


def test_permission_problem_names_the_group_and_the_fix(tmp_path):
    device = tmp_path / "ttyUSB9"
    device.write_text("")
    device.chmod(0o660)
    if os.geteuid() == 0:  # root opens anything; ask as an ordinary user would
        script = f"from lab_hardware.discovery import access_problem; print(access_problem({str(device)!r}))"
        open_for_servers(tmp_path)
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              str(Path(STEMLAB).with_name("python")), "-c", script],
                             capture_output=True, text=True, cwd="/").stdout
    else:
        out = access_problem(str(device)) or ""
    assert "no permission to open" in out and "usermod -aG" in out


def test_kits_list_without_kits_says_what_to_check(tmp_path):
    result = subprocess.run([STEMLAB, "kits", "list", "--data", str(tmp_path / "var")], capture_output=True, text=True,
                            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and "No kit found" in result.stdout and "USB cable" in result.stdout
