"""Circuits on a breadboard wired to the simulated board: the voltage each ADC pin measures.

A scenario's `circuits` maps the pin an ADC reads to what is wired there, e.g.
    {"pin0": {"kind": "divider", "source": 3.3, "r_top": 10000, "r_bottom": 4700},
     "pin1": {"kind": "diode", "source": "pin25", "r": 220, "part": "led-red"},
     "pin2": {"kind": "npn", "base": "pin25", "r_base": 10000, "r_load": 1000, "supply": 3.3},
     "pin3": {"kind": "sensor", "volts": [[0, 0.28], [2000, 0.31]], "noise_mv": 8, "hum_mv": 20},
     "pin4": {"kind": "wire", "source": "pin25"}}
A `source` is a fixed voltage or a pin the board drives: a DAC's output, else a digital output's
level (3.3 V high). Parts follow their physics (Ohm's law, Shockley's diode equation, a bipolar
transistor with its gain and saturation), so a student who measures the kit finds what a textbook
predicts, within the ADC's noise: each reading adds Gaussian noise (`adc_noise_mv` of the scenario)
and is quantised to 12 bits over the attenuation's range, as the ESP32's ADC does (the sim keeps its
transfer line straight; the real one bends below 0.15 V and near full scale).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Callable, Union

THERMAL_VOLTAGE = 0.025852  # kT/q at 300 K
SUPPLY_VOLTS = 3.3          # the ESP32's rail: a high output, the DAC's full scale
DAC_PINS = ("pin25", "pin26")
MAINS_HZ = 50.0             # Vietnam's grid: the hum a long wire picks up


@dataclass(frozen=True)
class DiodePart:
    """Shockley's model, I = Is·(exp(V / (n·Vt)) − 1), fitted to a part's datasheet point."""

    saturation_amps: float
    ideality: float

    @classmethod
    def through(cls, volts: float, amps: float, ideality: float) -> "DiodePart":
        """The part that passes `amps` at `volts` (its datasheet's forward voltage)."""
        return cls(amps / math.expm1(volts / (ideality * THERMAL_VOLTAGE)), ideality)

    def amps(self, volts: float) -> float:
        return self.saturation_amps * math.expm1(min(volts, 5.0) / (self.ideality * THERMAL_VOLTAGE))


PARTS = {
    "1n4148": DiodePart.through(0.72, 0.010, 1.9),      # small-signal silicon diode
    "led-red": DiodePart.through(1.95, 0.010, 2.0),
    "led-yellow": DiodePart.through(2.05, 0.010, 2.0),
    "led-green": DiodePart.through(2.20, 0.010, 2.2),
    "led-blue": DiodePart.through(2.95, 0.010, 2.6),
}

Drive = Callable[[str], float]   # the volts the board puts on a pin now
Source = Union[float, str]


def _volts(source: Source, drive: Drive) -> float:
    return drive(source) if isinstance(source, str) else float(source)


def _solve(f: Callable[[float], float], low: float, high: float) -> float:
    """The root of a function that rises from negative at `low` to positive at `high`."""
    for _ in range(80):
        mid = (low + high) / 2
        if f(mid) > 0:
            high = mid
        else:
            low = mid
    return (low + high) / 2


@dataclass(frozen=True)
class Wire:
    """A wire from a source straight to the ADC (to measure what a pin or the DAC gives)."""

    source: Source

    def volts(self, drive: Drive, t_ms: float, rng: random.Random) -> float:
        return _volts(self.source, drive)


@dataclass(frozen=True)
class Divider:
    """source — r_top — ADC — r_bottom — ground."""

    source: Source
    r_top: float
    r_bottom: float

    def volts(self, drive: Drive, t_ms: float, rng: random.Random) -> float:
        return _volts(self.source, drive) * self.r_bottom / (self.r_top + self.r_bottom)


@dataclass(frozen=True)
class Diode:
    """source — r — ADC — diode (anode at the ADC) — ground: the ADC reads the diode's voltage."""

    source: Source
    r: float
    part: str

    def volts(self, drive: Drive, t_ms: float, rng: random.Random) -> float:
        supply, diode = _volts(self.source, drive), PARTS[self.part]
        if supply <= 0:
            return 0.0
        # the current through the resistor equals the diode's
        return _solve(lambda v: diode.amps(v) - (supply - v) / self.r, 0.0, supply)


@dataclass(frozen=True)
class NpnSwitch:
    """base source — r_base — base of an NPN (emitter to ground); supply — r_load — collector — ADC.
    The base-emitter junction is a diode; the collector takes beta times the base current until the
    transistor saturates (it cannot pull the collector below about 0.1 V)."""

    base: Source
    r_base: float
    r_load: float
    supply: float = SUPPLY_VOLTS
    beta: float = 150.0
    saturation_volts: float = 0.1

    def base_amps(self, drive: Drive) -> float:
        vin = _volts(self.base, drive)
        if vin <= 0:
            return 0.0
        junction = DiodePart(1e-14 / self.beta, 1.0)  # the base current of a small NPN (Is = 10 fA)
        vbe = _solve(lambda v: junction.amps(v) - (vin - v) / self.r_base, 0.0, vin)
        return (vin - vbe) / self.r_base

    def volts(self, drive: Drive, t_ms: float, rng: random.Random) -> float:
        active = self.supply - self.beta * self.base_amps(drive) * self.r_load
        return max(self.saturation_volts, active)


@dataclass(frozen=True)
class Sensor:
    """An analogue sensor's output over time (`volts`: [[from ms, V], ...]), with its own random
    noise and the mains hum its wires pick up."""

    series: tuple[tuple[float, float], ...]
    noise_mv: float = 0.0
    hum_mv: float = 0.0

    def volts(self, drive: Drive, t_ms: float, rng: random.Random) -> float:
        level = 0.0
        for start, v in self.series:
            if start <= t_ms:
                level = v
        hum = self.hum_mv / 1000 * math.sin(2 * math.pi * MAINS_HZ * t_ms / 1000)
        noise = rng.gauss(0.0, self.noise_mv / 1000) if self.noise_mv else 0.0
        return level + hum + noise


Circuit = Union[Wire, Divider, Diode, NpnSwitch, Sensor]


def _number(spec: dict[str, Any], key: str, where: str, positive: bool = True, default: float | None = None) -> float:
    value = spec.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or (positive and value <= 0):
        raise ValueError(f"{where}: '{key}' must be a {'positive ' if positive else ''}number, not {value!r}")
    return float(value)


def _source(spec: dict[str, Any], key: str, where: str) -> Source:
    value = spec.get(key)
    if isinstance(value, str) and value.startswith("pin"):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 5.0:
        return float(value)
    raise ValueError(f"{where}: '{key}' is a pin (\"pin25\") or a fixed voltage from 0 to 5, not {value!r}")


def parse_circuit(pin: str, spec: Any) -> Circuit:
    """One entry of a scenario's `circuits`; a ValueError says what is wrong with it."""
    where = f"scenario 'circuits' at {pin}"
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: each circuit is a table with a 'kind'")
    kind = spec.get("kind")
    if kind == "wire":
        return Wire(_source(spec, "source", where))
    if kind == "divider":
        return Divider(_source(spec, "source", where), _number(spec, "r_top", where), _number(spec, "r_bottom", where))
    if kind == "diode":
        part = spec.get("part", "1n4148")
        if part not in PARTS:
            raise ValueError(f"{where}: part {part!r} is not one of {', '.join(PARTS)}")
        return Diode(_source(spec, "source", where), _number(spec, "r", where), part)
    if kind == "npn":
        return NpnSwitch(_source(spec, "base", where), _number(spec, "r_base", where), _number(spec, "r_load", where),
                         _number(spec, "supply", where, default=SUPPLY_VOLTS), _number(spec, "beta", where, default=150.0))
    if kind == "sensor":
        series = spec.get("volts")
        if not isinstance(series, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in series):
            raise ValueError(f"{where}: 'volts' is a list of [from ms, volts]")
        return Sensor(tuple((float(t), float(v)) for t, v in sorted(series)),
                      _number(spec, "noise_mv", where, positive=False, default=0.0),
                      _number(spec, "hum_mv", where, positive=False, default=0.0))
    raise ValueError(f"{where}: kind {kind!r} is not one of wire, divider, diode, npn, sensor")


def parse_circuits(data: Any) -> dict[str, Circuit]:
    if not isinstance(data, dict):
        raise ValueError("scenario 'circuits' maps an ADC pin (\"pin0\") to the circuit wired there")
    return {pin: parse_circuit(pin, spec) for pin, spec in data.items()}


def adc_code(volts: float, full_scale: float, bits: int, noise_mv: float, rng: random.Random) -> int:
    """The raw reading of an ESP32-style SAR ADC: noise, clipping to its range, quantisation."""
    top = (1 << bits) - 1
    measured = volts + (rng.gauss(0.0, noise_mv / 1000) if noise_mv else 0.0)
    return max(0, min(top, round(measured / full_scale * top)))
