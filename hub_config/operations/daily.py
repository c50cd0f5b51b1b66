"""A site's backups: `stemlab backup` and the daily one the launcher makes (`[backup] daily`).

The daily backup is due when no backup is newer than the day's backup time that last passed: a
lab server switched off at night makes the backup it missed when it is started in the morning.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from hub_config.operations.backup import BackupReport, complete_backups, made_at, make_backup
from hub_config.operations.manifest import Manifest
from hub_config.site.paths import DataDir
from hub_config.site.settings import SiteSettings

RETRY_AFTER = dt.timedelta(hours=1)  # after a daily backup that failed


def backup_site(settings: SiteSettings, data: DataDir, destination: Path | None = None,
                keep: int | None = None, now: dt.datetime | None = None) -> BackupReport:
    homes: list[str] = []
    if settings.production:
        from hub_config.people.accounts import every_login

        homes = every_login(settings.hub_database_url())  # any release's table: a backup before an upgrade
    return make_backup(data, destination or settings.backup_path(data.root), keep=keep or settings.backup_keep,
                       production=settings.production, home_root=Path(settings.home_root), homes=homes,
                       database_url=settings.hub_database_url(), now=now)


def last_backup(folder: Path) -> Manifest | None:
    backups = complete_backups(folder)
    return Manifest.read(backups[-1]) if backups else None


def last_slot(now: dt.datetime, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The latest moment at `at` o'clock (site time) that is not after `now`."""
    local = now.astimezone(zone)
    slot = dt.datetime.combine(local.date(), at, tzinfo=zone)
    return slot if slot <= local else slot - dt.timedelta(days=1)


def is_due(last: dt.datetime | None, now: dt.datetime, at: dt.time, zone: ZoneInfo) -> bool:
    return last is None or last < last_slot(now, at, zone)


class DailyBackups:
    """Asked by the launcher's loop; makes the backup in a thread of its own when it is due."""

    def __init__(self, settings: SiteSettings, data: DataDir, say: Callable[[str], None]):
        self.settings, self.data, self.say = settings, data, say
        self.at = dt.time.fromisoformat(settings.backup_daily) if settings.backup_daily else None
        self.zone = ZoneInfo(settings.timezone)
        self._running: threading.Thread | None = None
        self._not_before: dt.datetime | None = None

    def tick(self, now: dt.datetime | None = None) -> None:
        if self.at is None or (self._running and self._running.is_alive()):
            return
        now = now or dt.datetime.now(dt.timezone.utc)
        if self._not_before and now < self._not_before:
            return
        # asked every 2 s: the folder's names say when, its manifests (one entry per file) are not read
        backups = complete_backups(self.settings.backup_path(self.data.root))
        if is_due(made_at(backups[-1]) if backups else None, now, self.at, self.zone):
            self._not_before = now + RETRY_AFTER  # the next try, if this one fails
            self._running = threading.Thread(target=self._backup, args=(now,), name="daily-backup", daemon=True)
            self._running.start()

    def _backup(self, now: dt.datetime) -> None:
        try:
            report = backup_site(self.settings, self.data, now=now)
        except Exception as err:  # noqa: BLE001  (told, and tried again in an hour; the platform runs on)
            self.say(f"Sao lưu hằng ngày không được / The daily backup failed: {err}")
            return
        self._not_before = None
        problems = f"; {len(report.manifest.problems)} không lưu được / not stored" if report.manifest.problems else ""
        self.say(f"Đã sao lưu hằng ngày / Daily backup: {report.folder} "
                 f"({report.manifest.total_bytes / 2**20:.1f} MB{problems})")
