"""The static check of board code against micropython-stubs (esp32, rp2) and our yolobit stubs:
it names the misused API and its line, and stays quiet on correct lesson code."""

from __future__ import annotations

import time

import pytest

from lab_hardware.boardcheck import check_cell

BLINK = "from machine import Pin\nimport time\nled = Pin(2, Pin.OUT)\nwhile True:\n    led.value(1)\n    time.sleep_ms(500)\n    led.toggle()\n"


@pytest.mark.parametrize("port", ["esp32", "rp2"])
def test_correct_lesson_code_passes_quickly(port):
    start = time.perf_counter()
    assert check_cell(BLINK, port) == []
    assert check_cell("import machine\nadc = machine.ADC(machine.Pin(26))\nprint(adc.read_u16())\n", port) == []
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("source, line, expected", [
    ("from machine import Pin\nled = Pin(2, Pin.OUT)\nled.toggel()\n", 3, "machine.Pin has no `toggel`; did you mean `toggle`?"),
    ("from machine import Pinn\n", 1, "`machine` has no `Pinn`; did you mean `Pin`?"),
    ("import machine\np = machine.PWN(machine.Pin(5))\n", 2, "`machine` has no `PWN`; did you mean `PWM`?"),
    ("from machine import Pin\nled = Pin(2, Pin.OUT)\nled.value(1, 2)\n", 3, "Pin.value() takes 0–1 positional arguments, 2 given"),
    ("import time\ntime.slep(1)\n", 2, "did you mean `sleep`?"),
    ("import numpy as np\n", 1, "`numpy` does not exist on the board"),
    ("if x\n    pass\n", 1, "syntax error"),
])
def test_misused_apis_are_named_with_their_line(source, line, expected):
    problems = check_cell(source, "esp32")
    assert problems and problems[0].line == line and expected in problems[0].message_en, problems


def test_yolobit_stubs_and_the_rp2_port():
    problems = check_cell("from yolobit import *\ndisplay.shwo(Image.HEART)\nbutton_a.is_pressed(3)\n", "esp32")
    assert [p.line for p in problems] == [2, 3]
    assert "did you mean `show`" in problems[0].message_en and "có phải `show`" in problems[0].message_vi
    assert check_cell("import rp2\nrp2.PIO(0)\n", "rp2") == []
    assert "`rp2`" in check_cell("import rp2\nrp2.PI0(0)\n", "rp2")[0].message_en
