"""The `yolobit` module of OhStem's Yolo:Bit, as far as lessons use it: the 5x5 RGB display and its
images, buttons A and B, accelerometer, light and temperature sensors, the buzzer (`music`) and
the edge pins. Every output is a timeline event.
"""

from __future__ import annotations

import types
from typing import Any

from .modules import Runtime, _module

IMAGES = {
    "HEART": "09090:99999:99999:09990:00900",
    "HEART_SMALL": "00000:09090:09990:00900:00000",
    "HAPPY": "00000:09090:00000:90009:09990",
    "SAD": "00000:09090:00000:09990:90009",
    "SMILE": "00000:00000:00000:90009:09990",
    "YES": "00000:00009:00090:90900:09000",
    "NO": "90009:09090:00900:09090:90009",
    "ARROW_N": "00900:09990:90909:00900:00900",
    "ARROW_S": "00900:00900:90909:09990:00900",
    "ARROW_E": "00900:00090:99999:00090:00900",
    "ARROW_W": "00900:09000:99999:09000:00900",
    "SQUARE": "99999:90009:90009:90009:99999",
    "DIAMOND": "00900:09090:90009:09090:00900",
    "SKULL": "09990:90909:99999:09990:09990",
    "UMBRELLA": "09990:99999:00900:90900:09900",
    "ALL_ON": "99999:99999:99999:99999:99999",
}
NOTES = {"C": 262, "D": 294, "E": 330, "F": 349, "G": 392, "A": 440, "B": 494}


def build_yolobit(rt: Runtime, machine: types.ModuleType) -> types.ModuleType:
    hw = rt.hardware
    clock = hw.clock

    class Image:
        def __init__(self, rows: str = "00000:00000:00000:00000:00000", name: str | None = None):
            self.rows = rows
            self.name = name

        def __repr__(self) -> str:
            return f"Image('{self.rows}')"

    for key, rows in IMAGES.items():
        setattr(Image, key, Image(rows, key))

    class Display:
        def __init__(self) -> None:
            self.pixels = [["#000000"] * 5 for _ in range(5)]

        def _frame(self, what: dict[str, Any]) -> None:
            hw.timeline.record("display", "matrix", what)

        def show(self, value: Any, color: str = "#ff0000", delay: int = 400, wait: bool = True, **kw: Any) -> None:
            if isinstance(value, Image):
                self._frame({"image": value.name or value.rows, "color": color})
            elif isinstance(value, (list, tuple)):
                for item in value:
                    self.show(item, color)
                    clock.sleep_ms(delay)
            else:
                self._frame({"text": str(value), "color": color})

        def scroll(self, text: Any, color: str = "#ff0000", delay: int = 150, **kw: Any) -> None:
            self._frame({"scroll": str(text), "color": color})
            clock.sleep_ms(delay * (len(str(text)) * 6 + 5))

        def clear(self) -> None:
            self.pixels = [["#000000"] * 5 for _ in range(5)]
            self._frame({"clear": True})

        def set_pixel(self, x: int, y: int, color: str = "#ff0000") -> None:
            if not (0 <= x < 5 and 0 <= y < 5):
                raise ValueError("index out of bounds")
            self.pixels[y][x] = color
            self._frame({"pixel": [x, y], "color": color})

        def get_pixel(self, x: int, y: int) -> str:
            return self.pixels[y][x]

    class Button:
        def __init__(self, name: str):
            self.name = name
            self._seen_pressed = False

        def is_pressed(self) -> bool:
            clock.tick()
            pressed = hw.scenario.pressed(self.name, hw.t())
            self._seen_pressed |= pressed
            return pressed

        def was_pressed(self) -> bool:
            """Pressed at some time since the last call (presses are in the scenario)."""
            t = hw.t()
            since = getattr(self, "_since", -1.0)
            self._since = t
            # (since, t]: a press that starts exactly at one call's time counts once, not twice
            return any(since < start <= t for start, _ in hw.scenario.buttons.get(self.name, []))

    class Accelerometer:
        def get_x(self) -> int:
            return hw.acceleration_mg()[0]

        def get_y(self) -> int:
            return hw.acceleration_mg()[1]

        def get_z(self) -> int:
            return hw.acceleration_mg()[2]

        def get_values(self) -> tuple[int, int, int]:
            return hw.acceleration_mg()

    class Music:
        BA_DING = ["B5:1", "E6:3"]
        POWER_UP = ["G4:1", "C5:1", "E5:1", "G5:2"]
        JUMP_UP = ["C5:1", "D5:1", "E5:1", "F5:1", "G5:1"]

        def pitch(self, frequency: int, duration: int = -1, **kw: Any) -> None:
            hw.timeline.record("sound", "buzzer", {"freq": frequency, "ms": duration})
            if duration > 0:
                clock.sleep_ms(duration)

        def play(self, notes: Any, duration: int = 4, **kw: Any) -> None:
            for note in ([notes] if isinstance(notes, str) else notes):
                name, _, beats = note.partition(":")
                octave = int(name[-1]) if name[-1].isdigit() else 4
                base = NOTES.get(name[0].upper(), 0)
                freq = int(base * 2 ** (octave - 4)) if base else 0
                self.pitch(freq, int(beats or duration) * 125)

        def stop(self, *a: Any) -> None:
            hw.timeline.record("sound", "buzzer", {"freq": 0, "ms": 0})

    class EdgePin:
        def __init__(self, n: int):
            self.name = f"pin{n}"
            self._pin = machine.Pin(self.name)

        def write_digital(self, v: int) -> None:
            hw.set_output(self.name, 1 if v else 0)

        def read_digital(self) -> int:
            return hw.input_level(self.name)

        def read_analog(self) -> int:
            return machine.ADC(self.name).read()

        def write_analog(self, v: int) -> None:
            machine.PWM(self.name, freq=1000, duty=int(v))

        def is_touched(self) -> bool:
            return bool(hw.input_level(f"{self.name}_touch"))

    def light_level() -> int:
        """Ambient light in percent (0 dark .. 100 bright)."""
        return int(round(hw.light_percent()))

    def temperature() -> float:
        return round(hw.temperature_c(), 1)

    attrs: dict[str, Any] = dict(
        Image=Image, display=Display(), button_a=Button("a"), button_b=Button("b"),
        accelerometer=Accelerometer(), music=Music(), light_level=light_level, temperature=temperature,
        sleep=lambda ms: clock.sleep_ms(ms), running_time=lambda: int(hw.t()),
    )
    for n in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20):
        attrs[f"pin{n}"] = EdgePin(n)
    module = _module("yolobit", **attrs)
    module.__all__ = list(attrs)  # type: ignore[attr-defined]
    return module
