"""The link to a MicroPython board: its raw REPL and raw-paste mode over any pyserial URL.

A USB device (`/dev/ttyUSB0`), `rfc2217://host:port` (a kit on another machine), `socket://`, or
`sim://yolobit` (a simulated kit; see lab_hardware/urlhandler). Every wait has a deadline and a
message that says what we were waiting for; output streams to a callback as it arrives; an
exception on the board comes back as `BoardError` with line numbers in the code that was sent.
The protocol is in shared/MICROPYTHON-REPL.md.
"""

from __future__ import annotations

import ast
import codecs
import errno
import getpass
import struct
import termios
import time
from typing import Any, Callable

import serial

from .errors import (
    BoardError,
    KitBusy,
    KitDisconnected,
    KitError,
    KitNotFound,
    KitPermissionDenied,
    KitStuck,
    KitTimeout,
    NotMicroPython,
    ProgramTimeout,
)

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
# What pyserial raises when the device goes away: its own error, the OS's, termios' (tcdrain on a
# vanished pseudo-terminal), and TypeError from a port closed under a read.
LINE_ERRORS = (serial.SerialException, OSError, TypeError, termios.error)
SOFT_REBOOT = b"soft reboot\r\n"
if "lab_hardware.urlhandler" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("lab_hardware.urlhandler")  # sim://


def open_port(url: str, baudrate: int = 115200) -> serial.SerialBase:
    """Open a pyserial URL, turning pyserial's errors into ones a person can act on."""
    options: dict = {"baudrate": baudrate, "timeout": 0.05}
    if "://" not in url or url.startswith("sim://"):
        # a local device: a write never blocks forever, and no second program opens it meanwhile
        # (pyserial's network transports support neither option)
        options.update(write_timeout=10, exclusive=True)
    try:
        return serial.serial_for_url(url, **options)
    except (serial.SerialException, OSError, ValueError) as err:
        code = getattr(err, "errno", None)
        text = str(err)
        if code == errno.ENOENT or "No such file" in text or "could not open port" in text and "No such" in text:
            raise KitNotFound(url) from err
        if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
            raise KitPermissionDenied(url, getpass.getuser()) from err
        if code == errno.EBUSY or "lock" in text.lower() or "busy" in text.lower():
            raise KitBusy(url, text) from err
        if "Connection refused" in text or code == errno.ECONNREFUSED:
            raise KitNotFound(url, "connection refused") from err
        raise KitNotFound(url, text) from err


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


