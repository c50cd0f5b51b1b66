"""`stemlab courses`, `stemlab grade` and `stemlab grades`: the teacher's loop by command (the
teacher's page does the same in the browser). Plugged into `stemlab` like every command group
(app/plugins.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hub_config.app.plugins import PlatformSite, class_of, command_adder
from hub_config.site.errors import StemlabError

if TYPE_CHECKING:
    from autograders.runner import SubmissionResult
    from hub_config.teaching.coverage import Coverage
    from hub_config.teaching.offerings import Offering

console = Console(highlight=False)


def cmd_courses_catalog(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.teaching.catalog import load_catalog

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


def cmd_courses_check(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.teaching.authoring import check_assignment
    from hub_config.teaching.catalog import load_catalog

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


def cmd_courses_coverage(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.teaching.catalog import load_catalog
    from hub_config.teaching.coverage import COUNTED, coverage
    from hub_config.teaching.offerings import list_offerings, released_to_students

    catalog = load_catalog()
    for err in catalog.broken:
        console.print(f"[bold red]Khóa học lỗi / Broken course:[/] {escape(str(err))}")
    if args.class_name is None:
        courses = [catalog.course(args.course)] if args.course else list(catalog.courses.values())
        reports: list[tuple[Coverage, Offering | None]] = [(coverage(c, catalog.frameworks), None) for c in courses]
    else:
        klass = class_of(args)
        offerings = [o for o in list_offerings(site.data) if o.class_ref == klass
                     and (args.course is None or o.course_id == args.course)]
        if not offerings:
            what_vi, what_en = (f" khóa học {args.course}", f" course {args.course}") if args.course else ("", "")
            raise StemlabError(f"Lớp {args.class_name} chưa được giao{what_vi}: tạo khóa học cho lớp trước "
                               "(stemlab courses offer KHÓA-HỌC --class LỚP) rồi giao bài",
                               f"Class {args.class_name} has no offering of{what_en or ' any course'}: offer one first "
                               "(stemlab courses offer COURSE --class CLASS), then release assignments")
        reports = [(coverage(catalog.course(o.course_id), catalog.frameworks, released_to_students(site.settings.exchange_root(site.data), o)), o)
                   for o in offerings]
    for report, offering in reports:
        scope = (f"{offering.class_name} · {offering.year}: {len(report.released_ids)}/{len(report.course.assignments)} "
                 "bài đã giao / assignments released") if offering else \
            f"{len(report.course.assignments)} bài / assignments"
        table = Table(title=f"{report.course.title} ({scope})", title_justify="left")
        for column in ("Khung / Framework", "Mạch, miền / Strand, domain", "Bài trong khóa / In the course",
                       "Đã giao / Released" if offering else "Có / Covered"):
            table.add_column(column)
        for kind in COUNTED:
            for row in report.of(kind):
                table.add_row(kind.heading.vi, str(row.tag.name), ", ".join(a.id for a in row.in_course) or "—",
                              ", ".join(a.id for a in row.released) if row.released else "[yellow]chưa / not yet[/]")
        console.print(table)
        console.print("  " + "; ".join(f"{kind.heading}: {report.covered(kind)}/{len(report.of(kind))}" for kind in COUNTED))
        console.print("  Cấp học / Level: " + ", ".join(str(t.name) for t in report.levels))
    return 1 if catalog.broken else 0


def cmd_courses_offer(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.app.launcher import reload_running_hub
    from hub_config.people.accounts import school_display_name
    from hub_config.teaching.catalog import load_catalog
    from hub_config.teaching.offerings import current_school_year, offer

    settings = site.settings
    data = site.data
    course = load_catalog().course(args.course)
    year = args.year or current_school_year()
    klass = class_of(args)
    name = school_display_name(settings.hub_database_url(), klass.school, settings.school_name)
    offering = offer(data, settings.hub_database_url(), course, klass.name, name, year,
                     production=settings.production, limits=settings.grading_limits(), school_code=klass.school)
    counts = offering.counts()
    console.print(f"Khóa học / Offering [bold]{offering.id}[/]: {course.title} · {args.class_name} · {year} · "
                  f"{counts['students']} học sinh / students.\n  {offering.root}")
    reload_running_hub(data)
    return 0


def cmd_courses_release(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.teaching.catalog import load_catalog
    from hub_config.app.launcher import running_settings
    from hub_config.teaching.offerings import write_site_nbgrader_config
    from hub_config.site.clock import parse_local, school_zone
    from hub_config.teaching.loop import find_offering, release

    settings = site.settings
    data = site.data
    offering = find_offering(data, args.offering)
    load_catalog().course(offering.course_id).assignment(args.assignment)  # a clear error for a typo
    live = running_settings(data) or settings
    write_site_nbgrader_config(data, live.production, live.grading_limits(), live.exchange_service_url())
    due = parse_local(args.due, school_zone(settings.timezone)) if args.due else None
    release(data, offering, args.assignment, due)
    console.print(f"Đã giao bài {args.assignment} cho lớp {offering.class_name}. / Released {args.assignment} "
                  f"to {offering.class_name} ({offering.id}).")
    return 0


def _offering_step(args: argparse.Namespace, site: PlatformSite, step: Callable[..., list[str] | None],
                   done_vi: str, done_en: str) -> int:
    from hub_config.teaching.loop import find_offering

    data = site.data
    offering = find_offering(data, args.offering)
    extra = {"student": args.student} if getattr(args, "student", None) else {}
    for warning in step(data, offering, args.assignment, **extra) or []:
        console.print(f"[yellow]{escape(warning)}[/]")
    console.print(f"{done_vi} {args.assignment} ({offering.id}). / {done_en} {args.assignment} ({offering.id}).")
    return 0


def cmd_courses_collect(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.teaching.loop import collect

    return _offering_step(args, site, collect, "Đã thu bài", "Collected")


def cmd_courses_feedback(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.teaching.loop import feedback

    return _offering_step(args, site, feedback, "Đã trả nhận xét", "Released feedback for")


def cmd_grade(args: argparse.Namespace, site: PlatformSite) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from hub_config.teaching.loop import autograde, find_offering

    data = site.data
    offering = find_offering(data, args.offering)
    failed = [0]
    with Progress(TextColumn("Chấm bài / Grading"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("lỗi / failed {task.fields[failed]}"), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("grade", total=None, failed=0)

        def progress(result: SubmissionResult, done: int, total: int) -> None:
            failed[0] += bool(result.error)
            bar.update(task, completed=done, total=total, failed=failed[0])

        def say_missing(missing: list[str]) -> None:  # once, before anything runs
            if missing:
                bar.console.print("[yellow]Hộp cát chấm bài thiếu / The grading sandbox cannot enforce:[/] "
                                  + escape("; ".join(missing)))

        summary = autograde(data, offering, args.assignment, student=args.student, progress=progress,
                            workers=args.workers, limits=site.settings.grading_limits(), on_start=say_missing)
    for r in summary.flagged:
        for flag in r.flags:
            console.print(f"[yellow]⚑ {escape(r.student)} {escape(r.notebook)} {escape(str(flag.cell))}:[/] "
                          f"{escape(flag.reason)}")
    for r in summary.failed:
        console.print(f"[red]{escape(r.student)} {escape(r.notebook)}:[/] {escape(r.error or '')}")
    for (notebook, cell), reason in sorted(summary.judged_in_kernel.items()):
        console.print(f"[yellow]Chấm trong kernel của học sinh / judged inside the students' kernels: "
                      f"{escape(notebook)} {escape(cell)}:[/] {escape(reason)}")
    console.print(f"Đã chấm / Graded {len(summary.results)} bài / notebooks of {offering.id} in "
                  f"{summary.seconds:.1f} s: {len(summary.failed)} lỗi / failed, {len(summary.flagged)} cần xem / "
                  "flagged for review (in the formgrader and the grade sheet).")
    return 1 if summary.failed else 0


def cmd_grades_export(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.teaching.grade_sheets import export
    from hub_config.teaching.loop import find_offering

    data = site.data
    offering = find_offering(data, args.offering)
    for path in export(offering, Path(args.out) if args.out else data.grades_dir, args.format):
        console.print(f"Bảng điểm / Grade sheet: {path}")
    return 0


def cmd_courses_list(args: argparse.Namespace, site: PlatformSite) -> int:
    from hub_config.teaching.offerings import list_offerings

    table = Table(title="Khóa học đang mở / Course offerings")
    for column in ("Mã / ID", "Lớp / Class", "Năm học / Year", "Học sinh / Students", "Bài đã giao / Released",
                   "Bài nộp / Submissions"):
        table.add_column(column)
    for offering in list_offerings(site.data):
        c = offering.counts()
        table.add_row(offering.id, offering.class_name, offering.year, str(c["students"]), str(c["released"]),
                      str(c["submissions"]))
    console.print(table)
    return 0


class TeachingCommands:
    """The entry point `stemlab.commands: courses`."""

    help_sections = ((20, "Khóa học / Courses (teacher)", ("courses",)),
                     (30, "Chấm bài / Grading (teacher)", ("grade", "grades")))
    errors: tuple[type[Exception], ...] = (StemlabError,)

    def add_to(self, commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
        add = command_adder(common)

        courses = add(commands, "courses", None, "the course catalogue and the offerings of courses to classes")
        courses_sub = courses.add_subparsers(dest="action", metavar="ACTION", required=True)
        add(courses_sub, "catalog", cmd_courses_catalog, "list the courses in courses/ with their assignments")
        check = add(courses_sub, "check", cmd_courses_check,
                    "check source notebooks (markers, IDs, points) and build their student versions")
        check.add_argument("course", nargs="?", help="one course ID (default: all)")

        cov = add(courses_sub, "coverage", cmd_courses_coverage,
                  "which QĐ 3439 AI strands and TT 02/2025 digital domains a course builds; with --class, "
                  "which of them the class's released work has built")
        cov.add_argument("course", nargs="?", help="one course ID (default: all)")
        cov.add_argument("--class", dest="class_name", metavar="CLASS", help="a class: only what was released to it")
        cov.add_argument("--school", metavar="CODE", help="the class's school, by its code (default: the site's own)")
        offer_p = add(courses_sub, "offer", cmd_courses_offer, "offer a course to a class: its own nbgrader course and gradebook")
        offer_p.add_argument("course", metavar="COURSE")
        offer_p.add_argument("--class", dest="class_name", metavar="CLASS", required=True)
        offer_p.add_argument("--school", metavar="CODE", help="the class's school, by its code (default: the site's own)")
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

        grade = add(commands, "grade", cmd_grade, "autograde the collected submissions of an assignment")
        grade.add_argument("offering", metavar="OFFERING")
        grade.add_argument("assignment", metavar="ASSIGNMENT")
        grade.add_argument("--student", help="one student's login only")
        grade.add_argument("--workers", type=int, help="submissions graded at once (default: one per CPU core)")
        grades = add(commands, "grades", None, "export an offering's grades for the school's records")
        grades_sub = grades.add_subparsers(dest="action", metavar="ACTION", required=True)
        exp = add(grades_sub, "export", cmd_grades_export, "CSV (UTF-8 with BOM) and XLSX: 10-point totals, lateness")
        exp.add_argument("offering", metavar="OFFERING")
        exp.add_argument("--format", choices=["vi", "en"], default="vi",
                         help="vi: decimal comma and ';' (Excel in Vietnamese); en: decimal point and ','")
        exp.add_argument("--out", metavar="DIR", help="where to write (default: <data>/grades)")


COMMANDS = TeachingCommands()
