"""The kits service: a JupyterHub service that owns the lab's serial ports and leases kits.

One user per kit. A lease is taken, renewed by every use, released by its holder, taken back by
a teacher or technician (scope `custom:stemlab-kits:manage`), or ends after `--idle` seconds
unused. Between users the board is cleaned: the program stopped, the files the user added
removed, a soft reset. Only the holder may run code on a kit, reset it or touch its files (403
otherwise). Technicians get a status page: each kit, its holder, its last self-test.

In the embedded default it serves simulated kits (`--simulated N`). Run by the hub
(hub_config/jupyterhub_config.py); the magics reach it with the user's hub token.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import html
import inspect
import json
import os
import signal
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from jupyterhub.services.auth import HubAuthenticated, HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from . import files
from .errors import BoardError, KitError
from .folders import KitFolders
from .inventory import Kit, KitKind, all_kits, identify
from .leases import KitFaulty, KitTaken, LeaseError, Leases, ManagedKit, NoKitFree, NotYourKit, UnknownKit
from .selftest import CheckResult, skip_reasons, verdict
from .sim.kit import SimKit
from .transport import KitConnection

T = TypeVar("T")

MANAGE_SCOPE = "custom:stemlab-kits:manage"
# What each lease error is, in HTTP; the message (Vietnamese / English) goes with it
LEASE_STATUS: dict[type[LeaseError], int] = {UnknownKit: 404, NotYourKit: 403, KitTaken: 409, NoKitFree: 409,
                                             KitFaulty: 409}


def kit_api(method: Callable[..., Any]) -> Callable[..., Any]:
    """An API method for a hub-token holder; a lease error becomes its status and message."""

    @functools.wraps(method)
    async def handler(self: BaseHandler, *args: str) -> None:
        try:
            result = method(self, *args)
            if inspect.isawaitable(result):
                await result
        except LeaseError as err:
            raise web.HTTPError(LEASE_STATUS.get(type(err), 409), str(err)) from err

    return web.authenticated(handler)


class Lab:
    """The kits and their leases; every board operation runs on a worker thread, one at a time per kit."""

    def __init__(self, kits: list[Kit], folders: KitFolders, idle_seconds: float):
        self.leases = Leases([ManagedKit(k) for k in kits], idle_seconds)
        self.kits = self.leases.kits
        self.folders = folders
        self.pool = ThreadPoolExecutor(max_workers=max(4, len(kits) + 2))

    def prepare(self) -> None:
        """Ask each board what it is and note its own files (run once, on a worker thread, while
        the service already answers: requests for a kit wait for its lock)."""
        for managed in self.kits.values():
            try:
                link = managed.connect()
                managed.model = identify(link).model
                managed.baseline = {e.name for e in files.listdir(link, "/")}
            except KitError as err:
                managed.problem = err.en
                managed.drop_link()
            finally:
                managed.lock.release()

    def last_selftest(self, name: str) -> dict[str, Any] | None:
        for room in sorted(self.folders.reports.glob("*/room.json"), reverse=True):
            data = json.loads(room.read_text(encoding="utf-8"))
            for kit in data["kits"]:
                if kit["kit"] == name:
                    results = [CheckResult.from_json(r) for r in kit["results"]]
                    return {"time": data["time"], "passed": kit["passed"], "verdict": verdict(results),
                            "skipped": skip_reasons(results)}
        return None

    def describe(self, managed: ManagedKit, viewer_is_manager: bool, viewer: str) -> dict[str, Any]:
        lease = managed.lease
        holder = None
        if lease:
            holder = lease.holder if (viewer_is_manager or lease.holder == viewer) else "(đang dùng / in use)"
        return {"name": managed.name, "model": managed.model, "holder": holder, "problem": managed.problem,
                "state": managed.state.value, "expires_in": self.leases.expires_in(managed),
                "selftest": self.last_selftest(managed.name) if viewer_is_manager else None}

    def clean(self, managed: ManagedKit) -> None:
        """Between users: stop what runs, remove what the user added, clear the memory."""
        with managed.lock:
            try:
                link = managed.connect()
                link.enter_raw()
                for entry in files.listdir(link, "/"):
                    if entry.name not in managed.baseline and not entry.is_dir:
                        files.remove(link, "/" + entry.name)
                link.soft_reset()
            except KitError as err:
                managed.problem = err.en
                managed.drop_link()

    def expire_idle(self) -> None:
        for managed in self.leases.expire():
            self.pool.submit(self.clean, managed)


class BaseHandler(HubAuthenticated, web.RequestHandler):
    @property
    def lab(self) -> Lab:
        return self.settings["lab"]

    def check_xsrf_cookie(self) -> None:
        pass  # token-authenticated API, no cookies

    def get_login_url(self) -> str:
        raise web.HTTPError(403)

    @property
    def user(self) -> dict[str, Any]:
        model = self.current_user  # tornado caches it: one check with the hub per request
        if not model:
            raise web.HTTPError(403, "hub token required")
        return model

    @property
    def is_manager(self) -> bool:
        return MANAGE_SCOPE in self.user.get("scopes", []) or self.user.get("admin", False)

    def held(self, name: str) -> ManagedKit:
        """The kit, if the caller holds its lease (NotYourKit otherwise); the use renews it."""
        return self.lab.leases.held(name, self.user["name"])

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        reason = self._reason
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            reason = exc.log_message
        self.finish({"error": reason, "status": status_code})

    async def on_board(self, managed: ManagedKit, action: Callable[[KitConnection], T]) -> T:
        def run() -> T:
            with managed.lock:
                try:
                    return action(managed.connect())
                except KitError:
                    managed.drop_link()
                    raise
        return await asyncio.get_running_loop().run_in_executor(self.lab.pool, run)


class KitsHandler(BaseHandler):
    @kit_api
    def get(self) -> None:
        self.write({"kits": [self.lab.describe(k, self.is_manager, self.user["name"]) for k in self.lab.kits.values()]})


class LeaseHandler(BaseHandler):
    @kit_api
    def post(self, name: str) -> None:
        """Take (or renew) the lease of a kit; `any` takes the one the user holds, or the first free one."""
        managed = self.lab.leases.take(name, self.user["name"], manager=self.is_manager)
        self.write(self.lab.describe(managed, self.is_manager, self.user["name"]))

    @kit_api
    async def delete(self, name: str) -> None:
        """Give the kit back (its holder), or take it back (a teacher or technician)."""
        managed = self.lab.leases.end(name, self.user["name"], self.is_manager)
        if managed is not None:
            await asyncio.get_running_loop().run_in_executor(self.lab.pool, self.lab.clean, managed)
        self.set_status(204)


class ExecHandler(BaseHandler):
    @kit_api
    async def post(self, name: str) -> None:
        """Run code; the answer streams as JSON lines: {"out": ...} as output arrives, then
        {"done": true} or {"error": {...}}."""
        managed = self.held(name)
        body = json.loads(self.request.body or b"{}")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def emit(text: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, {"out": text})

        def run(link: KitConnection) -> None:
            link.exec(body.get("code", ""), on_output=emit, timeout=float(body.get("timeout", 30)))

        task = asyncio.ensure_future(self.on_board(managed, run))
        task.add_done_callback(lambda _: loop.call_soon_threadsafe(queue.put_nowait, None))
        self.set_header("Content-Type", "application/x-ndjson")
        while (event := await queue.get()) is not None:
            self.write(json.dumps(event) + "\n")
            await self.flush()
        try:
            task.result()
            self.write(json.dumps({"done": True}) + "\n")
        except BoardError as err:
            self.write(json.dumps({"error": {"type": "BoardError", "traceback": err.traceback,
                                             "exc_type": err.exc_type, "line": err.line}}) + "\n")
        except KitError as err:
            self.write(json.dumps({"error": {"type": type(err).__name__, "vi": err.vi, "en": err.en}}) + "\n")
        self.lab.leases.used(managed)  # unless the lease ended while the program ran


class InterruptHandler(BaseHandler):
    @kit_api
    def post(self, name: str) -> None:
        """Ctrl-C to the board, past the kit's lock (the running exec holds it, and reads what follows)."""
        managed = self.held(name)
        if managed.link:
            managed.link.send_interrupt()
        self.set_status(204)


