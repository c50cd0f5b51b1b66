"""Collect copies only what a student wrote: links are never followed, special files and
oversized ones are left out, unusable submissions are set aside, each with the student named,
and the rest of the class is collected. Feedback release goes on past a hand-made submission.
(The same attacks by real students' kernels in production: tests/hub/test_exchange_safety.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory

from hub_config.system.environment import tools_on_path
from hub_config.teaching.exchange import SET_ASIDE_PREFIX, LockedReleaseFeedback, OwnerCheckedCollect

COURSE, A = "lop-10a1", "bai01"
STAMP = "2025-10-01 08:00:00.000000 UTC"


@pytest.fixture
def site(tmp_path):
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    (course / "source" / A).mkdir(parents=True)
    secret = course / "source" / A / "solution.ipynb"
    secret.write_text('{"the": "solution"}')
    inbound = exchange / COURSE / "inbound"
    inbound.mkdir(parents=True)
    db = f"sqlite:///{course / 'gradebook.db'}"
    tools_on_path()  # nbgrader creates the gradebook by running `alembic`
    with Gradebook(db, COURSE) as gb:
        gb.add_assignment(A)
        for student in ("honest", "links", "pipe", "big", "nested-link", "linked", "badname", "file"):
            gb.add_student(student)
    return course, exchange, inbound, secret, db


def submission(inbound: Path, student: str, files: dict[str, bytes] | None = None, stamp: str = STAMP) -> Path:
    folder = inbound / f"{student}+{A}+{stamp}"
    folder.mkdir()
    (folder / "timestamp.txt").write_text(stamp)
    (folder / "submission_secret.txt").write_text("s3cret")
    for name, content in (files or {"bai01.ipynb": b"{}"}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


def collect(course: Path, exchange: Path, db: str, **limits) -> list[dict]:
    report = course / ".stemlab" / "collect.json"
    coursedir = CourseDirectory(root=str(course), course_id=COURSE, assignment_id=A, db_url=db, **limits)
    OwnerCheckedCollect(coursedir=coursedir, authenticator=Authenticator(), root=str(exchange), update=True,
                        report_file=str(report)).start()
    return json.loads(report.read_text(encoding="utf-8"))


def test_one_bad_submission_of_each_kind_is_reported_and_the_class_is_collected(site):
    course, exchange, inbound, secret, db = site
    submission(inbound, "honest", {"bai01.ipynb": b'{"mine": 1}', "data/diem.csv": b"1,2"})
    links = submission(inbound, "links")
    (links / "bai01.ipynb").unlink()
    (links / "bai01.ipynb").symlink_to(secret)                      # the solution, as mine
    (links / "gradebook.db").symlink_to(course / "gradebook.db")
    (links / "dangling").symlink_to("/nonexistent/file")
    (links / "sub").mkdir()
    (links / "sub" / "up").symlink_to(course)                        # a folder link
    os.mkfifo(submission(inbound, "pipe") / "fifo")                  # copytree would hang reading it
    submission(inbound, "big", {"bai01.ipynb": b"{}", "huge.bin": b"x" * 3_000_000})
    nested = submission(inbound, "nested-link", {"bai01.ipynb": b"{}", "deep/deeper/x.txt": b"ok"})
    (nested / "deep" / "deeper" / "classmate").symlink_to(inbound)
    (inbound / f"linked+{A}+{STAMP}").symlink_to(inbound / f"honest+{A}+{STAMP}")  # a classmate's work as mine
    (inbound / f"badname+{A}+not-a-time").mkdir()
    (inbound / f"file+{A}+{STAMP}").write_text("not a folder")

    problems = collect(course, exchange, db, max_file_size=2_000)   # 2 MB a file
    by_student = {}
    for p in problems:
        by_student.setdefault(p["student"], []).append(p)
    submitted = course / "submitted"
    assert (submitted / "honest" / A / "data" / "diem.csv").read_bytes() == b"1,2"
    assert "honest" not in by_student, "an honest submission has no problem"
    links_copy = submitted / "links" / A
    assert not (links_copy / "bai01.ipynb").exists() and not (links_copy / "gradebook.db").exists()
    assert not any(p.is_symlink() for p in links_copy.rglob("*")) and (links_copy / "timestamp.txt").is_file()
    assert {p["entry"] for p in by_student["links"]} == {"bai01.ipynb", "gradebook.db", "dangling", "sub/up"}
    assert all("symbolic link" in p["reason"] and "liên kết" in p["reason"] for p in by_student["links"])
    assert by_student["pipe"][0]["entry"] == "fifo" and (submitted / "pipe" / A / "bai01.ipynb").is_file()
    assert by_student["big"][0]["entry"] == "huge.bin" and "too large" in by_student["big"][0]["reason"]
    assert (submitted / "nested-link" / A / "deep" / "deeper" / "x.txt").read_text() == "ok"
    for student in ("linked", "badname", "file"):
        assert len(by_student[student]) == 1 and not (submitted / student).exists(), (student, by_student)
        assert list(inbound.glob(f"{SET_ASIDE_PREFIX}{student}+*")), "set aside in the inbound, not lost"
    assert secret.read_text() == '{"the": "solution"}' and "solution" not in json.dumps(
        [p.read_text(errors="replace") for p in submitted.rglob("*") if p.is_file()])


def test_a_submission_over_the_total_is_set_aside_and_the_last_good_one_kept(site):
    course, exchange, inbound, _, db = site
    first = submission(inbound, "big", {"bai01.ipynb": b'{"first": 1}'})
    collect(course, exchange, db)
    os.rename(first, first.with_name(f".old+{first.name}"))  # a newer one, too big in all (4 files of 1 MB)
    submission(inbound, "big", {f"part{i}.bin": b"x" * 1_000_000 for i in range(4)}, stamp="2025-10-02 08:00:00.000000 UTC")
    problems = collect(course, exchange, db, max_dir_size=3_000)
    assert [p["student"] for p in problems] == ["big"] and "too large" in problems[0]["reason"]
    assert json.loads((course / "submitted" / "big" / A / "bai01.ipynb").read_text()) == {"first": 1}


def test_feedback_is_released_to_everyone_but_a_submission_without_its_secret(site):
    course, exchange, inbound, _, db = site
    for student in ("honest", "file"):
        folder = course / "feedback" / student / A
        folder.mkdir(parents=True)
        (folder / "bai01.html").write_text(f"<p>{student}</p>")
        (folder / "timestamp.txt").write_text(STAMP)
    (course / "feedback" / "honest" / A / "submission_secret.txt").write_text("s3cret")
    (exchange / COURSE / "feedback").mkdir()
    report = course / ".stemlab" / "feedback.json"
    coursedir = CourseDirectory(root=str(course), course_id=COURSE, assignment_id=A, db_url=db)
    LockedReleaseFeedback(coursedir=coursedir, authenticator=Authenticator(), root=str(exchange),
                          report_file=str(report)).start()
    released = list((exchange / COURSE / "feedback").glob("*.html"))
    assert [p.read_text() for p in released] == ["<p>honest</p>"]
    assert [(p["student"], p["entry"]) for p in json.loads(report.read_text())] == [("file", "submission_secret.txt")]
