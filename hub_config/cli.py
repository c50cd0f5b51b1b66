"""The `stemlab` command: the front door for admins, teachers and lab technicians.

Only this module (and the notebook layer) talks to people; everything it calls returns data
or raises a StemlabError whose message says what to do.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import StemlabError
from .settings import LoadedSettings, load_settings

console = Console(highlight=False)
DEMO_ROSTER = Path(__file__).resolve().parent / "demo" / "roster.csv"

# Subcommands grouped by who uses them; `stemlab --help` prints this order.
AUDIENCES: list[tuple[str, list[str]]] = [
    ("Chạy hệ thống / Run the platform (admin)", ["up"]),
    ("Tài khoản / Accounts (admin)", ["accounts"]),
    ("Khóa học / Courses (teacher)", ["courses"]),
    ("Chấm bài / Grading (teacher)", ["grade", "grades"]),
    ("Lớp học / Classes (admin, teacher)", ["class"]),
    ("Bộ kit / Kits (lab technician)", ["kits"]),
    ("Cấu hình / Configuration (admin)", ["config"]),
]


class GroupedHelp(argparse.RawDescriptionHelpFormatter):
    def _format_action(self, action: argparse.Action) -> str:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            lines = []
            for title, names in AUDIENCES:
                lines.append(f"{title}:")
                lines.extend(f"  {name:<12} {helps.get(name, '')}" for name in names)
            return "\n".join(lines) + "\n"
        return super()._format_action(action)


def _load(args: argparse.Namespace) -> LoadedSettings:
    overrides = {"data_dir": getattr(args, "data", None), "port": getattr(args, "port", None)}
    return load_settings(args.config, overrides)


# ---- up ------------------------------------------------------------------------------------
def cmd_up(args: argparse.Namespace) -> int:
    from .accounts import apply_roster, list_accounts
    from .launcher import Launcher
    from .roster import parse_roster

    loaded = _load(args)
    settings = loaded.settings
    launcher = Launcher(settings, say=lambda message: console.print(escape(message)))
    # Signals during start-up must not leave a half-started proxy behind.
    launcher.install_signal_handlers()
    launcher.claim()
    if not settings.production and not list_accounts(settings.hub_database_url()):
        report = apply_roster(launcher.data, settings.hub_database_url(), parse_roster(DEMO_ROSTER))
        _print_new_accounts(report.created, "Tài khoản demo (chỉ in một lần) / Demo accounts (printed once)")
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


def _print_new_accounts(created: list, title: str) -> None:
    table = Table(title=title)
    for column in ("Họ và tên / Name", "Lớp / Class", "Vai trò / Role", "Đăng nhập / Login", "Mật khẩu / Password"):
        table.add_column(column)
    for a in created:
        table.add_row(a.full_name, ";".join(a.classes), a.role, a.login, a.password)
    console.print(table)


# ---- accounts ------------------------------------------------------------------------------
def cmd_accounts_import(args: argparse.Namespace) -> int:
    from .accounts import apply_roster
    from .launcher import running_launcher
    from .paths import DataDir
    from .roster import parse_roster

    settings = _load(args).settings
    entries = parse_roster(args.file)
    data = DataDir(settings.data_path()).ensure()
    report = apply_roster(data, settings.hub_database_url(), entries)
    console.print(
        f"Nhập xong {args.file}: {len(report.created)} tạo mới, {len(report.updated)} cập nhật, "
        f"{len(report.unchanged)} không đổi. / Imported: {len(report.created)} created, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged."
    )
    if args.show_passwords and report.created:
        _print_new_accounts(report.created, "Tài khoản mới / New accounts")
    for sheet in report.sheets:
        console.print(f"Phiếu mật khẩu / Password sheet: {sheet}")
    state = running_launcher(data)
    if state and (report.created or report.updated):
        os.kill(state["launcher_pid"], signal.SIGHUP)
        console.print("Hub đang chạy: đã yêu cầu nạp lại. / The running hub was asked to reload.")
    return 0


def cmd_accounts_list(args: argparse.Namespace) -> int:
    from .accounts import list_accounts

    settings = _load(args).settings
    table = Table()
    for column in ("Đăng nhập / Login", "Họ và tên / Name", "Vai trò / Role", "Lớp / Classes"):
        table.add_column(column)
    for a in list_accounts(settings.hub_database_url()):
        table.add_row(a.login, a.full_name, a.role, ", ".join(a.class_list))
    console.print(table)
    return 0


def cmd_accounts_reset_password(args: argparse.Namespace) -> int:
    from .accounts import reset_password

    settings = _load(args).settings
    try:
        password = reset_password(settings.hub_database_url(), args.login)
    except KeyError:
        raise StemlabError(f"Không có tài khoản {args.login}. / No account {args.login}: see `stemlab accounts list`.")
    console.print(f"{args.login}: mật khẩu mới / new password: [bold]{password}[/]")
    return 0


# ---- courses -----------------------------------------------------------------------------
def cmd_courses_catalog(args: argparse.Namespace) -> int:
    from .catalog import load_catalog

    catalog = load_catalog()
    table = Table(title="Khóa học có sẵn / Courses available")
    for column in ("Mã / ID", "Tên / Title", "Đối tượng / Audience", "Bài / Assignments", "Điểm / Points"):
        table.add_column(column)
    for course in catalog.courses.values():
        table.add_row(course.id, str(course.title), str(course.audience),
                      "\n".join(f"{a.id}: {a.title.vi}" for a in course.assignments),
                      "\n".join(f"{a.points:g}" for a in course.assignments))
    console.print(table)
    for err in catalog.broken:
        console.print(f"[bold red]Khóa học lỗi / Broken course:[/] {escape(str(err))}")
    return 1 if catalog.broken else 0


def cmd_courses_check(args: argparse.Namespace) -> int:
    from .authoring import check_assignment
    from .catalog import load_catalog

    catalog = load_catalog()
    courses = [catalog.course(args.course)] if args.course else list(catalog.courses.values())
    problems = [str(err) for err in catalog.broken if not args.course]
    for course in courses:
        for assignment in course.assignments:
            found = check_assignment(course, assignment)
            problems.extend(found)
            mark = "[green]OK[/]" if not found else f"[red]{len(found)} problem(s)[/]"
            console.print(f"{course.id}/{assignment.id}: {mark}")
    for problem in problems:
        console.print(f"  - {escape(problem)}", soft_wrap=True)
    return 1 if problems else 0


def cmd_courses_offer(args: argparse.Namespace) -> int:
    from .catalog import load_catalog
    from .launcher import running_launcher
    from .offerings import current_school_year, offer
    from .paths import DataDir

    settings = _load(args).settings
    data = DataDir(settings.data_path()).ensure()
    course = load_catalog().course(args.course)
    year = args.year or current_school_year()
    offering = offer(data, settings.hub_database_url(), course, args.class_name, args.school or settings.school_name, year,
                     production=settings.production)
    counts = offering.counts()
    console.print(f"Khóa học / Offering [bold]{offering.id}[/]: {course.title} · {args.class_name} · {year} · "
                  f"{counts['students']} học sinh / students.\n  {offering.root}")
    state = running_launcher(data)
    if state:
        os.kill(state["launcher_pid"], signal.SIGHUP)
    return 0


def cmd_courses_release(args: argparse.Namespace) -> int:
    from .catalog import load_catalog
    from .offerings import write_site_nbgrader_config
    from .paths import DataDir
    from .site.clock import parse_local, school_zone
    from .teaching.loop import find_offering, release

    settings = _load(args).settings
    data = DataDir(settings.data_path()).ensure()
    offering = find_offering(data, args.offering)
    load_catalog().course(offering.course_id).assignment(args.assignment)  # a clear error for a typo
    write_site_nbgrader_config(data, settings.production)
    due = parse_local(args.due, school_zone(settings.timezone)) if args.due else None
    release(data, offering, args.assignment, due)
    console.print(f"Đã giao bài {args.assignment} cho lớp {offering.class_name}. / Released {args.assignment} "
                  f"to {offering.class_name} ({offering.id}).")
    return 0


def _offering_step(args: argparse.Namespace, step: Callable, done_vi: str, done_en: str) -> int:
    from .paths import DataDir
    from .teaching.loop import find_offering

    settings = _load(args).settings
    data = DataDir(settings.data_path()).ensure()
    offering = find_offering(data, args.offering)
    extra = {"student": args.student} if getattr(args, "student", None) else {}
    for warning in step(data, offering, args.assignment, **extra) or []:
        console.print(f"[yellow]{escape(warning)}[/]")
    console.print(f"{done_vi} {args.assignment} ({offering.id}). / {done_en} {args.assignment} ({offering.id}).")
    return 0


def cmd_courses_collect(args: argparse.Namespace) -> int:
    from .teaching.loop import collect

    return _offering_step(args, collect, "Đã thu bài", "Collected")


def cmd_courses_feedback(args: argparse.Namespace) -> int:
    from .teaching.loop import feedback

    return _offering_step(args, feedback, "Đã trả nhận xét", "Released feedback for")


def cmd_grade(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .paths import DataDir
    from .teaching.loop import autograde, find_offering

    settings = _load(args).settings
    data = DataDir(settings.data_path()).ensure()
    offering = find_offering(data, args.offering)
    failed = [0]
    with Progress(TextColumn("Chấm bài / Grading"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("lỗi / failed {task.fields[failed]}"), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("grade", total=None, failed=0)

        def progress(result, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
            failed[0] += bool(result.error)
            bar.update(task, completed=done, total=total, failed=failed[0])

        def say_missing(missing: list[str]) -> None:  # once, before anything runs
            if missing:
                bar.console.print("[yellow]Hộp cát chấm bài thiếu / The grading sandbox cannot enforce:[/] "
                                  + escape("; ".join(missing)))

        summary = autograde(data, offering, args.assignment, student=args.student, progress=progress,
                            workers=args.workers, on_start=say_missing)
    for r in summary.flagged:
        for flag in r.flags:
            console.print(f"[yellow]⚑ {escape(r.student)} {escape(r.notebook)} {escape(str(flag['cell']))}:[/] "
                          f"{escape(flag['reason'])}")
    for r in summary.failed:
        console.print(f"[red]{escape(r.student)} {escape(r.notebook)}:[/] {escape(r.error or '')}")
    for (notebook, cell), reason in sorted(summary.judged_in_kernel.items()):
        console.print(f"[yellow]Chấm trong kernel của học sinh / judged inside the students' kernels: "
                      f"{escape(notebook)} {escape(cell)}:[/] {escape(reason)}")
    console.print(f"Đã chấm / Graded {len(summary.results)} bài / notebooks of {offering.id} in "
                  f"{summary.seconds:.1f} s: {len(summary.failed)} lỗi / failed, {len(summary.flagged)} cần xem / "
                  "flagged for review (in the formgrader and the grade sheet).")
    return 1 if summary.failed else 0


def cmd_grades_export(args: argparse.Namespace) -> int:
    from .grade_sheets import export
    from .paths import DataDir
    from .teaching.loop import find_offering

    settings = _load(args).settings
    data = DataDir(settings.data_path()).ensure()
    offering = find_offering(data, args.offering)
    for path in export(offering, Path(args.out or data.root / "grades"), args.format):
        console.print(f"Bảng điểm / Grade sheet: {path}")
    return 0


def cmd_courses_list(args: argparse.Namespace) -> int:
    from .offerings import list_offerings
    from .paths import DataDir

    settings = _load(args).settings
    table = Table(title="Khóa học đang mở / Course offerings")
    for column in ("Mã / ID", "Lớp / Class", "Năm học / Year", "Học sinh / Students", "Bài đã giao / Released",
                   "Bài nộp / Submissions"):
        table.add_column(column)
    for offering in list_offerings(DataDir(settings.data_path())):
        c = offering.counts()
        table.add_row(offering.id, offering.class_name, offering.year, str(c["students"]), str(c["released"]),
                      str(c["submissions"]))
    console.print(table)
    return 0


# ---- class -------------------------------------------------------------------------------
def cmd_class_start(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from .hub_api import HubClient
    from .paths import DataDir

    settings = _load(args).settings
    hub = HubClient.for_data_dir(DataDir(settings.data_path()))
    members = hub.class_members(args.class_name)
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


# ---- kits --------------------------------------------------------------------------------
def cmd_kits_list(args: argparse.Namespace) -> int:
    from lab_hardware.inventory import all_kits, probe_all
    from .paths import DataDir

    settings = _load(args).settings
    kits = all_kits(DataDir(settings.data_path()).ensure().root)
    if not kits:
        console.print("Không thấy bộ kit nào. / No kit found: check the USB cable (some are charge-only), "
                      "plug the kit in again, and run `stemlab kits list` again.")
        return 1
    if not args.no_probe:
        kits = probe_all(kits)
    table = Table(title="Bộ kit / Kits")
    for column in ("Kit", "Cổng / Port", "VID:PID", "Bo mạch / Board", "Tên cố định / Stable name", "Ghi chú / Note"):
        table.add_column(column)
    for kit in kits:
        if kit.identity:
            board = f"{kit.identity.model} (MicroPython {kit.identity.firmware})"
        elif kit.port and kit.port.hint:
            board = "? " + ", ".join(kit.port.hint.candidates) + f" ({kit.port.hint.bridge})"
        else:
            board = "?"
        usb = kit.port.usb_id if kit.port else kit.kind
        table.add_row(escape(kit.name), kit.url, usb or "", escape(board), kit.stable_name, escape(kit.problem or ""))
    console.print(table)
    return 0


def cmd_kits_label(args: argparse.Namespace) -> int:
    from lab_hardware.inventory import KitsFile, all_kits
    from .paths import DataDir

    root = DataDir(_load(args).settings.data_path()).ensure().root
    kits = all_kits(root)  # each listing scans the USB ports: once is enough
    known = {k.stable_name: k for k in kits} | {k.url: k for k in kits}
    kit = known.get(args.kit)
    if kit is None:
        raise StemlabError(f"Không thấy kit {args.kit}. / No kit {args.kit}: use a port or stable name from "
                           "`stemlab kits list`.")
    kits_file = KitsFile.load(root)
    kits_file.labels[kit.stable_name] = args.label
    kits_file.save()
    console.print(f"{kit.stable_name} → {escape(args.label)}")
    return 0


def cmd_kits_test(args: argparse.Namespace) -> int:
    from rich.live import Live

    from lab_hardware.inventory import all_kits
    from lab_hardware.selftest import CHECKS, FAIL, PASS, save_reports, skip_reasons, test_room
    from .paths import DataDir

    root = DataDir(_load(args).settings.data_path()).ensure().root
    kits = all_kits(root)
    if args.kits:
        chosen = [k for k in kits if {k.url, k.stable_name, k.label} & set(args.kits)]
        unknown = set(args.kits) - {n for k in chosen for n in (k.url, k.stable_name, k.label)}
        if unknown:
            raise StemlabError(f"Không thấy kit {', '.join(sorted(unknown))}. / No kit {', '.join(sorted(unknown))}: "
                               "see `stemlab kits list`.")
        kits = chosen
    elif not args.all:
        raise StemlabError("Chọn kit cần kiểm tra, hoặc --all. / Name the kits to test, or --all.")
    if not kits:
        raise StemlabError("Không thấy bộ kit nào. / No kit found: see `stemlab kits list`.")
    state: dict[str, dict[str, str]] = {k.name: {} for k in kits}
    symbols = {PASS: "[green]✓[/]", FAIL: "[red]✗[/]", "skip": "–", "warn": "[yellow]![/]"}

    def table() -> Table:
        t = Table(title="Kiểm tra kit / Kit self-test")
        t.add_column("Kit")
        for check, _ in CHECKS:
            t.add_column(check)
        for name, checks in state.items():
            t.add_row(escape(name), *[symbols.get(checks.get(c, ""), "…") for c, _ in CHECKS])
        return t

    operator = _ConsoleOperator() if args.confirm else None
    with Live(table(), console=console, refresh_per_second=4, transient=False) as live:
        def progress(kit: str, check: str, status: str) -> None:
            state[kit][check] = status
            live.update(table())

        reports = test_room(kits, operator, wait=args.wait, progress=progress)
    folder = save_reports(reports, root / "kits" / "reports")
    passed = sum(r.passed for r in reports)
    console.print(f"{passed}/{len(reports)} kit đạt / kits passed. Báo cáo / Reports: {folder}/room.html, room.csv, room.json")
    for r in reports:
        console.print(f"{escape(r.kit)}: {escape(r.verdict)}")
        for c in r.results:
            if c.status == FAIL:
                console.print(f"  [red]✗[/] {escape(c.title)}: {escape(c.detail)}")
        for reason in skip_reasons(r.results):
            console.print(f"  – {escape(reason)}")
    return 0 if passed == len(reports) else 1


class _ConsoleOperator:
    def ask(self, kit: str, instruction: str) -> None:
        console.print(f"[bold]{escape(kit)}[/]: {escape(instruction)}")

    def confirm(self, kit: str, question: str) -> bool:
        return console.input(f"[bold]{escape(kit)}[/]: {escape(question)} [y/n] ").strip().lower().startswith(("y", "c"))


def cmd_kits_sim(args: argparse.Namespace) -> int:
    import signal
    import threading

    from lab_hardware.sim.kit import SimKit
    from .paths import DataDir

    settings = _load(args).settings
    root = DataDir(settings.data_path()).ensure().root / "sim-kits"
    kits = []
    try:
        for n in range(1, args.count + 1):
            flash = root / f"{args.board}-{n:02d}" / "flash"
            kits.append(SimKit(model=args.board, flash_dir=str(flash), realtime=not args.virtual_time,
                               board_id=f"5e{n:010x}").start())
    except ValueError as err:
        raise StemlabError(str(err)) from err
    table = Table(title="Bộ kit mô phỏng / Simulated kits (Ctrl-C: dừng / stop)")
    for column in ("Kit", "Thiết bị / Device", "Bo mạch / Board", "Flash"):
        table.add_column(column)
    for n, kit in enumerate(kits, 1):
        table.add_row(f"Kit {n:02d}", kit.path, args.board, str(kit.flash_dir))
    console.print(table)
    console.print(f"Thử / Try: mpremote connect {kits[0].path} exec \"print('Xin chào')\"")
    records = []
    for kit in kits:
        # `kits list`, `kits test` and the kits service find running simulated kits here
        record = kit.flash_dir.parent / "device.json"
        record.write_text(json.dumps({"path": kit.path, "model": args.board}), encoding="utf-8")
        records.append(record)
        print(f"SIMKIT {kit.path}", flush=True)  # one line per kit, for scripts
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    for kit, record in zip(kits, records):
        record.unlink(missing_ok=True)
        kit.stop()
    console.print("Đã dừng các kit mô phỏng. / Simulated kits stopped.")
    return 0


# ---- config --------------------------------------------------------------------------------
def cmd_config_show(args: argparse.Namespace) -> int:
    from .settings import SiteSettings, dotted_key

    loaded = _load(args)
    table = Table(title=f"Cấu hình hiệu lực / Effective settings ({loaded.config_path or 'no file: defaults'})")
    for column in ("Khóa / Key", "Giá trị / Value", "Nguồn / Source"):
        table.add_column(column)
    traits = SiteSettings.class_traits(config=True)
    for name in sorted(traits, key=dotted_key):
        table.add_row(dotted_key(name), repr(getattr(loaded.settings, name)), loaded.sources[name])
    console.print(table)
    return 0


def cmd_config_init(args: argparse.Namespace) -> int:
    from .settings import example_toml

    path = Path(args.path)
    if path.exists():
        raise StemlabError(f"{path} already exists; edit it, or choose another path.")
    path.write_text(example_toml(), encoding="utf-8")
    console.print(f"Wrote {path}: uncomment and edit the settings you need.")
    return 0


# ---- parser --------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    def common_options(default: object) -> argparse.ArgumentParser:
        # Accepted before or after the subcommand; SUPPRESS keeps a subcommand from erasing
        # a value given before it.
        p = argparse.ArgumentParser(add_help=False)
        p.add_argument("--config", metavar="FILE", default=default,
                       help="site settings file (default: $STEMLAB_CONFIG or ./stemlab.toml)")
        p.add_argument("--data", metavar="DIR", default=default, help="data directory (default: $STEMLAB_DATA or ./var)")
        return p

    common = common_options(argparse.SUPPRESS)

    parser = argparse.ArgumentParser(
        prog="stemlab",
        description="STEM-Lab Hub: JupyterHub, nbgrader và bộ kit MicroPython cho phòng STEM-Lab.\n"
        "STEM-Lab Hub: JupyterHub, nbgrader and MicroPython kits for school STEM-Labs.",
        formatter_class=GroupedHelp,
        parents=[common_options(None)],
    )
    parser._positionals.title = "lệnh / commands"
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(parent: argparse._SubParsersAction, name: str, handler: Callable | None, help: str) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help, parents=[common])
        if handler:
            p.set_defaults(handler=handler)
        return p

    up = add(sub, "up", cmd_up, "run the platform in the foreground (Ctrl-C stops hub, proxy and servers)")
    up.add_argument("--port", type=int, help="public port (default 8000)")

    accounts = add(sub, "accounts", None, "import rosters, list accounts, reset passwords")
    acc_sub = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = add(acc_sub, "import", cmd_accounts_import, "import a roster (CSV UTF-8 or XLSX): ID, full name, class, role")
    imp.add_argument("file")
    imp.add_argument("--show-passwords", action="store_true", help="also print new first passwords")
    add(acc_sub, "list", cmd_accounts_list, "list accounts")
    reset = add(acc_sub, "reset-password", cmd_accounts_reset_password, "give an account a new generated password")
    reset.add_argument("login")

    courses = add(sub, "courses", None, "the course catalogue and the offerings of courses to classes")
    courses_sub = courses.add_subparsers(dest="action", metavar="ACTION", required=True)
    add(courses_sub, "catalog", cmd_courses_catalog, "list the courses in courses/ with their assignments")
    check = add(courses_sub, "check", cmd_courses_check,
                "check source notebooks (markers, IDs, points) and build their student versions")
    check.add_argument("course", nargs="?", help="one course ID (default: all)")

    offer_p = add(courses_sub, "offer", cmd_courses_offer, "offer a course to a class: its own nbgrader course and gradebook")
    offer_p.add_argument("course", metavar="COURSE")
    offer_p.add_argument("--class", dest="class_name", metavar="CLASS", required=True)
    offer_p.add_argument("--school", help="school name (default: school.name from the settings)")
    offer_p.add_argument("--year", help="school year like 2025-2026 (default: the current one)")
    rel = add(courses_sub, "release", cmd_courses_release, "release an assignment of an offering to its students")
    rel.add_argument("offering", metavar="OFFERING")
    rel.add_argument("assignment", metavar="ASSIGNMENT")
    rel.add_argument("--due", help="due date and time in the school's time zone ([school] timezone), e.g. 2025-12-01T07:00; "
                     "later submissions are marked late")
    for name, handler, text in (("collect", cmd_courses_collect, "collect the class's submissions of an assignment"),
                                ("feedback", cmd_courses_feedback, "generate and release feedback to the students")):
        step = add(courses_sub, name, handler, text)
        step.add_argument("offering", metavar="OFFERING")
        step.add_argument("assignment", metavar="ASSIGNMENT")
    add(courses_sub, "list", cmd_courses_list, "list offerings with students, released assignments and submissions")

    grade = add(sub, "grade", cmd_grade, "autograde the collected submissions of an assignment")
    grade.add_argument("offering", metavar="OFFERING")
    grade.add_argument("assignment", metavar="ASSIGNMENT")
    grade.add_argument("--student", help="one student's login only")
    grade.add_argument("--workers", type=int, help="submissions graded at once (default: one per CPU core)")
    grades = add(sub, "grades", None, "export an offering's grades for the school's records")
    grades_sub = grades.add_subparsers(dest="action", metavar="ACTION", required=True)
    exp = add(grades_sub, "export", cmd_grades_export, "CSV (UTF-8 with BOM) and XLSX: 10-point totals, lateness")
    exp.add_argument("offering", metavar="OFFERING")
    exp.add_argument("--format", choices=["vi", "en"], default="vi",
                     help="vi: decimal comma and ';' (Excel in Vietnamese); en: decimal point and ','")
    exp.add_argument("--out", metavar="DIR", help="where to write (default: <data>/grades)")

    klass = add(sub, "class", None, "pre-start the servers of a class before the lesson")
    class_sub = klass.add_subparsers(dest="action", metavar="ACTION", required=True)
    start = add(class_sub, "start", cmd_class_start, "start every student's server of a class (e.g. 10A1)")
    start.add_argument("class_name", metavar="CLASS")
    start.add_argument("--wait", action="store_true", help="wait, with progress, until every server is ready")
    start.add_argument("--timeout", type=float, default=600, help="seconds to wait with --wait (default 600)")

    kits = add(sub, "kits", None, "find the lab's MicroPython kits")
    kits_sub = kits.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = add(kits_sub, "list", cmd_kits_list, "every kit with its board (asked), port and a name that survives replugging")
    lst.add_argument("--no-probe", action="store_true", help="do not ask the boards (only USB ids)")
    lab = add(kits_sub, "label", cmd_kits_label, "give a kit a label such as 'Kit 07' (kept across replugging)")
    lab.add_argument("kit", metavar="KIT", help="its port or stable name, from `stemlab kits list`")
    lab.add_argument("label", metavar="LABEL")
    kt = add(kits_sub, "test", cmd_kits_test, "self-test kits (all at once), with reports kept in the data directory")
    kt.add_argument("kits", nargs="*", metavar="KIT", help="ports, stable names or labels from `stemlab kits list`")
    kt.add_argument("--all", action="store_true", help="every kit this machine reaches")
    kt.add_argument("--confirm", action="store_true",
                    help="a person is at the bench: run the checks where someone presses, covers, looks or listens")
    kt.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a button press or a covered sensor")
    sim = add(kits_sub, "sim", cmd_kits_sim, "start simulated kits on pseudo-terminals (until Ctrl-C)")
    sim.add_argument("--count", type=int, default=1, help="how many kits (default 1)")
    sim.add_argument("--board", default="yolobit", choices=["yolobit", "xbot", "esp32", "pico"],
                     help="which board to simulate (default yolobit)")
    sim.add_argument("--virtual-time", action="store_true",
                     help="sleep() returns at once and time jumps (for graders); default: real time")

    config = add(sub, "config", None, "show the effective site settings or write a commented settings file")
    cfg_sub = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    add(cfg_sub, "show", cmd_config_show, "print every setting, its value and where it came from")
    init = add(cfg_sub, "init", cmd_config_init, "write a commented stemlab.toml with every setting")
    init.add_argument("path", nargs="?", default="stemlab.toml")
    return parser


def main(argv: list[str] | None = None) -> int:
    from .environment import tools_on_path
    from .paths import PRIVATE_UMASK

    tools_on_path()
    os.umask(PRIVATE_UMASK)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except StemlabError as err:
        # escape: messages quote settings such as "[mode] production", which are not markup
        console.print(f"[bold red]Lỗi / Error:[/] {escape(str(err))}", soft_wrap=True)
        return err.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
