"""The admin's operations: `stemlab backup` and `stemlab restore` (a term's snapshot and its way
back), `stemlab upgrade` (an earlier release's data brought up to this one), `stemlab status`.
Plugged into `stemlab` like every command group (app/plugins.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from hub_config.app.plugins import PlatformSite, command_adder
from hub_config.site.errors import StemlabError

console = Console(highlight=False)


def cmd_backup(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.operations.daily import backup_site

    settings = site.settings
    destination = Path(args.to) if args.to else settings.backup_path(site.data_root)
    try:
        report = backup_site(settings, site.data, destination, keep=args.keep)
    except OSError as err:
        raise StemlabError(f"Không sao lưu được vào {destination}: {err.strerror or err}. Hãy chọn thư mục khác "
                           "bằng --to DIR (hoặc [backup] folder), có đủ chỗ trống và quyền ghi.",
                           f"Could not back up to {destination}: {err.strerror or err}. Choose another folder with "
                           "--to DIR (or [backup] folder) with free space you can write to.") from err
    m = report.manifest
    console.print(f"Đã sao lưu / Backed up: {escape(str(report.folder))} — {len(m.entries)} mục / items, "
                  f"{m.total_bytes / 2**20:.1f} MB")
    for path in report.removed:
        console.print(f"  đã xoá bản cũ / removed old: {escape(path.name)}")
    for problem in m.problems:
        console.print(f"  [yellow]không lưu được / not stored:[/] {escape(problem)}")
    return 1 if m.problems else 0


def cmd_restore(args: argparse.Namespace, site: PlatformSite) -> int:
    import os

    from hub_config.app.instance import Holder, PlatformLock
    from hub_config.operations.restore import restore_backup
    from hub_config.site.paths import DataDir

    settings = site.settings
    target = DataDir(settings.data_path())  # not made first: an empty target is the usual one
    lock = PlatformLock(target)
    if target.root.exists():
        lock.acquire(Holder(os.getpid(), "stemlab restore", str(target.root)))  # refused while the platform runs
    try:
        report = restore_backup(Path(args.backup), target.root, force=args.force,
                                home_root=Path(settings.home_root) if settings.production else None,
                                database_url=settings.hub_database_url())
    finally:
        lock.release()
    m = report.manifest
    console.print(f"Đã khôi phục / Restored: {report.restored} mục / items from {escape(m.created)} "
                  f"into {escape(str(target.root))}")
    if report.accounts_made:
        console.print(f"  tài khoản Linux được tạo lại / Linux accounts made again: {escape(', '.join(report.accounts_made))}")
    if report.moved_aside:
        console.print(f"  dữ liệu cũ được giữ ở / the old data is kept in: {escape(str(report.moved_aside))}")
    for note in report.notes:
        console.print(f"  [yellow]{escape(note)}[/]")
    return 0


def cmd_upgrade(args: argparse.Namespace, site: PlatformSite) -> int:
    import os

    from hub_config.app.instance import Holder, PlatformLock
    from hub_config.operations.upgrade import upgrade_data

    lock = PlatformLock(site.data)
    lock.acquire(Holder(os.getpid(), "stemlab upgrade", str(site.data_root)))  # refused while the platform runs
    try:
        report = upgrade_data(site.settings, site.data, lambda text: console.print(escape(text)))
    finally:
        lock.release()
    if not report.upgraded:
        console.print("Dữ liệu đã là của phiên bản này: không cần nâng cấp. / The data is this release's already: "
                      "nothing to upgrade.")
    return 0


def cmd_status(args: argparse.Namespace, site: PlatformSite) -> int:
    import json

    from rich.table import Table

    from hub_config.app.launcher import running_launcher
    from hub_config.operations.health import State, site_health

    checks = site_health(site.settings, site.data, running_launcher(site.data))
    if args.json:
        print(json.dumps([{"name": c.name, "state": c.state.value, "vi": c.vi, "en": c.en} for c in checks],
                         ensure_ascii=False))
    else:
        table = Table(title="STEM-Lab Hub")
        for column in ("Mục / Check", "Trạng thái / State", "Chi tiết / Detail"):
            table.add_column(column)
        colour = {State.OK: "green", State.WARNING: "yellow", State.DOWN: "red"}
        for c in checks:
            table.add_row(c.name, f"[{colour[c.state]}]{c.state.value}[/]", f"{escape(c.vi)}\n{escape(c.en)}")
        console.print(table)
    return 1 if any(c.state is State.DOWN for c in checks) else 0


class OperationsCommands:
    """The entry point `stemlab.commands: operations`."""

    help_sections = ((80, "Vận hành / Operations (admin)", ("backup", "restore", "upgrade", "status")),)
    errors: tuple[type[Exception], ...] = (StemlabError,)

    def add_to(self, commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
        add = command_adder(common)
        backup = add(commands, "backup", cmd_backup,
                     "snapshot the term's data while the platform runs (databases, gradebooks, homes, kit reports)")
        backup.add_argument("--to", metavar="DIR", help="where to write it (default: [backup] folder)")
        backup.add_argument("--keep", type=int, metavar="N", help="keep the newest N backups there (default: [backup] keep)")
        restore = add(commands, "restore", cmd_restore,
                      "bring a backup back into the data directory (checked whole first; the platform stopped)")
        restore.add_argument("backup", metavar="BACKUP", help="a backup folder (stemlab-backup-...)")
        restore.add_argument("--force", action="store_true",
                             help="replace a data directory that holds data (the old one is kept beside it)")
        add(commands, "upgrade", cmd_upgrade,
            "bring an earlier release's data up to this one (backed up first; `stemlab up` does it too)")
        status = add(commands, "status", cmd_status,
                     "is it all running: hub, proxy, disk space, last backup, students' servers (exit 1 if down)")
        status.add_argument("--json", action="store_true", help="one JSON list, for monitoring scripts")


COMMANDS = OperationsCommands()
