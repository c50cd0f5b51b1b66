"""The simulated board's flash: MicroPython's `os` and `open` over a folder on the host.

A folder, so the flash survives a hard reset of the simulated MCU (which is a new process) just as
a real board's flash does, and a technician can look inside. Sized like a real board's user
partition: a file too large for it fails with OSError ENOSPC at the write, as on the firmware.
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
from collections.abc import Iterator
from pathlib import Path

DEFAULT_SIZE = 2 * 1024 * 1024  # the user partition of a 4 MB ESP32 build
BLOCK = 4096


def _blocks(n: int) -> int:
    return -(-n // BLOCK) * BLOCK


class Flash:
    def __init__(self, folder: Path, size: int = DEFAULT_SIZE):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.size = size
        self.cwd = "/"

    # ---- paths: board paths are absolute inside the flash; nothing escapes the folder
    def abspath(self, path: str) -> str:
        joined = posixpath.normpath(posixpath.join(self.cwd, str(path)))
        return "/" + joined.lstrip("/") if joined not in ("/", "//") else "/"

    def host(self, path: str) -> Path:
        return self.folder / self.abspath(path).lstrip("/")

    def used(self) -> int:
        total = 0
        for root, dirs, files in os.walk(self.folder):
            total += BLOCK * len(dirs) + sum(_blocks(os.path.getsize(os.path.join(root, f))) for f in files)
        return total

    def free(self) -> int:
        return max(0, self.size - self.used())

    def _oserror(self, err: OSError) -> OSError:
        code = err.errno if err.errno in (errno.ENOENT, errno.EEXIST, errno.EISDIR, errno.ENOTDIR, errno.ENOTEMPTY) else errno.EIO
        if code == errno.ENOTEMPTY:
            code = errno.EACCES  # what littlefs/FAT on MicroPython report
        return OSError(code, errno.errorcode[code])

    # ---- MicroPython's os
    def ilistdir(self, path: str = ".") -> Iterator[tuple[str, int, int, int]]:
        folder = self.host(path)
        try:
            names = sorted(os.listdir(folder))
        except OSError as err:
            raise self._oserror(err) from None
        out = []
        for name in names:
            p = folder / name
            out.append((name, 0x4000, 0, 0) if p.is_dir() else (name, 0x8000, 0, p.stat().st_size))
        return iter(out)

    def listdir(self, path: str = ".") -> list[str]:
        return [entry[0] for entry in self.ilistdir(path)]

    def stat(self, path: str) -> tuple[int, ...]:
        p = self.host(path)
        if p.is_dir():
            return (0x4000, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        if p.is_file():
            return (0x8000, 0, 0, 0, 0, 0, p.stat().st_size, 0, 0, 0)
        raise OSError(errno.ENOENT, "ENOENT")

    def mkdir(self, path: str) -> None:
        if self.free() < BLOCK:
            raise OSError(errno.ENOSPC, "ENOSPC")
        try:
            self.host(path).mkdir()
        except OSError as err:
            raise self._oserror(err) from None

    def rmdir(self, path: str) -> None:
        if self.abspath(path) == "/":
            raise OSError(errno.EACCES, "EACCES")
        try:
            self.host(path).rmdir()
        except OSError as err:
            raise self._oserror(err) from None

    def remove(self, path: str) -> None:
        p = self.host(path)
        if p.is_dir():
            raise OSError(errno.EISDIR, "EISDIR")
        try:
            p.unlink()
        except OSError as err:
            raise self._oserror(err) from None

    def rename(self, old: str, new: str) -> None:
        try:
            os.replace(self.host(old), self.host(new))
        except OSError as err:
            raise self._oserror(err) from None

    def chdir(self, path: str) -> None:
        if not self.host(path).is_dir():
            raise OSError(errno.ENOENT, "ENOENT")
        self.cwd = self.abspath(path)

    def getcwd(self) -> str:
        return self.cwd

    def statvfs(self, path: str = "/") -> tuple[int, ...]:
        blocks, free = self.size // BLOCK, self.free() // BLOCK
        return (BLOCK, BLOCK, blocks, free, free, 0, 0, 0, 0, 255)

    def read_bytes(self, path: str) -> bytes | None:
        p = self.host(path)
        return p.read_bytes() if p.is_file() else None

    # ---- open()
    def open(self, path: str, mode: str = "r", *args: object, **kwargs: object) -> io.IOBase:
        p = self.host(path)
        binary = "b" in mode
        if p.is_dir():
            raise OSError(errno.EISDIR, "EISDIR")
        if "r" in mode and "+" not in mode:
            if not p.is_file():
                raise OSError(errno.ENOENT, "ENOENT")
            raw = io.BytesIO(p.read_bytes())
            return raw if binary else io.TextIOWrapper(raw, encoding="utf-8")
        if not p.parent.is_dir():
            raise OSError(errno.ENOENT, "ENOENT")
        handle = _FlashFile(self, p, append="a" in mode, keep="+" in mode or "a" in mode)
        # _FlashFile is a raw binary file (io.RawIOBase) that typeshed does not see as a buffer
        return handle if binary else io.TextIOWrapper(handle, encoding="utf-8", write_through=True)  # type: ignore[type-var]


class _FlashFile(io.RawIOBase):
    """Written through on every write, so a full flash fails at that write and a reset mid-way
    leaves what was written so far, as on a board."""

    def __init__(self, flash: Flash, path: Path, append: bool, keep: bool):
        self.flash, self.path = flash, path
        self.fh = open(path, "r+b" if keep and path.exists() else "w+b")  # noqa: SIM115
        if append:
            self.fh.seek(0, io.SEEK_END)

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = bytes(b)
        size = os.fstat(self.fh.fileno()).st_size
        end = max(size, self.fh.tell() + len(chunk))
        if _blocks(end) - _blocks(size) > self.flash.free():
            raise OSError(errno.ENOSPC, "ENOSPC")
        self.fh.write(chunk)
        self.fh.flush()
        return len(chunk)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self.fh.readinto(buffer)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.fh.seek(offset, whence)

    def tell(self) -> int:
        return self.fh.tell()

    def close(self) -> None:
        if not self.closed:
            self.fh.close()
        super().close()
