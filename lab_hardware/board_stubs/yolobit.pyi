"""OhStem Yolo:Bit: display, buttons, sensors, buzzer and edge pins (`from yolobit import *`).

Stubs of STEM-Lab Hub, written from OhStem's lessons and the simulated kit; they give completion
and the static check of `%%kit` cells.
"""

from typing import Any, Sequence

class Image:
    HEART: Image
    HEART_SMALL: Image
    HAPPY: Image
    SAD: Image
    SMILE: Image
    YES: Image
    NO: Image
    ARROW_N: Image
    ARROW_S: Image
    ARROW_E: Image
    ARROW_W: Image
    SQUARE: Image
    DIAMOND: Image
    SKULL: Image
    UMBRELLA: Image
    ALL_ON: Image
    def __init__(self, rows: str = ...) -> None: ...

class Display:
    def show(self, value: Image | str | int | float | Sequence[Image], color: str = ..., delay: int = ..., wait: bool = ...) -> None:
        """Show an image, a character or a number on the 5x5 RGB matrix."""
    def scroll(self, text: Any, color: str = ..., delay: int = ...) -> None:
        """Scroll text across the matrix."""
    def clear(self) -> None: ...
    def set_pixel(self, x: int, y: int, color: str = ...) -> None: ...
    def get_pixel(self, x: int, y: int) -> str: ...

class Button:
    def is_pressed(self) -> bool:
        """True while the button is held down."""
    def was_pressed(self) -> bool:
        """True if pressed since the last call."""

class Accelerometer:
    def get_x(self) -> int:
        """Acceleration along x in milli-g."""
    def get_y(self) -> int: ...
    def get_z(self) -> int: ...
    def get_values(self) -> tuple[int, int, int]: ...

class Music:
    BA_DING: list[str]
    POWER_UP: list[str]
    JUMP_UP: list[str]
    def pitch(self, frequency: int, duration: int = ...) -> None:
        """Play a tone (Hz) for duration milliseconds."""
    def play(self, notes: str | Sequence[str], duration: int = ...) -> None: ...
    def stop(self) -> None: ...

class EdgePin:
    def write_digital(self, value: int) -> None: ...
    def read_digital(self) -> int: ...
    def read_analog(self) -> int:
        """0..4095"""
    def write_analog(self, value: int) -> None:
        """0..1023 (PWM duty)"""
    def is_touched(self) -> bool: ...

display: Display
button_a: Button
button_b: Button
accelerometer: Accelerometer
music: Music
pin0: EdgePin
pin1: EdgePin
pin2: EdgePin
pin3: EdgePin
pin4: EdgePin
pin5: EdgePin
pin6: EdgePin
pin7: EdgePin
pin8: EdgePin
pin9: EdgePin
pin10: EdgePin
pin11: EdgePin
pin12: EdgePin
pin13: EdgePin
pin14: EdgePin
pin15: EdgePin
pin16: EdgePin
pin19: EdgePin
pin20: EdgePin

def light_level() -> int:
    """Ambient light in percent: 0 dark .. 100 bright."""

def temperature() -> float:
    """Temperature in °C."""

def sleep(ms: int) -> None: ...
def running_time() -> int: ...
