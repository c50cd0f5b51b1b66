"""nbgrader's file exchange, closed so that students cannot reach each other's work.

nbgrader's default exchange trusts everyone: its root is world-writable (a student can create the
folder of a course that is not released yet and own its inbound, or plant assignments in it),
each submission folder is made world-writable and its files world-readable (hidden only by a
random name), and `collect` only *warns* when a submission's folder is owned by someone other than
the student it names. Here:

- the exchange root and each offering's folders are created by `stemlab courses offer`, owned by
  the site and by the offering's grader account; nbgrader only checks them (`LockedRoot`);
- a submission's folders open to its student and the offering's grader group only
  (`PrivateSubmit`; the inbound folder is set-group-ID, so a submission folder is created with the
  grader's group);
- `collect` sets a submission aside (renamed to a hidden `.forged+…` name in the inbound folder,
  which nbgrader's globs skip) when its owner is not the student it claims to be from, so a forged submission is never graded as somebody
  else's (`OwnerCheckedCollect`; on in production mode, where every student is a Linux account);
- `collect` copies only what a student wrote (hub_config/teaching/submission_copy.py): a submission that is
  a link, not a folder, badly named or too big is set aside (`.set-aside+…`), links and special
  files inside one are left out, and each is reported with the student, so one bad submission
  never stops the class's collect;
- `release_feedback` releases everyone's feedback but a student whose submission lacks nbgrader's
  timestamp or secret (a hand-made folder), who is reported instead of stopping the release.

What was set aside or left out goes to a JSON report (`report_file`), which the teacher's page and
`stemlab courses collect` show.

These classes are named in the site nbgrader config (`ExchangeFactory`), so the students'
Assignments panel, the formgrader and `stemlab courses` commands all use them. This module runs
inside students' servers: it imports nbgrader and the standard library only.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import stat
from pathlib import Path

from nbgrader.exchange.default import (
    ExchangeCollect,
    ExchangeFetchAssignment,
    ExchangeFetchFeedback,
    ExchangeList,
    ExchangeReleaseAssignment,
    ExchangeReleaseFeedback,
    ExchangeSubmit,
)
from nbgrader.utils import parse_utc
from traitlets import Bool, Unicode

from hub_config.site.journal import crash_point
from hub_config.teaching.submission_copy import Problem, Rules, copy_submission, total_size

SUBMISSION_DIR_MODE = 0o750   # owner and the offering's grader group
FORGED_PREFIX = ".forged+"  # hidden: nbgrader's `*+assignment+*` globs skip it
SET_ASIDE_PREFIX = ".set-aside+"


class Reporting:
    """What a step set aside or left out, for the teacher: a JSON list of Problems (the steps
    below declare `report_file`: a trait must live on the configurable class itself)."""

    report_file: str

    @property
    def problems(self) -> list[Problem]:
        if not hasattr(self, "_problems"):
            self._problems: list[Problem] = []
        return self._problems

    def start(self) -> None:  # first among the bases: nbgrader's whole step, then the report
        try:
            super().start()  # type: ignore[misc]
        finally:
            self.write_report()

    def write_report(self) -> None:
        if self.report_file:
            path = Path(self.report_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps([p.as_dict() for p in self.problems], ensure_ascii=False), encoding="utf-8")


# What nbgrader's exchange tells a student, in Vietnamese first: its own words are English only,
# and the Assignments panel shows them as they are
NBGRADER_WORDS = {
    "You do not have access to this course.": "Em không học lớp của khóa học này.",
    "You already have a copy of the assignment in this directory": "Em đã nhận bài này rồi (thư mục đã có)",
    "Assignment not found": "Không tìm thấy bài",
    "Course not found": "Không tìm thấy khóa học",
    "No course id specified.": "Thiếu mã khóa học.",
}


def in_vietnamese_first(message: str) -> str:
    """nbgrader's message with the Vietnamese for it first, when we have it."""
    for english, vietnamese in NBGRADER_WORDS.items():
        if message.startswith(english):
            return f"{vietnamese}{message[len(english):]} / {message}"
    return message


