"""The production formgrader's Autograde button.

In production an offering's formgrader runs as the offering's grader account, which owns the
gradebook and cannot switch to a sandbox account. nbgrader's Autograde would run a student's code
as that account, which could rewrite the gradebook. So the button answers, before nbgrader
touches the submission (its autograde clears the student's graded copy first), what to do
instead: `stemlab grade`, which runs as root and grades in the sandbox.
"""

from __future__ import annotations

import json

GUARD_ENV = "STEMLAB_AUTOGRADE_BY_COMMAND"
MESSAGE = ("Chấm tự động trong formgrader chưa cách ly được bài làm của học sinh trên máy chủ này; hãy chấm bằng lệnh "
           "`stemlab grade {offering} {assignment} --student {student}` (hoặc bỏ --student để chấm cả lớp). / "
           "The formgrader cannot isolate students' code on this server; grade with "
           "`stemlab grade {offering} {assignment} --student {student}` (or without --student for the whole class).")


def guard(offering: str) -> None:
    """Make the formgrader's Autograde action answer with the command to use instead."""
    from nbgrader.server_extensions.formgrader import apihandlers
    from nbgrader.server_extensions.formgrader.base import check_xsrf
    from tornado import web

    @web.authenticated
    @check_xsrf
    def post(self, assignment_id: str, student_id: str) -> None:  # type: ignore[no-untyped-def]
        self.write(json.dumps({"success": False, "error": MESSAGE.format(
            offering=offering, assignment=assignment_id, student=student_id)}))

    apihandlers.AutogradeHandler.post = post
