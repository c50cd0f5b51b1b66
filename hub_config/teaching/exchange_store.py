"""What the exchange service keeps of each course, on a disk only its own account reads.

    <course>/outbound/<assignment>/...                    released by the course's grader
    <course>/inbound/<student>+<assignment>+<time>+<id>/  one per Submit: named and timed here
    <course>/feedback/<hash>.html                         released feedback

nbgrader's own layout, so nbgrader's exchange steps run unchanged on a server's private copy of the
part a person may see (hub_config/teaching/exchange_client.py). What the layout no longer trusts a
server for: the student a submission is from (the service's login, never the folder's name), its
time (the service's clock: lateness is the truth), whose feedback a student may read (only that of
their own submissions' notebooks, matched by nbgrader's hash of each submission's secret).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import IO

from hub_config.teaching.exchange_archive import ArchiveLimits, ArchiveRefused, unpack

# nbgrader's ids: no '+' (its submission names' separator), no path separators, no wildcards
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
FEEDBACK_NAME = re.compile(r"^[0-9a-f]{16,128}\.html$")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's default, in UTC


class Part(Enum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"
    FEEDBACK = "feedback"


class Role(Enum):
    STUDENT = "student"
    GRADER = "grader"


def checked_id(value: str, what: str) -> str:
    if not ID.match(value or ""):
        raise ArchiveRefused(f"{what} không hợp lệ: {value!r}", f"not a valid {what}: {value!r}")
    return value


@dataclass(frozen=True)
class Submitted:
    folder: str
    timestamp: str


class CourseStore:
    def __init__(self, root: Path, course: str, limits: ArchiveLimits = ArchiveLimits()):
        self.root = root
        self.course = checked_id(course, "course")
        self.limits = limits

    @property
    def folder(self) -> Path:
        return self.root / self.course

    def path(self, part: Part) -> Path:
        return self.folder / part.value

    def released(self) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(self.path(Part.OUTBOUND)) if e.is_dir() and ID.match(e.name))
        except FileNotFoundError:
            return []

    def view(self, role: Role, student: str, parts: set[Part], assignment: str | None) -> list[str]:
        """The paths (relative to the store root) this person's copy of the course holds."""
        out: list[str] = []  # each path whole: none may hold another (the client makes the layout)
        chosen = [checked_id(assignment, "assignment")] if assignment else self.released()
        if Part.OUTBOUND in parts:
            out += [f"{self.course}/outbound/{a}" for a in chosen if a in self.released()]
        if Part.INBOUND in parts and role is Role.GRADER:
            out += [f"{self.course}/inbound/{name}" for name in self._submissions(assignment)]
        if Part.FEEDBACK in parts:
            feedback = self.path(Part.FEEDBACK)
            names = (sorted(f.name for f in feedback.glob("*.html")) if role is Role.GRADER
                     else self._feedback_of(student))
            out += [f"{self.course}/feedback/{name}" for name in names if (feedback / name).is_file()]
        return out

    def _submissions(self, assignment: str | None, student: str = "*") -> list[str]:
        inbound = self.path(Part.INBOUND)
        pattern = f"{student}+{assignment or '*'}+*"
        return sorted(p.name for p in inbound.glob(pattern) if p.is_dir()) if inbound.is_dir() else []

    def _feedback_of(self, student: str) -> list[str]:
        from nbgrader.utils import notebook_hash

        names = []
        for name in self._submissions(None, checked_id(student, "student")):
            folder = self.path(Part.INBOUND) / name
            try:
                secret = (folder / "submission_secret.txt").read_text(encoding="utf-8")
            except OSError:
                continue
            for notebook in folder.glob("*.ipynb"):
                names.append(f"{notebook_hash(secret=secret, notebook_id=notebook.stem)}.html")
        return names

    def _staging(self) -> Path:
        staging = self.folder / ".staging"
        staging.mkdir(mode=0o700, parents=True, exist_ok=True)
        return staging / uuid.uuid4().hex

    def release(self, assignment: str, archive: IO[bytes]) -> list[str]:
        """Replace the assignment's released files with the archive's `outbound/<assignment>/`."""
        checked_id(assignment, "assignment")
        staged = self._staging()
        files = unpack(archive, staged, self.limits)
        source = staged / self.course / "outbound" / assignment
        if any(not f.startswith(f"{self.course}/outbound/{assignment}/") for f in files) or not source.is_dir():
            shutil.rmtree(staged)
            raise ArchiveRefused(f"gói phát bài chỉ được chứa outbound/{assignment}/",
                                 f"a release may hold outbound/{assignment}/ only")
        target = self.path(Part.OUTBOUND) / assignment
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        old = staged.with_name(staged.name + ".old")
        if target.exists():
            target.rename(old)  # then the new one in: a student fetching meanwhile gets one or the other
        source.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(staged, ignore_errors=True)
        return files

    def submit(self, student: str, assignment: str, archive: IO[bytes]) -> Submitted:
        """A submission from `student` (the service's login for them, whatever the archive says),
        timed by the service's clock; the archive holds the submission folder's files."""
        checked_id(student, "student")
        checked_id(assignment, "assignment")
        if assignment not in self.released():
            raise ArchiveRefused(f"bài {assignment} chưa được phát cho lớp", f"the assignment {assignment} is not released")
        staged = self._staging()
        unpack(archive, staged, self.limits)
        secret = staged / "submission_secret.txt"
        if not secret.is_file() or not re.fullmatch(r"[0-9a-f]{16,256}", secret.read_text(encoding="utf-8").strip()):
            shutil.rmtree(staged)
            raise ArchiveRefused("bài nộp thiếu mã bí mật của nbgrader", "the submission lacks nbgrader's secret")
        now = datetime.now(timezone.utc)
        timestamp = now.strftime(TIMESTAMP_FORMAT)
        (staged / "timestamp.txt").write_text(timestamp, encoding="utf-8")
        random = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
        name = f"{student}+{assignment}+{timestamp}+{random}"
        inbound = self.path(Part.INBOUND)
        inbound.mkdir(mode=0o700, parents=True, exist_ok=True)
        staged.rename(inbound / name)
        return Submitted(name, timestamp)

    def release_feedback(self, archive: IO[bytes]) -> list[str]:
        """Feedback pages named by nbgrader's hash, from the archive's `feedback/`."""
        staged = self._staging()
        files = unpack(archive, staged, self.limits)
        prefix = f"{self.course}/feedback/"
        bad = [f for f in files if not f.startswith(prefix) or not FEEDBACK_NAME.match(f[len(prefix):])]
        if bad:
            shutil.rmtree(staged)
            raise ArchiveRefused(f"gói nhận xét chứa tệp không phải nhận xét: {bad[0]}",
                                 f"the feedback archive holds something else: {bad[0]}")
        target = self.path(Part.FEEDBACK)
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        for f in files:
            os.replace(staged / f, target / f[len(prefix):])
        shutil.rmtree(staged, ignore_errors=True)
        return files
