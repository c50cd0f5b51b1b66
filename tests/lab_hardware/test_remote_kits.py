"""A kit attached to another machine, reached as rfc2217://host:port (RFC 2217, serial over
telnet), served here by pyserial's own PortManager on loopback: code, files and a hard reset
through the remote RTS/DTR lines."""

from __future__ import annotations

import os
import socket
import threading

import pytest
import serial
import serial.rfc2217

from lab_hardware import files
from lab_hardware.transport import KitConnection

pytestmark = pytest.mark.kit


@pytest.fixture
def rfc2217_kit():
    port = serial.serial_for_url("sim://yolobit", timeout=0.05)  # the kit, on the 'other machine'
    server = socket.create_server(("127.0.0.1", 0))
    alive = threading.Event()
    alive.set()

    def serve() -> None:
        client, _ = server.accept()
        client.settimeout(0.2)
        network = type("Network", (), {"write": staticmethod(client.sendall)})()
        manager = serial.rfc2217.PortManager(port, network)

        def board_to_network() -> None:
            while alive.is_set():
                try:
                    data = port.read(port.in_waiting or 1)
                    if data:
                        client.sendall(b"".join(manager.escape(data)))
                except (serial.SerialException, OSError):
                    return

        threading.Thread(target=board_to_network, daemon=True).start()
        while alive.is_set():
            try:
                data = client.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            port.write(b"".join(manager.filter(data)))
        client.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"rfc2217://127.0.0.1:{server.getsockname()[1]}"
    alive.clear()
    server.close()
    port.close()


def test_code_files_and_hard_reset_over_rfc2217(rfc2217_kit):
    with KitConnection.open(rfc2217_kit, timeout=5) as link:
        assert link.exec("import os\nprint(os.uname().machine)") == "Yolo:Bit with ESP32\n"
        data = os.urandom(5000)
        assert files.put(link, data, "/remote.bin") is True
        assert files.get(link, "/remote.bin") == data
        link.exec("remembered = 1")
        link.hard_reset()
        assert link.exec("print('remembered' in dir())") == "False\n", "the reset went over the network"
        assert files.get(link, "/remote.bin") == data, "the flash kept its files"
