"""Breadboard circuits on the simulated kit, measured through the serial link as a notebook does:
the ADC reads what the parts' physics predicts (a divider's ratio, an LED's forward voltage, a
transistor switching), within its noise and 12-bit steps; the DAC drives them; mistakes in a
scenario, or a DAC on the wrong pin, are told in words."""

from __future__ import annotations

import math
import statistics

import pytest

from lab_hardware.errors import BoardError
from lab_hardware.sim.hardware import Scenario
from lab_hardware.transport import KitConnection

QUIET = {"adc_noise_mv": 0}
ADCS = "from machine import ADC, DAC, Pin\nadc = {n: ADC(Pin(n), atten=ADC.ATTN_11DB) for n in range(5)}\n"


def volts(link: KitConnection, pin: int) -> float:
    return link.eval(f"adc[{pin}].read_uv()") / 1e6


def open_kit(sim_kit, circuits: dict, **scenario) -> KitConnection:
    kit = sim_kit(model="yolobit", realtime=False, scenario={"circuits": circuits, **scenario})
    link = KitConnection.open(kit.path)
    link.exec(ADCS)
    return link


def test_a_divider_reads_its_ratio_quantised_to_12_bits(sim_kit):
    with open_kit(sim_kit, {"pin0": {"kind": "divider", "source": 3.3, "r_top": 10000, "r_bottom": 4700}},
                  **QUIET) as link:
        ideal = 3.3 * 4700 / (10000 + 4700)
        assert link.eval("adc[0].read()") == round(ideal / 3.3 * 4095)
        assert volts(link, 0) == pytest.approx(ideal, abs=3.3 / 4095)


def test_the_dac_drives_a_circuit_and_a_wire_reads_it_back(sim_kit):
    circuits = {"pin0": {"kind": "divider", "source": "pin25", "r_top": 1000, "r_bottom": 1000},
                "pin1": {"kind": "wire", "source": "pin25"}}
    with open_kit(sim_kit, circuits, **QUIET) as link:
        link.exec("dac = DAC(Pin(25))")
        for value in (0, 51, 128, 255):
            link.exec(f"dac.write({value})")
            assert volts(link, 1) == pytest.approx(3.3 * value / 255, abs=0.002)
            assert volts(link, 0) == pytest.approx(3.3 * value / 255 / 2, abs=0.002)
        events = link.exec("import _sim\nprint(_sim.timeline())")
        assert '"kind": "dac", "target": "pin25", "value": 255' in events


def test_a_digital_output_is_a_source_too(sim_kit):
    with open_kit(sim_kit, {"pin0": {"kind": "wire", "source": "pin2"}}, **QUIET) as link:
        assert volts(link, 0) == 0.0
        link.exec("Pin(2, Pin.OUT).value(1)")
        assert volts(link, 0) == pytest.approx(3.3, abs=0.001)


def test_an_led_follows_shockleys_law_and_each_colour_has_its_forward_voltage(sim_kit):
    # 3.3 V through 135 ohm puts about 10 mA through a red LED: its datasheet point, 1.95 V
    circuits = {f"pin{i}": {"kind": "diode", "source": 3.3, "r": 135, "part": part}
                for i, part in enumerate(("led-red", "led-green", "led-blue", "1n4148"))}
    with open_kit(sim_kit, circuits, **QUIET) as link:
        red, green, blue, silicon = (volts(link, i) for i in range(4))
        assert red == pytest.approx(1.95, abs=0.02)
        assert silicon < red < green < blue < 3.3
        assert silicon == pytest.approx(0.7, abs=0.08)
    # the current grows exponentially with the voltage: ten times the current costs n*Vt*ln(10)
    sweep = {"pin0": {"kind": "diode", "source": "pin25", "r": 220, "part": "led-red"},
             "pin1": {"kind": "wire", "source": "pin25"}}
    with open_kit(sim_kit, sweep, **QUIET) as link:
        link.exec("dac = DAC(Pin(25))")
        points = []
        for value in (180, 255):
            link.exec(f"dac.write({value})")
            v_led, v_source = volts(link, 0), volts(link, 1)
            points.append((v_led, (v_source - v_led) / 220))
        (v1, i1), (v2, i2) = points
        ideality = (v2 - v1) / (0.025852 * math.log(i2 / i1))
        assert ideality == pytest.approx(2.0, abs=0.15), "the red LED's ideality factor, within the 12-bit steps"


def test_a_below_threshold_source_leaves_the_led_dark_and_its_voltage_that_of_the_source(sim_kit):
    circuit = {"pin0": {"kind": "diode", "source": "pin25", "r": 220, "part": "led-red"}}
    with open_kit(sim_kit, circuit, **QUIET) as link:
        link.exec("dac = DAC(Pin(25))\ndac.write(64)")
        assert volts(link, 0) == pytest.approx(3.3 * 64 / 255, abs=0.005), "no current: no drop across R"


