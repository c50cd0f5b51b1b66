"""`machine` (Pin, ADC, DAC, PWM, I2C, SoftI2C, Timer, ...) on the simulated board."""

from __future__ import annotations

import types
from typing import Any, Callable

from .modules import Runtime, _module


def _pin_name(pin: Any) -> str:
    if isinstance(pin, int):
        return f"pin{pin}"
    if hasattr(pin, "name"):
        return pin.name
    return str(pin)


def build_machine(rt: Runtime) -> types.ModuleType:
    hw = rt.hardware
    clock = hw.clock
    irq_handlers: list[tuple["Pin", Callable, int, list[int]]] = []
    timers: list["Timer"] = []

    class Pin:
        IN, OUT, OPEN_DRAIN = 1, 3, 7
        PULL_UP, PULL_DOWN = 1, 2
        IRQ_RISING, IRQ_FALLING = 1, 2

        def __init__(self, id: Any, mode: int = -1, pull: int = -1, value: int | None = None, **kw: Any):
            self.name = _pin_name(id) if not isinstance(id, str) else id
            self.mode = mode
            self.pull = pull
            if value is not None:
                self.value(value)

        def init(self, mode: int = -1, pull: int = -1, value: int | None = None, **kw: Any) -> None:
            self.__init__(self.name, mode, pull, value)  # type: ignore[misc]

        def value(self, v: Any = None) -> int | None:
            if v is None:
                if self.mode == Pin.OUT:
                    return hw.pin_levels.get(self.name, 0)
                level = hw.input_level(self.name)
                if self.name not in hw.scenario.pins and self.pull == Pin.PULL_UP and self.name not in hw.pin_levels:
                    level = 1
                return level
            hw.set_output(self.name, 1 if v else 0)
            return None

        __call__ = value

        def on(self) -> None:
            self.value(1)

        def off(self) -> None:
            self.value(0)

        def toggle(self) -> None:
            self.value(0 if hw.pin_levels.get(self.name, 0) else 1)

        def irq(self, handler: Callable | None = None, trigger: int = 3, **kw: Any) -> None:
            irq_handlers[:] = [h for h in irq_handlers if h[0] is not self]
            if handler:
                irq_handlers.append((self, handler, trigger, [self.value() or 0]))

        def __repr__(self) -> str:
            return f"Pin({self.name})"

    def _check_irqs(_a: float, _b: float) -> None:
        for pin, handler, trigger, last in list(irq_handlers):
            now = pin.value() or 0
            if now != last[0]:
                rising = now == 1
                last[0] = now
                if (rising and trigger & Pin.IRQ_RISING) or (not rising and trigger & Pin.IRQ_FALLING):
                    handler(pin)

    class ADC:
        ATTN_0DB, ATTN_2_5DB, ATTN_6DB, ATTN_11DB = 0, 1, 2, 3
        WIDTH_9BIT, WIDTH_10BIT, WIDTH_11BIT, WIDTH_12BIT = 9, 10, 11, 12
        # the input range of each attenuation (the ESP32's nominal full scale)
        FULL_SCALE = {0: 1.1, 1: 1.5, 2: 2.2, 3: 3.3}

        def __init__(self, pin: Any, *, atten: int = 3, **kw: Any):
            self.name = _pin_name(pin)
            self._atten, self._bits = atten, 12

        def init(self, *, atten: int | None = None, **kw: Any) -> None:
            if atten is not None:
                self.atten(atten)

        def read(self) -> int:
            return hw.adc_read(self.name, self.FULL_SCALE[self._atten], self._bits)

        def read_u16(self) -> int:
            return hw.adc_read(self.name, self.FULL_SCALE[self._atten], 12) * 65535 // 4095

        def read_uv(self) -> int:
            code = hw.adc_read(self.name, self.FULL_SCALE[self._atten], 12)
            return round(code * self.FULL_SCALE[self._atten] / 4095 * 1_000_000)

        def atten(self, a: int) -> None:
            if a not in self.FULL_SCALE:
                raise ValueError("invalid attenuation")
            self._atten = a

        def width(self, w: int) -> None:
            if w not in (9, 10, 11, 12):
                raise ValueError("invalid bit-width")
            self._bits = w

    class DAC:
        """The ESP32's 8-bit DACs, on GPIO25 and GPIO26: write(0..255) puts 0..3.3 V on the pin."""

        def __init__(self, pin: Any, **kw: Any):
            self.name = _pin_name(pin)
            hw.set_dac(self.name, 0)

        def write(self, value: int) -> None:
            if not isinstance(value, int) or not 0 <= value <= 255:
                raise ValueError("value out of range")
            hw.set_dac(self.name, value)

    class PWM:
        def __init__(self, pin: Any, freq: int = 5000, duty: int | None = None, duty_u16: int | None = None, **kw: Any):
            self.name = _pin_name(pin)
            self._freq = freq
            self._duty = 512 if duty is None else duty
            if duty_u16 is not None:
                self._duty = duty_u16 * 1023 // 65535
            self._emit()

        def _emit(self) -> None:
            hw.timeline.record("pwm", self.name, {"freq": self._freq, "duty": self._duty})

        def freq(self, f: int | None = None) -> int | None:
            if f is None:
                return self._freq
            self._freq = f
            self._emit()
            return None

        def duty(self, d: int | None = None) -> int | None:
            if d is None:
                return self._duty
            self._duty = max(0, min(1023, d))
            self._emit()
            return None

        def duty_u16(self, d: int | None = None) -> int | None:
            if d is None:
                return self._duty * 65535 // 1023
            return self.duty(d * 1023 // 65535)

        def deinit(self) -> None:
            hw.timeline.record("pwm", self.name, {"freq": 0, "duty": 0})

    class I2C:
        def __init__(self, id: int = 0, *, scl: Any = None, sda: Any = None, freq: int = 400000, **kw: Any):
            self.freq = freq

        def scan(self) -> list[int]:
            return sorted(hw.i2c)

        def _device(self, addr: int) -> Any:
            if addr not in hw.i2c:
                raise OSError(19, "ENODEV")  # what MicroPython raises when nobody ACKs
            return hw.i2c[addr]

        def readfrom_mem(self, addr: int, reg: int, n: int, **kw: Any) -> bytes:
            return self._device(addr).read(reg, n)

        def readfrom_mem_into(self, addr: int, reg: int, buf: bytearray, **kw: Any) -> None:
            buf[:] = self._device(addr).read(reg, len(buf))

        def writeto_mem(self, addr: int, reg: int, buf: bytes, **kw: Any) -> None:
            self._device(addr).write(reg, bytes(buf))

        def writeto(self, addr: int, buf: bytes, stop: bool = True) -> int:
            dev = self._device(addr)
            if len(buf) > 1:
                dev.write(buf[0], bytes(buf[1:]))
            dev.pointer = buf[0] if buf else 0
            return 1

        def readfrom(self, addr: int, n: int, stop: bool = True) -> bytes:
            dev = self._device(addr)
            return dev.read(getattr(dev, "pointer", 0), n)

    class Timer:
        ONE_SHOT, PERIODIC = 0, 1

        def __init__(self, id: int = -1, **kw: Any):
            self.callback: Callable | None = None
            if kw:
                self.init(**kw)

        def init(self, *, mode: int = 1, period: int = -1, freq: float | None = None, callback: Callable | None = None, **kw: Any) -> None:
            self.mode = mode
            self.period = (1000 / freq) if freq else period
            self.callback = callback
            self.next_at = clock.now_ms() + self.period
            if self not in timers:
                timers.append(self)

        def deinit(self) -> None:
            if self in timers:
                timers.remove(self)

    def _run_timers(_a: float, b: float) -> None:
        for timer in list(timers):
            while timer.callback and timer in timers and timer.next_at <= b:
                timer.callback(timer)
                if timer.mode == Timer.ONE_SHOT:
                    timer.deinit()
                else:
                    timer.next_at += max(timer.period, 1)

    clock.on_advance[:] = [_check_irqs, _run_timers]

    def soft_reset() -> None:
        rt.soft_reset_requested = True
        raise SystemExit

    extra = {"DAC": DAC} if hw.model.platform == "esp32" else {}
    return _module(
        "machine", Pin=Pin, ADC=ADC, PWM=PWM, **extra, I2C=I2C, SoftI2C=I2C, Timer=Timer,
        unique_id=lambda: rt.board_id, freq=lambda *a: 240_000_000, reset=soft_reset, soft_reset=soft_reset,
        idle=lambda: clock.sleep_ms(1), lightsleep=lambda ms=0: clock.sleep_ms(ms),
        deepsleep=lambda ms=0: clock.sleep_ms(ms), disable_irq=lambda: 0, enable_irq=lambda s=0: None,
        reset_cause=lambda: 1, PWRON_RESET=1, HARD_RESET=2, WDT_RESET=3, DEEPSLEEP_RESET=4, SOFT_RESET=5,
    )

