"""The link to a MicroPython board: its raw REPL and raw-paste mode over any pyserial URL.

A USB device (`/dev/ttyUSB0`), `rfc2217://host:port` (a kit on another machine), `socket://`, or
`sim://yolobit` (a simulated kit; see lab_hardware/urlhandler). Every wait has a deadline and a
message that states the time actually waited; output streams to a callback as it arrives; an
exception on the board comes back as `BoardError` with line numbers in the code that was sent; a
board that restarts, or runs on when stopped, is said to. No fixed pause on the way: opening a
link costs one round trip. The protocol is in shared/MICROPYTHON-REPL.md; tests run this against
real MicroPython builds under QEMU as well as against the simulated kit.
"""

from __future__ import annotations

import ast
import codecs
import struct
import time
from typing import Any, Callable

import serial

from .errors import (
    BoardError,
    KeepsSending,
    KitError,
    KitRestarted,
    KitStuck,
    KitTimeout,
    NotMicroPython,
    ProgramStillRunning,
    ProgramTimeout,
)
from .line import SerialLine, SignSeen, find_first
from .port import LINE_ERRORS, open_port

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
SOFT_REBOOT = b"soft reboot\r\n"
# What a board prints when it restarts: MicroPython's soft reboot, the banner after a reset
RESTART_SIGNS = (SOFT_REBOOT, b'Type "help()" for more information.')
MICROPYTHON_SIGNS = (b"MicroPython", b">>>", b"Traceback", b"raw REPL", b"soft reboot")
# After a program's limit, how long stopping it may take: its error comes within a second
STOP_SECONDS = 0.8
# Every cell we send sets this name on the board; only a restart clears it. It tells a raw prompt
# the board reprinted late (an earlier Ctrl-A's answer) from a restart's, when the bytes alike do not
LINK_MARK = b"_stemlab_link = 1\n"
MARK_PROBE = b"print('_stemlab_link' in globals())"
# How long firmware older than raw-paste may take to add anything to the raw banner it reprints
OLD_FIRMWARE_QUIET = 0.3


class _TextStream:
    """Board output bytes to text for a callback: UTF-8 split anywhere, '\r\n' split anywhere."""

    def __init__(self, on_text: Callable[[str], None]):
        self.on_text = on_text
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.held_cr = False

    def __call__(self, data: bytes) -> None:
        text = ("\r" if self.held_cr else "") + self.decoder.decode(data)
        self.held_cr = text.endswith("\r")
        if self.held_cr:
            text = text[:-1]
        if text:
            self.on_text(text.replace("\r\n", "\n"))


