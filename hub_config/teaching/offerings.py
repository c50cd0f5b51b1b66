"""Course offerings: one course taught to one school class in one school year.

Each offering is its own nbgrader course directory under the data directory, with its own
gradebook, the class's students enrolled and the class's teachers as graders. Its `source/` is a
link to the course's source in courses/ (one source of truth); nbgrader writes release/,
submitted/, autograded/ and feedback/ beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from jupyterhub import orm as hub_orm
from nbgrader.api import Gradebook
from sqlalchemy.orm import Session

from hub_config.people.accounts import classes_with_students, members_of, open_session
from autograders.course_layout import CourseLayout, Step
from autograders.limits import Limits

from hub_config.teaching.catalog import Course
from hub_config.system.environment import tools_on_path
from hub_config.site.errors import StemlabError
from hub_config.teaching import nbgrader_config
from hub_config.teaching.nbgrader_config import course_config, site_config, write_site_config
from hub_config.people.logins import grader_login
from hub_config.people.schools import SITE_SCHOOL, ClassRef
from hub_config.site.paths import DataDir
from hub_config.system.linux_accounts import ensure_grader_account, restrict_to_graders
from hub_config.people.roles import Role

SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


def current_school_year(today: dt.date | None = None) -> str:
    """Vietnamese school years start in September: 2025-2026 runs from Sept 2025 to May 2026."""
    today = today or dt.date.today()
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{start + 1}"


def offering_id(course_id: str, class_name: str, year: str, school_code: str = SITE_SCHOOL) -> str:
    return f"{course_id}-{ClassRef(school_code, class_name).slug}-{year}"


def split_name(full_name: str) -> tuple[str, str]:
    """(first, last) for nbgrader: 'Nguyễn Văn An' -> ('Nguyễn Văn', 'An'), so that sorting by
    nbgrader's last name gives the Vietnamese roll-call order (by given name)."""
    parts = full_name.split()
    return (" ".join(parts[:-1]), parts[-1]) if len(parts) > 1 else ("", full_name)


@dataclass(frozen=True)
class Offering:
    id: str
    course_id: str
    class_name: str
    school: str
    year: str
    root: Path
    grader: str | None = None  # production mode: the Linux account its nbgrader runs as
    school_code: str = SITE_SCHOOL  # whose class: `school` is that school's name, as sheets print it

    @property
    def class_ref(self) -> ClassRef:
        return ClassRef(self.school_code, self.class_name)

    @property
    def gradebook_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    @property
    def student_group(self) -> str:
        # nbgrader's JupyterHub integration lists a course for members of `nbgrader-<course_id>`.
        return f"nbgrader-{self.id}"

    @property
    def grader_group(self) -> str:
        return f"formgrade-{self.id}"

    @property
    def grader_token_name(self) -> str:
        """The secret holding its formgrader service's token (the course's grader to the exchange service)."""
        return f"formgrader-{self.id}"

    @property
    def layout(self) -> CourseLayout:
        """Where nbgrader keeps each step's files in this offering's course directory."""
        return CourseLayout.at(self.root)

    @property
    def reports_dir(self) -> Path:
        """What our steps inside nbgrader's commands report back (as the grader account, in production)."""
        return self.root / ".stemlab"

    def submitted_dir(self, student: str, assignment: str) -> Path:
        """Where collect puts a student's submission (nbgrader's `submitted` step)."""
        return self.layout.folder(Step.SUBMITTED, assignment, student)

    def counts(self) -> dict[str, int]:
        with Gradebook(self.gradebook_url, course_id=self.id) as gb:
            students = len(gb.students)
        layout = self.layout
        return {"students": students, "released": len(layout.assignments(Step.RELEASE)),
                "submissions": len(layout.submission_folders())}


# nbgrader installs its teacher tools in every server. A student has no use for them, and the
# formgrader of their own home would only confuse: students keep the Assignments and Validate
# parts only. Teachers' and technicians' own servers keep everything.
STUDENT_DISABLED_LAB_PLUGINS = ("@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
                                "@jupyter/nbgrader:course-list",
                                # English only; students use their assignments page instead
                                # (hub_config/singleuser/assignments_page.py, the "Bài tập" menu)
                                "@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment",
                                "@jupyter/nbgrader:menu",
                                # installing JupyterLab extensions from PyPI is the site's job
                                "@jupyterlab/extensionmanager-extension:plugin",
                                # one interface for students: no "Notebook" (Jupyter Notebook 7) button or menu
                                # entries, which speak English and open a second, untranslated interface
                                "@jupyter-notebook/lab-extension:interface-switcher",
                                "@jupyter-notebook/lab-extension:launch-tree")
STUDENT_DISABLED_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",
                                      "nbgrader.server_extensions.course_list")


# Framed in JupyterLab, nbgrader's formgrader and course list only say "refused to connect"
# (hub_config/teaching/formgrader_service.py): teachers open an offering's formgrader from their page.
TEACHER_DISABLED_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list")
TEACHER_DISABLED_SERVER_EXTENSIONS = STUDENT_DISABLED_SERVER_EXTENSIONS


