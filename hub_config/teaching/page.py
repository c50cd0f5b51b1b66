"""The teacher's pages: their classes and offerings, an assignment's steps (release with a due
date in local time, collect, autograde with live progress, feedback), who fetched and submitted,
the grade sheet, and pre-starting a class's servers.

Every step is the one the `stemlab` commands run (loop.py, offerings.py, grade_sheets.py); these
handlers only map requests to them and render what they return. Starting students' servers goes
through the hub's API with the *teacher's* own token (scopes.py), so the hub itself keeps a
teacher to their classes' servers.
"""

from __future__ import annotations

import json
import tempfile
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyterhub.utils import url_path_join
from tornado import httpclient, web

from hub_config.teaching.coverage import coverage
from hub_config.teaching.frameworks import TagKind
from hub_config.teaching.offerings import Offering, current_school_year, list_offerings, offer, released_to_students
from hub_config.people.accounts import school_display_name
from hub_config.people.schools import ClassRef
from hub_config.site.clock import parse_local, shown
from hub_config.site.staff_pages import StaffHandler
from hub_config.teaching import loop
from hub_config.teaching.jobs import Action, Busy, Job
from hub_config.teaching.progress import Stage, assignment_progress

if TYPE_CHECKING:
    from autograders.runner import BatchSummary


def grading_report(summary: BatchSummary) -> list[str]:
    """What a teacher must read after a grading batch: who failed or was flagged, and why; which
    tests could not be judged outside the students' kernels; which limits this machine could not
    enforce."""
    return ([f"{r.student} {r.notebook}: {r.error}" for r in summary.failed]
            + [f"{r.student} {r.notebook}: {'; '.join(f.reason for f in r.flags)}" for r in summary.flagged]
            + [f"Kiểm tra chấm trong kernel của học sinh (bài làm có thể tác động kết quả) / test judged inside the "
               f"students' kernels, where their code can change the result: {notebook} {cell}: {reason}"
               for (notebook, cell), reason in sorted(summary.judged_in_kernel.items())]
            + [f"Giới hạn chưa áp dụng / Limits not enforced: {', '.join(summary.missing_limits)}"]
            * bool(summary.missing_limits))


class TeachingHandler(StaffHandler):
    def job_text(self, job: Job) -> str:
        text = f"{self.w('job.' + job.action.value)} {job.assignment_id}: {self.w('job.' + job.state.value)}"
        if job.action is Action.AUTOGRADE and job.total:
            text += " — " + self.w("job.progress", done=job.done, total=job.total, failed=job.failed)
        return text

    def my_offering(self, offering_id: str) -> Offering:
        offering = next((o for o in list_offerings(self.site.data) if o.id == offering_id), None)
        if offering is None:
            raise web.HTTPError(404, f"{offering_id}")
        if offering.class_ref not in self.my_classes:
            raise web.HTTPError(403, self.w("not_your_class"))
        return offering


class HomeHandler(TeachingHandler):
    @web.authenticated
    def get(self) -> None:
        offerings = [o for o in list_offerings(self.site.data) if o.class_ref in self.my_classes]
        classes = [(c, len(self.students_of(c))) for c in self.my_classes]
        self.render_page("home.html", classes=classes, offerings=offerings, catalog=self.catalog,
                         year=current_school_year(), message=self.get_argument("message", ""))


class OfferingsHandler(TeachingHandler):
    @web.authenticated
    def post(self) -> None:
        klass = self.my_class(self.get_body_argument("class"))
        course = self.catalog.course(self.get_body_argument("course"))
        year = self.get_body_argument("year", current_school_year())
        school = school_display_name(self.site.database_url, klass.school, self.site.school)
        offering = offer(self.site.data, self.site.database_url, course, klass.name, school, year,
                         production=self.site.production, limits=self.site.grading, school_code=klass.school)
        self.site.reload_hub()
        self.redirect(url_path_join(self.settings["prefix"], "offerings", offering.id) + "?created=1")


class OfferingHandler(TeachingHandler):
    @web.authenticated
    def get(self, offering_id: str) -> None:
        offering = self.my_offering(offering_id)
        course = self.catalog.course(offering.course_id)
        exchange = self.site.exchange
        released = released_to_students(exchange, offering)
        chosen = self.get_argument("assignment", None) or next(
            (a.id for a in course.assignments if a.id in released), course.assignments[0].id)
        assignment = course.assignment(chosen)
        progress = assignment_progress(offering, assignment.id, exchange / offering.id / "inbound",
                                       self.site.home_of)
        jobs = sorted(self.site.jobs.of_offering(offering.id), key=lambda j: -j.started)
        self.render_page("offering.html", offering=offering, course=course, released=released, assignment=assignment,
                         progress=progress, Stage=Stage, jobs=jobs, shown=lambda t: shown(t, self.site.zone),
                         coverage=coverage(course, self.catalog.frameworks, released), TagKind=TagKind,
                         job_text=self.job_text, created=self.get_argument("created", ""))



