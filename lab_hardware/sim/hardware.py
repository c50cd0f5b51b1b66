"""The simulated board's hardware: clock, pins, sensors on I2C, and the timeline of what it did.

Inputs come from a scenario (what the world does to the board: button presses, light, tilt,
temperature, pin levels over time); outputs are recorded as timeline events (pin levels, PWM,
display frames, sounds) that a notebook can plot and a grader can check.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .circuits import DAC_PINS, SUPPLY_VOLTS, Circuit, adc_code, parse_circuits


class TimeUp(BaseException):
    """A graded run reached its time on the board (`_sim.run_for`): the program ends there, as if
    the board were unplugged. BaseException, so the program's own `except Exception` cannot keep it."""


class Clock:
    """Milliseconds since boot. Real time by default; a virtual clock (sleep returns at once,
    time jumps) lets a grader run "blink for 5 seconds" in milliseconds, with the same timeline."""

    def __init__(self, realtime: bool = True):
        self.realtime = realtime
        self._start = time.monotonic()
        self._virtual_ms = 0.0
        self.on_advance: list[Callable[[float, float], None]] = []  # (from_ms, to_ms) hooks: timers, irqs
        self.deadline_ms: float | None = None  # `_sim.run_for`: the program ends when the clock passes it

    def now_ms(self) -> float:
        if self.realtime:
            return (time.monotonic() - self._start) * 1000
        return self._virtual_ms

    def sleep_ms(self, ms: float) -> None:
        if ms <= 0:
            self._fire(self.now_ms(), self.now_ms())
            return
        begin = self.now_ms()
        end = begin + ms
        if self.realtime:
            # Small slices: an interrupt (KeyboardInterrupt raised into this thread) lands within 10 ms.
            while (left := end - self.now_ms()) > 0:
                time.sleep(min(left, 10) / 1000)
                self._fire(begin, self.now_ms())
                begin = self.now_ms()
        else:
            step = begin
            while step < end:  # in slices, so timers and button edges fire in order
                nxt = min(end, step + 10)
                self._virtual_ms = nxt
                self._fire(step, nxt)
                step = nxt

    def _fire(self, a: float, b: float) -> None:
        for hook in list(self.on_advance):
            hook(a, b)
        self._check_deadline()

    def tick(self, ms: float = 0.05) -> None:
        """Busy loops move virtual time a little on every clock read, as they would on a board."""
        if not self.realtime:
            self._virtual_ms += ms
        self._check_deadline()

    def _check_deadline(self) -> None:
        if self.deadline_ms is not None and self.now_ms() >= self.deadline_ms:
            raise TimeUp(f"the run's {self.deadline_ms:g} ms are over")


@dataclass
class Scenario:
    """What happens to the board: times in milliseconds since the code started."""

    buttons: dict[str, list[tuple[float, float]]] = field(default_factory=dict)   # "a": [(press, release)]
    light: list[tuple[float, float]] = field(default_factory=lambda: [(0, 60.0)])   # (from, percent)
    temperature: list[tuple[float, float]] = field(default_factory=lambda: [(0, 28.0)])  # (from, °C)
    acceleration: list[tuple[float, tuple[int, int, int]]] = field(default_factory=lambda: [(0, (0, 0, -1000))])  # mg
    pins: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # "pin2": [(from, level)]
    analog: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # "pin0": [(from, 0..4095)]
    radio: list[tuple[float, str, str]] = field(default_factory=list)  # (at, sender's MAC, message): other kits
    circuits: dict[str, Circuit] = field(default_factory=dict)  # "pin0": what a breadboard wires there
    adc_noise_mv: float = 4.0   # the ADC's own noise (1 sigma) on circuit readings
    seed: int = 0               # of that noise: the same scenario reads the same numbers

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Scenario":
        s = cls()
        for key in ("buttons", "pins", "analog"):
            if key in data:
                setattr(s, key, {k: [tuple(x) for x in v] for k, v in data[key].items()})
        for key in ("light", "temperature"):
            if key in data:
                setattr(s, key, [tuple(x) for x in data[key]])
        if "acceleration" in data:
            s.acceleration = [(t, tuple(v)) for t, v in data["acceleration"]]
        if "radio" in data:  # in time order: the board hears them one after another
            s.radio = sorted(((float(t), str(mac), str(msg)) for t, mac, msg in data["radio"]), key=lambda m: m[0])
        if "circuits" in data:
            s.circuits = parse_circuits(data["circuits"])
        if "adc_noise_mv" in data:
            s.adc_noise_mv = float(data["adc_noise_mv"])
        if "seed" in data:
            s.seed = int(data["seed"])
        return s

    @staticmethod
    def at(series: list, t: float, default: Any) -> Any:
        value = default
        for start, v in series:
            if start <= t:
                value = v
        return value

    def pressed(self, button: str, t: float) -> bool:
        return any(a <= t < b for a, b in self.buttons.get(button, []))


