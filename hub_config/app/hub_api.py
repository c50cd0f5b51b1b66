"""The `stemlab` command's client for the running hub's REST API (with the launcher's token)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass

import requests

from hub_config.site.errors import StemlabError
from hub_config.app.launcher import running_launcher
from hub_config.people.schools import ClassRef
from hub_config.site.paths import DataDir


@dataclass
class HubClient:
    api_url: str
    token: str

    @classmethod
    def for_data_dir(cls, data: DataDir) -> HubClient:
        state = running_launcher(data)
        if state is None:
            raise StemlabError(
                f"Hub không chạy với dữ liệu {data.root}.", f"No hub is running on {data.root}: start it with `stemlab up`."
            )
        return cls(f"http://127.0.0.1:{state['hub_port']}/hub/api", data.secret("launcher_token"))

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        r = requests.request(method, f"{self.api_url}{path}", headers={"Authorization": f"token {self.token}"},
                             timeout=30, **kwargs)
        if r.status_code >= 400 and r.status_code != 404:
            raise StemlabError(f"Hub từ chối yêu cầu {method} {path}: {r.status_code} {r.text[:200]}",
                               f"The hub refused {method} {path}: {r.status_code} {r.text[:200]}")
        return r

    def class_members(self, klass: ClassRef) -> list[str]:
        group = klass.group
        r = self._call("GET", f"/groups/{group}")
        if r.status_code == 404:
            raise StemlabError(f"Không có lớp {klass}.", f"No class {klass} ({group}): import its roster first.")
        return sorted(r.json()["users"])

    def start_server(self, user: str) -> None:
        self._call("POST", f"/users/{user}/server")

    def server_ready(self, user: str) -> bool:
        servers = self._call("GET", f"/users/{user}").json().get("servers", {})
        return bool(servers.get("", {}).get("ready"))

    def wait_ready(self, users: list[str], timeout: float,
                   on_progress: Callable[[int, int], object] | None = None) -> list[str]:
        """Wait until every user's server is ready; returns those still not ready at the timeout."""
        pending = set(users)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            pending = {u for u in pending if not self.server_ready(u)}
            if on_progress:
                on_progress(len(users) - len(pending), len(users))
            if pending:
                time.sleep(1)
        return sorted(pending)
