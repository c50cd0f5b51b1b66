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
  else's (`OwnerCheckedCollect`; on in production mode, where every student is a Linux account).

These classes are named in the site nbgrader config (`ExchangeFactory`), so the students'
Assignments panel, the formgrader and `stemlab courses` commands all use them. This module runs
inside students' servers: it imports nbgrader and the standard library only.
"""

from __future__ import annotations

import glob
import os
import pwd

from nbgrader.exchange.default import (
    ExchangeCollect,
    ExchangeFetchAssignment,
    ExchangeFetchFeedback,
    ExchangeList,
    ExchangeReleaseAssignment,
    ExchangeReleaseFeedback,
    ExchangeSubmit,
)
from traitlets import Bool

SUBMISSION_DIR_MODE = 0o750   # owner and the offering's grader group
FORGED_PREFIX = ".forged+"  # hidden: nbgrader's `*+assignment+*` globs skip it


class LockedRoot:
    """The exchange root belongs to the site: nbgrader may use it, never re-open it to everyone."""

    def ensure_root(self) -> None:
        if not os.path.isdir(self.root) or not os.access(self.root, os.R_OK | os.X_OK):  # type: ignore[attr-defined]
            self.fail(  # type: ignore[attr-defined]
                f"Không mở được thư mục trao đổi bài {self.root}; báo thầy cô hoặc quản trị. / "  # type: ignore[attr-defined]
                f"The course exchange {self.root} cannot be opened; tell your teacher or the administrator."  # type: ignore[attr-defined]
            )


class LockedRelease(LockedRoot, ExchangeReleaseAssignment):
    pass


class LockedReleaseFeedback(LockedRoot, ExchangeReleaseFeedback):
    pass


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


class OwnerCheckedCollect(LockedRoot, ExchangeCollect):
    quarantine_forged = Bool(
        False,
        help="Move aside submissions whose owner is not the student they name (needs one Linux account "
        "per student, as in production mode).",
    ).tag(config=True)

    def init_src(self) -> None:
        if self.quarantine_forged and self.coursedir.course_id:
            self._quarantine_forged()
        super().init_src()

    def _quarantine_forged(self) -> None:
        inbound = os.path.join(self.root, self.coursedir.course_id, "inbound")
        pattern = os.path.join(inbound, f"*+{glob.escape(self.coursedir.assignment_id)}+*")
        for path in glob.glob(pattern):
            claimed = os.path.basename(path).split("+", 1)[0]
            try:
                owner = pwd.getpwuid(os.lstat(path).st_uid).pw_name
            except KeyError:
                owner = f"uid {os.lstat(path).st_uid}"
            if owner == claimed:
                continue
            # Renamed in place: moving a folder elsewhere would need write access to the folder
            # itself, which belongs to whoever forged it.
            aside = os.path.join(inbound, FORGED_PREFIX + os.path.basename(path))
            os.rename(path, aside)
            self.log.warning(
                "Bài nộp giả mạo: %s ghi tên %s nhưng do %s nộp; đã để riêng (%s), không chấm. / "
                "Forged submission: %s names %s but was made by %s; set aside as %s and not collected.",
                os.path.basename(path), claimed, owner, aside, os.path.basename(path), claimed, owner, aside,
            )


FACTORY = {
    "release_assignment": LockedRelease,
    "release_feedback": LockedReleaseFeedback,
    "fetch_assignment": LockedFetch,
    "fetch_feedback": LockedFetchFeedback,
    "list": LockedList,
    "submit": PrivateSubmit,
    "collect": OwnerCheckedCollect,
}
