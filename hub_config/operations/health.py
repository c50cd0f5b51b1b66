"""`stemlab status`: what an admin (or a monitoring script) asks first when something is wrong.

Each check is asked of the real thing: the hub's and the proxy's health endpoints over HTTP, the
processes `stemlab up` recorded, the data directory's disk, the backup folder's last backup, the
students' servers of this hub by their process titles.
"""

from __future__ import annotations

import datetime as dt
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import Enum
from typing import Any

import psutil

from hub_config.operations.daily import last_backup
from hub_config.site.paths import DataDir
from hub_config.site.settings import SiteSettings
from hub_config.warm.server_child import reports_to

LOW_DISK_FRACTION = 0.10
LOW_DISK_BYTES = 2 * 2**30
STALE_BACKUP = dt.timedelta(days=2)


class State(str, Enum):
    OK = "ok"
    WARNING = "warning"
    DOWN = "down"


@dataclass(frozen=True)
class Check:
    name: str          # stable, for scripts: platform, hub, proxy, teach, disk, backup, servers
    state: State
    vi: str
    en: str


def site_health(settings: SiteSettings, data: DataDir, launcher: dict[str, Any] | None) -> list[Check]:
    checks = [_disk(data), _backup(settings, data)]
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
        *checks,
        _servers(hub_api),
    ]


def _loopback(ip: str) -> str:
    return "127.0.0.1" if ip in ("", "0.0.0.0", "::") else ip


def _http(name: str, url: str, what: str) -> Check:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            status = answer.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError as err:
        return Check(name, State.DOWN, f"{what}: không trả lời ({err}).", f"{what}: does not answer ({err}).")
    if status == 200:
        return Check(name, State.OK, f"{what}: trả lời.", f"{what}: answers.")
    return Check(name, State.DOWN, f"{what}: trả lời {status}.", f"{what}: answers {status}.")


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


def _servers(hub_api: str) -> Check:
    count = 0
    for process in psutil.process_iter(["cmdline"]):
        try:
            cmdline = process.info["cmdline"] or []
            if "singleuser" in " ".join(cmdline) and reports_to(cmdline, process.environ(), hub_api):
                count += 1
        except psutil.Error:
            continue
    return Check("servers", State.OK, f"{count} máy chủ của học sinh đang chạy.", f"{count} students' servers running.")