class KitConnection(SerialLine):
    """One board, one owner. Not thread-safe: the kits service serialises access per kit."""

    def __init__(self, port: serial.SerialBase, name: str | None = None, timeout: float = 5.0):
        super().__init__(port, name, timeout)
        self.in_raw = False
        self.use_raw_paste = True
        self.raw_paste_answered = False  # once it has, a reprinted raw banner means a restart
        self.confirmed = False  # the board has shown its raw prompt on this link: it is MicroPython
        self.marked = False  # a cell of this link ran: the board holds LINK_MARK until it restarts

    @classmethod
    def open(cls, url: str, baudrate: int = 115200, timeout: float = 5.0) -> "KitConnection":
        return cls(open_port(url, baudrate), url, timeout)

    def close(self) -> None:
        try:
            if self.in_raw:
                self._write(b"\r\x02")  # leave the board at its friendly prompt, as we found it
        except KitError:
            pass
        try:
            self.port.close()
        except LINE_ERRORS:
            pass  # the device is already gone

    def __enter__(self) -> "KitConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the REPL
    def send_interrupt(self) -> None:
        """Ctrl-C from another thread while a program runs on this link: only written, never
        read here, so the running exec reads what the board answers (the kits service's stop)."""
        self._write(b"\r\x03")

    def enter_raw(self, soft_reset: bool = False, budget: float | None = None) -> None:
        """Get to the raw REPL's prompt within `budget` seconds (the link's timeout by default),
        from anywhere: the friendly prompt, a running program, a half-entered mode."""
        started = time.monotonic()
        deadline = started + (self.timeout if budget is None else budget)
        seen = bytearray()
        # mpremote's way first, with no pause: a board at either prompt, or running a program that
        # Ctrl-C stops, answers within milliseconds
        self._write(b"\r\x03")
        seen += self._take_waiting()
        self._write(b"\r\x01")
        found = self._read_for(min(0.5, deadline - time.monotonic()), seen, RAW_BANNER)
        rounds = 0
        while not found and time.monotonic() < deadline:
            # Thonny's way: Ctrl-C three times 100 ms apart (a program may catch the first
            # KeyboardInterrupt), every other round out of a half-entered mode first
            if rounds % 2:
                self._write(b"\r\x02")
            for _ in range(3):
                self._write(b"\x03")
                self._read_for(min(0.1, max(0.0, deadline - time.monotonic())), seen)
            self._write(b"\r\x01")
            found = self._read_for(min(1.0, max(0.0, deadline - time.monotonic())), seen, RAW_BANNER)
            rounds += 1
        if not found:
            self._cannot_reach_prompt(bytes(seen), started)
        if rounds:
            self.drain(quiet=0.05, limit=0.5)  # the banners of the earlier rounds' Ctrl-A
        self.in_raw = self.confirmed = True
        if soft_reset:
            self._write(b"\x04")
            self.read_until(SOFT_REBOOT, self.timeout, "the soft reboot")
            self.read_until(RAW_BANNER, self.timeout, "the raw REPL prompt after the soft reboot")

    def _cannot_reach_prompt(self, seen: bytes, started: float) -> None:
        printing = self.unprompted_at >= started  # sending on its own, not merely answering us
        if self.confirmed or any(sign in seen for sign in MICROPYTHON_SIGNS):
            raise KitStuck(self.name, printing=printing)
        if printing:
            raise KeepsSending(self.name, seen)
        if not seen:
            raise KitTimeout(self.name, "any answer to Ctrl-C and Ctrl-A", time.monotonic() - started)
        raise NotMicroPython(self.name, seen)

    def soft_reset(self) -> None:
        """Clear the board's memory (boot.py runs again; main.py does not)."""
        self.enter_raw(soft_reset=True)

    def hard_reset(self, settle: float = 1.0) -> None:
        """Pull EN/RESET through the USB-UART bridge's RTS line (the ESP32 auto-reset circuit)."""
        try:
            self.port.dtr = False
            self.port.rts = True
            time.sleep(0.1)
            self.port.rts = False
            self.port.dtr = True
        except (*LINE_ERRORS, ValueError) as err:
            raise KitStuck(self.name) from err
        self.in_raw = False
        time.sleep(settle)  # the board boots: nothing to read until it has
        self.drain(quiet=0.2)

    def exec(self, code: str | bytes, on_output: Callable[[str], None] | None = None,
             timeout: float | None = 30.0, line_offset: int = 0, keep_output: int = 1_000_000) -> str:
        """Run code on the board; return its output (the last `keep_output` bytes), streaming it
        to `on_output` as it arrives. A board exception raises BoardError; a program past its
        `timeout` is stopped (ProgramTimeout) or said to run on (ProgramStillRunning) within
        STOP_SECONDS of it; a board that restarts raises KitRestarted; the host's
        KeyboardInterrupt (Jupyter's stop button) interrupts the board too, then is re-raised."""
        source = LINK_MARK + (code.encode("utf-8") if isinstance(code, str) else code)
        line_offset += 1
        self._notice_what_the_board_did_alone()
        if not self.in_raw:
            self.enter_raw()
        self._send_code(source)
        sink = _TextStream(on_output) if on_output else None
        limit = timeout if timeout is not None else 10**9
        started = time.monotonic()
        try:
            out = self.read_until(b"\x04", limit, "the end of the program's output", on_data=sink,
                                  keep=keep_output, signs=RESTART_SIGNS)
        except SignSeen as sign:
            self._recover_from_restart(sign.data)
            raise KitRestarted(self.name, "trong khi chương trình chạy / while the program ran") from None
        except KitTimeout:
            stopped = self._stop_running_program(STOP_SECONDS)
            error = ProgramTimeout if stopped else ProgramStillRunning
            raise error(self.name, limit, time.monotonic() - started) from None
        except KeyboardInterrupt:
            if not self._stop_running_program(2.0):
                raise KitStuck(self.name, printing=True) from None
            raise
        report = self.read_until(b"\x04", self.timeout, "the program's error report")
        prompt = self.read_until(b">", self.timeout, "the raw REPL prompt")
        if SOFT_REBOOT in prompt:  # the program restarted the board (machine.soft_reset(), sys.exit())
            if not prompt.endswith(RAW_BANNER):
                self.read_until(RAW_BANNER, self.timeout, "the raw REPL prompt after the soft reboot")
            raise KitRestarted(self.name, "chương trình gọi soft reset / the program asked for a soft reset")
        self.marked = True
        if report[:-1].strip():
            raise BoardError(report[:-1].decode("utf-8", "replace").replace("\r\n", "\n"), line_offset)
        return out[:-1][-keep_output:].decode("utf-8", "replace").replace("\r\n", "\n")

    def _notice_what_the_board_did_alone(self) -> None:
        """Between two calls the board should say nothing. If it restarted meanwhile (a reset
        button, a soft reboot sent by another program), say so rather than run code that needs
        what the restart cleared; any other leftover is dropped and the link gets back in step."""
        pending = self._take_waiting()
        if not pending or not self.in_raw:
            return
        # the board may be mid-sentence ("so" of "soft reboot"): hear it out before judging
        pending += self.drain(quiet=0.1, limit=2.0)
        if find_first(pending, RESTART_SIGNS) >= 0:
            self._recover_from_restart(pending)
            raise KitRestarted(self.name, "giữa hai ô / between two cells")
        if pending.replace(RAW_BANNER, b"").strip(b"\r\n>"):
            self.in_raw = False  # something unexpected: enter the raw REPL afresh

    def _recover_from_restart(self, seen: bytes) -> None:
        """After a restart's sign: let the reboot finish, then back to the raw prompt."""
        seen += self.drain(quiet=0.1, limit=2.0)
        self.in_raw = self.marked = False
        if SOFT_REBOOT in seen and seen.rstrip().endswith(RAW_BANNER.rstrip()):
            self.in_raw = True  # a soft reboot keeps the raw REPL: it is at the prompt
        else:
            self.enter_raw()

    def _stop_running_program(self, budget: float) -> bool:
        """Interrupt the program and get back to the prompt within `budget`; False if it runs on."""
        self.in_raw = False  # re-enter cleanly next time
        try:
            self.enter_raw(budget=budget)
        except KitError:
            return False
        return True

    def _send_code(self, source: bytes, retry: bool = True) -> None:
        if self.use_raw_paste:
            self._write(b"\x05A\x01")
            header, late_banner = self._raw_paste_header()
            if header == b"R\x01":
                self.raw_paste_answered = True
                if late_banner and self.marked and not self._board_kept_its_memory():
                    raise KitRestarted(self.name, "khi nhận mã / while receiving code")
                if late_banner and self.marked:
                    self._write(b"\x05A\x01")  # the probe used the board's answer: ask again
                    header, _ = self._raw_paste_header()
                    if header != b"R\x01":
                        self._out_of_step(header, source, retry)
                        return
                self._raw_paste(source)
                return
            if header == b"ra":
                self.use_raw_paste = False  # firmware older than raw-paste: the banner was its answer
            elif header != b"R\x00":
                self._out_of_step(header, source, retry)
                return
            self.use_raw_paste = False
        for i in range(0, len(source), 256):
            self._write(source[i:i + 256])
            time.sleep(0.01)  # boards without raw-paste have small UART buffers
        self._write(b"\x04")
        ok = self._read_exact(2, "the board to accept the code")
        if ok != b"OK":
            self._out_of_step(ok, source, retry)

    def _raw_paste_header(self) -> tuple[bytes, bool]:
        """The board's answer to the raw-paste request, past raw banners it reprinted late (its
        answers to earlier Ctrl-A's), and whether there were any. Firmware older than raw-paste
        answers with the banner alone: then b"ra"."""
        header = self._read_exact(2, "the raw-paste answer")
        late_banner = False
        while header == b"ra":
            self.read_until(RAW_BANNER[2:], self.timeout, "the raw REPL prompt")
            if not self.raw_paste_answered and not self.answers_within(OLD_FIRMWARE_QUIET):
                return b"ra", late_banner
            header = self._read_exact(2, "the raw-paste answer")
            late_banner = True
        return header, late_banner

    def _board_kept_its_memory(self) -> bool:
        """After an ambiguous raw banner: did the board keep what this link's cells set up? Asked
        with the raw-paste the board has just granted; the board is at its raw prompt after."""
        self._raw_paste(MARK_PROBE)
        out = self.read_until(b"\x04", self.timeout, "the board's answer")
        self.read_until(b"\x04", self.timeout, "the board's answer")
        self.read_until(b">", self.timeout, "the raw REPL prompt")
        if b"True" in out:
            return True
        self.marked = False
        return False

    def _out_of_step(self, answer: bytes, source: bytes, retry: bool) -> None:
        """The board answered something other than the protocol's next step: a restart, or a link
        out of step. Back to the prompt and send once more, unless the board took the code after
        all (its "OK" among what came): a cell must never run twice. A second miss is not
        MicroPython."""
        seen = answer + self.drain(quiet=0.1, limit=1.0)
        if find_first(seen, RESTART_SIGNS) >= 0:
            self._recover_from_restart(seen)
            raise KitRestarted(self.name, "khi nhận mã / while receiving code")
        accepted = seen.find(b"OK")
        if not self.use_raw_paste and accepted >= 0:
            self._pushback[:0] = seen[accepted + 2:]  # the program's output follows
            return
        if not retry:
            raise NotMicroPython(self.name, seen)
        self.in_raw = False
        self.enter_raw()
        self._send_code(source, retry=False)

    def _raw_paste(self, source: bytes) -> None:
        window = struct.unpack("<H", self._read_exact(2, "the raw-paste window size"))[0]
        credit = window
        sent = 0
        waiting_since = time.monotonic()
        while sent < len(source):
            while credit == 0 or self._pushback or self._waiting():
                if time.monotonic() > waiting_since + self.timeout:
                    raise KitTimeout(self.name, "flow control during upload", time.monotonic() - waiting_since)
                byte = self._read_exact(1, "flow control during upload")
                if byte == b"\x01":
                    credit += window
                    waiting_since = time.monotonic()
                elif byte == b"\x04":  # the board stopped early: a compile error
                    self._write(b"\x04")
                    return
                else:
                    seen = byte + self.drain(quiet=0.1, limit=1.0)
                    if find_first(seen, RESTART_SIGNS) >= 0:
                        self._recover_from_restart(seen)
                        raise KitRestarted(self.name, "khi nhận mã / while receiving code")
                    raise NotMicroPython(self.name, seen)
            chunk = source[sent:sent + credit]
            self._write(chunk)
            credit -= len(chunk)
            sent += len(chunk)
        self._write(b"\x04")
        self.read_until(b"\x04", self.timeout, "the board to finish receiving the code")

    def eval(self, expression: str, timeout: float | None = 30.0) -> Any:
        """A Python literal computed on the board (repr on the board, literal_eval here)."""
        return ast.literal_eval(self.exec(f"print(repr({expression}))", timeout=timeout).strip())
