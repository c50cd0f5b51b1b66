"""The `stemlab` command: the front door for admins, teachers and lab technicians.

Its commands come in groups, each plugged in through the entry-point group `stemlab.commands`
(app/plugins.py): the hub's own (accounts and classes, courses and grading) and those of the
packages it composes (kits from lab_hardware, the grading sandbox from autograders). This module
keeps `up` and `config`, builds the parser from every group, and turns each group's errors into
a message. Everything a command calls returns data or raises an error whose message says what to do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hub_config.app.plugins import CommandGroup, PlatformSite, command_adder, plugged_groups
from hub_config.site.errors import StemlabError

console = Console(highlight=False)
DEMO_ROSTER = Path(__file__).resolve().parents[1] / "demo" / "roster.csv"

RUN_SECTION = (0, "Chạy hệ thống / Run the platform (admin)", ("up",))
CONFIG_SECTION = (90, "Cấu hình / Configuration (admin)", ("config",))


def grouped_help(sections: list[tuple[int, str, tuple[str, ...]]]) -> type[argparse.HelpFormatter]:
    """`stemlab --help` lists the commands under who uses them, in the groups' order."""

    class GroupedHelp(argparse.RawDescriptionHelpFormatter):
        def _format_action(self, action: argparse.Action) -> str:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                lines = []
                for _, title, names in sorted(sections):
                    lines.append(f"{title}:")
                    lines.extend(f"  {name:<12} {helps.get(name, '')}" for name in names)
                return "\n".join(lines) + "\n"
            return super()._format_action(action)

    return GroupedHelp


def cmd_up(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.app.launcher import Launcher
    from hub_config.app.people_commands import print_new_accounts
    from hub_config.operations.recovery import settle_interrupted
    from hub_config.operations.upgrade import upgrade_data
    from hub_config.people.accounts import has_accounts
    from hub_config.people.roster_import import apply_roster
    from hub_config.people.roster import parse_roster

    loaded = site.loaded
    settings = loaded.settings
    launcher = Launcher(settings, say=lambda message: console.print(escape(message)))
    # Signals during start-up must not leave a half-started proxy behind.
    launcher.install_signal_handlers()
    launcher.claim()
    # before anything reads the data: a newer release's is refused, an older one's backed up and upgraded
    upgrade_data(settings, launcher.data, say=lambda text: console.print(escape(text)))
    for settled in settle_interrupted(settings, launcher.data):  # steps a crash stopped half-way
        console.print(f"[yellow]{escape(settled.vi)}\n{escape(settled.en)}[/]")
    if not settings.production and not has_accounts(settings.hub_database_url()):
        report = apply_roster(launcher.data, settings.hub_database_url(), parse_roster(DEMO_ROSTER))
        print_new_accounts(report.created, "Tài khoản demo (chỉ in một lần) / Demo accounts (printed once)")
        console.print(f"Đã lưu vào / Saved to: {', '.join(str(p) for p in report.sheets)}")
    try:
        runtime = launcher.start()
    except BaseException:
        launcher.stop()
        raise
    if not settings.production:
        console.print(
            "[bold yellow]Chế độ demo: học sinh KHÔNG được tách biệt với nhau (mọi máy chủ chạy chung một tài khoản).\n"
            "Demo mode: students are NOT isolated from each other (all servers share one account).[/]"
        )
    console.print(
        f"STEM-Lab Hub đang chạy tại / is running at [bold]{runtime.public_url}[/]\n"
        f"Dữ liệu / Data: {launcher.data.root}   Nhật ký / Logs: {launcher.data.logs_dir}\n"
        "Nhấn Ctrl-C để dừng. / Press Ctrl-C to stop."
    )
    launcher.supervise()
    console.print("Đã dừng hub, proxy và máy chủ của người dùng. / Stopped hub, proxy and user servers.")
    return 0


def cmd_config_show(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.site.settings import SiteSettings, dotted_key

    loaded = site.loaded
    table = Table(title=f"Cấu hình hiệu lực / Effective settings ({loaded.config_path or 'no file: defaults'})")
    for column in ("Khóa / Key", "Giá trị / Value", "Nguồn / Source"):
        table.add_column(column)
    traits = SiteSettings.class_traits(config=True)
    for name in sorted(traits, key=dotted_key):
        table.add_row(dotted_key(name), repr(getattr(loaded.settings, name)), loaded.sources[name])
    console.print(table)
    return 0


def cmd_config_init(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.site.settings import example_toml

    path = Path(args.path)
    if path.exists():
        raise StemlabError(f"{path} đã tồn tại; hãy sửa tệp đó hoặc chọn đường dẫn khác.",
                           f"{path} already exists; edit it, or choose another path.")
    path.write_text(example_toml(), encoding="utf-8")
    console.print(f"Wrote {path}: uncomment and edit the settings you need.")
    return 0


def build_parser(groups: list[CommandGroup] | None = None) -> argparse.ArgumentParser:
    groups = plugged_groups() if groups is None else groups

    def common_options(default: object) -> argparse.ArgumentParser:
        # Accepted before or after the subcommand; SUPPRESS keeps a subcommand from erasing
        # a value given before it.
        p = argparse.ArgumentParser(add_help=False)
        p.add_argument("--config", metavar="FILE", default=default,
                       help="site settings file (default: $STEMLAB_CONFIG or ./stemlab.toml)")
        p.add_argument("--data", metavar="DIR", default=default, help="data directory (default: $STEMLAB_DATA or ./var)")
        return p

    common = common_options(argparse.SUPPRESS)
    sections = [RUN_SECTION, *[s for g in groups for s in g.help_sections], CONFIG_SECTION]
    parser = argparse.ArgumentParser(
        prog="stemlab",
        description="STEM-Lab Hub: JupyterHub, nbgrader và bộ kit MicroPython cho phòng STEM-Lab.\n"
        "STEM-Lab Hub: JupyterHub, nbgrader and MicroPython kits for school STEM-Labs.",
        formatter_class=grouped_help(sections),
        parents=[common_options(None)],
    )
    parser._positionals.title = "lệnh / commands"
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    add = command_adder(common)

    up = add(sub, "up", cmd_up, "run the platform in the foreground (Ctrl-C stops hub, proxy and servers)")
    up.add_argument("--port", type=int, help="public port (default 8000)")
    for group in groups:
        group.add_to(sub, common)
    config = add(sub, "config", None, "show the effective site settings or write a commented settings file")
    cfg_sub = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    add(cfg_sub, "show", cmd_config_show, "print every setting, its value and where it came from")
    init = add(cfg_sub, "init", cmd_config_init, "write a commented stemlab.toml with every setting")
    init.add_argument("path", nargs="?", default="stemlab.toml")
    return parser


def main(argv: list[str] | None = None) -> int:
    import os

    from hub_config.site.paths import PRIVATE_UMASK
    from hub_config.system.environment import tools_on_path

    tools_on_path()
    os.umask(PRIVATE_UMASK)
    try:
        groups = plugged_groups()
    except StemlabError as err:
        console.print(f"[bold red]Lỗi / Error:[/] {escape(str(err))}", soft_wrap=True)
        return err.exit_code
    args = build_parser(groups).parse_args(argv)
    known_errors: tuple[type[Exception], ...] = (StemlabError, *(e for g in groups for e in g.errors))
    try:
        return int(args.handler(args, PlatformSite(args)))
    except known_errors as err:
        # escape: messages quote settings such as "[mode] production", which are not markup
        console.print(f"[bold red]Lỗi / Error:[/] {escape(str(err))}", soft_wrap=True)
        return int(getattr(err, "exit_code", 2))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
