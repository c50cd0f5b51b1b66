"""Files on a board: list, put, get, remove, make directory.

An upload is binary-safe and costs at most about 1.35 wire bytes per byte: each 4 KB chunk goes as
a bytes literal when that is shorter (ASCII text: about 1.0) or as base64 that the board decodes
(anything else: 1.33), where mpremote's 256-byte literals cost about 2.9 for random bytes. It is
skipped when the board already has the same SHA-256, and atomic: it goes to `<name>.part`, is
checked against the hash, and only then renamed over the old file, so a reset or an unplugged
cable mid-way never leaves a torn file under the real name. A `.part` that an unplugged cable
left behind is removed by the next upload into its folder; one a soft reboot cut short, at once.
A board without a filesystem says so (NoFilesystem) instead of "flash full".
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Callable

from . import board_side
from .errors import BoardError, FlashFull, KitError, KitRestarted, NoFilesystem
from .transport import KitConnection

CHUNK = 4096          # payload bytes per exec; its base64 literal (5.5 KB) fits a small board's heap
PART_SUFFIX = ".part"


class RemoteFileNotFound(KitError):
    def __init__(self, port: str, path: str):
        super().__init__(f"Trên kit ở {port} không có tệp {path}.", f"The kit at {port} has no file {path}.")
        self.path = path


class UploadCorrupted(KitError):
    def __init__(self, port: str, path: str):
        super().__init__(
            f"Tệp {path} chép lên kit ở {port} bị sai lệch; tệp cũ được giữ nguyên. Thử lại.",
            f"The copy of {path} on the kit at {port} did not match; the old file is kept. Try again.",
        )


class UploadInterrupted(KitError):
    def __init__(self, port: str, path: str):
        super().__init__(
            f"Bộ kit ở {port} khởi động lại giữa lúc chép {path}; tệp cũ được giữ nguyên. Chép lại lần nữa.",
            f"The kit at {port} restarted while {path} was being copied; the old file is kept. Copy it again.",
        )
        self.path = path


@dataclass(frozen=True)
class Entry:
    name: str
    is_dir: bool
    size: int


def _board_call(link: KitConnection, code: str, path: str, timeout: float = 30.0) -> str:
    try:
        return link.exec(code, timeout=timeout)
    except BoardError as err:
        if "ENOENT" in err.message or "[Errno 2]" in err.message:
            raise RemoteFileNotFound(link.name, path) from None
        if "ENOSPC" in err.message or "[Errno 28]" in err.message:
            raise FlashFull(link.name, path, 0, None) from None
        if "ENODEV" in err.message or "[Errno 19]" in err.message:
            raise NoFilesystem(link.name) from None
        raise


def _on_board(link: KitConnection, name: str, function: str, *args: Any, path: str, timeout: float = 30.0) -> Any:
    """One function of a board-side file (lab_hardware/board_side/), its board errors named for `path`."""
    out = _board_call(link, board_side.program(name, function, *args), path, timeout)
    return board_side.value_of(out)


def listdir(link: KitConnection, path: str = "/") -> list[Entry]:
    rows = _on_board(link, "fs", "listdir", path, path=path) if path else []
    if rows is None:
        raise NoFilesystem(link.name)
    return [Entry(name, bool(is_dir), int(size)) for name, is_dir, size in rows]


def sha256(link: KitConnection, path: str) -> str | None:
    """The board's SHA-256 of a file, or None when there is no such file."""
    digest: str | None = _on_board(link, "fs_hash", "sha256", path, path=path, timeout=60)
    return digest


def free_bytes(link: KitConnection) -> int:
    free = _on_board(link, "fs", "free_bytes", path="/")
    if free is None:
        raise NoFilesystem(link.name)
    return int(free)


def put(link: KitConnection, data: bytes, path: str,
        on_progress: Callable[[int, int], None] | None = None, chunk: int = CHUNK) -> bool:
    """Write `data` to `path` on the board; False when it was already there (same hash)."""
    digest = hashlib.sha256(data).hexdigest()
    if sha256(link, path) == digest:
        return False
    free = free_bytes(link)
    if len(data) > free:
        raise FlashFull(link.name, path, len(data), free)
    part = path + PART_SUFFIX
    _on_board(link, "fs_transfer", "open_part", part, path=part)  # leaves _f, _w and _d for the chunks
    sent = 0
    try:
        for start in range(0, len(data), chunk):
            _board_call(link, _write_chunk(data[start:start + chunk]), part)
            sent = min(len(data), start + chunk)
            if on_progress:
                on_progress(sent, len(data))
        _on_board(link, "fs_transfer", "close_part", path=part)
    except FlashFull:
        _remove_quietly(link, part)
        raise FlashFull(link.name, path, len(data), free) from None
    except KitRestarted:
        _remove_quietly(link, part)  # the link is back at the prompt; the board lost the open file
        raise UploadInterrupted(link.name, path) from None
    if sha256(link, part) != digest:
        _remove_quietly(link, part)
        raise UploadCorrupted(link.name, path)
    # littlefs replaces in one step; FAT refuses to rename over a file, so remove it first there
    _on_board(link, "fs", "replace", part, path, path=path)
    return True


def get(link: KitConnection, path: str, chunk: int = 3072) -> bytes:
    """A file's bytes from the board, checked against the board's own SHA-256."""
    out = _board_call(link, board_side.program("fs_transfer", "send", path, chunk), path, timeout=120)
    lines = out.split()[:-1]  # the last is the call's own value
    data = b"".join(base64.b64decode(line) for line in lines)
    if sha256(link, path) != hashlib.sha256(data).hexdigest():
        raise UploadCorrupted(link.name, path)
    return data


def remove(link: KitConnection, path: str) -> None:
    _on_board(link, "fs", "remove", path, False, path=path)


def mkdir(link: KitConnection, path: str) -> None:
    """Make a directory and its parents; nothing happens if it exists."""
    _on_board(link, "fs", "mkdir", path, path=path)


def _write_chunk(payload: bytes) -> str:
    """The shorter of a bytes literal (cheap for ASCII text: about 1 wire byte per byte) and
    base64 that the board decodes (1.33 for anything, random binary included)."""
    literal = repr(payload)
    encoded = "_d(b'" + base64.b64encode(payload).decode("ascii") + "')"
    return f"_w({literal if len(literal) <= len(encoded) else encoded})"


def _remove_quietly(link: KitConnection, path: str) -> None:
    try:
        _on_board(link, "fs", "remove", path, True, path=path)
    except KitError:
        pass
