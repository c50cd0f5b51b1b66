"""The production formgrader's Autograde button.

In production an offering's formgrader runs as the offering's grader account, which owns the
gradebook and cannot switch to a sandbox account. nbgrader's Autograde would run a student's code
as that account, which could rewrite the gradebook. So the button, before nbgrader touches the
submission (its autograde clears the student's graded copy first), asks the staff service (root)
to grade that student in the sandbox, with the same runner as the teacher's page, and answers as
nbgrader's own handler does (hub_config/teaching/formgrader_grading.py holds the other side).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hub_config.teaching.scopes import TEACH_GRADE_API, TEACH_PREFIX

GUARD_ENV = "STEMLAB_AUTOGRADE_BY_COMMAND"  # the offering's id, set for a production formgrader
TEACH_URL_ENV = "STEMLAB_TEACH_URL"  # the staff service's own address (loopback), set beside it
MESSAGE = ("Không chấm được từ formgrader: {reason}. Hãy chấm ở trang giáo viên: {page} (bài {assignment}, nút "
           "«Chấm tự động»). / The formgrader could not grade: {reason}. Grade on the teacher's page: {page} "
           "(assignment {assignment}, the Autograde button).")


def guard(offering: str) -> None:
    """Make the formgrader's Autograde action grade through the staff service's sandboxed runner."""
    from nbgrader.server_extensions.formgrader import apihandlers
    from nbgrader.server_extensions.formgrader.base import check_xsrf
    from tornado import httpclient, web

    @web.authenticated
    @check_xsrf
    async def post(self: Any, assignment_id: str, student_id: str) -> None:
        page = f"{TEACH_PREFIX}offerings/{offering}?assignment={assignment_id}"
        body = {"offering": offering, "assignment": assignment_id, "student": student_id,
                "teacher": self.current_user.username}  # jupyter_server's User: the hub's name
        try:
            response = await httpclient.AsyncHTTPClient().fetch(
                f"{os.environ[TEACH_URL_ENV].rstrip('/')}{TEACH_PREFIX}{TEACH_GRADE_API}", method="POST",
                body=json.dumps(body), request_timeout=960,
                headers={"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}",
                         "Content-Type": "application/json"})
            answer = json.loads(response.body)
        except (KeyError, OSError, ValueError, httpclient.HTTPClientError) as err:
            answer = {"success": False, "error": MESSAGE.format(reason=f"{type(err).__name__}: {err}", page=page,
                                                                assignment=assignment_id)}
        self.write(json.dumps(answer))

    apihandlers.AutogradeHandler.post = post
