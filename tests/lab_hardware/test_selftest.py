"""Kit self-test: a room of simulated kits tested at once, a person's part played by a scripted
operator (the board sees the button presses and the covered sensor from its scenario), faults
found, and reports (JSON, CSV, HTML) kept with history."""

from __future__ import annotations

import csv
import json
import os
import subprocess

import pytest

from lab_hardware.inventory import Kit
from lab_hardware.selftest import skip_reasons, save_reports, test_room
from lab_hardware.sim.kit import SimKit

from ..conftest import STEMLAB
from .sim_command import running_kits_sim

pytestmark = pytest.mark.kit
BENCH_SCENARIO = {"buttons": {"a": [[3000, 3400]], "b": [[4000, 4400]]}, "light": [[0, 60], [6000, 4]]}  # ms since boot


class ScriptedOperator:
    def __init__(self, sees_lights: bool = True):
        self.asked: list[tuple[str, str]] = []
        self.sees_lights = sees_lights

    def ask(self, kit: str, instruction: str) -> None:
        self.asked.append((kit, instruction))

    def confirm(self, kit: str, question: str) -> bool:
        self.asked.append((kit, question))
        return self.sees_lights


def statuses(report) -> dict[str, str]:
    return {r.check: r.status for r in report.results}


def test_a_room_is_tested_at_once_and_faults_are_named(tmp_path):
    with SimKit(model="yolobit", realtime=False, scenario=BENCH_SCENARIO) as good, \
         SimKit(model="xbot", realtime=False, scenario={"acceleration": [[0, [0, 0, -300]]]}) as bad_accel, \
         SimKit(model="yolobit", faults=("silent",)) as dead:
        kits = [Kit(good.path, "sim:good", "Kit 01", kind="simulated"),
                Kit(bad_accel.path, "sim:xbot", "Kit 02", kind="simulated"),
                Kit(dead.path, "sim:dead", "Kit 03", kind="simulated")]
        operator = ScriptedOperator()
        seen: list[tuple[str, str, str]] = []
        reports = test_room(kits, operator, wait=3.0, progress=lambda *event: seen.append(event))
    one, two, three = reports
    assert statuses(one) == {"usb": "skip", "repl": "pass", "i2c": "pass", "accel": "pass", "leds_buzzer": "pass",
                             "buttons": "pass", "light": "pass", "temperature": "pass", "wifi": "pass"}, one.results
    assert one.model == "Yolo:Bit v4" and one.passed
    assert statuses(two)["accel"] == "fail" and "0.30 g" in next(r.detail for r in two.results if r.check == "accel")
    assert statuses(two)["i2c"] == "pass" and not two.passed
    assert statuses(three)["repl"] == "fail" and not three.passed
    assert ("Kit 01", "Nhấn nút A / Press button A") in operator.asked
    assert ("Kit 01", "buttons", "pass") in seen, "live progress per kit and check"

    first = save_reports(reports, tmp_path / "reports")
    room = json.loads((first / "room.json").read_text(encoding="utf-8"))
    assert [k["passed"] for k in room["kits"]] == [True, False, False]
    rows = list(csv.DictReader((first / "room.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert {"kit": "Kit 02", "check": "accel", "status": "fail"}.items() <= next(
        r for r in rows if r["kit"] == "Kit 02" and r["check"] == "accel").items()
    page = (first / "room.html").read_text(encoding="utf-8")
    assert "1/3 kit đạt / kits passed" in page
    # Kit 01 is a simulated kit: no USB identity to check, so its pass says a check was skipped
    assert one.verdict == "ĐẠT, 1 mục bỏ qua / PASS, 1 check skipped" and room["kits"][0]["verdict"] == one.verdict
    assert two.verdict.startswith("LỖI: Gia tốc kế") and "FAIL: Accelerometer" in two.verdict
    assert one.verdict in page and "không có định danh USB / simulated kit: no USB identity" in page
    assert "ĐẠT / PASS<" not in page, "never a bare PASS when checks were skipped"
    assert (first / "kit-Kit_01.json").exists()
    import datetime as dt

    second = save_reports(reports, tmp_path / "reports", dt.datetime(2030, 1, 1))
    assert first != second and first.exists(), "earlier runs are kept"


def test_any_board_is_identified_and_its_answering_repl_passes(target):
    """Real firmware without os.uname (the QEMU builds) is named from sys.implementation; a board
    that answers never has its REPL check failed for what identification could not tell."""
    (report,) = test_room([Kit(target.url, f"test:{target.name}", kind="usb")], operator=None)
    s = statuses(report)
    assert s["repl"] == "pass", report.results
    assert report.model != "?" and report.passed, report.results
    if target.qemu is not None:
        assert report.model == "MicroPython board (mps2-an385 with Cortex-M3)"
        repl = next(r for r in report.results if r.check == "repl")
        assert "MicroPython 1.29.0" in repl.detail, repl.detail


def test_without_a_person_the_persons_checks_are_skipped_and_say_why():
    with SimKit(model="yolobit", realtime=False) as kit:
        (report,) = test_room([Kit(kit.path, "sim:k", kind="simulated")], operator=None)
    s = statuses(report)
    assert s["buttons"] == s["light"] == s["leds_buzzer"] == "skip" and report.passed
    assert "--confirm" in next(r.detail for r in report.results if r.check == "buttons")
    assert report.verdict == "ĐẠT, 4 mục bỏ qua / PASS, 4 checks skipped"
    assert "Nút A và B / Buttons A and B: cần một người bấm nút (chạy với --confirm) / needs a person to press them " \
           "(run with --confirm)" in skip_reasons(report.results)


def test_kits_test_all_from_the_command_line(tmp_path):
    data = tmp_path / "var"
    with running_kits_sim(data, 2):
        result = subprocess.run([STEMLAB, "kits", "test", "--all", "--data", str(data)], capture_output=True,
                                text=True, env={**os.environ, "COLUMNS": "200"}, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "2/2 kit đạt / kits passed" in result.stdout
        reports = list((data / "kits" / "reports").glob("*/room.html"))
        assert len(reports) == 1
        missing = subprocess.run([STEMLAB, "kits", "test", "Kit 99", "--data", str(data)], capture_output=True,
                                 text=True, env={**os.environ, "COLUMNS": "200"}, timeout=60)
        assert missing.returncode == 2 and "Kit 99" in missing.stdout
