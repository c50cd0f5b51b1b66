"""`stemlab status`: what an admin (or a monitoring script) asks first when something is wrong.

Each check is asked of the real thing: the hub's and the proxy's health endpoints over HTTP, the
process `stemlab up` recorded, the proxy's routing table (every service the hub routes, asked at
its own address; the students' servers it routes), the data directory's disk, the backup folder's
last backup, the kits plugged into this machine. The admin's health page shows the same checks.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import Enum
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lab_hardware.discovery import usb_serial_ports

from hub_config.operations.daily import last_backup
from hub_config.operations.recovery import settled_at_last_start
from hub_config.site.paths import DataDir
from hub_config.site.settings import SiteSettings

LOW_DISK_FRACTION = 0.10
LOW_DISK_BYTES = 2 * 2**30
STALE_BACKUP = dt.timedelta(days=2)


class State(str, Enum):
    OK = "ok"
    WARNING = "warning"
    DOWN = "down"


@dataclass(frozen=True)
class Check:
    name: str          # stable, for scripts: platform, hub, proxy, service:<name>, servers, disk, backup, kits
    state: State
    vi: str
    en: str


def site_health(settings: SiteSettings, data: DataDir, launcher: dict[str, Any] | None) -> list[Check]:
    """`launcher`: what `stemlab up` recorded (hub_config.app.launcher.running_launcher), None when it is not running."""
    checks = [_disk(data), _backup(settings, data), _kits(), *_interrupted(data)]
    if launcher is None:
        return [Check("platform", State.DOWN, "Chưa chạy: khởi động bằng stemlab up.",
                      "Not running: start it with stemlab up."), *checks]
    hub_api = f"http://127.0.0.1:{launcher['hub_port']}/hub/api"
    public = f"http://{_loopback(launcher['settings']['ip'])}:{launcher['settings']['port']}"
    return [
        Check("platform", State.OK, f"stemlab up đang chạy (pid {launcher['launcher_pid']}).",
              f"stemlab up is running (pid {launcher['launcher_pid']})."),
        _http("hub", f"{hub_api}/health", "hub"),
        _http("proxy", f"{public}/hub/health", "proxy (public port)"),
        *_routed(f"http://127.0.0.1:{launcher['proxy_api_port']}/api/routes", data),
        *checks,
    ]


def _loopback(ip: str) -> str:
    return "127.0.0.1" if ip in ("", "0.0.0.0", "::") else ip


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a service sending a visitor to log in has answered


_opener = urllib.request.build_opener(_NoRedirect)


def _status_of(url: str) -> int | str:
    """The HTTP status an address answers with, or why it did not answer."""
    try:
        with _opener.open(url, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return err.code
    except OSError as err:
        return str(getattr(err, "reason", err))


def _http(name: str, url: str, what: str, healthy: Callable[[int], bool] = lambda status: status == 200) -> Check:
    status = _status_of(url)
    if isinstance(status, str):
        return Check(name, State.DOWN, f"{what}: không trả lời ({status}).", f"{what}: does not answer ({status}).")
    if healthy(status):
        return Check(name, State.OK, f"{what}: trả lời.", f"{what}: answers.")
    return Check(name, State.DOWN, f"{what}: trả lời {status}.", f"{what}: answers {status}.")


def _routed(routes_api: str, data: DataDir) -> list[Check]:
    """Every service in the proxy's routing table, asked at its own address (a service that
    answers below 500 runs: one that wants a login answers 302 or 403); the students' servers routed."""
    try:
        token = (data.secrets_dir / "proxy_token").read_text().strip()
    except OSError as err:
        return [Check("routes", State.WARNING, f"Không đọc được khoá của proxy ({err.strerror}): hãy chạy với quyền "
                      "của người quản trị nền tảng (root).", f"Cannot read the proxy's key ({err.strerror}): run it "
                      "as the platform's admin (root).")]
    try:
        request = urllib.request.Request(routes_api, headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            routes: dict[str, dict[str, Any]] = json.load(answer)
    except (OSError, ValueError) as err:
        return [Check("routes", State.DOWN, f"Không đọc được bảng định tuyến của proxy ({err}).",
                      f"Cannot read the proxy's routing table ({err}).")]
    services = [(path.split("/")[2], route["target"].rstrip("/") + path.rstrip("/") + "/")
                for path, route in sorted(routes.items()) if path.startswith("/services/")]
    # asked at once: a province's hub routes a formgrader per offering, and one that does not
    # answer takes its whole timeout
    with ThreadPoolExecutor(16) as pool:
        checks = list(pool.map(lambda service: _http(f"service:{service[0]}", service[1],
                                                     f"dịch vụ / service {service[0]}",
                                                     healthy=lambda status: status < 500), services))
    servers = sum(1 for path in routes if path.startswith("/user/"))
    checks.append(Check("servers", State.OK, f"{servers} máy chủ của người dùng đang chạy.",
                        f"{servers} users' servers running."))
    return checks


def _disk(data: DataDir) -> Check:
    usage = shutil.disk_usage(data.root)
    free_gb, share = usage.free / 2**30, usage.free / usage.total
    text = (f"còn trống {free_gb:.1f} GB ({share:.0%}) ở {data.root}", f"{free_gb:.1f} GB ({share:.0%}) free at {data.root}")
    low = usage.free < LOW_DISK_BYTES or share < LOW_DISK_FRACTION
    if low:
        return Check("disk", State.WARNING, f"Ổ đĩa sắp đầy: {text[0]}.", f"The disk is nearly full: {text[1]}.")
    return Check("disk", State.OK, f"Ổ đĩa: {text[0]}.", f"Disk: {text[1]}.")


def _backup(settings: SiteSettings, data: DataDir, now: dt.datetime | None = None) -> Check:
    last = last_backup(settings.backup_path(data.root))
    if last is None:
        return Check("backup", State.WARNING, "Chưa có bản sao lưu nào (stemlab backup, hoặc [backup] daily).",
                     "No backup yet (stemlab backup, or [backup] daily).")
    made = dt.datetime.fromisoformat(last.created)
    size = f"{last.total_bytes / 2**20:.1f} MB"
    when = made.strftime("%Y-%m-%d %H:%M UTC")
    if (now or dt.datetime.now(dt.timezone.utc)) - made > STALE_BACKUP:
        return Check("backup", State.WARNING, f"Bản sao lưu gần nhất đã cũ: {when}, {size}.",
                     f"The last backup is old: {when}, {size}.")
    return Check("backup", State.OK, f"Bản sao lưu gần nhất: {when}, {size}.", f"Last backup: {when}, {size}.")


def _interrupted(data: DataDir) -> list[Check]:
    """What the last start found a crash had stopped half-way, and what to do again."""
    return [Check("interrupted", State.WARNING, vi, en) for vi, en in settled_at_last_start(data)]


def _kits() -> Check:
    ports = usb_serial_ports()
    return Check("kits", State.OK, f"{len(ports)} bộ kit cắm vào máy này (USB).",
                 f"{len(ports)} kits plugged into this machine (USB).")
