"""`stemlab kits sim` starts simulated kits on pseudo-terminals that tools people already use
(mpremote) and our own link drive unchanged; the simulated hardware does what lessons need."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab_hardware import files
from lab_hardware.sim.kit import SimKit
from lab_hardware.transport import KitConnection

from ..conftest import STEMLAB
from .sim_command import running_kits_sim

pytestmark = pytest.mark.kit
MPREMOTE = str(Path(sys.executable).with_name("mpremote"))


@pytest.fixture
def sim_command(tmp_path):
    with running_kits_sim(tmp_path / "var", 2, "--board", "esp32") as sim:
        yield sim.proc, sim.paths


def test_kits_sim_prints_devices_that_mpremote_and_our_link_use(sim_command, tmp_path):
    proc, paths = sim_command
    assert len(paths) == 2 and all(Path(p).exists() for p in paths)
    out = subprocess.run([MPREMOTE, "connect", paths[0], "exec", "import os; print(os.uname().machine)"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ESP32" in out.stdout, out.stderr
    local = tmp_path / "blink.py"
    local.write_text("from machine import Pin\nled = Pin(2, Pin.OUT)\n", encoding="utf-8")
    cp = subprocess.run([MPREMOTE, "connect", paths[1], "fs", "cp", str(local), ":blink.py"],
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    with KitConnection.open(paths[1]) as link:
        assert files.get(link, "/blink.py") == local.read_bytes()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert not any(Path(p).exists() and os.access(p, os.R_OK) and _alive(p) for p in paths)


def _alive(path: str) -> bool:
    try:
        with KitConnection.open(path, timeout=0.5) as link:
            link.exec("print(1)")
        return True
    except Exception:  # noqa: BLE001  (any failure means the kit is gone)
        return False


def timeline(link: KitConnection) -> list[dict]:
    return json.loads(link.exec("import _sim\nprint(_sim.timeline())"))["events"]


def test_a_blink_is_recorded_on_the_timeline_in_virtual_time():
    with SimKit(model="yolobit", realtime=False) as kit, KitConnection.open(kit.path) as link:
        link.exec("import _sim\n_sim.restart()")
        start = time.monotonic()
        link.exec("from machine import Pin\nimport time\nled = Pin(2, Pin.OUT)\n"
                  "for i in range(10):\n    led.value(1)\n    time.sleep_ms(250)\n    led.value(0)\n    time.sleep_ms(250)\n")
        assert time.monotonic() - start < 3, "5 simulated seconds run in much less"
        pin2 = [(round(e["t"]), e["value"]) for e in timeline(link) if e["kind"] == "pin" and e["target"] == "pin2"]
        assert pin2[:4] == [(0, 1), (250, 0), (500, 1), (750, 0)] and len(pin2) == 20


def test_yolobit_display_buttons_sensors_and_buzzer_follow_the_scenario():
    scenario = {"buttons": {"a": [[100, 300]]}, "light": [[0, 70], [200, 5]], "temperature": [[0, 31.5]],
                "acceleration": [[0, [0, 0, -1000]]]}
    with SimKit(model="yolobit", realtime=False, scenario=scenario) as kit, KitConnection.open(kit.path) as link:
        link.exec("import _sim\n_sim.restart()")
        out = link.exec(
            "from yolobit import *\nimport time\nseen = []\n"
            "for i in range(40):\n"
            "    if button_a.is_pressed():\n        display.show(Image.HEART)\n    else:\n        display.clear()\n"
            "    time.sleep_ms(10)\n"
            "print(light_level(), temperature(), accelerometer.get_z())\n"
            "music.pitch(440, 100)\n"
        )
        assert out.split() == ["5", "31.5", "-1000"]
        events = timeline(link)
        hearts = [e["t"] for e in events if e["kind"] == "display" and e["value"].get("image") == "HEART"]
        assert hearts and 95 <= min(hearts) <= 115 and max(hearts) < 300
        assert {"freq": 440, "ms": 100} in [e["value"] for e in events if e["kind"] == "sound"]


def test_i2c_finds_the_boards_sensors_and_reads_one_g_at_rest():
    with SimKit(model="yolobit") as kit, KitConnection.open(kit.path) as link:
        assert link.eval("__import__('machine').I2C(0).scan()") == [0x19]
        z = link.eval("(lambda r: (r[5] << 8 | r[4]) - (65536 if r[5] & 0x80 else 0))"
                      "(__import__('machine').I2C(0).readfrom_mem(0x19, 0x28 | 0x80, 6)) >> 4")
        assert abs(z + 1000) < 5  # mg
        assert link.eval("__import__('machine').I2C(0).readfrom_mem(0x19, 0x0F, 1)") == b"\x33"
    with SimKit(model="xbot") as kit, KitConnection.open(kit.path) as link:
        assert link.eval("__import__('machine').I2C(0).scan()") == [0x68]
        assert link.eval("__import__('machine').I2C(0).readfrom_mem(0x68, 0x75, 1)") == b"\x68"


def test_pwm_adc_timer_and_boot_py():
    scenario = {"analog": {"pin34": [[0, 1000], [500, 3000]]}}
    with SimKit(model="esp32", realtime=False, scenario=scenario) as kit, KitConnection.open(kit.path) as link:
        link.exec("f = open('boot.py', 'w')\nf.write('booted = True\\n')\nf.close()")
        link.soft_reset()
        assert link.eval("booted") is True, "boot.py runs at every reset"
        link.exec("import _sim\n_sim.restart()")
        out = link.exec(
            "from machine import Pin, PWM, ADC, Timer\nimport time\n"
            "led = Pin(2, Pin.OUT)\n"
            "t = Timer(0)\nt.init(period=100, mode=Timer.PERIODIC, callback=lambda _: led.value(not led.value()))\n"
            "buzzer = PWM(Pin(25), freq=440, duty=512)\n"
            "sensor = ADC(Pin(34))\nfirst = sensor.read()\n"
            "time.sleep_ms(1000)\n"
            "buzzer.duty(0)\nt.deinit()\n"
            "print(first, sensor.read())\n"
        )
        assert out.split() == ["1000", "3000"]
        events = timeline(link)
        toggles = [round(e["t"]) for e in events if e["kind"] == "pin" and e["target"] == "pin2"]
        assert toggles[:3] == [100, 200, 300] and len(toggles) == 10, toggles
        pwm = [e["value"] for e in events if e["kind"] == "pwm" and e["target"] == "pin25"]
        assert pwm == [{"freq": 440, "duty": 512}, {"freq": 440, "duty": 0}]

