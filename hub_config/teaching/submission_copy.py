"""Copying a student's submission out of the exchange without trusting anything in it.

Collect runs as the offering's grader account, which reads the gradebook, the course sources and
every classmate's submission. nbgrader copies a submission with `shutil.copytree`, which follows
symbolic links: a link planted in a hand-made submission folder brings its target (solutions,
hidden tests, a classmate's work) into the student's own submission, where grading and feedback
show it. Here only what the student wrote is copied: regular files and folders, never through a
link, each file opened without following one (so a file swapped for a link between the check
and the copy is refused too), sizes checked before anything is copied.

Everything left out is a `Problem`: the student, the entry, and why, for the teacher. This module
runs inside nbgrader's collect (hub_config/teaching/exchange.py): standard library only.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class Problem:
    student: str
    entry: str  # the submission folder's name, or a path inside it
    reason: str  # bilingual: "tiếng Việt / English"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Rules:
    max_file_bytes: int
    max_total_bytes: int
    ignore: tuple[str, ...] = ()
    include: tuple[str, ...] = ()


def total_size(folder: Path) -> int:
    """Bytes in the regular files under `folder`, links not followed (what a copy would write)."""
    total = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            info = os.lstat(os.path.join(root, name))
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total


def _ignored(name: str, rules: Rules, is_file: bool) -> bool:
    if any(fnmatch.fnmatch(name, pattern) for pattern in rules.ignore):
        return True
    return is_file and bool(rules.include) and not any(fnmatch.fnmatch(name, p) for p in rules.include)


def _copy_file(source: Path, dest: Path, limit: int) -> None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(source, flags)  # a link here raises ELOOP: it was swapped in after the check
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{source} is not a regular file")
        written = 0
        with os.fdopen(os.dup(fd), "rb") as src, open(dest, "xb") as out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > limit:  # it grew after the check
                    raise OSError(f"{source} grew past {limit} bytes while it was copied")
                out.write(chunk)
        os.utime(dest, ns=(info.st_atime_ns, info.st_mtime_ns))
        os.chmod(dest, stat.S_IMODE(info.st_mode) & 0o755 | 0o600)
    finally:
        os.close(fd)


def copy_submission(source: Path, dest: Path, student: str, rules: Rules,
                    after_first_file: Callable[[str], None] | None = None) -> list[Problem]:
    """Copy the regular files and folders of `source` into `dest` (which must not exist); what is
    left out, and why. Raises OSError only when nothing sensible could be copied.
    `after_first_file`: called with "collect-copying" once one file is copied (the crash tests' point)."""
    problems: list[Problem] = []
    copied = 0
    dest.mkdir(parents=True)

    def walk(folder: Path, into: Path) -> None:
        nonlocal copied
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                inner = Path(entry.path).relative_to(source).as_posix()
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    problems.append(Problem(student, inner, "là một liên kết (symlink), không được thu / "
                                                            "is a symbolic link, not collected"))
                elif stat.S_ISDIR(info.st_mode):
                    if _ignored(entry.name, rules, is_file=False):
                        continue
                    (into / entry.name).mkdir()
                    walk(Path(entry.path), into / entry.name)
                elif not stat.S_ISREG(info.st_mode):
                    problems.append(Problem(student, inner, "không phải tệp thường, không được thu / "
                                                            "is not a regular file, not collected"))
                elif _ignored(entry.name, rules, is_file=True):
                    continue
                elif info.st_size > rules.max_file_bytes:
                    problems.append(Problem(student, inner, f"quá lớn ({info.st_size // 1_000_000} MB > "
                                                            f"{rules.max_file_bytes // 1_000_000} MB), không được thu / "
                                                            f"too large ({info.st_size // 1_000_000} MB > "
                                                            f"{rules.max_file_bytes // 1_000_000} MB), not collected"))
                else:
                    try:
                        _copy_file(Path(entry.path), into / entry.name, rules.max_file_bytes)
                        copied += 1
                        if copied == 1 and after_first_file:
                            after_first_file("collect-copying")
                    except OSError as err:
                        (into / entry.name).unlink(missing_ok=True)
                        problems.append(Problem(student, inner, f"không đọc được ({err.strerror or err}), không được "
                                                                f"thu / cannot be read ({err.strerror or err}), "
                                                                "not collected"))

    walk(source, dest)
    return problems
