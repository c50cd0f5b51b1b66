"""The admin's health page (/services/stemlab-teach/health): the checks of `stemlab status`, in
the admin's language, for the province's admin (the machine is the site's, not one school's)."""

from __future__ import annotations

from collections.abc import Callable

from tornado import web
from tornado.ioloop import IOLoop

from hub_config.operations.health import Check, State
from hub_config.people.roster_page import AdminHandler


class HealthPage(AdminHandler):
    def initialize(self, checks: Callable[[], list[Check]]) -> None:
        self.checks = checks

    @web.authenticated
    async def get(self) -> None:
        if not self.is_admin:
            raise web.HTTPError(403, self.w("site_admins_only"))
        # each check may wait seconds for a service that does not answer: not on the page's event loop
        checks = await IOLoop.current().run_in_executor(None, self.checks)
        rows = [(c.name, c.state.value, self.w(f"health.{c.state.value}"), c.vi if self.lang == "vi" else c.en)
                for c in checks]
        worst = max((c.state for c in checks), key=list(State).index, default=State.OK)
        self.render_page("health.html", rows=rows, worst=self.w(f"health_summary.{worst.value}"))


def handlers(checks: Callable[[], list[Check]]) -> list[tuple[str, type[web.RequestHandler], dict]]:
    return [(r"health", HealthPage, {"checks": checks})]
