"""An offering's formgrader service: nbgrader's formgrader alone, opened in its own tab.

JupyterHub >= 4.1 forbids framing any server's pages (``frame-ancestors 'none'``, CVE-2024-28233),
so nbgrader's JupyterLab panels that frame the formgrader ("Formgrader", "Course List") show only
"refused to connect". The service is therefore not a JupyterLab: it opens at the formgrader, with
no JupyterLab, no terminals and no kernels of its own (`formgrader_server_config`), and teachers
reach it from their page (hub_config/teaching/page.py).

Opened outside JupyterLab, nbgrader's links to files (its ``linkTo``: an assignment's Preview, its
release folder, the notebook name on a submission) point at the classic notebook's ``/tree/`` and
``/notebooks/`` at the origin's root, which is the hub's: 404. This extension gives them a target
inside the service, a read-only preview of a folder or a notebook, and points ``linkTo`` there
(formgrader_links.js, added to each formgrader page right after nbgrader's own utils.js).
Notebooks are shown through nbconvert with sanitizing on: a student's outputs may carry scripts,
and this page runs on the hub's origin.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.utils import url_escape, url_path_join
from tornado import web

from hub_config.site.staff_pages import LANG_COOKIE
from hub_config.site.staff_words import LANGUAGES, word

HERE = Path(__file__).parent
LINKS_SCRIPT = HERE / "formgrader_links.js"
PREVIEW = "stemlab/preview"
SCRIPT_ROUTE = "stemlab/formgrader-links.js"
# nbgrader's pages (its templates and its submission view) all load this script; ours follows it.
NBGRADER_UTILS = '/formgrader/static/js/utils.js"></script>'
_templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))

# nbgrader's server extensions the service runs without: what a student or a teacher's own
# server has, none of which the formgrader needs.
OFF_IN_FORMGRADER = ("jupyterlab", "notebook", "jupyter_lsp", "jupyter_server_terminals",
                     "nbgrader.server_extensions.assignment_list", "nbgrader.server_extensions.course_list",
                     "nbgrader.server_extensions.validate_assignment", "hub_config.singleuser.assignments_page")


def formgrader_server_config() -> dict[str, Any]:
    """jupyter_server settings of every offering's formgrader service (first on its config path)."""
    extensions: dict[str, bool] = {name: False for name in OFF_IN_FORMGRADER}
    extensions.update({"nbgrader.server_extensions.formgrader": True, __name__: True})
    return {
        "ServerApp": {"jpserver_extensions": extensions, "terminals_enabled": False,
                      "kernel_manager_class": f"{__name__}.NoKernels"},
        # nbgrader's submission view shows a student's outputs on the hub's origin: without their
        # scripts and event handlers (nbconvert's sanitizer, as in the preview below)
        "HTMLExporter": {"sanitize_html": True},
    }


class NoKernels(AsyncMappingKernelManager):
    """Nobody runs code as the service's account through the server's kernel API (its grading
    does not use it: nbgrader's executor starts its own kernels, in the sandbox)."""

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:  # type: ignore[override]
        raise web.HTTPError(403, "The formgrader service runs no kernels; grade on the teacher's page.")


def _lang(handler: web.RequestHandler) -> str:
    asked = handler.get_argument("lang", None) or handler.get_cookie(LANG_COOKIE)
    return asked if asked in LANGUAGES else "vi"


def _clean(path: str) -> str:
    """A path relative to the service's root (the offering's course directory), '' for the root."""
    cleaned = posixpath.normpath("/" + path.strip("/")).lstrip("/")
    return "" if cleaned == "." else cleaned


class PreviewPage(JupyterHandler):
    """A folder's notebooks and files, or one notebook, read-only."""

    @web.authenticated
    async def get(self, path: str = "") -> None:
        path = _clean(path)
        lang = _lang(self)
        model = await ensure_async(self.contents_manager.get(path, content=True))  # 404 outside the root
        if model["type"] == "notebook":
            # sanitized already; and, should anything slip through, no script runs on the hub's origin
            self.set_header("Content-Security-Policy", "sandbox; default-src 'self' data: 'unsafe-inline'")
            self.write(self.notebook_html(model))
        elif model["type"] == "directory":
            self.write(self.folder_html(path, model, lang))
        else:
            self.redirect(url_path_join(self.base_url, "files", url_escape(path)) + "?download=1")

    def notebook_html(self, model: dict[str, Any]) -> str:
        import nbformat
        from nbconvert import HTMLExporter

        notebook = nbformat.from_dict(model["content"])
        html, _ = HTMLExporter(template_name="lab", sanitize_html=True).from_notebook_node(notebook)
        return str(html)

    def folder_html(self, path: str, model: dict[str, Any], lang: str) -> str:
        entries = sorted(model["content"], key=lambda e: (e["type"] != "directory", e["name"].lower()))
        rows = []
        for entry in entries:
            link = url_path_join(self.base_url, PREVIEW, url_escape(entry["path"]))
            rows.append({"name": entry["name"], "type": entry["type"], "link": link})
        up = url_path_join(self.base_url, PREVIEW, url_escape(posixpath.dirname(path))) if path else ""
        return _templates.get_template("preview.html").render(
            lang=lang, w=lambda key, **v: word(key, lang, **v), path=path or "/", rows=rows, up=up,
            back=url_path_join(self.base_url, "formgrader"))


class LinksScript(JupyterHandler):
    @web.authenticated
    def get(self) -> None:
        self.set_header("Content-Type", "application/javascript; charset=utf-8")
        self.write(LINKS_SCRIPT.read_text(encoding="utf-8"))


def _add_links_script_to_formgrader_pages() -> None:
    """Every formgrader page, after nbgrader's utils.js, loads ours, which re-points its linkTo."""
    from nbgrader.server_extensions.formgrader.base import BaseHandler

    if getattr(BaseHandler, "_stemlab_links", False):
        return
    nbgrader_write = BaseHandler.write

    def write(self: Any, chunk: Any) -> None:
        if isinstance(chunk, str) and NBGRADER_UTILS in chunk:
            ours = f'<script src="{url_path_join(self.base_url, SCRIPT_ROUTE)}"></script>'
            chunk = chunk.replace(NBGRADER_UTILS, NBGRADER_UTILS + ours, 1)
        nbgrader_write(self, chunk)

    BaseHandler.write = write
    BaseHandler._stemlab_links = True


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    web_app = server_app.web_app
    base = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [
        (url_path_join(base, PREVIEW) + r"/?(.*)", PreviewPage),
        (url_path_join(base, SCRIPT_ROUTE), LinksScript),
    ])
    _add_links_script_to_formgrader_pages()
