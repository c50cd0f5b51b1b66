"""The student's assignments page, in the student's own server at /user/<login>/stemlab/assignments.

nbgrader's Assignments panel speaks English only (its JupyterLab extension has no translations),
names courses by their ids and shows UTC times. This page does the same steps through nbgrader's
own assignment-list manager and validator, in Vietnamese (or English, following the student's
JupyterLab language), with course and assignment titles and the school's local times. Students'
servers have nbgrader's English panels switched off (offerings.STUDENT_DISABLED_LAB_PLUGINS);
JupyterLab opens this page from its "Bài tập" menu (first_start.first_start_settings).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from autograders.kernel_channels import CLIENT_CLASS
from hub_config.site.clock import school_zone, shown
from hub_config.singleuser.words import LANGUAGES, one_language, page_word

TEMPLATES = Path(__file__).parent / "templates"
CATALOG_FILE = "stemlab_courses.json"  # beside the site's nbgrader config (offerings.write_site_nbgrader_config)
LOCALE_SETTINGS = Path(".jupyter/lab/user-settings/@jupyterlab/translation-extension/plugin.jupyterlab-settings")


def _titles() -> dict[str, Any]:
    for folder in os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep):
        path = Path(folder) / CATALOG_FILE
        if folder and path.is_file():
            try:
                return dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                return {}
    return {}


def _lab_language(home: Path) -> str:
    try:
        locale = json.loads((home / LOCALE_SETTINGS).read_text()).get("locale", "vi_VN")
    except (OSError, ValueError):
        locale = "vi_VN"
    return "en" if str(locale).startswith("en") else "vi"


class AssignmentsPage(JupyterHandler):
    @property
    def manager(self) -> Any:
        manager = self.settings.get("assignment_list_manager")
        if manager is None:
            raise web.HTTPError(503, "nbgrader's assignment list is not loaded")
        return manager

    @property
    def lang(self) -> str:
        asked = self.get_argument("lang", None)
        return asked if asked in LANGUAGES else _lab_language(Path.home())

    def w(self, key: str, **values: object) -> str:
        return page_word(key, self.lang, **values)

    def course_list(self) -> list[str]:
        listed = self.manager.list_courses()
        return list(listed["value"]) if listed.get("success") else []

    @web.authenticated
    def get(self) -> None:
        titles = _titles()
        zone = school_zone(os.environ.get("STEMLAB_TIMEZONE") or "Asia/Ho_Chi_Minh")
        courses = []
        for course_id in self.course_list():
            listed = self.manager.list_assignments(course_id=course_id)
            meta = titles.get(course_id, {})
            rows = []
            for a in listed.get("value", []) if listed.get("success") else []:
                rows.append(self._row(a, meta, zone))
            courses.append({"id": course_id, "title": (meta.get("title") or {}).get(self.lang, course_id),
                            "class": meta.get("class", ""), "rows": self._merge(rows)})
        self.render_template_page(courses)

    def _row(self, a: dict[str, Any], meta: dict[str, Any], zone: Any) -> dict[str, Any]:
        from nbgrader.utils import parse_utc

        titles = meta.get("assignments", {}).get(a["assignment_id"], {})
        submissions = a.get("submissions", [])
        last = submissions[-1] if submissions else None
        feedback = [nb for s in submissions for nb in s.get("notebooks", []) if nb.get("local_feedback_path")]
        has_new_feedback = any(nb.get("has_exchange_feedback") for s in submissions for nb in s.get("notebooks", []))
        return {"id": a["assignment_id"], "course_id": a["course_id"], "status": a["status"],
                "title": titles.get(self.lang, a["assignment_id"]),
                "notebooks": a.get("notebooks", []) if a["status"] == "fetched" else [],
                "due": shown(parse_utc(due), zone) if (due := meta.get("due", {}).get(a["assignment_id"])) else "",
                "submitted": shown(parse_utc(last["timestamp"]), zone) if last else "",
                "feedback": feedback, "new_feedback": has_new_feedback}

    @staticmethod
    def _merge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """nbgrader lists a fetched assignment and its submissions as two entries: one row each."""
        merged: dict[str, dict[str, Any]] = {}
        for row in rows:
            seen = merged.get(row["id"])
            if seen is None:
                merged[row["id"]] = row
                continue
            for key in ("submitted", "feedback", "new_feedback", "due"):
                seen[key] = seen[key] or row[key]
            if row["status"] == "fetched":
                seen["status"], seen["notebooks"] = "fetched", row["notebooks"]
        return list(merged.values())

    def render_template_page(self, courses: list[dict[str, Any]], result: dict[str, Any] | None = None) -> None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
        base = self.base_url
        self.finish(env.get_template("assignments.html").render(
            w=self.w, lang=self.lang, courses=courses, result=result,
            in_my_language=lambda text: one_language(text, self.lang),
            page=url_path_join(base, "stemlab/assignments"), lab=url_path_join(base, "lab/tree"),
            files=url_path_join(base, "files"), xsrf=self.xsrf_token.decode("ascii"), hub_home="/hub/home"))


class AssignmentAction(AssignmentsPage):
    """Fetch, submit, fetch feedback and validate, each by nbgrader's own code, then the page again."""

    @web.authenticated
    async def post(self, action: str) -> None:
        course_id = self.get_body_argument("course_id")
        assignment_id = self.get_body_argument("assignment_id")
        if course_id not in self.course_list():
            raise web.HTTPError(404, course_id)
        loop = asyncio.get_running_loop()
        if action == "validate":
            result = await loop.run_in_executor(None, self._validate, self.get_body_argument("path"))
        else:
            step = {"fetch": self.manager.fetch_assignment, "submit": self.manager.submit_assignment,
                    "fetch_feedback": self.manager.fetch_feedback}[action]
            outcome = await loop.run_in_executor(None, step, course_id, assignment_id)
            ok = outcome is None or outcome.get("success", True)
            result = {"action": action, "ok": ok, "assignment_id": assignment_id,
                      "detail": "" if ok else str(outcome.get("value", ""))[-2000:]}
        self.redirect(url_path_join(self.base_url, "stemlab/assignments") + "?" + _encode_result(result))

    def _validate(self, path: str) -> dict[str, Any]:
        from nbgrader.validator import Validator
        from nbgrader.apps import NbGrader
        from jupyter_core.paths import jupyter_config_path

        root = Path(self.settings["server_root_dir"]).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or target.suffix != ".ipynb":
            raise web.HTTPError(403, "not a notebook of yours")
        app = NbGrader()
        app.config_file_paths.append([os.getcwd(), *jupyter_config_path()])
        app.load_config_file()
        # nbgrader runs the notebook with nbclient: a reply pyzmq's asyncio wait misses would hold
        # the student's Check for the whole cell timeout (autograders/kernel_channels.py)
        app.config.KernelManager.client_class = CLIENT_CLASS
        try:
            results = Validator(config=app.config).validate(str(target))
        except Exception as err:  # noqa: BLE001  (a notebook nbgrader cannot read is the student's to fix)
            return {"action": "validate", "ok": False, "path": path, "detail": f"{type(err).__name__}: {err}"}
        problems = [_explain(r.get("raw_error", "")) for r in results.get("failed", [])]
        changed = len(results.get("changed", [])) + len(results.get("type_changed", []))
        return {"action": "validate", "ok": not problems and not changed, "path": path,
                "failed": problems, "changed": changed}


