"""The teacher's side of the loop, by command: nbgrader run inside an offering's course directory."""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable


from autograders.course_layout import Step
from autograders.limits import Limits

from hub_config.teaching.authoring import read_notebook
from hub_config.teaching.nbgrader_run import NbgraderMessage, run_recorded
from hub_config.site.errors import StemlabError
from hub_config.site.journal import Operation, crash_point, noted
from hub_config.system.limits import CgroupLimiter
from hub_config.teaching.offerings import Offering, list_offerings, write_course_config, write_student_catalog
from hub_config.site.paths import DataDir

if TYPE_CHECKING:
    from autograders.runner import BatchSummary


def find_offering(data: DataDir, offering_id: str) -> Offering:
    offerings = {o.id: o for o in list_offerings(data)}
    if offering_id not in offerings:
        raise StemlabError(
            f"Không có khóa học {offering_id}.", f"No offering {offering_id}; offerings: "
            f"{', '.join(sorted(offerings)) or '(none: create one with `stemlab courses offer`)'}"
        )
    return offerings[offering_id]


def run_nbgrader(data: DataDir, offering: Offering, *args: str, extra_env: dict[str, str] | None = None
                 ) -> list[NbgraderMessage]:
    """Run one nbgrader command in the offering's course directory; its errors become ours, read
    as records (teaching/nbgrader_run.py), and its warnings are returned."""
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(data.jupyter_config_dir), **(extra_env or {}))
    account: dict[str, Any] = {}
    owner = None
    if offering.grader:
        # Production: never as root; as the offering's grader account, which owns its files
        # and writes the report (and its own steps' reports beside it).
        entry = pwd.getpwnam(offering.grader)
        env.update(HOME=entry.pw_dir, USER=entry.pw_name, LOGNAME=entry.pw_name)
        account = dict(user=entry.pw_uid, group=entry.pw_gid,
                       extra_groups=os.getgrouplist(entry.pw_name, entry.pw_gid))
        owner = (entry.pw_uid, entry.pw_gid)
    run = run_recorded(list(args), offering.root, offering.reports_dir / "nbgrader-report.jsonl", env,
                       report_owner=owner, **account)
    if run.failed:
        raise StemlabError(f"nbgrader {args[0]} failed for {offering.id}:\n  " + "\n  ".join(run.reasons()))
    return run.messages


def exchange_env(data: DataDir, offering: Offering) -> dict[str, str]:
    """What an exchange step needs to reach the exchange service as the course's grader (its
    formgrader's token); given to those steps only, never to one that runs students' code."""
    return {"JUPYTERHUB_API_TOKEN": data.secret(offering.grader_token_name)}


def release(data: DataDir, offering: Offering, assignment_id: str, due: dt.datetime | None = None) -> None:
    """Build the student version and put it in the exchange for the class to fetch."""
    if due is not None:
        run_nbgrader(data, offering, "db", "assignment", "add", assignment_id, f"--duedate={due.isoformat()}")
    run_nbgrader(data, offering, "generate_assignment", assignment_id, "--force")
    run_nbgrader(data, offering, "release_assignment", assignment_id, "--force", extra_env=exchange_env(data, offering))
    write_student_catalog(data)  # students' pages show the new due date at once


def _report(offering: Offering, step: str, assignment_id: str) -> Path:
    """Where an exchange step of ours writes what it set aside or left out (hub_config/teaching/exchange.py):
    inside the offering, which its nbgrader (the grader account, in production) may write."""
    path = offering.reports_dir / f"{step}-{assignment_id}.json"
    path.unlink(missing_ok=True)
    return path


def _problems(report: Path) -> list[str]:
    """The report's problems, one line each for the teacher: who, what, why."""
    try:
        problems = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    finally:
        report.unlink(missing_ok=True)
    return [f"{p['student']}: {p['entry']}: {p['reason']}" for p in problems]


def collect(data: DataDir, offering: Offering, assignment_id: str) -> list[str]:
    """Copy the students' submissions from the exchange into the offering (newest wins); return
    what a teacher must see: submissions set aside (forged, links, too big, badly named) and
    entries left out of one (links, special files, too-large files), each with its student."""
    report = _report(offering, "collect", assignment_id)
    with noted(data, Operation.COLLECT, f"{offering.id}/{assignment_id}"):
        run_nbgrader(data, offering, "collect", assignment_id, "--update", f"--OwnerCheckedCollect.report_file={report}",
                     extra_env=exchange_env(data, offering))
    return _problems(report)


def broken_submissions(offering: Offering, assignment_id: str, student: str | None = None) -> dict[str, list[str]]:
    """Collected notebooks that are not notebooks, by student: nbgrader would stop on them with a
    traceback that names neither the student nor the fix."""
    broken: dict[str, list[str]] = {}
    for owner, path in offering.layout.notebooks(Step.SUBMITTED, assignment_id, student):
        _, problem = read_notebook(path)
        if problem:
            broken.setdefault(owner, []).append(problem)
    return broken


