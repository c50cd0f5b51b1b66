"""The magics' side of the kits service: lease a kit and use it over HTTP with the hub token."""

from __future__ import annotations

import json
import os
from typing import Any, Callable

import requests

from . import files
from .errors import BoardError, KitError


class ServiceError(KitError):
    def __init__(self, message: str):
        super().__init__(message, message)


def _session() -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"token {os.environ['JUPYTERHUB_API_TOKEN']}"
    return s


def _check(r: requests.Response) -> requests.Response:
    if r.status_code >= 400:
        try:
            reason = r.json().get("error", r.reason)
        except ValueError:
            reason = r.reason
        raise ServiceError(f"{r.status_code}: {reason}")
    return r


def list_kits(base: str) -> list[dict[str, Any]]:
    return _check(_session().get(base.rstrip("/") + "/api/kits", timeout=30)).json()["kits"]


class ServiceBackend:
    def __init__(self, base: str, name: str | None):
        self.base = base.rstrip("/")
        self.http = _session()
        lease = _check(self.http.post(f"{self.base}/api/kits/{name or 'any'}/lease", timeout=30)).json()
        self.name, self.model = lease["name"], lease["model"]

    def _url(self, action: str) -> str:
        return f"{self.base}/api/kits/{requests.utils.quote(self.name, safe='')}/{action}"

    def exec(self, code: str, on_output: Callable[[str], None], timeout: float | None) -> str:
        out: list[str] = []
        try:
            with self.http.post(self._url("exec"), json={"code": code, "timeout": timeout or 30},
                                stream=True, timeout=(10, (timeout or 30) + 30)) as r:
                _check(r)
                for line in r.iter_lines():
                    event = json.loads(line)
                    if "out" in event:
                        out.append(event["out"])
                        on_output(event["out"])
                    elif "error" in event:
                        err = event["error"]
                        if err["type"] == "BoardError":
                            raise BoardError(err["traceback"])
                        raise KitError(err["vi"], err["en"])
        except KeyboardInterrupt:
            self.http.post(self._url("interrupt"), timeout=10)  # the stop button reaches the board
            raise
        return "".join(out)

    def reset(self, hard: bool) -> None:
        _check(self.http.post(self._url("reset"), json={"hard": hard}, timeout=60))

    def upload(self, data: bytes, remote: str) -> bool:
        return _check(self.http.put(self._url("files"), params={"path": remote}, data=data, timeout=300)).json()["changed"]

    def listdir(self, path: str) -> list[files.Entry]:
        entries = _check(self.http.get(self._url("files"), params={"path": path}, timeout=60)).json()["entries"]
        return [files.Entry(**e) for e in entries]

    def close(self) -> None:
        try:
            self.http.delete(self._url("lease"), timeout=30)
        except requests.RequestException:
            pass