class ResetHandler(BaseHandler):
    @kit_api
    async def post(self, name: str) -> None:
        managed = self.held(name)
        hard = json.loads(self.request.body or b"{}").get("hard", False)
        await self.on_board(managed, lambda link: link.hard_reset() if hard else link.soft_reset())
        self.set_status(204)


class FilesHandler(BaseHandler):
    @kit_api
    async def get(self, name: str) -> None:
        managed = self.held(name)
        path = self.get_argument("path", "/")
        entries = await self.on_board(managed, lambda link: files.listdir(link, path))
        self.write({"entries": [e.__dict__ for e in entries]})

    @kit_api
    async def put(self, name: str) -> None:
        managed = self.held(name)
        path = self.get_argument("path")
        changed = await self.on_board(managed, lambda link: files.put(link, self.request.body, path))
        self.write({"path": path, "changed": changed})


class StatusPage(HubOAuthenticated, BaseHandler):
    """The technician's page, opened in the browser: the hub's login (OAuth), no token to paste."""

    def get_login_url(self) -> str:
        return HubOAuthenticated.get_login_url(self)

    @property
    def is_manager(self) -> bool:
        # An OAuth token carries the scopes this service may ask for that the user holds (see
        # oauth_client_allowed_scopes in the hub's configuration).
        return MANAGE_SCOPE in self.user.get("scopes", [])

    @web.authenticated
    def get(self) -> None:
        if not self.is_manager:
            self.set_status(403)
            self.finish(_page("Bộ kit / Kits", "<p>Trang này dành cho kỹ thuật viên và giáo viên. Nếu bạn cần "
                              "một kit, hãy dùng <code>%kit connect</code> trong sổ tay hoặc hỏi thầy cô.</p>"
                              "<p>This page is for technicians and teachers. To use a kit, run "
                              "<code>%kit connect</code> in a notebook, or ask your teacher.</p>"))
            return
        rows = []
        for managed in self.lab.kits.values():
            d = self.lab.describe(managed, True, "")
            test = d["selftest"]
            if test:
                reasons = "".join(f"<li>{html.escape(r)}</li>" for r in test["skipped"])
                result = (f"{html.escape(test['verdict'])} <small>({html.escape(test['time'])})</small>"
                          + (f"<ul>{reasons}</ul>" if reasons else ""))
            else:
                result = "chưa kiểm tra / not tested yet"
            rows.append(f"<tr><td>{html.escape(d['name'])}</td><td>{html.escape(d['model'])}</td>"
                        f"<td>{html.escape(d['holder'] or 'trống / free')}</td><td>{result}</td>"
                        f"<td>{html.escape(d['problem'] or '')}</td></tr>")
        self.finish(_page("Bộ kit / Kits",
                          "<table border=1 cellpadding=4><tr><th>Kit</th><th>Bo mạch / Board</th>"
                          "<th>Người dùng / Holder</th><th>Tự kiểm tra gần nhất / Last self-test</th>"
                          f"<th>Sự cố / Problem</th></tr>{''.join(rows)}</table>"))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish(_page("Bộ kit / Kits", f"<p>Lỗi / Error {status_code}: {html.escape(self._reason)}</p>"))


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='vi'><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<body><h1>{html.escape(title)}</h1>{body}<p><a href='/hub/home'>Trang chính / Home</a></p></body></html>")