def autograde(data: DataDir, offering: Offering, assignment_id: str, student: str | None = None,
              progress: Callable[..., None] | None = None, workers: int | None = None,
              limits: Limits | None = None, on_start: Callable[[list[str]], None] | None = None) -> BatchSummary:
    """Grade the collected submissions: each runs in its own sandbox, several at once (the
    grading runner), then nbgrader records the results in the gradebook, one writer. A
    notebook that is not a notebook is reported, after every other submission is graded."""
    from autograders.preprocessors import CACHE_ENV, STRICT_ENV
    from autograders.runner import GradingRunner, new_cache

    broken = broken_submissions(offering, assignment_id, student)
    limits = limits or Limits()
    write_course_config(offering, data.exchange_dir, limits)
    runner = GradingRunner(offering.root, offering.id, offering.gradebook_url, workers=workers, limiter=CgroupLimiter,
                           limits=limits)
    cache = new_cache()
    try:
        with noted(data, Operation.GRADING, f"{offering.id}/{assignment_id}", student=student or ""):
            summary = runner.execute_all(assignment_id, cache, student, progress, skip=set(broken), on_start=on_start)
            if offering.grader:  # nbgrader runs as the grader account: it reads the results, nobody else
                entry = pwd.getpwnam(offering.grader)
                for path in [cache, *cache.iterdir()]:
                    os.chown(path, entry.pw_uid, entry.pw_gid)
                    path.chmod(0o700 if path.is_dir() else 0o600)
            # a submission the runner could not run is the caller's to report (summary.failed); it
            # must not stop nbgrader from recording everyone else
            unrecorded = set(broken) | {r.student for r in summary.failed}
            args = ["autograde", assignment_id, "--force"]
            if student:
                args.append(f"--student={student}")
            if unrecorded:
                args.append(f"--CourseDirectory.student_id_exclude={','.join(sorted(unrecorded))}")
            if not (student and student in unrecorded):
                record_aside(offering, lambda book: run_nbgrader(
                    data, offering, *args, f"--CourseDirectory.db_url={book}",
                    extra_env={CACHE_ENV: str(cache), STRICT_ENV: "1"}))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if broken:
        lines = [f"  {login}: {problem}" for login, problems in broken.items() for problem in problems]
        raise StemlabError(
            "Bài nộp hỏng, chưa chấm; các bài khác đã chấm xong. Nhờ học sinh mở lại bài trong JupyterLab, "
            "kiểm tra (Validate) rồi nộp lại, hoặc chấm tay trong formgrader. / Broken submissions were not "
            "graded; every other submission was. Ask the student to open the notebook in JupyterLab, "
            "validate it and submit again, or grade it by hand in the formgrader:\n" + "\n".join(lines)
        )
    return summary


RECORDING_ASIDE = ".gradebook.recording.db"


def record_aside(offering: Offering, record: Callable[[str], object]) -> None:
    """nbgrader writes a grading batch's results into a copy of the gradebook, which then goes into
    the gradebook in one SQLite transaction: killed while nbgrader writes (it commits notebook by
    notebook), the gradebook stays as it was. A hand-given score saved meanwhile (the formgrader
    writes the gradebook itself) makes the copy stale; nbgrader then records into the gradebook."""
    book, aside = offering.root / "gradebook.db", offering.root / RECORDING_ASIDE
    aside.unlink(missing_ok=True)
    _copy_database(book, aside)
    if offering.grader:  # nbgrader runs as the offering's grader account
        entry = pwd.getpwnam(offering.grader)
        os.chown(aside, entry.pw_uid, entry.pw_gid)
    aside.chmod(0o600)
    before = _written_state(book)
    try:
        record(f"sqlite:///{aside}")
        crash_point("grading-recorded-aside")
        if _written_state(book) == before:
            _copy_database(aside, book)
        else:
            record(offering.gradebook_url)
    finally:
        aside.unlink(missing_ok=True)


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's backup API: the target changes in one transaction, seen by its other connections as a commit."""
    import sqlite3

    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _written_state(book: Path) -> tuple[bytes, int, int]:
    """Changes when anyone commits: the header's change counter (rollback journal), or the WAL file."""
    with book.open("rb") as f:
        counter = f.read(28)[24:28]
    wal = book.with_name(book.name + "-wal")
    info = wal.stat() if wal.exists() else None
    return counter, info.st_size if info else -1, info.st_mtime_ns if info else -1


def feedback(data: DataDir, offering: Offering, assignment_id: str) -> list[str]:
    """Generate the feedback pages and put them where each student can fetch their own; return
    whose could not be made or released, and why. One student's never holds back the others'."""
    problems: list[str] = []
    report = _report(offering, "release-feedback", assignment_id)
    with noted(data, Operation.FEEDBACK, f"{offering.id}/{assignment_id}"):
        try:
            run_nbgrader(data, offering, "generate_feedback", assignment_id, "--force")
        except StemlabError as err:  # nbgrader made every page it could: release those
            problems.append(str(err))
        crash_point("feedback-releasing")
        run_nbgrader(data, offering, "release_feedback", assignment_id, f"--LockedReleaseFeedback.report_file={report}",
                     extra_env=exchange_env(data, offering))
    return problems + _problems(report)
