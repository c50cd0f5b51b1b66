"""The formgrader's Autograde button, graded by the staff service in the sandbox.

In production an offering's formgrader runs as the offering's grader account, which owns the
gradebook and cannot switch to a sandbox account: running a student's code itself would let that
code rewrite the gradebook. So its button (hub_config/teaching/formgrader_guard.py) asks the staff service,
which runs as root, to grade that one student with the same runner as *Chấm tự động* on the
teacher's page, and waits for the answer.

Who may ask is the hub's decision: the formgrader calls with its own service token, whose role
holds `access:services!service=stemlab-teach` (hub_config/jupyterhub_config.py), and may ask for
its own offering only; the teacher it names must teach that class (the hub already let only the
class's teachers into the formgrader).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tornado import web

from hub_config.teaching.offerings import list_offerings
from hub_config.teaching import loop
from hub_config.teaching.jobs import Action, Busy, Job, JobState
from hub_config.teaching.page import TeachingHandler, grading_report
from hub_config.teaching.scopes import TEACH_GRADE_API
from hub_config.people.accounts import account_of
from hub_config.people.roles import Role
from hub_config.people.schools import SITE_SCHOOL

WAIT_SECONDS = 900.0


class FormgraderAutograde(TeachingHandler):
    def check_xsrf_cookie(self) -> None:
        """Called with a token by another service, never by a browser's cookie: no XSRF to check."""

    @web.authenticated
    async def post(self) -> None:
        caller: dict[str, Any] = self.current_user
        try:
            asked = json.loads(self.request.body)
            offering_id, assignment_id, student, teacher = (str(asked[k]) for k in
                                                            ("offering", "assignment", "student", "teacher"))
        except (ValueError, KeyError, TypeError):
            raise web.HTTPError(400, "expected JSON with offering, assignment, student and teacher") from None
        if caller.get("kind") != "service" or caller.get("name") != offering_id:
            raise web.HTTPError(403, "only an offering's own formgrader may ask to grade its students")
        offering = next((o for o in list_offerings(self.site.data) if o.id == offering_id), None)
        if offering is None:
            raise web.HTTPError(404, offering_id)
        account = account_of(self.site.database_url, teacher)
        admin_of = account.school_code if account is not None and account.role == Role.ADMIN else None
        if account is None or not (admin_of == SITE_SCHOOL or admin_of == offering.school_code
                                   or (account.role == Role.TEACHER and offering.class_ref in account.class_refs)):
            raise web.HTTPError(403, self.w("not_your_class"))
        if student not in {a.login for a in self.students_of(offering.class_ref)}:
            raise web.HTTPError(404, student)
        self.catalog.course(offering.course_id).assignment(assignment_id)  # a StemlabError if unknown

        def work(job: Job) -> list[str]:
            return grading_report(loop.autograde(self.site.data, offering, assignment_id, student=student,
                                                         limits=self.site.grading))

        try:
            job = self.site.jobs.start(offering.id, assignment_id, Action.AUTOGRADE, teacher, work)
        except Busy as err:
            self.write({"success": False, "error": str(err)})
            return
        waited = 0.0
        while job.state is JobState.RUNNING and waited < WAIT_SECONDS:
            await asyncio.sleep(0.25)
            waited += 0.25
        log = "\n".join(job.messages)
        if job.state is JobState.DONE:
            self.write({"success": True, "log": log})
        else:
            self.write({"success": False, "error": log or "grading did not finish in time"})


HANDLERS = [(TEACH_GRADE_API, FormgraderAutograde)]
