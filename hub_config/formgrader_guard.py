"""The production formgrader's Autograde button.

In production an offering's formgrader runs as the offering's grader account, which owns the
gradebook and cannot switch to a sandbox account. nbgrader's Autograde would run a student's code
as that account, which could rewrite the gradebook. So the button answers, before nbgrader
touches the submission (its autograde clears the student's graded copy first), where to grade
instead: the teacher's page, whose Autograde runs as root and grades in the sandbox.
"""

from __future__ import annotations

import json

from hub_config.teaching.scopes import TEACH_PREFIX

GUARD_ENV = "STEMLAB_AUTOGRADE_BY_COMMAND"
MESSAGE = ("Nút chấm tự động của formgrader không cách ly được bài làm của học sinh trên máy chủ này. Hãy chấm ở "
           "trang giáo viên: {page} (bài {assignment}, nút «Chấm tự động»: chấm lại cả lớp, trong hộp cát). / "
           "The formgrader's Autograde cannot isolate students' code on this server. Grade on the teacher's page: "
           "{page} (assignment {assignment}, the Autograde button: the whole class again, in the sandbox).")


def guard(offering: str) -> None:
    """Make the formgrader's Autograde action answer where to grade instead."""
    from nbgrader.server_extensions.formgrader import apihandlers
    from nbgrader.server_extensions.formgrader.base import check_xsrf
    from tornado import web

    @web.authenticated
    @check_xsrf
    def post(self, assignment_id: str, student_id: str) -> None:  # type: ignore[no-untyped-def]
        page = f"{TEACH_PREFIX}offerings/{offering}?assignment={assignment_id}"
        self.write(json.dumps({"success": False, "error": MESSAGE.format(page=page, assignment=assignment_id)}))

    apihandlers.AutogradeHandler.post = post