def make_app(lab: Lab, prefix: str) -> web.Application:
    kit = r"([^/]+)"
    return web.Application([
        (url_path_join(prefix, "api/kits"), KitsHandler),
        (url_path_join(prefix, f"api/kits/{kit}/lease"), LeaseHandler),
        (url_path_join(prefix, f"api/kits/{kit}/exec"), ExecHandler),
        (url_path_join(prefix, f"api/kits/{kit}/interrupt"), InterruptHandler),
        (url_path_join(prefix, f"api/kits/{kit}/reset"), ResetHandler),
        (url_path_join(prefix, f"api/kits/{kit}/files"), FilesHandler),
        (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        (prefix, StatusPage),
    ], lab=lab, cookie_secret=os.urandom(32))  # the page's login cookie; a restart asks the hub again


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="STEM-Lab Hub kits service (run by JupyterHub)")
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--simulated", type=int, default=0, help="serve this many simulated kits")
    parser.add_argument("--idle", type=float, default=900, help="seconds before an unused lease ends")
    args = parser.parse_args(argv)
    started: list[SimKit] = []
    folders = KitFolders.under(args.data)
    for n in range(1, args.simulated + 1):
        sim = SimKit(model="yolobit", flash_dir=str(folders.flash_of(f"service-{n:02d}")),
                     board_id=f"5f{n:010x}").start()
        started.append(sim)
    kits = [k for k in all_kits(folders) if not k.stable_name.startswith("sim:service-")]
    kits += [Kit(s.path, f"sim:service-{n:02d}", f"Kit {n:02d}", kind=KitKind.SIMULATED) for n, s in enumerate(started, 1)]
    lab = Lab(kits, folders, args.idle)
    loop = ioloop.IOLoop.current()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: loop.add_callback_from_signal(loop.stop))
    url = os.environ["JUPYTERHUB_SERVICE_URL"]
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/stemlab-kits/")
    bind = urllib.parse.urlparse(url)
    make_app(lab, prefix).listen(bind.port or 80, bind.hostname)
    for managed in lab.kits.values():
        managed.lock.acquire()  # released by prepare(), kit by kit
    lab.pool.submit(lab.prepare)
    ioloop.PeriodicCallback(lab.expire_idle, 5000).start()
    try:
        loop.start()
    finally:
        for sim in started:
            sim.stop()


if __name__ == "__main__":
    main()
