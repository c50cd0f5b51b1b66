"""The archives the exchange service and students' servers trade: plain tar streams of regular
files and folders, nothing else.

An archive is unpacked all or nothing into a folder that does not exist yet: a link, a device, an
absolute or climbing path, a member past the size limits refuses the whole archive with the
reason, and the half-written folder is removed. Both sides use it: the service for what servers
upload, a server for what the service sends (this module runs in both: standard library only).
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 1 << 20


class ArchiveRefused(Exception):
    def __init__(self, vi: str, en: str):
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


@dataclass(frozen=True)
class ArchiveLimits:
    max_file_bytes: int = 100_000_000
    max_total_bytes: int = 100_000_000
    max_members: int = 10_000


def _checked_name(name: str) -> str:
    cleaned = posixpath.normpath(name)
    if (not name or name.startswith("/") or cleaned == ".." or cleaned.startswith("../") or "\\" in name
            or any(part in ("", "..") for part in cleaned.split("/")) or "\x00" in name):
        raise ArchiveRefused(f"đường dẫn không hợp lệ trong gói: {name!r}", f"a path in the archive is not allowed: {name!r}")
    return cleaned


def unpack(stream: IO[bytes], into: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[str]:
    """Unpack the tar `stream` into `into` (created here; it must not exist); the paths unpacked.
    Raises ArchiveRefused, leaving nothing behind, if any member is not a plain file or folder."""
    into.mkdir(mode=0o700)
    written: list[str] = []
    total = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for n, member in enumerate(archive):
                if n >= limits.max_members:
                    raise ArchiveRefused(f"gói có quá {limits.max_members} mục", f"the archive has more than {limits.max_members} entries")
                name = _checked_name(member.name)
                target = into / name
                if member.isdir():
                    target.mkdir(mode=0o700, parents=True, exist_ok=True)
                    continue
                if not member.isreg():
                    raise ArchiveRefused(f"{name} không phải tệp thường (liên kết, thiết bị...)",
                                         f"{name} is not a regular file (a link, a device...)")
                total += member.size
                if member.size > limits.max_file_bytes or total > limits.max_total_bytes:
                    raise ArchiveRefused(f"gói quá lớn ({name})", f"the archive is too large ({name})")
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
                os.utime(target, (member.mtime, member.mtime))
                written.append(name)
    except ArchiveRefused:
        shutil.rmtree(into, ignore_errors=True)
        raise
    except (tarfile.TarError, OSError, EOFError) as err:
        shutil.rmtree(into, ignore_errors=True)
        raise ArchiveRefused(f"gói bị hỏng ({err})", f"the archive is damaged ({err})") from err
    return written


def pack(base: Path, paths: list[str], out: IO[bytes]) -> None:
    """A tar of `paths` (relative to `base`: files, and folders with everything under them; links
    not followed and left out) written to `out`."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        for path in paths:
            top = base / path
            if not top.exists() or top.is_symlink():
                continue
            if stat.S_ISREG(os.lstat(top).st_mode):
                archive.add(top, arcname=path, recursive=False)
                continue
            for folder, dirs, files in os.walk(top, followlinks=False):
                rel = Path(folder).relative_to(base).as_posix()
                archive.add(folder, arcname=rel, recursive=False)
                for name in sorted(files):
                    full = os.path.join(folder, name)
                    if stat.S_ISREG(os.lstat(full).st_mode):
                        archive.add(full, arcname=f"{rel}/{name}", recursive=False)
                dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(folder, d)))


def packed(base: Path, paths: list[str]) -> bytes:
    buffer = io.BytesIO()
    pack(base, paths, buffer)
    return buffer.getvalue()