def write_formgrader_config(data: DataDir) -> None:
    from hub_config.teaching.formgrader_service import formgrader_server_config

    folder = data.formgrader_config_dir
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    path = folder / "jupyter_server_config.json"
    path.write_text(json.dumps(formgrader_server_config(), indent=1))
    path.chmod(0o644)


def write_student_config(data: DataDir) -> None:
    folder = data.student_config_dir
    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    (folder / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {name: True for name in STUDENT_DISABLED_LAB_PLUGINS}}, indent=1))
    (folder / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {name: False for name in STUDENT_DISABLED_SERVER_EXTENSIONS}},
         # the extension manager's panel is closed to students (above); its PyPI client would
         # still be built at every start (an HTTPS client: a twelfth of a warm start's CPU)
         "LabApp": {"extension_manager": "readonly"}}, indent=1))
    for path in (folder, folder / "labconfig"):
        path.chmod(0o755)
    for path in (folder / "labconfig" / "page_config.json", folder / "jupyter_server_config.json"):
        path.chmod(0o644)


def ensure_exchange_root(data: DataDir) -> Path:
    """The site owns the exchange root; offerings get their folders in it from `courses offer`
    (see hub_config/teaching/exchange.py for why nbgrader's world-writable root is not used)."""
    exchange = data.exchange_dir
    exchange.mkdir(exist_ok=True)
    exchange.chmod(0o755)
    return exchange


def write_site_nbgrader_config(data: DataDir, production: bool, limits: Limits, exchange_url: str | None = None) -> None:
    """Exchange location and classes, course ids in exchange paths, courses from JupyterHub groups;
    and each offering's own configuration again, so it follows the site's settings and this release."""
    offerings = list_offerings(data)
    titles = {o.id: f"{o.course_id} · {o.class_name} · {o.year}" for o in offerings}
    folder = data.jupyter_config_dir
    folder.mkdir(parents=True, exist_ok=True)
    for readable in (folder.parent, folder):  # <data>/etc and <data>/etc/jupyter
        readable.chmod(0o755)
    exchange = ensure_exchange_root(data)
    for offering in offerings:
        if offering.root.is_dir():
            write_course_config(offering, exchange, limits)
    write_site_config(folder, site_config(exchange, titles, production, exchange_url))
    write_student_catalog(data)
    extensions = folder / "jupyter_server_config.d"
    extensions.mkdir(exist_ok=True)
    extensions.chmod(0o755)
    enable = extensions / "stemlab.json"  # every server gets the students' assignments page
    server_extensions: dict[str, bool] = {"hub_config.singleuser.assignments_page": True}
    server_extensions.update({name: False for name in TEACHER_DISABLED_SERVER_EXTENSIONS})
    enable.write_text(json.dumps({"ServerApp": {"jpserver_extensions": server_extensions}}))
    enable.chmod(0o644)
    labconfig = folder / "labconfig"
    labconfig.mkdir(exist_ok=True)
    labconfig.chmod(0o755)
    page_config = labconfig / "page_config.json"
    page_config.write_text(json.dumps({"disabledExtensions": {name: True for name in TEACHER_DISABLED_LAB_PLUGINS}}))
    page_config.chmod(0o644)
    write_formgrader_config(data)


STUDENT_CATALOG = "stemlab_courses.json"  # read by hub_config/singleuser/assignments_page.py


def write_student_catalog(data: DataDir) -> None:
    """What students' servers show of each offering: titles and due dates (UTC), nothing secret.

    Rewritten at each hub start and each release, so a due date set on the teacher's page shows at once."""
    from hub_config.teaching.catalog import load_catalog

    courses = load_catalog().courses
    out: dict[str, dict] = {}
    for o in list_offerings(data):
        course = courses.get(o.course_id)
        if course is None:
            continue
        with Gradebook(o.gradebook_url, course_id=o.id) as gb:
            due = {a.name: a.duedate.isoformat() + "Z" for a in gb.assignments if a.duedate}
        out[o.id] = {"title": {"vi": course.title.vi, "en": course.title.en}, "class": o.class_name, "year": o.year,
                     "assignments": {a.id: {"vi": a.title.vi, "en": a.title.en} for a in course.assignments},
                     "due": due}
    folder = data.jupyter_config_dir
    folder.mkdir(parents=True, exist_ok=True)
    for readable in (folder.parent, folder):
        readable.chmod(0o755)
    path = folder / STUDENT_CATALOG
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.chmod(0o644)
    tmp.replace(path)


def write_course_config(offering: Offering, exchange_root: Path, limits: Limits) -> None:
    """The offering's nbgrader config (rewritten at each hub start, `courses offer` and `grade`)."""
    from hub_config.system.environment import in_kubernetes_pod

    config = course_config(offering.id, offering.root, offering.gradebook_url, exchange_root,
                           confined=offering.grader is not None or in_kubernetes_pod(), limits=limits)
    nbgrader_config.write_course_config(offering.root, config, offering.grader)