@dataclass
class Event:
    t: float      # ms since the code started
    kind: str     # pin, pwm, display, sound, print
    target: str   # e.g. "pin2", "matrix", "buzzer"
    value: Any

    def as_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "kind": self.kind, "target": self.target, "value": self.value}


class Timeline:
    def __init__(self, clock: Clock, limit: int = 100_000):
        self.clock, self.limit = clock, limit
        self.events: list[Event] = []
        self.origin = 0.0
        self.dropped = 0
        self._lock = threading.Lock()

    def restart(self) -> None:
        """A new run: times count from now, old events are dropped."""
        with self._lock:
            self.events.clear()
            self.dropped = 0
            self.origin = self.clock.now_ms()

    def now(self) -> float:
        return self.clock.now_ms() - self.origin

    def record(self, kind: str, target: str, value: Any) -> None:
        with self._lock:
            if len(self.events) >= self.limit:
                self.dropped += 1
                return
            self.events.append(Event(self.now(), kind, target, value))

    def to_json(self) -> str:
        with self._lock:
            return json.dumps({"events": [e.as_dict() for e in self.events], "dropped": self.dropped})


# ---- I2C sensors, as register maps
class I2CDevice:
    address = 0

    def __init__(self, board: "Hardware"):
        self.board = board

    def read(self, register: int, n: int) -> bytes:
        raise NotImplementedError

    def write(self, register: int, data: bytes) -> None:
        pass


def _clamp16(v: float) -> int:
    return max(-32768, min(32767, int(round(v))))


class LIS3DH(I2CDevice):
    """STMicro LIS3DH accelerometer (Yolo:Bit) at 0x19: WHO_AM_I 0x33, high-resolution ±2 g."""

    address = 0x19

    def __init__(self, board: "Hardware"):
        self.board = board
        self.regs = bytearray(0x40)
        self.regs[0x0F] = 0x33

    def read(self, register: int, n: int) -> bytes:
        register &= 0x7F  # bit 7: auto-increment
        x, y, z = self.board.acceleration_mg()
        out = bytearray(self.regs)
        for i, v in enumerate((x, y, z)):
            raw = _clamp16(v * 16) & 0xFFFF  # 1 mg/digit, 12-bit left-justified
            out[0x28 + 2 * i], out[0x29 + 2 * i] = raw & 0xFF, raw >> 8
        return bytes(out[register:register + n])

    def write(self, register: int, data: bytes) -> None:
        register &= 0x7F
        self.regs[register:register + len(data)] = data


class MPU6050(I2CDevice):
    """InvenSense MPU6050 (xBot) at 0x68: WHO_AM_I 0x68, ±2 g (16384 LSB/g), temperature."""

    address = 0x68

    def __init__(self, board: "Hardware"):
        self.board = board
        self.regs = bytearray(0x80)
        self.regs[0x75] = 0x68
        self.regs[0x6B] = 0x40  # asleep until woken, as after power-up

    def read(self, register: int, n: int) -> bytes:
        out = bytearray(self.regs)
        x, y, z = self.board.acceleration_mg()
        values = [v * 16384 / 1000 for v in (x, y, z)]
        values.append((self.board.temperature_c() - 36.53) * 340)
        values += [0, 0, 0]  # gyro: at rest
        for i, v in enumerate(values):
            raw = _clamp16(v) & 0xFFFF
            out[0x3B + 2 * i], out[0x3C + 2 * i] = raw >> 8, raw & 0xFF
        return bytes(out[register:register + n])

    def write(self, register: int, data: bytes) -> None:
        self.regs[register:register + len(data)] = data


