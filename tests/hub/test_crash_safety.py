"""Killed half-way (SIGKILL of the step's whole process group, as a power cut would, at a point
named in STEMLAB_CRASH_AT: hub_config/site/journal.py), a roster import, a collect, a grading batch
and a feedback release leave nothing half-made where the platform looks, and the next `stemlab up`
settles what they had begun and says what was interrupted and what to do again.

One data directory through the steps in order (each test builds on the one before)."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import signal
import subprocess
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from hub_config.people.accounts import list_accounts
from hub_config.site.journal import CRASH_ENV
from hub_config.site.paths import DataDir

from ..conftest import FILES, STEMLAB, launch, leftovers_after_stop

pytestmark = pytest.mark.hub
OFFERING = "python-co-ban-10a3-2025-2026"
ASSIGNMENT = "bai01-bien-va-kieu-du-lieu"
ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}


def stemlab(data: Path, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**ENV, **({CRASH_ENV: crash_at} if crash_at else {})}
    return subprocess.run([STEMLAB, *args, "--data", str(data)], capture_output=True, text=True, env=env,
                          timeout=300, start_new_session=True)  # its own group: the crash kills it alone


def killed(done: subprocess.CompletedProcess) -> bool:
    return done.returncode == -signal.SIGKILL


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def term(tmp_path_factory) -> Path:
    """A class of three, the Python course offered, its first assignment released and handed in."""
    data = tmp_path_factory.mktemp("crash") / "var"
    ok(stemlab(data, "accounts", "import", str(FILES / "three_students.csv")))
    ok(stemlab(data, "courses", "offer", "python-co-ban", "--class", "10A3", "--year", "2025-2026"))
    ok(stemlab(data, "courses", "release", OFFERING, ASSIGNMENT))
    released = next((data / "exchange" / OFFERING / "outbound" / ASSIGNMENT).glob("*.ipynb"))
    inbound = data / "exchange" / OFFERING / "inbound"
    for n, account in enumerate(a for a in list_accounts(f"sqlite:///{data / 'jupyterhub.sqlite'}")
                                if a.role == "student"):
        stamp = f"2025-10-0{n + 1} 08:00:00.000000 UTC"
        folder = inbound / f"{account.login}+{ASSIGNMENT}+{stamp}+r{n}"
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text(stamp)
        (folder / "submission_secret.txt").write_text(f"secret-{n}")
        (folder / "data.csv").write_text("1,2\n")  # a second file: the crash comes after the first
        (folder / released.name).write_bytes(released.read_bytes())
    return data


def journal(data: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((data / "journal").glob("*.json"))
            if not p.name.startswith("settled")]


def test_a_roster_import_killed_before_or_after_its_commit_leaves_all_of_it_or_none(term, write_roster):
    before = {a.login for a in list_accounts(f"sqlite:///{term / 'jupyterhub.sqlite'}")}
    lost = write_roster("lop-10a4", [["HS0401", "Đỗ Minh Châu", "10A4", ""], ["HS0402", "Hồ Thị Hà", "10A4", ""]])
    assert killed(stemlab(term, "accounts", "import", str(lost), crash_at="roster-writing"))
    assert {a.login for a in list_accounts(f"sqlite:///{term / 'jupyterhub.sqlite'}")} == before  # none of it
    saved = write_roster("lop-10a5", [["HS0501", "Lâm Văn Đức", "10A5", ""]])
    assert killed(stemlab(term, "accounts", "import", str(saved), crash_at="roster-committed"))
    now = {a.login for a in list_accounts(f"sqlite:///{term / 'jupyterhub.sqlite'}")}
    assert len(now - before) == 1  # all of it
    sheets = term / "accounts" / "sheets"
    assert not list(sheets.glob("*10a4*.csv")) and not list(sheets.glob("*10a5*.csv"))  # none published half-way
    assert len(list(sheets.glob("*.pending*"))) == 2
    assert sorted(n["step"] for n in journal(term)) == ["roster-import", "roster-import"]


def test_a_collect_killed_mid_copy_leaves_no_half_submission(term):
    assert killed(stemlab(term, "courses", "collect", OFFERING, ASSIGNMENT, crash_at="collect-copying"))
    submitted = term / "offerings" / OFFERING / "submitted"
    for student in submitted.iterdir() if submitted.exists() else []:
        for entry in student.iterdir():
            if not entry.name.startswith("."):  # in its place only whole: notebook, data, timestamp
                assert {p.name for p in entry.iterdir()} >= {"data.csv", "timestamp.txt"}, entry
    assert list(submitted.glob("*/.collecting-*")), "the copy was under way, beside its place"
    ok(stemlab(term, "courses", "collect", OFFERING, ASSIGNMENT))  # collecting again brings all three, whole
    assert len([p for p in submitted.glob(f"*/{ASSIGNMENT}")]) == 3


def test_a_grading_batch_killed_while_it_records_leaves_the_gradebook_as_it_was(term):
    book = term / "offerings" / OFFERING / "gradebook.db"
    before = hashlib.sha256(book.read_bytes()).hexdigest()
    # killed when nbgrader has recorded every result, into the copy, before the copy goes in
    assert killed(stemlab(term, "grade", OFFERING, ASSIGNMENT, crash_at="grading-recorded-aside"))
    assert hashlib.sha256(book.read_bytes()).hexdigest() == before
    assert (book.parent / ".gradebook.recording.db").exists()
    ok(stemlab(term, "grade", OFFERING, ASSIGNMENT))
    with Gradebook(f"sqlite:///{book}", course_id=OFFERING) as gb:
        assert len(gb.assignment_submissions(ASSIGNMENT)) == 3


def test_a_feedback_release_killed_gives_no_student_a_page_half_written(term):
    assert killed(stemlab(term, "courses", "feedback", OFFERING, ASSIGNMENT, crash_at="feedback-releasing"))
    released = term / "exchange" / OFFERING / "feedback"
    assert not list(released.glob("*.html")) if released.exists() else True
    assert sorted(n["step"] for n in journal(term)).count("feedback") == 1


def test_the_next_start_settles_each_interrupted_step_and_says_what_to_do(term):
    hub = launch(term)
    try:
        out = " ".join(hub.output.split())  # as said, whatever the terminal's width
        assert re.search(r"The roster import of \S*lop-10a4.csv at .* was cut short: no new account was saved", out), out
        assert re.search(r"The roster import of \S*lop-10a5.csv at .* was cut short after it was saved: its accounts "
                         r"exist; password sheets: class-10a5-", out), out
        assert f"Collecting {OFFERING}/{ASSIGNMENT}" in out and "Collect again" in out
        assert f"Grading {OFFERING}/{ASSIGNMENT}" in out and "as it was before this batch. Grade it again" in out
        assert not (term / "offerings" / OFFERING / ".gradebook.recording.db").exists()
        assert f"Releasing feedback of {OFFERING}/{ASSIGNMENT}" in out and "Release the feedback again" in out
        assert re.search(r"Nhập danh sách \S*lop-10a4.csv", out)  # and in Vietnamese first
        sheets = DataDir(term).sheets_dir
        assert not list(sheets.glob("*.pending*")) and len(list(sheets.glob("*10a5*.csv"))) == 1
        with next(sheets.glob("*10a5*.csv")).open(encoding="utf-8-sig") as f:
            [_, row] = list(csv.reader(f))
        hub.login(row[3], row[4])  # the published sheet's first code opens the account
        assert not list((term / "offerings" / OFFERING / "submitted").glob("*/.collecting-*"))
        assert journal(term) == []
        status = subprocess.run([STEMLAB, "status", "--json", "--data", str(term)], capture_output=True, text=True,
                                env=ENV, timeout=120)
        assert sum(c["name"] == "interrupted" for c in json.loads(status.stdout)) == 5
    finally:
        hub.stop()
        leftovers_after_stop(hub.data_dir)