def _set_group(session: Session, name: str, logins: list[str]) -> None:
    group = hub_orm.Group.find(session, name)
    if group is None:
        group = hub_orm.Group(name=name)
        session.add(group)
    group.users = [hub_orm.User.find(session, login) for login in logins]


def offer(data: DataDir, database_url: str, course: Course, class_name: str, school: str, year: str,
          production: bool = False, limits: Limits | None = None, school_code: str = SITE_SCHOOL) -> Offering:
    """Create (or bring up to date) the offering of a course to a class; idempotent.

    In production mode the offering gets its own unprivileged grader account, which owns the
    course directory and the offering's exchange folders; its formgrader and every nbgrader
    command of the offering run as that account, never as root.
    """
    if not SCHOOL_YEAR.match(year) or int(year[5:]) != int(year[:4]) + 1:
        raise StemlabError(f"Năm học {year!r} không hợp lệ.", f"School year {year!r} must look like 2025-2026.")
    klass = ClassRef(school_code, class_name)
    students = members_of(database_url, klass, Role.STUDENT)
    teachers = members_of(database_url, klass, Role.TEACHER)
    if not students:
        known = sorted(str(ref) for ref in classes_with_students(database_url))
        raise StemlabError(
            f"Không có lớp {klass} (chưa có học sinh).", f"No class {klass} with students; "
            f"import its roster first. Classes: {', '.join(known) or '(none)'}"
        )
    tools_on_path()  # nbgrader creates the gradebook by running `alembic`
    oid = offering_id(course.id, class_name, year, school_code)
    folder = data.offerings_dir
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o711)  # grader accounts reach their own offering, and list none
    offering = Offering(oid, course.id, class_name, school, year, folder / oid,
                        grader_login(oid) if production else None, school_code)
    offering.root.mkdir(exist_ok=True)
    source_link = offering.root / "source"
    if not source_link.exists():
        source_link.symlink_to(course.root / "source", target_is_directory=True)
    exchange = ensure_exchange_root(data)
    meta = {"id": oid, "course": course.id, "class": class_name, "school": school, "year": year,
            "school_code": school_code}
    if offering.grader:
        meta["grader"] = offering.grader
    (offering.root / "offering.toml").write_text(tomli_w.dumps(meta), encoding="utf-8")
    with Gradebook(offering.gradebook_url, course_id=oid) as gb:
        for account in students:
            first, last = split_name(account.full_name)
            gb.update_or_create_student(account.login, first_name=first, last_name=last,
                                        lms_user_id=account.grade_code)
    owner = (os.getuid(), os.getgid())
    if offering.grader:
        entry = ensure_grader_account(offering.grader, data.graders_dir / offering.grader)
        owner = (entry.pw_uid, entry.pw_gid)
        data.graders_dir.chmod(0o711)
        restrict_to_graders(course.root)
        for path in [offering.root, *offering.root.rglob("*")]:
            os.lchown(path, *owner)
        offering.root.chmod(0o700)
    write_course_config(offering, exchange, limits or Limits())  # once its grader account exists
    _prepare_exchange_folders(exchange / oid, owner)
    session = open_session(database_url)
    try:
        _set_group(session, offering.student_group, [a.login for a in students])
        _set_group(session, offering.grader_group, [a.login for a in teachers])
        session.commit()
    finally:
        session.close()
    return offering


def _prepare_exchange_folders(course_exchange: Path, owner: tuple[int, int]) -> None:
    """nbgrader's layout and modes, created by us so no student can create or own them first:
    outbound readable by all, inbound writable but not listable (set-group-ID, so submissions
    take the grader's group; sticky, so nobody renames or removes a classmate's), feedback reachable
    only by the exact (hashed) file name."""
    for path, mode in ((course_exchange, 0o755), (course_exchange / "outbound", 0o755),
                       (course_exchange / "inbound", 0o3733), (course_exchange / "feedback", 0o711)):
        path.mkdir(exist_ok=True)
        if path.stat().st_uid != owner[0] or path.stat().st_gid != owner[1]:
            os.chown(path, *owner)
        path.chmod(mode)


def load_offering(folder: Path) -> Offering:
    meta = tomllib.loads((folder / "offering.toml").read_text(encoding="utf-8"))
    return Offering(meta["id"], meta["course"], meta["class"], meta["school"], meta["year"], folder,
                    meta.get("grader"), meta.get("school_code", SITE_SCHOOL))


def list_offerings(data: DataDir) -> list[Offering]:
    root = data.offerings_dir
    if not root.exists():
        return []
    return [load_offering(p) for p in sorted(root.iterdir()) if (p / "offering.toml").exists()]


def released_to_students(exchange_root: Path, offering: Offering) -> set[str]:
    """The assignments the class can fetch now: those in the offering's exchange outbound
    (`exchange_root`: SiteSettings.exchange_root, the folder exchange's or the service's)."""
    outbound = exchange_root / offering.id / "outbound"
    return {p.name for p in outbound.glob("*") if p.is_dir()} if outbound.is_dir() else set()
