"""`stemlab accounts` and `stemlab class`: the admin's rosters and accounts, and a class's servers
started before the lesson. Plugged into `stemlab` like every command group (app/plugins.py)."""

from __future__ import annotations

import argparse
import dataclasses

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hub_config.app.plugins import PlatformSite, class_of, command_adder
from hub_config.people.accounts import NewAccount
from hub_config.site.errors import StemlabError

console = Console(highlight=False)


def print_new_accounts(created: list[NewAccount], title: str) -> None:
    table = Table(title=title)
    for column in ("Họ và tên / Name", "Lớp / Class", "Vai trò / Role", "Đăng nhập / Login", "Mật khẩu / Password"):
        table.add_column(column)
    for a in created:
        table.add_row(a.full_name, ";".join(a.classes), a.role, a.login, a.password)
    console.print(table)


def cmd_accounts_import(args: argparse.Namespace, site: PlatformSite) -> int:
    """Each file in its own transaction: a bad file is told and changes nothing, the others land
    (400 school files import in one run, as fast as one province file)."""
    from hub_config.app.launcher import reload_running_hub
    from hub_config.people.roster import parse_roster
    from hub_config.people.roster_import import RosterImport
    from hub_config.people.schools import school_option

    school = None if args.school is None else school_option(args.school)
    failed, changed = [], False
    with RosterImport(site.data, site.settings.hub_database_url()) as run:
        for file in args.files:
            try:
                entries = parse_roster(file, school)
                if school and args.school.strip() != school:  # --school "THPT An Nhơn" names the school too
                    entries = [dataclasses.replace(e, school_name=e.school_name or args.school.strip())
                               for e in entries]
                report = run.apply(entries, str(file), args.move_school)
            except StemlabError as err:
                if len(args.files) == 1:
                    raise
                console.print(escape(str(err)))
                failed.append(file)
                continue
            changed = changed or bool(report.created or report.updated)
            console.print(
                f"Nhập xong {file}: {len(report.created)} tạo mới, {len(report.updated)} cập nhật, "
                f"{len(report.unchanged)} không đổi. / Imported: {len(report.created)} created, "
                f"{len(report.updated)} updated, {len(report.unchanged)} unchanged."
            )
            if args.show_passwords and report.created:
                print_new_accounts(report.created, "Tài khoản mới / New accounts")
            for sheet in report.sheets:
                console.print(f"Phiếu mật khẩu / Password sheet: {sheet}")
    if changed and reload_running_hub(site.data):
        console.print("Hub đang chạy: đã yêu cầu nạp lại. / The running hub was asked to reload.")
    if failed:
        console.print(f"[bold red]{len(failed)} tệp chưa nhập được / file(s) not imported:[/] "
                      + escape(", ".join(map(str, failed))))
        return 1
    return 0


def cmd_accounts_list(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.people.accounts import list_accounts

    table = Table()
    for column in ("Đăng nhập / Login", "Họ và tên / Name", "Vai trò / Role", "Lớp / Classes"):
        table.add_column(column)
    for a in list_accounts(site.settings.hub_database_url()):
        table.add_row(a.login, a.full_name, a.role, ", ".join(a.class_list))
    console.print(table)
    return 0


def cmd_accounts_reset_password(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.people.roster_import import reset_password

    try:
        password = reset_password(site.data, site.settings.hub_database_url(), args.login)
    except KeyError:
        raise StemlabError(f"Không có tài khoản {args.login}.", f"No account {args.login}: see `stemlab accounts list`.")
    console.print(f"{args.login}: mật khẩu mới / new password: [bold]{password}[/]")
    return 0


def cmd_class_start(args: argparse.Namespace, site: PlatformSite) -> int:
    from rich.progress import Progress

    from hub_config.app.hub_api import HubClient

    hub = HubClient.for_data_dir(site.data)
    members = hub.class_members(class_of(args))
    for user in members:
        hub.start_server(user)
    console.print(f"Đã yêu cầu khởi động {len(members)} máy chủ của lớp {args.class_name}. / "
                  f"Asked the hub to start {len(members)} servers of {args.class_name}.")
    if not args.wait:
        return 0
    with Progress(console=console) as bar:
        task = bar.add_task("Sẵn sàng / Ready", total=len(members))
        late = hub.wait_ready(members, args.timeout, lambda done, total: bar.update(task, completed=done))
    if late:
        console.print(f"[bold red]Chưa sẵn sàng sau {args.timeout:.0f} s / Not ready after {args.timeout:.0f} s:[/] "
                      + ", ".join(late))
        return 1
    console.print("Tất cả máy chủ đã sẵn sàng. / Every server is ready.")
    return 0


class PeopleCommands:
    """The entry point `stemlab.commands: accounts`."""

    help_sections = ((10, "Tài khoản / Accounts (admin)", ("accounts",)),
                     (50, "Lớp học / Classes (admin, teacher)", ("class",)))
    errors: tuple[type[Exception], ...] = (StemlabError,)

    def add_to(self, commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
        add = command_adder(common)

        accounts = add(commands, "accounts", None, "import rosters, list accounts, reset passwords")
        acc_sub = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
        imp = add(acc_sub, "import", cmd_accounts_import, "import a roster (CSV UTF-8 or XLSX): ID, full name, class, role")
        imp.add_argument("files", nargs="+", metavar="file", help="one or more rosters (a school's each, say)")
        imp.add_argument("--show-passwords", action="store_true", help="also print new first passwords")
        imp.add_argument("--school", metavar="CODE",
                         help="the school the whole roster is for (a code, e.g. thpt-quy-nhon); without it, a School "
                              "column names each person's, and a roster with neither is the site's own school")
        imp.add_argument("--move-school", action="store_true",
                         help="let the roster move people already on the platform to the school it names")
        add(acc_sub, "list", cmd_accounts_list, "list accounts")
        reset = add(acc_sub, "reset-password", cmd_accounts_reset_password, "give an account a new generated password")
        reset.add_argument("login")

        klass = add(commands, "class", None, "pre-start the servers of a class before the lesson")
        class_sub = klass.add_subparsers(dest="action", metavar="ACTION", required=True)
        start = add(class_sub, "start", cmd_class_start, "start every student's server of a class (e.g. 10A1)")
        start.add_argument("class_name", metavar="CLASS")
        start.add_argument("--school", metavar="CODE", help="the class's school, by its code (default: the site's own)")
        start.add_argument("--wait", action="store_true", help="wait, with progress, until every server is ready")
        start.add_argument("--timeout", type=float, default=600, help="seconds to wait with --wait (default 600)")


COMMANDS = PeopleCommands()