class KitConnection:
    """One board, one owner. Not thread-safe: the kits service serialises access per kit."""

    def __init__(self, port: serial.SerialBase, name: str | None = None, timeout: float = 5.0):
        self.port = port
        self.name = name or str(port.port)
        self.timeout = timeout
        self.in_raw = False
        self.use_raw_paste = True
        self.bytes_out = 0
        self.bytes_in = 0
        self._pushback = bytearray()

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

    # ---- bytes on the wire
    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except LINE_ERRORS as err:
            raise KitDisconnected(self.name) from err
        self.bytes_out += len(data)

    def _waiting(self) -> int:
        try:
            return self.port.in_waiting
        except LINE_ERRORS as err:
            raise KitDisconnected(self.name) from err

    def _read_some(self) -> bytes:
        if self._pushback:
            data, self._pushback = bytes(self._pushback), bytearray()
            return data
        try:
            data = self.port.read(self._waiting() or 1)
        except LINE_ERRORS as err:
            raise KitDisconnected(self.name) from err
        self.bytes_in += len(data)
        return data

    def read_until(self, marker: bytes, timeout: float, waiting_for: str,
                   on_data: Callable[[bytes], None] | None = None, keep: int | None = None) -> bytes:
        """Read up to and including `marker` (bytes after it are kept for the next read); stream
        what comes before it to `on_data` as it arrives. `keep` caps what is returned, so an
        output flood is streamed, not held in memory. The timeout is for the whole wait."""
        deadline = time.monotonic() + timeout
        buffer = bytearray()
        streamed = 0
        while True:
            found = buffer.find(marker)
            if found >= 0:
                self._pushback[:0] = buffer[found + len(marker):]
                del buffer[found + len(marker):]
                if on_data is not None and found > streamed:
                    on_data(bytes(buffer[streamed:found]))
                return bytes(buffer)
            if on_data is not None:
                safe = len(buffer) - (len(marker) - 1)  # a marker may be split across reads
                if safe > streamed:
                    on_data(bytes(buffer[streamed:safe]))
                    streamed = safe
            if keep is not None and streamed > keep:
                cut = streamed - keep
                del buffer[:cut]
                streamed -= cut
            if time.monotonic() > deadline:
                raise KitTimeout(self.name, waiting_for, timeout)
            data = self._read_some()
            buffer += data

    def drain(self, quiet: float = 0.05, limit: float = 2.0) -> bytes:
        """Read whatever the board is still sending, until it has been quiet for `quiet` seconds."""
        end = time.monotonic() + limit
        last = time.monotonic()
        seen = bytearray()
        while time.monotonic() < end and time.monotonic() - last < quiet:
            data = self._read_some()
            if data:
                seen += data
                last = time.monotonic()
        return bytes(seen)

    # ---- the REPL
    def interrupt(self) -> bytes:
        """Break into a running program: Ctrl-C now, then twice more 100 ms apart (a program may
        catch the first KeyboardInterrupt in a `try`); then drain what it printed."""
        seen = bytearray()
        for i, pause in enumerate((0.1, 0.1, 0.0)):
            self._write(b"\r\x03" if i == 0 else b"\x03")
            time.sleep(pause)
            seen += self.drain(quiet=0.02, limit=0.3)
        return bytes(seen)

    def send_interrupt(self) -> None:
        """Ctrl-C from another thread while a program runs on this link: only written, never
        read here, so the running exec reads what the board answers (the kits service's stop)."""
        self._write(b"\r\x03")

    def enter_raw(self, soft_reset: bool = False) -> None:
        seen = bytearray(self.interrupt())
        for attempt in range(3):
            self._write(b"\r\x01")
            try:
                seen += self.read_until(RAW_BANNER, min(self.timeout, 2.0), "the raw REPL prompt")
                break
            except KitTimeout:
                seen += self.drain()
                if attempt == 0:
                    seen += self.interrupt()
                elif attempt == 1:
                    self._write(b"\r\x02")  # out of a half-entered mode, back to the friendly REPL
                    seen += self.interrupt()
        else:
            if not seen and not self.bytes_in:
                raise KitTimeout(self.name, "any answer to Ctrl-C and Ctrl-A", self.timeout)
            if not seen:  # it answered before on this line: alive, in a loop that ignores Ctrl-C
                raise KitStuck(self.name)
            if any(sign in seen for sign in (b"MicroPython", b">>>", b"Traceback", b"raw REPL", b"soft reboot")):
                raise KitStuck(self.name)
            raise NotMicroPython(self.name, bytes(seen))
        self.in_raw = True
        if soft_reset:
            self._write(b"\x04")
            self.read_until(SOFT_REBOOT, self.timeout, "the soft reboot")
            self.read_until(RAW_BANNER, self.timeout, "the raw REPL prompt after the soft reboot")

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
        time.sleep(settle)
        self.drain(quiet=0.2)

    def exec(self, code: str | bytes, on_output: Callable[[str], None] | None = None,
             timeout: float | None = 30.0, line_offset: int = 0, keep_output: int = 1_000_000) -> str:
        """Run code on the board; return its output (the last `keep_output` bytes), streaming it
        to `on_output` as it arrives. A board exception raises BoardError; the host's
        KeyboardInterrupt (Jupyter's stop button) interrupts the board too, then is re-raised."""
        source = code.encode("utf-8") if isinstance(code, str) else code
        if not self.in_raw:
            self.enter_raw()
        self._send_code(source)
        sink = _TextStream(on_output) if on_output else None
        try:
            out = self.read_until(b"\x04", timeout if timeout is not None else 10**9,
                                  "the end of the program's output", on_data=sink, keep=keep_output)
        except KitTimeout as err:
            self._stop_running_program()
            raise ProgramTimeout(self.name, err.seconds) from None
        except KeyboardInterrupt:
            self._stop_running_program()
            raise
        report = self.read_until(b"\x04", self.timeout, "the program's error report")
        self.read_until(b">", self.timeout, "the raw REPL prompt")
        if report[:-1].strip():
            raise BoardError(report[:-1].decode("utf-8", "replace").replace("\r\n", "\n"), line_offset)
        return out[:-1][-keep_output:].decode("utf-8", "replace").replace("\r\n", "\n")

    def _stop_running_program(self) -> None:
        self.interrupt()
        self.in_raw = False  # re-enter cleanly next time
        try:
            self.enter_raw()
        except KitError:
            pass

    def _send_code(self, source: bytes) -> None:
        if self.use_raw_paste:
            self._write(b"\x05A\x01")
            header = self._read_exact(2, "the raw-paste answer")
            if header == b"R\x01":
                self._raw_paste(source)
                return
            if header != b"R\x00":
                # Firmware older than raw-paste reprints the raw banner instead.
                self.read_until(b"w REPL; CTRL-B to exit\r\n>", self.timeout, "the raw REPL prompt")
            self.use_raw_paste = False
        for i in range(0, len(source), 256):
            self._write(source[i:i + 256])
            time.sleep(0.01)  # boards without raw-paste have small UART buffers
        self._write(b"\x04")
        ok = self._read_exact(2, "the board to accept the code")
        if ok != b"OK":
            raise NotMicroPython(self.name, ok)

    def _read_exact(self, n: int, waiting_for: str) -> bytes:
        deadline = time.monotonic() + self.timeout
        data = bytearray()
        while len(data) < n:
            if time.monotonic() > deadline:
                raise KitTimeout(self.name, waiting_for, self.timeout)
            if self._pushback:
                take = n - len(data)
                chunk, self._pushback = bytes(self._pushback[:take]), self._pushback[take:]
            else:
                try:
                    chunk = self.port.read(n - len(data))
                except LINE_ERRORS as err:
                    raise KitDisconnected(self.name) from err
                self.bytes_in += len(chunk)
            data += chunk
        return bytes(data)

    def _raw_paste(self, source: bytes) -> None:
        window = struct.unpack("<H", self._read_exact(2, "the raw-paste window size"))[0]
        credit = window
        sent = 0
        deadline = time.monotonic() + self.timeout
        while sent < len(source):
            while credit == 0 or self._pushback or self._waiting():
                if time.monotonic() > deadline:
                    raise KitTimeout(self.name, "flow control during upload", self.timeout)
                byte = self._read_exact(1, "flow control during upload")
                if byte == b"\x01":
                    credit += window
                    deadline = time.monotonic() + self.timeout
                elif byte == b"\x04":  # the board stopped early: a compile error
                    self._write(b"\x04")
                    return
                else:
                    raise NotMicroPython(self.name, byte)
            chunk = source[sent:sent + credit]
            self._write(chunk)
            credit -= len(chunk)
            sent += len(chunk)
        self._write(b"\x04")
        self.read_until(b"\x04", self.timeout, "the board to finish receiving the code")

    def eval(self, expression: str, timeout: float | None = 30.0) -> Any:
        """A Python literal computed on the board (repr on the board, literal_eval here)."""
        return ast.literal_eval(self.exec(f"print(repr({expression}))", timeout=timeout).strip())
