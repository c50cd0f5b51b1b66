"""A durable note of each long step while it runs: a roster import, a collect, a grading batch, a
feedback release. A step that ends, well or with an error it reported, removes its note; a note
whose process is gone is a step that a crash, a SIGKILL or a power cut stopped half-way, and the
next `stemlab up` settles and tells it (hub_config/operations/recovery.py).

Each step is also written so that stopping it anywhere leaves nothing half-made where the rest of
the platform looks: a roster's accounts in one transaction and its password sheets kept aside until
it is committed, each student's collected submission built beside its place and renamed in, a
feedback page copied and renamed in (nbgrader's own), a grading batch recorded into a copy of the
gradebook that goes in as one transaction (teaching/loop.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

import psutil

from hub_config.site.paths import DataDir

# A test names a point of a step here to be killed at it, with its process group, as a power cut
# would (tests/hub_config/test_crash_safety.py). Whoever sets a process's environment can kill it anyway.
CRASH_ENV = "STEMLAB_CRASH_AT"


class Operation(str, Enum):
    ROSTER_IMPORT = "roster-import"
    COLLECT = "collect"
    GRADING = "grading"
    FEEDBACK = "feedback"


@dataclass(frozen=True)
class Note:
    step: Operation
    subject: str                 # the roster's file; "<offering>/<assignment>" for the teaching steps
    started: str                 # UTC, ISO 8601
    pid: int
    pid_started: float           # the process's start time: a pid the system gave again is not this step
    id: str = ""                 # what the step names what it keeps aside by (password sheets: people/accounts.py)
    detail: dict[str, str] = field(default_factory=dict)

    def running(self) -> bool:
        try:
            return abs(psutil.Process(self.pid).create_time() - self.pid_started) < 1
        except psutil.Error:
            return False


@contextmanager
def noted(data: DataDir, step: Operation, subject: str, **detail: str) -> Iterator[Note]:
    me = psutil.Process()
    note = Note(step, subject, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), me.pid,
                me.create_time(), uuid.uuid4().hex, detail)
    data.journal_dir.mkdir(mode=0o700, exist_ok=True)
    path = data.journal_dir / f"{step.value}-{note.id}.json"
    _write_durably(path, json.dumps({**asdict(note), "step": step.value}, ensure_ascii=False))
    try:
        yield note
    finally:
        path.unlink(missing_ok=True)


def interrupted(data: DataDir) -> list[tuple[Path, Note]]:
    """The notes of steps whose process is gone, oldest first."""
    found = []
    for path in sorted(data.journal_dir.glob("*.json")) if data.journal_dir.is_dir() else []:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            note = Note(**{**raw, "step": Operation(raw["step"])})
        except (OSError, ValueError, TypeError):
            continue  # cut off while it was written: its step had not begun
        if not note.running():
            found.append((path, note))
    return sorted(found, key=lambda item: item[1].started)


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.killpg(os.getpgid(0), signal.SIGKILL)


def _write_durably(path: Path, text: str) -> None:
    partial = path.with_name("." + path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(partial, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
