"""The exchange service: nbgrader's exchange kept by the hub, for servers that share no disk.

A JupyterHub service (`stemlab-exchange`), run as its own account, keeping the courses in a folder
only it reads (exchange_store.py). Every request carries a JupyterHub token, and who may do what
comes from the hub, never from the request:

- an offering's formgrader service (its token names it) is the course's grader: it releases
  assignments and feedback and sees every submission;
- a member of the offering's student group (asked of the hub with the service's own token) fetches
  what is released, submits as themself, and sees the feedback of their own submissions only;
- a token without this service's access scope, or anyone else, is refused.

    GET  api/courses/<course>/view?parts=outbound,inbound,feedback&assignment=<a>   a tar
    POST api/courses/<course>/release/<assignment>    (grader)   a tar of outbound/<assignment>/
    POST api/courses/<course>/submit/<assignment>     (student)  a tar of the submission's files
    POST api/courses/<course>/feedback                (grader)   a tar of feedback/<hash>.html

Errors are JSON {"vi": ..., "en": ...}: the student's panel shows them in their language.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from jupyterhub.services.auth import HubAuth, HubAuthenticated
from jupyterhub.utils import url_path_join
from tornado import httpclient, web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop

from hub_config.teaching.exchange_archive import ArchiveLimits, ArchiveRefused, packed
from hub_config.teaching.exchange_store import CourseStore, Part, Role
from hub_config.teaching.scopes import EXCHANGE_SERVICE

GROUPS_TTL = 10.0  # a student added to a class may submit within seconds
log = logging.getLogger(EXCHANGE_SERVICE)


class Groups:
    """A user's JupyterHub groups, asked with the service's own token, briefly cached."""

    def __init__(self, auth: HubAuth):
        self.auth = auth
        self.cache: dict[str, tuple[float, set[str]]] = {}

    async def of(self, name: str) -> set[str]:
        cached = self.cache.get(name)
        if cached and time.monotonic() - cached[0] < GROUPS_TTL:
            return cached[1]
        request = httpclient.HTTPRequest(url_path_join(self.auth.api_url, "users", name),
                                         headers={"Authorization": f"token {self.auth.api_token}"})
        response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        groups = set(json.loads(response.body).get("groups", [])) if response.code == 200 else set()
        self.cache[name] = (time.monotonic(), groups)
        return groups


class ExchangeHandler(HubAuthenticated, web.RequestHandler):
    @property
    def hub_auth(self) -> HubAuth:
        return self.settings["hub_auth"]

    @property
    def store_root(self) -> Path:
        return self.settings["store_root"]

    def check_xsrf_cookie(self) -> None:
        pass  # token-only API: no cookie reaches it (HubAuth reads the Authorization header)

    def refuse(self, status: int, vi: str, en: str) -> None:
        self.set_status(status)
        self.finish({"vi": vi, "en": en})

    async def role_in(self, course: str) -> tuple[Role, str] | None:
        """Who the token's owner is in `course`, or None after refusing the request."""
        model = self.current_user
        if not model:
            self.refuse(403, "Không xác thực được; hãy đăng nhập lại.", "Not authenticated; log in again.")
            return None
        if model.get("kind") == "service" and model.get("name") == course:
            return Role.GRADER, ""
        if model.get("kind") == "user" and f"nbgrader-{course}" in await self.settings["groups"].of(model["name"]):
            return Role.STUDENT, model["name"]
        self.refuse(403, f"Em không học lớp {course}.", f"You are not in the class {course}.")
        return None

    async def enter(self, course: str) -> tuple[CourseStore, Role, str] | None:
        """The course's store and who the caller is in it, or None after refusing the request."""
        try:
            store = CourseStore(self.store_root, course, self.settings["limits"])
        except ArchiveRefused as err:
            self.refuse(400, err.vi, err.en)
            return None
        who = await self.role_in(course)
        return None if who is None else (store, *who)

    async def off_loop(self, work: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, work, *args)


class ViewHandler(ExchangeHandler):
    async def get(self, course: str) -> None:
        entered = await self.enter(course)
        if entered is None:
            return
        store, role, student = entered
        parts = {Part(p) for p in self.get_argument("parts", "outbound").split(",") if p in {x.value for x in Part}}
        try:
            paths = store.view(role, student, parts, self.get_argument("assignment", None) or None)
        except ArchiveRefused as err:
            return self.refuse(400, err.vi, err.en)
        body = await self.off_loop(packed, self.store_root, paths)
        self.set_header("Content-Type", "application/x-tar")
        self.finish(body)


class UploadHandler(ExchangeHandler):
    async def post(self, course: str, step: str, assignment: str | None = None) -> None:
        entered = await self.enter(course)
        if entered is None:
            return
        store, role, student = entered
        allowed = {"submit": Role.STUDENT, "release": Role.GRADER, "feedback": Role.GRADER}
        if allowed.get(step) is not role:
            return self.refuse(403, "Em không được làm việc này.", "You may not do this.")
        body = io.BytesIO(self.request.body)
        try:
            if step == "submit":
                done = await self.off_loop(store.submit, student, assignment, body)
                log.info("%s submitted %s/%s at %s", student, course, assignment, done.timestamp)
                self.finish({"timestamp": done.timestamp})
                return
            if step == "release":
                files = await self.off_loop(store.release, assignment, body)
            else:
                files = await self.off_loop(store.release_feedback, body)
        except ArchiveRefused as err:
            log.warning("Refused %s of %s/%s from %s: %s", step, course, assignment, student or course, err.en)
            return self.refuse(400, err.vi, err.en)
        log.info("%s of %s/%s: %d files", step, course, assignment or "", len(files))
        self.finish({"files": len(files)})


def make_app(store_root: Path, limits: ArchiveLimits) -> web.Application:
    auth = HubAuth()
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{EXCHANGE_SERVICE}/")
    course = r"([^/]+)"
    return web.Application([
        (url_path_join(prefix, "api/courses", course, "view"), ViewHandler),
        (url_path_join(prefix, "api/courses", course, r"(submit|release)", course), UploadHandler),
        (url_path_join(prefix, "api/courses", course, r"(feedback)"), UploadHandler),
    ], hub_auth=auth, groups=Groups(auth), store_root=store_root, limits=limits)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="STEM-Lab Hub's nbgrader exchange service")
    parser.add_argument("--store", required=True, help="the folder the service keeps courses in (its own)")
    parser.add_argument("--max-mb", type=int, default=100, help="the largest upload, in MB")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s")
    os.umask(0o077)
    store = Path(args.store)
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    limits = ArchiveLimits(max_file_bytes=args.max_mb * 1_000_000, max_total_bytes=args.max_mb * 1_000_000)
    url = os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10102")
    host, port = url.split("://", 1)[1].rstrip("/").rsplit(":", 1)
    HTTPServer(make_app(store, limits), max_body_size=limits.max_total_bytes + 10_000_000).listen(int(port), host)
    log.info("Exchange service keeping %s at %s", store, url)
    IOLoop.current().start()


if __name__ == "__main__":
    main()
