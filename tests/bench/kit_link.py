"""Benchmark: this kit link against mpremote, on the same simulated kit in one run.

Run from the project root after `make test-deps` (or `make bench`):

    .venv/bin/python tests/bench/kit_link.py [--baud 115200] [--rounds 50]

The kit is simulated on a real pseudo-terminal and paced like a USB-UART bridge at --baud
(0: as fast as the pseudo-terminal goes). For each tool: exec round-trip latency (p50 of
`print(1)`), and for 64 KB of text and 64 KB of random bytes the upload time and the wire bytes
per payload byte (counted by the simulated bridge). Both use their own Python API, in this process,
so nothing is measuring program start-up. Prints ratios (mpremote / ours).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from mpremote.transport_serial import SerialTransport  # noqa: E402

from lab_hardware import files  # noqa: E402
from lab_hardware.sim.kit import SimKit  # noqa: E402
from lab_hardware.transport import KitConnection  # noqa: E402

PAYLOAD = 64 * 1024


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


def measure(kit: SimKit, action) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    before = kit.bytes_to_board
    start = time.perf_counter()
    action()
    return time.perf_counter() - start, kit.bytes_to_board - before


def ours(kit: SimKit, rounds: int, payloads: dict[str, bytes]) -> dict[str, float]:
    results: dict[str, float] = {}
    with KitConnection.open(kit.path, timeout=30) as link:
        link.exec("pass")
        latencies = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            assert link.exec("print(1)") == "1\n"
            latencies.append(time.perf_counter() - t0)
        results["exec_p50_ms"] = statistics.median(latencies) * 1000
        for name, data in payloads.items():
            files.remove(link, "/x.bin") if any(e.name == "x.bin" for e in files.listdir(link, "/")) else None
            seconds, wire = measure(kit, lambda: files.put(link, data, "/x.bin"))
            assert files.get(link, "/x.bin") == data
            results[f"{name}_s"] = seconds
            results[f"{name}_wire"] = wire / len(data)
    return results


def theirs(kit: SimKit, rounds: int, payloads: dict[str, bytes]) -> dict[str, float]:
    results: dict[str, float] = {}
    t = SerialTransport(kit.path, 115200)
    try:
        t.enter_raw_repl(soft_reset=False)
        latencies = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            assert t.exec("print(1)") == b"1\r\n"
            latencies.append(time.perf_counter() - t0)
        results["exec_p50_ms"] = statistics.median(latencies) * 1000
        for name, data in payloads.items():
            seconds, wire = measure(kit, lambda: t.fs_writefile("/y.bin", data))
            assert t.fs_readfile("/y.bin") == data
            results[f"{name}_s"] = seconds
            results[f"{name}_wire"] = wire / len(data)
        t.exit_raw_repl()
    finally:
        t.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baud", type=int, default=115200, help="pace of the simulated UART (0: unpaced)")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    payloads = {"text64k": text_payload(), "binary64k": os.urandom(PAYLOAD)}
    with SimKit(model="yolobit", baud=args.baud or None) as kit:
        time.sleep(0.5)
        mine = ours(kit, args.rounds, payloads)
        ref = theirs(kit, args.rounds, payloads)
    print(f"Kit link benchmark: simulated Yolo:Bit on a pseudo-terminal, "
          f"{'paced at %d baud' % args.baud if args.baud else 'unpaced'}, {args.rounds} exec rounds")
    print(f"{'measure':<28}{'ours':>12}{'mpremote':>12}{'mpremote/ours':>16}")
    rows = [("exec round trip p50 (ms)", "exec_p50_ms"), ("upload 64 KB text (s)", "text64k_s"),
            ("  wire bytes per byte", "text64k_wire"), ("upload 64 KB binary (s)", "binary64k_s"),
            ("  wire bytes per byte", "binary64k_wire")]
    for label, key in rows:
        print(f"{label:<28}{mine[key]:>12.3f}{ref[key]:>12.3f}{ref[key] / mine[key]:>16.2f}")


if __name__ == "__main__":
    main()
