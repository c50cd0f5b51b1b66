"""A teacher's long steps (release, collect, autograde, feedback) run in the background, one at a
time per offering, with progress the page can poll.

Each step calls the same function as the `stemlab courses`/`grade` commands (teaching/loop.py),
so the page and the CLI cannot drift apart.
"""

from __future__ import annotations

import enum
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from hub_config.site.errors import StemlabError


class Action(enum.Enum):
    RELEASE = "release"
    COLLECT = "collect"
    AUTOGRADE = "autograde"
    FEEDBACK = "feedback"


class JobState(enum.Enum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass
class Job:
    id: str
    offering_id: str
    assignment_id: str
    action: Action
    started_by: str
    state: JobState = JobState.RUNNING
    done: int = 0
    total: int = 0
    failed: int = 0
    messages: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "offering": self.offering_id, "assignment": self.assignment_id,
                "action": self.action.value, "state": self.state.value, "done": self.done, "total": self.total,
                "failed": self.failed, "messages": self.messages, "started": self.started, "finished": self.finished}


class Busy(StemlabError):
    """Another step of the same offering is still running."""

    def __init__(self, running: Job):
        self.running = running
        super().__init__(f"Lớp này đang {running.action.value} {running.assignment_id}: đợi xong rồi làm tiếp. / "
                         f"This offering is still running {running.action.value} of {running.assignment_id}: "
                         "wait for it to finish.")


Work = Callable[[Job], list[str]]  # returns what the teacher must read; raises StemlabError to fail


class Jobs:
    def __init__(self, keep: int = 200):
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._keep = keep
        # grading is parallel inside the runner; the steps themselves need not be
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="teach-job")

    def start(self, offering_id: str, assignment_id: str, action: Action, user: str, work: Work) -> Job:
        with self._lock:
            running = next((j for j in self._jobs.values()
                            if j.offering_id == offering_id and j.state is JobState.RUNNING), None)
            if running:
                raise Busy(running)
            job = Job(uuid.uuid4().hex[:12], offering_id, assignment_id, action, user)
            self._jobs[job.id] = job
            for old in list(self._jobs.values())[:-self._keep]:
                if old.state is not JobState.RUNNING:
                    del self._jobs[old.id]
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Work) -> None:
        try:
            job.messages += work(job)
            job.state = JobState.DONE
        except StemlabError as err:
            job.messages.append(str(err))
            job.state = JobState.FAILED
        except Exception as err:  # noqa: BLE001  (a bug must reach the page, not vanish in a thread)
            job.messages.append(f"Lỗi không mong đợi / Unexpected error: {type(err).__name__}: {err}")
            job.state = JobState.FAILED
        finally:
            job.finished = time.time()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def of_offering(self, offering_id: str) -> list[Job]:
        return [j for j in self._jobs.values() if j.offering_id == offering_id]