class LockedRoot:
    """The exchange root belongs to the site: nbgrader may use it, never re-open it to everyone."""

    def fail(self, msg: str) -> None:
        super().fail(in_vietnamese_first(msg))  # type: ignore[misc]

    def ensure_root(self) -> None:
        if not os.path.isdir(self.root) or not os.access(self.root, os.R_OK | os.X_OK):  # type: ignore[attr-defined]
            self.fail(
                f"Không mở được thư mục trao đổi bài {self.root}; báo thầy cô hoặc quản trị. / "  # type: ignore[attr-defined]
                f"The course exchange {self.root} cannot be opened; tell your teacher or the administrator."  # type: ignore[attr-defined]
            )


class LockedRelease(LockedRoot, ExchangeReleaseAssignment):
    pass


def _report_file() -> Unicode:
    return Unicode("", help="Where to write what was set aside or left out (JSON); nowhere if empty.").tag(config=True)


class LockedReleaseFeedback(Reporting, LockedRoot, ExchangeReleaseFeedback):
    report_file = _report_file()

    def copy_files(self) -> None:
        # nbgrader opens each feedback folder's timestamp and secret without a check: one
        # hand-made submission without them would stop the release for the whole class.
        excluded = set(filter(None, (self.coursedir.student_id_exclude or "").split(",")))
        for html in glob.glob(os.path.join(self.src_path, "*.html")):
            folder = os.path.dirname(html)
            student = os.path.basename(os.path.dirname(folder))
            for name in ("timestamp.txt", "submission_secret.txt"):
                try:
                    info = os.lstat(os.path.join(folder, name))
                    usable = stat.S_ISREG(info.st_mode)
                except OSError:
                    usable = False
                if not usable and student not in excluded:
                    excluded.add(student)
                    self.problems.append(Problem(student, name, (
                        f"bài nộp thiếu {name} của nbgrader (không nộp bằng nút Nộp bài?): nhận xét chưa trả / "
                        f"the submission lacks nbgrader's {name} (not made with Submit?): feedback not released")))
        self.coursedir.student_id_exclude = ",".join(sorted(excluded))
        super().copy_files()


class LockedFetch(LockedRoot, ExchangeFetchAssignment):
    pass


class LockedFetchFeedback(LockedRoot, ExchangeFetchFeedback):
    pass


class LockedList(LockedRoot, ExchangeList):
    pass


class PrivateSubmit(LockedRoot, ExchangeSubmit):
    def copy_files(self) -> None:
        super().copy_files()
        # nbgrader leaves the submission folder 0777 and its files 0444 for everyone, relying on
        # an unguessable name; a name that leaks (a screenshot, a log) must not expose the work.
        # The folders are closed rather than the files: the folders got the grader's group when
        # they were created, but files written after copytree's copystat (timestamp.txt) carry
        # the student's own group, and a student cannot give a file a group they are not in.
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        for folder, _, _ in os.walk(dest):
            os.chmod(folder, SUBMISSION_DIR_MODE)


COLLECTING_PREFIX = ".collecting-"