def test_a_transistor_switches_its_load(sim_kit):
    circuit = {"pin0": {"kind": "npn", "base": "pin2", "r_base": 10000, "r_load": 1000, "supply": 3.3}}
    with open_kit(sim_kit, circuit, **QUIET) as link:
        link.exec("base = Pin(2, Pin.OUT)\nbase.value(0)")
        assert volts(link, 0) == pytest.approx(3.3, abs=0.002), "off: no collector current, no drop"
        link.exec("base.value(1)")
        assert volts(link, 0) == pytest.approx(0.1, abs=0.01), "on: saturated near 0.1 V"
    # in the active region the collector current is beta times the base current
    weak = {"pin0": {"kind": "npn", "base": 0.7, "r_base": 1_000_000, "r_load": 1000, "beta": 100}}
    with open_kit(sim_kit, weak, **QUIET) as link:
        drop = 3.3 - volts(link, 0)
        assert 0.0 < drop < 3.0, "a small base current: the transistor is only partly on"


def test_noise_is_gaussian_reproducible_and_averaging_shrinks_it(sim_kit):
    sensor = {"pin0": {"kind": "sensor", "volts": [[0, 0.5]], "noise_mv": 10}}
    runs = []
    for _ in range(2):
        with open_kit(sim_kit, sensor, adc_noise_mv=4, seed=7) as link:
            runs.append(link.eval("[adc[0].read_uv() / 1e6 for _ in range(400)]"))
    assert runs[0] == runs[1], "the same scenario and seed read the same numbers"
    readings = runs[0]
    assert statistics.mean(readings) == pytest.approx(0.5, abs=0.003)
    assert statistics.stdev(readings) == pytest.approx(math.hypot(10, 4) / 1000, rel=0.15)
    means = [statistics.mean(readings[i:i + 16]) for i in range(0, 400, 16)]
    assert statistics.stdev(means) < statistics.stdev(readings) / 2.5, "16 readings averaged: about 4 times less noise"


def test_mains_hum_follows_the_clock(sim_kit):
    sensor = {"pin0": {"kind": "sensor", "volts": [[0, 1.0]], "hum_mv": 50}}
    with open_kit(sim_kit, sensor, **QUIET) as link:
        # 5 ms apart is a quarter of a 50 Hz period: from the zero crossing to the crest
        readings = link.eval("[(__import__('time').sleep_us(5000), adc[0].read_uv() / 1e6)[1] for _ in range(4)]")
        assert max(readings) - min(readings) == pytest.approx(0.1, abs=0.005)


def test_attenuation_sets_the_range_and_a_reading_past_it_clips(sim_kit):
    with open_kit(sim_kit, {"pin0": {"kind": "wire", "source": 2.0}}, **QUIET) as link:
        link.exec("adc[0].atten(ADC.ATTN_0DB)")
        assert link.eval("adc[0].read()") == 4095, "2 V is past the 0 dB range (about 1.1 V)"
        link.exec("adc[0].atten(ADC.ATTN_11DB)\nadc[0].width(ADC.WIDTH_9BIT)")
        assert link.eval("adc[0].read()") == round(2.0 / 3.3 * 511)


def test_a_dac_only_on_its_pins_and_only_on_an_esp32(sim_kit):
    with open_kit(sim_kit, {}) as link:
        with pytest.raises(BoardError, match="invalid Pin for DAC"):
            link.exec("DAC(Pin(4))")
        with pytest.raises(BoardError, match="value out of range"):
            link.exec("DAC(Pin(26)).write(256)")
    pico = sim_kit(model="pico", realtime=False)
    with KitConnection.open(pico.path) as link:
        assert link.eval("hasattr(__import__('machine'), 'DAC')") is False


@pytest.mark.parametrize(("circuits", "message"), [
    ({"pin0": {"kind": "capacitor"}}, "kind 'capacitor' is not one of wire, divider, diode, npn, sensor"),
    ({"pin0": {"kind": "divider", "source": 3.3, "r_top": 0, "r_bottom": 10}}, "'r_top' must be a positive number"),
    ({"pin0": {"kind": "diode", "source": 3.3, "r": 220, "part": "led-purple"}}, "part 'led-purple' is not one of"),
    ({"pin0": {"kind": "wire", "source": "gnd"}}, "'source' is a pin (\"pin25\") or a fixed voltage"),
    ({"pin0": {"kind": "sensor", "volts": 0.3}}, "'volts' is a list of [from ms, volts]"),
])
def test_a_scenarios_circuit_mistake_names_the_pin_and_the_fix(circuits, message):
    with pytest.raises(ValueError) as err:
        Scenario.from_dict({"circuits": circuits})
    assert "scenario 'circuits' at pin0" in str(err.value) and message in str(err.value)
