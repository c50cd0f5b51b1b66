"""The staff service: the teacher's pages, the admin's roster and health pages, one tornado app at
/services/stemlab-teach/, run by `stemlab up` beside the hub (not by it, so a hub reload never
cuts a grading batch short). It logs in through the hub (OAuth, HubOAuthCallbackHandler)."""

from __future__ import annotations

import os
import signal
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from jupyterhub.services.auth import HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from hub_config.app.launcher import running_launcher
from hub_config.operations import health_page
from hub_config.operations.health import Check, site_health
from hub_config.teaching.catalog import load_catalog
from hub_config.site.paths import DataDir
from hub_config.people import roster_page
from hub_config.runtime import RUNTIME_ENV, Runtime
from hub_config.site.clock import school_zone
from hub_config.site.staff_pages import TEMPLATES, StaffSite
from hub_config.teaching import formgrader_grading
from hub_config.teaching import page as teaching_page
from hub_config.teaching.scopes import TEACH_PREFIX

PREFIX = TEACH_PREFIX


def make_app(site: StaffSite, prefix: str = PREFIX, health: Callable[[], list[Check]] | None = None) -> web.Application:
    """`health`: the checks of `stemlab status`, for the admin's health page (none: no page)."""
    routes: list[tuple] = [(url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler)]
    for pattern, handler in [*roster_page.HANDLERS, *formgrader_grading.HANDLERS, *teaching_page.HANDLERS]:
        routes.append((url_path_join(prefix, pattern) if pattern else prefix, handler))
    for pattern, page, options in health_page.handlers(health) if health else []:
        routes.append((url_path_join(prefix, pattern), page, options))
    return web.Application(routes, site=site, catalog=load_catalog(), prefix=prefix, template_path=str(TEMPLATES),
                           xsrf_cookies=True, cookie_secret=os.urandom(32), max_body_size=roster_page.MAX_BYTES + 65536)


def main() -> None:
    from tornado.log import enable_pretty_logging

    enable_pretty_logging()  # requests and errors into var/logs/teach.log
    runtime = Runtime.load(os.environ[RUNTIME_ENV])
    settings = runtime.settings
    site = StaffSite(DataDir(Path(runtime.data_dir)), runtime.database_url, settings.production,
                     settings.school_name, school_zone(settings.timezone), runtime.hub_api_url,
                     settings.grading_limits(), exchange_root=settings.exchange_root(DataDir(Path(runtime.data_dir))),
                     backup_folder=settings.backup_path(Path(runtime.data_dir)))
    bind = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    health = lambda: site_health(settings, site.data, running_launcher(site.data))  # noqa: E731
    make_app(site, os.environ.get("JUPYTERHUB_SERVICE_PREFIX", PREFIX), health).listen(bind.port or 80, bind.hostname)
    main_loop = ioloop.IOLoop.current()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: main_loop.add_callback_from_signal(main_loop.stop))
    main_loop.start()


if __name__ == "__main__":
    main()
