"""Benchmark: this kit link against mpremote, on the same device in one run.

Run from the project root after `make test-deps` (or `make bench`):

    .venv/bin/python tests/bench/kit_link.py [--device DEVICE] [--baud 115200] [--rounds 50]

DEVICE is `sim` (the default: the simulated Yolo:Bit on a pseudo-terminal, paced like a USB-UART
bridge at --baud; 0: unpaced), `qemu:lab` or `qemu:stock` (real MicroPython under QEMU, from
tests/firmware/), or any pyserial URL or device path of a real board (`/dev/ttyUSB0`). For each
tool: the exec round trip (p50 of `print(1)`), the first exec after opening the link (p50 of
open + `print(1)` on a fresh link), and for 64 KB of text and 64 KB of random bytes the upload
time and the wire bytes per payload byte (counted at each tool's serial port). Both tools use their
own Python API in this process, so nothing measures program start-up. Prints ratios
(mpremote / ours: above 1 means ours is faster or cheaper). A board without a filesystem (the
stock build) gets no upload rows.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from mpremote.transport_serial import SerialTransport  # noqa: E402

from lab_hardware import files  # noqa: E402
from lab_hardware.sim.kit import SimKit  # noqa: E402
from lab_hardware.transport import KitConnection  # noqa: E402
from tests.lab_hardware.qemu import Firmware, QemuBoard  # noqa: E402

PAYLOAD = 64 * 1024
FIRST_EXEC_ROUNDS = 10


def text_payload() -> bytes:
    rng = random.Random(7)
    words = ["from", "machine", "import", "Pin", "led", "=", "Pin(2,", "Pin.OUT)", "while", "True:",
             "nhiệt_độ", "ánh_sáng", "print(", ")", "time.sleep_ms(100)", "#", "đèn", "sáng"]
    out, size = [], 0
    while size < PAYLOAD:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) + "\n"
        out.append(line)
        size += len(line.encode())
    return "".join(out).encode()[:PAYLOAD]


@contextlib.contextmanager
def device(name: str, baud: int) -> Iterator[tuple[str, str]]:
    """The device's path and a description of it."""
    if name == "sim":
        with SimKit(model="yolobit", baud=baud or None) as kit:
            time.sleep(0.5)
            yield kit.path, f"simulated Yolo:Bit, {'paced at %d baud' % baud if baud else 'unpaced'}"
    elif name.startswith("qemu:"):
        firmware = Firmware(name.split(":", 1)[1])
        with QemuBoard(firmware) as board:
            yield board.path, f"real MicroPython 1.29 under QEMU ({firmware.value} build, mps2-an385)"
    else:
        yield name, f"the board at {name}"


def p50_ms(action: Callable[[], object], rounds: int) -> float:
    latencies = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        action()
        latencies.append(time.perf_counter() - t0)
    return statistics.median(latencies) * 1000


def upload(results: dict[str, float], payloads: dict[str, bytes], sent: Callable[[], int],
           put: Callable[[bytes], object], get: Callable[[], bytes]) -> None:
    for name, data in payloads.items():
        before = sent()
        t0 = time.perf_counter()
        put(data)
        results[f"{name}_s"] = time.perf_counter() - t0
        results[f"{name}_wire"] = (sent() - before) / len(data)
        assert get() == data


def ours(path: str, rounds: int, payloads: dict[str, bytes]) -> dict[str, float]:
    def open_and_exec() -> None:
        with KitConnection.open(path, timeout=30) as fresh:
            assert fresh.exec("print(1)") == "1\n"

    results = {"first_exec_ms": p50_ms(open_and_exec, FIRST_EXEC_ROUNDS)}
    with KitConnection.open(path, timeout=30) as link:
        link.exec("pass")
        results["exec_p50_ms"] = p50_ms(lambda: link.exec("print(1)"), rounds)
        if payloads:
            upload(results, payloads, lambda: link.bytes_out, lambda data: files.put(link, data, "/x.bin"),
                   lambda: files.get(link, "/x.bin"))
            files.remove(link, "/x.bin")
    return results


def theirs(path: str, rounds: int, payloads: dict[str, bytes]) -> dict[str, float]:
    def open_and_exec() -> None:
        fresh = SerialTransport(path, 115200)
        try:
            fresh.enter_raw_repl(soft_reset=False)
            assert fresh.exec("print(1)") == b"1\r\n"
            fresh.exit_raw_repl()
        finally:
            fresh.close()

    results = {"first_exec_ms": p50_ms(open_and_exec, FIRST_EXEC_ROUNDS)}
    t = SerialTransport(path, 115200)
    sent = [0]
    write = t.serial.write

    def counted(data: bytes) -> int | None:
        sent[0] += len(data)
        return write(data)

    t.serial.write = counted
    try:
        t.enter_raw_repl(soft_reset=False)
        results["exec_p50_ms"] = p50_ms(lambda: t.exec("print(1)"), rounds)
        if payloads:
            upload(results, payloads, lambda: sent[0], lambda data: t.fs_writefile("/y.bin", data),
                   lambda: t.fs_readfile("/y.bin"))
            t.fs_rmfile("/y.bin")
        t.exit_raw_repl()
    finally:
        t.close()
    return results


def has_filesystem(path: str) -> bool:
    with KitConnection.open(path) as link:
        return bool(link.eval("__import__('os').statvfs('/')[2]"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="sim", help="sim, qemu:lab, qemu:stock, or a board's URL or path")
    parser.add_argument("--baud", type=int, default=115200, help="pace of the simulated UART (0: unpaced)")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with device(args.device, args.baud) as (path, description):
        payloads = {"text64k": text_payload(), "binary64k": os.urandom(PAYLOAD)} if has_filesystem(path) else {}
        mine = ours(path, args.rounds, payloads)
        ref = theirs(path, args.rounds, payloads)
    print(f"Kit link benchmark: {description}; {args.rounds} exec rounds, first exec p50 of {FIRST_EXEC_ROUNDS} links")
    print(f"{'measure':<30}{'ours':>12}{'mpremote':>12}{'mpremote/ours':>16}")
    rows = [("exec round trip p50 (ms)", "exec_p50_ms"), ("first exec after open (ms)", "first_exec_ms"),
            ("upload 64 KB text (s)", "text64k_s"), ("  wire bytes per byte", "text64k_wire"),
            ("upload 64 KB binary (s)", "binary64k_s"), ("  wire bytes per byte", "binary64k_wire")]
    for label, key in rows:
        if key in mine:
            print(f"{label:<30}{mine[key]:>12.3f}{ref[key]:>12.3f}{ref[key] / mine[key]:>16.2f}")
    if not payloads:
        print("(no upload rows: this board has no filesystem)")


if __name__ == "__main__":
    main()
