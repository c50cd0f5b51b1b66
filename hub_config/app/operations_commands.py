"""`stemlab backup`: the admin's snapshot of a term's data. Plugged into `stemlab` like every
command group (app/plugins.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from hub_config.app.plugins import PlatformSite, command_adder
from hub_config.site.errors import StemlabError

console = Console(highlight=False)


def cmd_backup(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.operations.backup import make_backup

    settings = site.settings
    destination = Path(args.to) if args.to else settings.backup_path(site.data_root)
    homes: list[str] = []
    if settings.production:
        from hub_config.people.accounts import list_accounts

        homes = [a.login for a in list_accounts(settings.hub_database_url())]
    try:
        report = make_backup(site.data, destination, keep=args.keep or settings.backup_keep,
                             production=settings.production, home_root=Path(settings.home_root), homes=homes,
                             database_url=settings.hub_database_url())
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


class OperationsCommands:
    """The entry point `stemlab.commands: operations`."""

    help_sections = ((80, "Vận hành / Operations (admin)", ("backup",)),)
    errors: tuple[type[Exception], ...] = (StemlabError,)

    def add_to(self, commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
        add = command_adder(common)
        backup = add(commands, "backup", cmd_backup,
                     "snapshot the term's data while the platform runs (databases, gradebooks, homes, kit reports)")
        backup.add_argument("--to", metavar="DIR", help="where to write it (default: [backup] folder)")
        backup.add_argument("--keep", type=int, metavar="N", help="keep the newest N backups there (default: [backup] keep)")


COMMANDS = OperationsCommands()