@dataclass(frozen=True)
class BoardModel:
    name: str          # our model name: yolobit, esp32, pico
    machine: str       # os.uname().machine
    sysname: str
    platform: str      # sys.platform
    i2c_devices: tuple[type[I2CDevice], ...]
    has_yolobit: bool = False


MODELS = {
    "yolobit": BoardModel("yolobit", "Yolo:Bit with ESP32", "esp32", "esp32", (LIS3DH,), has_yolobit=True),
    "xbot": BoardModel("xbot", "xBot with ESP32", "esp32", "esp32", (MPU6050,)),
    "esp32": BoardModel("esp32", "Generic ESP32 module with ESP32", "esp32", "esp32", ()),
    "pico": BoardModel("pico", "Raspberry Pi Pico with RP2040", "rp2", "rp2", ()),
}


class Hardware:
    """The state of one simulated board's peripherals; shared by `machine`, `yolobit` and `_sim`."""

    def __init__(self, model: BoardModel, clock: Clock, scenario: Scenario | None = None):
        self.model, self.clock = model, clock
        self.timeline = Timeline(clock)
        self.pin_levels: dict[str, int] = {}
        self.dac_volts: dict[str, float] = {}
        self.scenario = scenario or Scenario()
        self.i2c = {cls.address: cls(self) for cls in model.i2c_devices}

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    @scenario.setter
    def scenario(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self.noise = random.Random(scenario.seed)  # a new scenario reads its noise from the start

    def t(self) -> float:
        return self.timeline.now()

    def drive_volts(self, pin: str) -> float:
        """What the board puts on a pin: its DAC's output, else its digital level."""
        if pin in self.dac_volts:
            return self.dac_volts[pin]
        return SUPPLY_VOLTS if self.pin_levels.get(pin) else 0.0

    def set_dac(self, pin: str, value: int) -> None:
        if pin not in DAC_PINS:
            raise ValueError("invalid Pin for DAC")  # MicroPython's words on an ESP32
        self.dac_volts[pin] = SUPPLY_VOLTS * value / 255
        self.timeline.record("dac", pin, value)

    def adc_read(self, pin: str, full_scale: float, bits: int) -> int:
        """The raw code an ADC on `pin` reads: the circuit wired there, else the scenario's `analog`
        series (given as 12-bit codes), else 0 (an unconnected pin reads near ground)."""
        circuit = self.scenario.circuits.get(pin)
        if circuit is not None:
            volts = circuit.volts(self.drive_volts, self.t(), self.noise)
            return adc_code(volts, full_scale, bits, self.scenario.adc_noise_mv, self.noise)
        series = self.scenario.analog.get(pin)
        code = int(self.scenario.at(series, self.t(), 0)) if series else 0
        return code >> (12 - bits) if bits < 12 else code

    def acceleration_mg(self) -> tuple[int, int, int]:
        return self.scenario.at(self.scenario.acceleration, self.t(), (0, 0, -1000))

    def temperature_c(self) -> float:
        return float(self.scenario.at(self.scenario.temperature, self.t(), 28.0))

    def light_percent(self) -> float:
        return float(self.scenario.at(self.scenario.light, self.t(), 60.0))

    def input_level(self, pin: str) -> int:
        series = self.scenario.pins.get(pin)
        if series:
            return int(self.scenario.at(series, self.t(), 0))
        return self.pin_levels.get(pin, 0)

    def set_output(self, pin: str, level: int) -> None:
        if self.pin_levels.get(pin) != level:
            self.pin_levels[pin] = level
            self.timeline.record("pin", pin, level)
