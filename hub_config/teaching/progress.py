"""Where each student of a class is with an assignment: not fetched, fetched, submitted, late.

Read from the places nbgrader's own steps leave behind, nothing recorded on the side: the
assignment folder a fetch creates in the student's home, the submission folders in the exchange's
inbound (named `<student>+<assignment>+<timestamp>[+random]`), and what collect copied into the
offering. Reading homes and the inbound needs the site's own account (root in production).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import parse_utc

from hub_config.teaching.exchange import FORGED_PREFIX
from hub_config.teaching.offerings import Offering


class Stage(enum.Enum):
    NOT_FETCHED = "not fetched"
    FETCHED = "fetched"
    SUBMITTED = "submitted"
    LATE = "late"


@dataclass(frozen=True)
class StudentProgress:
    login: str
    full_name: str
    stage: Stage
    submitted_at: dt.datetime | None = None  # naive UTC, as nbgrader keeps it
    collected: bool = False


@dataclass(frozen=True)
class AssignmentProgress:
    assignment_id: str
    due: dt.datetime | None  # naive UTC
    students: list[StudentProgress]

    def count(self, stage: Stage) -> int:
        return sum(s.stage is stage for s in self.students)


def _timestamp(folder: Path) -> dt.datetime | None:
    stamp = folder / "timestamp.txt"
    try:
        return parse_utc(stamp.read_text().strip())
    except (OSError, ValueError, OverflowError):
        return None


def _latest_submission(inbound: Path, login: str, assignment_id: str) -> dt.datetime | None:
    if not inbound.is_dir():
        return None
    times = [t for p in inbound.glob(f"{login}+{assignment_id}+*")
             if not p.name.startswith(FORGED_PREFIX) and p.is_dir() and (t := _timestamp(p)) is not None]
    return max(times, default=None)


def assignment_progress(offering: Offering, assignment_id: str, inbound: Path,
                        home_of: Callable[[str], Path | None]) -> AssignmentProgress:
    """Each enrolled student's stage, in roll-call order (by given name)."""
    with Gradebook(offering.gradebook_url, course_id=offering.id) as gb:
        try:
            due = gb.find_assignment(assignment_id).duedate
        except MissingEntry:
            due = None
        roll = [(s.id, " ".join(p for p in (s.first_name, s.last_name) if p))
                for s in sorted(gb.students, key=lambda s: (s.last_name or "", s.first_name or "", s.id))]
    students = []
    for login, name in roll:
        collected_dir = offering.submitted_dir(login, assignment_id)
        times = [t for t in (_latest_submission(inbound, login, assignment_id), _timestamp(collected_dir)) if t]
        submitted = max(times, default=None)
        if submitted is not None:
            stage = Stage.LATE if due is not None and submitted > due else Stage.SUBMITTED
        else:
            home = home_of(login)
            fetched = home is not None and (home / offering.id / assignment_id).is_dir()
            stage = Stage.FETCHED if fetched else Stage.NOT_FETCHED
        students.append(StudentProgress(login, name, stage, submitted, collected_dir.is_dir()))
    return AssignmentProgress(assignment_id, due, students)