class OwnerCheckedCollect(Reporting, LockedRoot, ExchangeCollect):
    report_file = _report_file()
    quarantine_forged = Bool(
        False,
        help="Move aside submissions whose owner is not the student they name (needs one Linux account "
        "per student, as in production mode).",
    ).tag(config=True)

    def init_src(self) -> None:
        if self.coursedir.course_id:
            if self.quarantine_forged:
                self._quarantine_forged()
            self._set_aside_unusable()
        super().init_src()

    @property
    def _inbound(self) -> str:
        return os.path.join(self.root, self.coursedir.course_id, "inbound")

    def _candidates(self) -> list[str]:
        return glob.glob(os.path.join(self._inbound, f"*+{glob.escape(self.coursedir.assignment_id)}+*"))

    def _set_aside(self, path: str, prefix: str, student: str, reason: str) -> None:
        # Renamed in place: moving a folder elsewhere would need write access to the folder
        # itself, which belongs to whoever made it.
        target = os.path.join(self._inbound, prefix + os.path.basename(path))
        n = 1
        while os.path.lexists(target):  # the same name set aside before
            target, n = os.path.join(self._inbound, f"{prefix}{n}+{os.path.basename(path)}"), n + 1
        os.rename(path, target)
        self.problems.append(Problem(student, os.path.basename(path), reason))

    def _set_aside_unusable(self) -> None:
        """Before nbgrader looks: what it would stop on, follow, or copy too much of."""
        limit = 1000 * self.coursedir.max_dir_size
        for path in self._candidates():
            name = os.path.basename(path)
            parts = name.rsplit("+", 3)
            student = parts[0]
            reason = None
            try:
                parse_utc(parts[2])
            except (IndexError, ValueError, TypeError, OverflowError):
                reason = ("tên thư mục nộp bài không đúng dạng học sinh+bài+thời điểm / "
                          "the submission folder's name is not student+assignment+time")
            info = os.lstat(path)
            if reason is None and stat.S_ISLNK(info.st_mode):
                reason = "bài nộp là một liên kết (symlink), không được thu / the submission is a symbolic link, not collected"
            elif reason is None and not stat.S_ISDIR(info.st_mode):
                reason = "bài nộp không phải thư mục / the submission is not a folder"
            elif reason is None:
                try:
                    size = total_size(Path(path))
                except OSError as err:
                    reason = f"không đọc được bài nộp ({err.strerror}) / the submission cannot be read ({err.strerror})"
                else:
                    if size > limit:
                        reason = (f"bài nộp quá lớn ({size // 1_000_000} MB > {limit // 1_000_000} MB), không được thu / "
                                  f"the submission is too large ({size // 1_000_000} MB > {limit // 1_000_000} MB), "
                                  "not collected")
            if reason:
                self._set_aside(path, SET_ASIDE_PREFIX, student, reason)
                self.log.warning("Set aside: %s: %s", name, reason)

    def do_copy(self, src: str, dest: str, log: object = None) -> None:
        """Only the student's own regular files; never raises for one submission's content."""
        student = os.path.basename(src).rsplit("+", 3)[0]
        rules = Rules(max_file_bytes=1000 * self.coursedir.max_file_size,
                      max_total_bytes=1000 * self.coursedir.max_dir_size,
                      ignore=tuple(self.coursedir.ignore), include=tuple(self.coursedir.include))
        # built beside its place and renamed in: a crash mid-copy leaves no half submission where
        # grading looks, only a hidden folder the next start removes (operations/recovery.py)
        building = Path(dest).with_name(f"{COLLECTING_PREFIX}{Path(dest).name}-{os.getpid()}")
        try:
            left_out = copy_submission(Path(src), building, student, rules, after_first_file=crash_point)
            os.rename(building, dest)
        except OSError as err:
            import shutil

            shutil.rmtree(building, ignore_errors=True)
            left_out = [Problem(student, os.path.basename(src), (
                f"không thu được ({err.strerror or err}) / could not be collected ({err.strerror or err})"))]
        for problem in left_out:
            self.log.warning("Left out of %s's submission: %s: %s", student, problem.entry, problem.reason)
        self.problems.extend(left_out)

    def _quarantine_forged(self) -> None:
        for path in self._candidates():
            claimed = os.path.basename(path).split("+", 1)[0]
            try:
                owner = pwd.getpwuid(os.lstat(path).st_uid).pw_name
            except KeyError:
                owner = f"uid {os.lstat(path).st_uid}"
            if owner == claimed:
                continue
            self._set_aside(path, FORGED_PREFIX, claimed, (
                f"bài nộp giả mạo: ghi tên {claimed} nhưng do {owner} nộp; đã để riêng, không chấm / "
                f"forged submission: names {claimed} but was made by {owner}; set aside and not collected"))
            self.log.warning("Forged submission: %s names %s but was made by %s; set aside and not collected.",
                             os.path.basename(path), claimed, owner)


FACTORY = {
    "release_assignment": LockedRelease,
    "release_feedback": LockedReleaseFeedback,
    "fetch_assignment": LockedFetch,
    "fetch_feedback": LockedFetchFeedback,
    "list": LockedList,
    "submit": PrivateSubmit,
    "collect": OwnerCheckedCollect,
}