ANSI = re.compile(r"\x1b\[[0-9;]*m")
# What nbgrader's validator says of an unanswered question, as a student should read it
UNANSWERED = {
    "NotImplementedError": "Em chưa làm câu này (còn dòng raise NotImplementedError). / This question is not answered yet.",
    "You did not provide a response.": "Em chưa trả lời câu hỏi viết. / The written question has no answer yet.",
}


def _explain(raw_error: str) -> str:
    """The last line of a failed test, which is where our tests say what they checked (in both
    languages), without the terminal colours; nbgrader's own English phrases translated."""
    lines = [line.strip() for line in ANSI.sub("", raw_error).strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    bare = last.rstrip(":")
    for phrase, said in UNANSWERED.items():
        # the answer stub raises NotImplementedError with a message of its own (nbgrader_config.CODE_STUB)
        if bare == phrase or bare.endswith(phrase) or bare.startswith(f"{phrase}:"):
            return said
    return last.removeprefix("AssertionError: ")


def _encode_result(result: dict[str, Any]) -> str:
    import urllib.parse

    return urllib.parse.urlencode({"result": json.dumps(result, ensure_ascii=False)})


class ResultPage(AssignmentsPage):
    """The page, with the outcome of the last step (passed in the query after the redirect)."""

    @web.authenticated
    def get(self) -> None:
        raw = self.get_argument("result", "")
        self._result: dict[str, Any] | None = None
        if raw:
            try:
                self._result = dict(json.loads(raw))
            except ValueError:
                self._result = None
        super().get()

    def render_template_page(self, courses: list[dict[str, Any]], result: dict[str, Any] | None = None) -> None:
        super().render_template_page(courses, getattr(self, "_result", None))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "hub_config.singleuser.assignments_page"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    web_app = serverapp.web_app
    base = web_app.settings["base_url"]
    web_app.settings.setdefault("server_root_dir", serverapp.root_dir)
    web_app.add_handlers(".*$", [
        (url_path_join(base, "stemlab/assignments"), ResultPage),
        (url_path_join(base, r"stemlab/assignments/(fetch|submit|fetch_feedback|validate)"), AssignmentAction),
    ])
