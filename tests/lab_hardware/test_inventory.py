"""The lab's kits: each board asked what it is, labels that survive replugging, kits on another
machine over the network, simulated kits found while `stemlab kits sim` runs."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import threading

import pytest

from lab_hardware.folders import KitFolders
from lab_hardware.inventory import KitsFile, model_from_answer
from lab_hardware.sim.kit import SimKit
from lab_hardware.transport import KitConnection

from ..conftest import STEMLAB
from .sim_command import running_kits_sim

pytestmark = pytest.mark.kit


def stemlab(data, *args):
    return subprocess.run([STEMLAB, "kits", *args, "--data", str(data)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "220"}, timeout=120)


def test_boards_are_named_from_their_own_answers():
    assert model_from_answer("Yolo:Bit with ESP32", "esp32", True, [0x19]) == "Yolo:Bit v4"
    assert model_from_answer("Yolo:Bit with ESP32S3", "esp32", True, [0x19]) == "Yolo:Bit v5"
    assert model_from_answer("xBot with ESP32", "esp32", False, [0x68]) == "xBot"
    assert model_from_answer("Generic ESP32 module with ESP32", "esp32", False, []) == "ESP32 DevKit"
    assert model_from_answer("Raspberry Pi Pico with RP2040", "rp2", False, []) == "Raspberry Pi Pico"


def test_kits_list_asks_each_board_and_shows_labels(tmp_path):
    data = tmp_path / "var"
    with running_kits_sim(data, 2):
        listed = stemlab(data, "list")
        assert listed.returncode == 0, listed.stdout + listed.stderr
        assert listed.stdout.count("Yolo:Bit v4 (MicroPython 1.23.0)") == 2, listed.stdout
        labelled = stemlab(data, "label", "sim:yolobit-01", "Kit 07")
        assert labelled.returncode == 0, labelled.stdout
        assert KitsFile.load(KitFolders.under(data)).labels == {"sim:yolobit-01": "Kit 07"}
        assert "Kit 07" in stemlab(data, "list").stdout
        unknown = stemlab(data, "label", "/dev/ttyUSB42", "Kit 99")
        assert unknown.returncode == 2 and "kits list" in unknown.stdout
    assert "sim:yolobit" not in stemlab(data, "list", "--no-probe").stdout, "stopped kits are gone"


def serve_over_tcp(device: str) -> tuple[int, threading.Event]:
    """A kit on 'another machine': its serial line bridged to a TCP port (as ser2net does)."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def bridge() -> None:
        conn, _ = server.accept()
        fd = os.open(device, os.O_RDWR | os.O_NOCTTY)
        while not stop.is_set():
            ready, _, _ = select.select([conn, fd], [], [], 0.1)
            if conn in ready:
                data = conn.recv(4096)
                if not data:
                    break
                os.write(fd, data)
            if fd in ready:
                conn.sendall(os.read(fd, 4096))
        conn.close()
        os.close(fd)
        server.close()

    threading.Thread(target=bridge, daemon=True).start()
    return server.getsockname()[1], stop


def test_a_kit_on_another_machine_over_the_network(tmp_path):
    with SimKit(model="pico") as kit:
        port, stop = serve_over_tcp(kit.path)
        kits_file = KitsFile.load(KitFolders.under(tmp_path))
        kits_file.remote.append({"url": f"socket://127.0.0.1:{port}", "name": "lab-pc-3:kit"})
        kits_file.save()
        listed = stemlab(tmp_path, "list")
        stop.set()
    assert "Raspberry Pi Pico" in listed.stdout and f"socket://127.0.0.1:{port}" in listed.stdout, listed.stdout


def test_one_table_of_kit_models_for_naming_checking_and_simulating():
    from lab_hardware.boards import KIT_MODELS, kit_model, port_of
    from lab_hardware.sim.hardware import MODELS

    assert set(MODELS) == {m.key for m in KIT_MODELS}, "every simulated board is a kit model, and back"
    answers = [("ESP32S3 module", "esp32", True, []), ("ESP32 module", "esp32", True, []), ("RP2040", "rp2", False, []),
               ("ESP32 module", "esp32", False, [0x68]), ("ESP32 module", "esp32", False, []),
               ("ESP32S3 module", "esp32", False, [])]
    for machine, platform, has_yolobit, i2c in answers:
        assert kit_model(model_from_answer(machine, platform, has_yolobit, i2c)) is not None
    assert port_of("Raspberry Pi Pico") == port_of("pico") == "rp2" and port_of("a board we do not know") == "esp32"