class ActionHandler(TeachingHandler):
    """Release, collect, autograde, feedback: started in the background; the page polls the job."""

    @web.authenticated
    def post(self, offering_id: str, assignment_id: str, action_name: str) -> None:
        offering = self.my_offering(offering_id)
        assignment = self.catalog.course(offering.course_id).assignment(assignment_id)
        try:
            action = Action(action_name)
        except ValueError:
            raise web.HTTPError(404) from None
        data = self.site.data
        if action is Action.RELEASE:
            typed = self.get_body_argument("due", "").strip()
            due = parse_local(typed, self.site.zone) if typed else None

            def work(job: Job) -> list[str]:
                loop.release(data, offering, assignment.id, due)
                return []
        elif action is Action.COLLECT:
            def work(job: Job) -> list[str]:
                return loop.collect(data, offering, assignment.id)
        elif action is Action.AUTOGRADE:
            def work(job: Job) -> list[str]:
                def on_start(todo: list[str]) -> None:
                    job.total = len(todo)

                def progress(result: Any, done: int, total: int) -> None:
                    job.done, job.total = done, total
                    job.failed += 0 if result.error is None else 1

                summary = loop.autograde(data, offering, assignment.id, progress=progress, on_start=on_start,
                                         limits=self.site.grading)
                return grading_report(summary)
        else:
            def work(job: Job) -> list[str]:
                return loop.feedback(data, offering, assignment.id)
        try:
            job = self.site.jobs.start(offering.id, assignment.id, action, self.current_user["name"], work)
        except Busy as err:
            raise web.HTTPError(409, str(err)) from err
        self.redirect(url_path_join(self.settings["prefix"], "offerings", offering.id)
                      + f"?assignment={urllib.parse.quote(assignment.id)}&job={job.id}")


class JobHandler(TeachingHandler):
    @web.authenticated
    def get(self, job_id: str) -> None:
        job = self.site.jobs.get(job_id)
        if job is None:
            raise web.HTTPError(404)
        self.my_offering(job.offering_id)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(job.as_json() | {"text": self.job_text(job)}))


class GradesHandler(TeachingHandler):
    @web.authenticated
    def get(self, offering_id: str, kind: str) -> None:
        from hub_config.teaching.grade_sheets import export

        offering = self.my_offering(offering_id)
        with tempfile.TemporaryDirectory(prefix="stemlab-grades-") as scratch:
            csv_path, xlsx_path = export(offering, Path(scratch), self.lang)
            path = xlsx_path if kind == "xlsx" else csv_path
            body = path.read_bytes()
        self.set_header("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                        if kind == "xlsx" else "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{path.name}"')
        self.finish(body)


class ClassHandler(TeachingHandler):
    """A class's servers: their state, and starting them before the lesson (with the teacher's token)."""

    async def hub(self, method: str, path: str) -> httpclient.HTTPResponse:
        token = self.hub_auth.get_token(self)
        return await httpclient.AsyncHTTPClient().fetch(
            url_path_join(self.site.hub_api_url, path), method=method, raise_error=False,
            headers={"Authorization": f"token {token}"}, body=b"{}" if method == "POST" else None)

    async def states(self, klass: ClassRef) -> list[dict[str, str]]:
        out = []
        for student in self.students_of(klass):
            r = await self.hub("GET", f"users/{student.login}")
            state = "unknown"
            if r.code == 200:
                server = json.loads(r.body).get("servers", {}).get("")
                state = "stopped" if not server else "running" if server.get("ready") else "starting"
            out.append({"login": student.login, "name": student.full_name, "state": state,
                        "text": self.w("server." + state)})
        return out

    @web.authenticated
    async def get(self, key: str) -> None:
        klass = self.my_class(key)
        states = await self.states(klass)
        if self.get_argument("format", "") == "json":
            self.finish({"class": klass.key, "servers": states})
            return
        self.render_page("class.html", class_name=str(klass), servers=states)

    @web.authenticated
    async def post(self, key: str) -> None:
        for student in self.students_of(self.my_class(key)):
            await self.hub("POST", f"users/{student.login}/server")  # 201/202, or 400 when already running
        self.redirect(url_path_join(self.settings["prefix"], "classes", urllib.parse.quote(key)))


HANDLERS = [
    (r"offerings", OfferingsHandler),
    (r"offerings/([^/]+)", OfferingHandler),
    (r"offerings/([^/]+)/grades\.(xlsx|csv)", GradesHandler),
    (r"offerings/([^/]+)/([^/]+)/(release|collect|autograde|feedback)", ActionHandler),
    (r"api/jobs/([0-9a-f]+)", JobHandler),
    (r"classes/([^/]+)", ClassHandler),
    (r"", HomeHandler),
]
