"""nbgrader's exchange steps against the exchange service, for servers that share no disk with it.

Each step asks the service for a private copy of the part of the exchange its user may see (a
student: what is released, and the feedback of their own submissions; a course's grader: the whole
course), runs nbgrader's own step (through ours in exchange.py) on that copy, and sends back what
the step added: a release, a submission, feedback pages. The service decides who may see and add
what (exchange_service.py); these classes only carry. So nbgrader's behaviour, its messages and
the Assignments panel are the ones students already know, and our collect's rules (links left out,
sizes, one bad submission never stopping the class) apply unchanged to the copy.

Selected by the site's nbgrader config (`ExchangeFactory`) when `[exchange] kind = "service"`; the
service's address is `ServiceMirror.url`, the token the server's or service's own
($JUPYTERHUB_API_TOKEN). Runs in students' servers and formgraders: nbgrader, requests, stdlib.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

import requests
from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from hub_config.teaching.exchange import (
    LockedFetch,
    LockedFetchFeedback,
    LockedList,
    LockedRelease,
    LockedReleaseFeedback,
    OwnerCheckedCollect,
    PrivateSubmit,
)
from hub_config.teaching.exchange_archive import ArchiveRefused, packed, unpack

UNREACHABLE = ("Không kết nối được dịch vụ nộp bài; thử lại sau ít phút hoặc báo thầy cô.",
               "The exchange service cannot be reached; try again in a few minutes or tell your teacher.")


class ServiceMirror(LoggingConfigurable):
    """A step of nbgrader's run on a private copy of the exchange, fetched from the service."""

    url = Unicode("", help="The exchange service's address, e.g. http://127.0.0.1:8000/services/stemlab-exchange/"
                  ).tag(config=True)
    parts = "outbound"  # what of the course the step reads

    def start(self) -> Any:
        original = self.root  # type: ignore[has-type]
        with tempfile.TemporaryDirectory(prefix="stemlab-exchange-") as mirror:
            self.root = mirror
            try:
                for course in self._courses():
                    self._fetch_view(course, Path(mirror))
                result = super().start()  # type: ignore[misc]
                self.send(Path(mirror))
            finally:
                self.root = original
        return result

    def _courses(self) -> list[str]:
        course = self.coursedir.course_id  # type: ignore[attr-defined]
        if course:
            return [course]
        student = self.coursedir.student_id or os.environ.get("JUPYTERHUB_USER", "")  # type: ignore[attr-defined]
        return list(self.authenticator.get_student_courses(student) or [])  # type: ignore[attr-defined]

    def _assignment(self) -> str:
        return self.coursedir.assignment_id or ""  # type: ignore[attr-defined]

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self.url:
            self.fail(" / ".join(UNREACHABLE))  # type: ignore[attr-defined]
        headers = {"Authorization": f"token {os.environ.get('JUPYTERHUB_API_TOKEN', '')}"}
        try:
            response = requests.request(method, self.url.rstrip("/") + "/" + path, headers=headers, timeout=120,
                                        **kwargs)
        except requests.RequestException as err:
            self.log.error("Exchange service: %s", err)
            self.fail(" / ".join(UNREACHABLE))  # type: ignore[attr-defined]
        if response.status_code != 200:
            try:
                said = response.json()
                message = f"{said['vi']} / {said['en']}"
            except (ValueError, KeyError, TypeError):
                message = " / ".join(UNREACHABLE) + f" (HTTP {response.status_code})"
            self.fail(message)  # type: ignore[attr-defined]
        return response

    def _fetch_view(self, course: str, mirror: Path) -> None:
        response = self._call("GET", f"api/courses/{course}/view",
                              params={"parts": self.parts, "assignment": self._assignment()})
        with tempfile.TemporaryDirectory(prefix="stemlab-view-") as scratch:
            try:
                unpack(io.BytesIO(response.content), Path(scratch) / "view")
            except ArchiveRefused as err:
                self.fail(str(err))  # type: ignore[attr-defined]
            for entry in (Path(scratch) / "view").iterdir():
                os.replace(entry, mirror / entry.name)
        for part in ("outbound", "inbound", "feedback"):  # nbgrader's steps expect the layout
            (mirror / course / part).mkdir(parents=True, exist_ok=True)

    def send(self, mirror: Path) -> None:
        """What the step added, to the service (steps that only read add nothing)."""


class ServiceRelease(ServiceMirror, LockedRelease):
    parts = "outbound"

    def send(self, mirror: Path) -> None:
        course, assignment = self.coursedir.course_id, self.coursedir.assignment_id
        body = packed(mirror, [f"{course}/outbound/{assignment}"])
        self._call("POST", f"api/courses/{course}/release/{assignment}", data=body)


class ServiceFetch(ServiceMirror, LockedFetch):
    parts = "outbound"


class ServiceSubmit(ServiceMirror, PrivateSubmit):
    parts = "outbound"

    def send(self, mirror: Path) -> None:
        course, assignment = self.coursedir.course_id, self.coursedir.assignment_id
        folder = mirror / course / "inbound" / self.assignment_filename
        body = packed(folder, [p.name for p in sorted(folder.iterdir())])
        said = self._call("POST", f"api/courses/{course}/submit/{assignment}", data=body).json()
        self.log.info("Submitted to the exchange service at %s", said.get("timestamp"))


class ServiceList(ServiceMirror, LockedList):
    @property
    def parts(self) -> str:  # type: ignore[override]
        # released assignments; a grader's inbound; a student's submissions are in their own
        # cache, and the exchange adds only whether each has feedback
        return "inbound" if self.inbound else "feedback" if self.cached else "outbound"

    def start(self) -> Any:
        if self.remove:
            self.fail("Dịch vụ nộp bài không xóa bài nộp. / The exchange service does not remove submissions.")
        return super().start()


class ServiceFetchFeedback(ServiceMirror, LockedFetchFeedback):
    parts = "feedback"


class ServiceReleaseFeedback(ServiceMirror, LockedReleaseFeedback):
    parts = ""

    def send(self, mirror: Path) -> None:
        course = self.coursedir.course_id
        feedback = mirror / course / "feedback"
        if any(feedback.glob("*.html")):
            self._call("POST", f"api/courses/{course}/feedback", data=packed(mirror, [f"{course}/feedback"]))


class ServiceCollect(ServiceMirror, OwnerCheckedCollect):
    """Every submission of the assignment, copied here and collected by our rules; forgery needs
    no owner check: the service named each submission after the login that sent it."""

    parts = "inbound"

    def init_src(self) -> None:
        self.check_owner = False  # every file of the copy is the grader's: nbgrader would call all a cheat
        super().init_src()

    def _quarantine_forged(self) -> None:
        pass  # nothing to check: the service named each submission after the login that sent it


FACTORY = {
    "release_assignment": ServiceRelease,
    "release_feedback": ServiceReleaseFeedback,
    "fetch_assignment": ServiceFetch,
    "fetch_feedback": ServiceFetchFeedback,
    "list": ServiceList,
    "submit": ServiceSubmit,
    "collect": ServiceCollect,
}
