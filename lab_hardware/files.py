"""Files on a board: list, put, get, remove, make directory.

An upload is binary-safe and costs at most about 1.35 wire bytes per byte: each 4 KB chunk goes as
a bytes literal when that is shorter (ASCII text: about 1.0) or as base64 that the board decodes
(anything else: 1.33), where mpremote's 256-byte literals cost about 2.9 for random bytes. It is
skipped when the board already has the same SHA-256, and atomic: it goes to `<name>.part`, is
checked against the hash, and only then renamed over the old file, so a reset or an unplugged
cable mid-way never leaves a torn file under the real name.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Callable

from .errors import BoardError, FlashFull, KitError
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


@dataclass(frozen=True)
class Entry:
    name: str
    is_dir: bool
    size: int


def _quote(path: str) -> str:
    return repr(str(path))


def _board_call(link: KitConnection, code: str, path: str, timeout: float = 30.0) -> str:
    try:
        return link.exec(code, timeout=timeout)
    except BoardError as err:
        if "ENOENT" in err.message or "[Errno 2]" in err.message:
            raise RemoteFileNotFound(link.name, path) from None
        if "ENOSPC" in err.message or "[Errno 28]" in err.message:
            raise FlashFull(link.name, path, 0, None) from None
        raise


def listdir(link: KitConnection, path: str = "/") -> list[Entry]:
    rows = link.eval(f"[(e[0], e[1] == 0x4000, e[3] if len(e) > 3 else 0) for e in __import__('os').ilistdir({_quote(path)})]") \
        if path else []
    return [Entry(name, bool(is_dir), int(size)) for name, is_dir, size in rows]


def sha256(link: KitConnection, path: str) -> str | None:
    """The board's SHA-256 of a file, or None when there is no such file."""
    code = (
        "import hashlib, binascii\n"
        "try:\n"
        f"    f = open({_quote(path)}, 'rb')\n"
        "except OSError:\n"
        "    print('none')\n"
        "else:\n"
        "    h = hashlib.sha256()\n"
        "    while True:\n"
        "        b = f.read(1024)\n"
        "        if not b:\n"
        "            break\n"
        "        h.update(b)\n"
        "    f.close()\n"
        "    print(binascii.hexlify(h.digest()).decode())\n"
    )
    out = link.exec(code, timeout=60).strip()
    return None if out == "none" else out


def free_bytes(link: KitConnection) -> int:
    bsize, _, _, bfree = link.eval("__import__('os').statvfs('/')[:4]")
    return int(bsize) * int(bfree)


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
    _board_call(link, f"import binascii\n_f = open({_quote(part)}, 'wb')\n_w = _f.write\n_d = binascii.a2b_base64", part)
    sent = 0
    try:
        for start in range(0, len(data), chunk):
            _board_call(link, _write_chunk(data[start:start + chunk]), part)
            sent = min(len(data), start + chunk)
            if on_progress:
                on_progress(sent, len(data))
        _board_call(link, "_f.close()", part)
    except FlashFull:
        _remove_quietly(link, part)
        raise FlashFull(link.name, path, len(data), free) from None
    if sha256(link, part) != digest:
        _remove_quietly(link, part)
        raise UploadCorrupted(link.name, path)
    # littlefs replaces in one step; FAT refuses to rename over a file, so remove it first there
    _board_call(link, f"import os\ntry:\n    os.rename({_quote(part)}, {_quote(path)})\nexcept OSError:\n"
                      f"    os.remove({_quote(path)})\n    os.rename({_quote(part)}, {_quote(path)})", path)
    return True


def get(link: KitConnection, path: str, chunk: int = 3072) -> bytes:
    """A file's bytes from the board, checked against the board's own SHA-256."""
    out = _board_call(
        link,
        "import binascii\n"
        f"f = open({_quote(path)}, 'rb')\n"
        "while True:\n"
        f"    b = f.read({chunk})\n"
        "    if not b:\n"
        "        break\n"
        "    print(binascii.b2a_base64(b).decode().strip())\n"
        "f.close()\n",
        path, timeout=120,
    )
    data = b"".join(base64.b64decode(line) for line in out.split())
    if sha256(link, path) != hashlib.sha256(data).hexdigest():
        raise UploadCorrupted(link.name, path)
    return data


def remove(link: KitConnection, path: str) -> None:
    _board_call(link, f"import os\nos.remove({_quote(path)})", path)


def mkdir(link: KitConnection, path: str) -> None:
    """Make a directory and its parents; nothing happens if it exists."""
    _board_call(
        link,
        "import os\n"
        "p = ''\n"
        f"for part in {_quote(path)}.strip('/').split('/'):\n"
        "    p += '/' + part\n"
        "    try:\n"
        "        os.mkdir(p)\n"
        "    except OSError:\n"
        "        pass\n",
        path,
    )


def _write_chunk(payload: bytes) -> str:
    """The shorter of a bytes literal (cheap for ASCII text: about 1 wire byte per byte) and
    base64 that the board decodes (1.33 for anything, random binary included)."""
    literal = repr(payload)
    encoded = "_d(b'" + base64.b64encode(payload).decode("ascii") + "')"
    return f"_w({literal if len(literal) <= len(encoded) else encoded})"


def _remove_quietly(link: KitConnection, path: str) -> None:
    try:
        link.exec(f"import os\ntry:\n    os.remove({_quote(path)})\nexcept OSError:\n    pass")
    except KitError:
        pass
