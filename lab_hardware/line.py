"""Bytes to and from a board over a pyserial port: every wait with a deadline, bytes read past
what a caller waited for kept for the next read, and the time actually waited in every timeout."""

from __future__ import annotations

import time
from typing import Callable

import serial

from .errors import KitDisconnected, KitTimeout
from .port import LINE_ERRORS


class SignSeen(Exception):
    """A byte sequence the reader watched for arrived before the marker; `data` starts with it."""

    def __init__(self, data: bytes):
        super().__init__(data[:40])
        self.data = data


def find_first(data: bytes | bytearray, signs: tuple[bytes, ...], start: int = 0, before: int = -1) -> int:
    """Where the first of `signs` begins in data[start:] (before `before`, unless that is -1), or -1."""
    hits = [at for sign in signs if (at := data.find(sign, start)) >= 0 and (before < 0 or at < before)]
    return min(hits) if hits else -1


def _partial_tail(data: bytes | bytearray, patterns: tuple[bytes, ...]) -> int:
    """How many of data's last bytes may be the start of one of `patterns` (held back from
    streaming until the next read tells)."""
    longest = min(len(data), max(len(p) for p in patterns) - 1)
    for k in range(longest, 0, -1):
        tail = bytes(data[-k:])
        if any(p.startswith(tail) for p in patterns):
            return k
    return 0


class SerialLine:
    def __init__(self, port: serial.SerialBase, name: str | None = None, timeout: float = 5.0):
        self.port = port
        self.name = name or str(port.port)
        self.timeout = timeout
        self.bytes_out = 0
        self.bytes_in = 0
        self._last_write_at = 0.0
        self.unprompted_at = 0.0  # the last byte that came well after anything we sent
        self._pushback = bytearray()

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except LINE_ERRORS as err:
            raise KitDisconnected(self.name) from err
        self.bytes_out += len(data)
        self._last_write_at = time.monotonic()

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
        if data:
            self.bytes_in += len(data)
            now = time.monotonic()
            if now - self._last_write_at > 0.15:
                self.unprompted_at = now
        return data

    def read_until(self, marker: bytes, timeout: float, waiting_for: str,
                   on_data: Callable[[bytes], None] | None = None, keep: int | None = None,
                   signs: tuple[bytes, ...] = ()) -> bytes:
        """Read up to and including `marker` (bytes after it are kept for the next read); stream
        what comes before it to `on_data` as it arrives. `keep` caps what is returned, so an
        output flood is streamed, not held in memory. The timeout is for the whole wait. One of
        `signs` arriving first raises SignSeen at once."""
        started = time.monotonic()
        deadline = started + timeout
        buffer = bytearray()
        streamed = 0
        checked = 0
        sign_length = max((len(sign) for sign in signs), default=0)
        while True:
            found = buffer.find(marker)
            if signs:
                sign = find_first(buffer, signs, checked, found)
                if sign >= 0:
                    raise SignSeen(bytes(buffer[sign:]))
                checked = max(0, len(buffer) - sign_length + 1)
            if found >= 0:
                self._pushback[:0] = buffer[found + len(marker):]
                del buffer[found + len(marker):]
                if on_data is not None and found > streamed:
                    on_data(bytes(buffer[streamed:found]))
                return bytes(buffer)
            if on_data is not None:
                # a marker, or a restart's sign, may be split across reads
                safe = len(buffer) - _partial_tail(buffer, (marker, *signs))
                if safe > streamed:
                    on_data(bytes(buffer[streamed:safe]))
                    streamed = safe
            if keep is not None and streamed > keep:
                cut = streamed - keep
                del buffer[:cut]
                streamed -= cut
                checked = max(0, checked - cut)
            if time.monotonic() > deadline:
                raise KitTimeout(self.name, waiting_for, time.monotonic() - started)
            data = self._read_some()
            buffer += data

    def _take_waiting(self) -> bytes:
        """What the board has already sent, without waiting for more."""
        data = bytes(self._pushback)
        self._pushback.clear()
        while self._waiting():
            data += self._read_some()
        return data

    def _read_for(self, seconds: float, seen: bytearray, marker: bytes | None = None) -> bool:
        """Read into `seen` for up to `seconds`, or until it holds `marker` (True; later bytes are
        kept for the next read)."""
        deadline = time.monotonic() + seconds
        while True:
            if marker is not None:
                found = seen.find(marker)
                if found >= 0:
                    self._pushback[:0] = seen[found + len(marker):]
                    del seen[found + len(marker):]
                    return True
            if time.monotonic() >= deadline:
                return False
            seen += self._read_some()

    def answers_within(self, seconds: float) -> bool:
        """Whether the board sends anything within `seconds`; what it sends is kept for the next read."""
        deadline = time.monotonic() + seconds
        while not self._pushback:
            if time.monotonic() >= deadline:
                return False
            self._pushback += self._read_some()
        return True

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

    def _read_exact(self, n: int, waiting_for: str) -> bytes:
        started = time.monotonic()
        deadline = started + self.timeout
        data = bytearray()
        while len(data) < n:
            if time.monotonic() > deadline:
                raise KitTimeout(self.name, waiting_for, time.monotonic() - started)
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

