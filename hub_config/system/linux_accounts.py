"""Production mode: one Linux account per hub user, with a private home.

Only accounts in our own group (STEMLAB_GROUP) are ever touched, so a roster can never take over
or change a system account that happens to share a name.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from autograders.confinement import ForeignAccount, ensure_system_account
from lab_hardware.folders import KitFolders

from hub_config.site.errors import StemlabError

STEMLAB_GROUP = "stemlab-users"


class SystemAccountError(StemlabError):
    """A Linux account could not be created or is not ours."""


def _run(cmd: list[str]) -> None:
    # useradd and friends live in sbin, which an ordinary PATH (cron, a teacher's shell) lacks.
    program = shutil.which(cmd[0], path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if program is None:
        raise SystemAccountError(f"Không tìm thấy `{cmd[0]}`: hãy cài gói `passwd` của Debian.",
                                 f"`{cmd[0]}` not found: install Debian's `passwd` package.")
    result = subprocess.run([program, *cmd[1:]], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemAccountError(f"`{' '.join(cmd)}` bị lỗi: {result.stderr.strip() or result.stdout.strip()}",
                                 f"`{' '.join(cmd)}` failed: {result.stderr.strip() or result.stdout.strip()}")


def ensure_group(name: str = STEMLAB_GROUP) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        _run(["groupadd", "--system", name])
        return grp.getgrnam(name).gr_gid


def ensure_linux_account(login: str, home_root: Path) -> Path:
    """Create the account if missing; return its home, which is made private (0700)."""
    if os.geteuid() != 0:
        raise SystemAccountError("Chế độ production tạo tài khoản Linux nên cần quyền root: "
                                 "hãy chạy `stemlab up` với quyền root.",
                                 "Production mode creates Linux accounts and needs root: run `stemlab up` as root.")
    ensure_group()
    try:
        entry = pwd.getpwnam(login)
    except KeyError:
        home = home_root / login
        home_root.mkdir(parents=True, exist_ok=True)
        _run([
            "useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
            "--gid", STEMLAB_GROUP, "--comment", "STEM-Lab Hub user", login,
        ])
        entry = pwd.getpwnam(login)
    else:
        if entry.pw_gid != grp.getgrnam(STEMLAB_GROUP).gr_gid:
            raise SystemAccountError(
                f"Đã có một tài khoản Linux tên {login} nhưng không phải tài khoản của STEM-Lab Hub; "
                "hãy đổi tên hoặc xóa tài khoản đó rồi thử lại.",
                f"A Linux account named {login} already exists and is not a STEM-Lab Hub account; "
                "rename or remove it, then try again."
            )
    home = Path(entry.pw_dir)
    _make_private_home(home, entry)
    return home


def _make_private_home(home: Path, entry: pwd.struct_passwd) -> None:
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)


def remove_linux_account(login: str) -> None:
    """Remove one of our accounts and its home (used by tests and `accounts` clean-up)."""
    try:
        entry = pwd.getpwnam(login)
    except KeyError:
        return
    if entry.pw_gid != grp.getgrnam(STEMLAB_GROUP).gr_gid:
        raise SystemAccountError(f"{login} không phải tài khoản của STEM-Lab Hub; không xóa tài khoản này",
                                 f"{login} is not a STEM-Lab Hub account; not removing it")
    _run(["userdel", "--remove", login])


GRADERS_GROUP = "stemlab-graders"


def ensure_grader_account(login: str, home: Path) -> pwd.struct_passwd:
    """The unprivileged account an offering's formgrader and nbgrader commands run as.

    Its own group (the offering's submissions take it), membership of GRADERS_GROUP (which may
    read the course sources, with their solutions), no login shell.
    """
    if os.geteuid() != 0:
        raise SystemAccountError("Tạo tài khoản chấm bài cần quyền root: "
                                 "hãy chạy `stemlab courses offer` với quyền root.",
                                 "Creating a grader account needs root: run `stemlab courses offer` as root.")
    ensure_group(GRADERS_GROUP)
    try:
        entry = pwd.getpwnam(login)
    except KeyError:
        home.parent.mkdir(parents=True, exist_ok=True)
        _run([
            "useradd", "--system", "--user-group", "--groups", GRADERS_GROUP, "--create-home",
            "--home-dir", str(home), "--shell", "/usr/sbin/nologin", "--comment", "STEM-Lab Hub grader", login,
        ])
        entry = pwd.getpwnam(login)
    else:
        if login not in grp.getgrnam(GRADERS_GROUP).gr_mem:
            raise SystemAccountError(
                f"Đã có một tài khoản Linux tên {login} nhưng không phải tài khoản chấm bài của STEM-Lab Hub; "
                "hãy xóa hoặc đổi tên tài khoản đó, rồi tạo lại khóa học cho lớp.",
                f"A Linux account named {login} already exists and is not a STEM-Lab Hub grader account; "
                "remove or rename it, then offer the course again."
            )
    _make_private_home(home, entry)
    return entry


def remove_grader_account(login: str) -> None:
    try:
        pwd.getpwnam(login)
    except KeyError:
        return
    if login not in grp.getgrnam(GRADERS_GROUP).gr_mem:
        raise SystemAccountError(f"{login} không phải tài khoản chấm bài của STEM-Lab Hub; không xóa tài khoản này",
                                 f"{login} is not a STEM-Lab Hub grader account; not removing it")
    _run(["userdel", "--remove", login])


def restrict_to_graders(course_root: Path) -> None:
    """A course's sources (solutions, hidden tests) and its hidden data sets (the labels that model
    graders score against): root and grader accounts only."""
    gid = ensure_group(GRADERS_GROUP)
    folders = [course_root / part for part in ("source", "hidden") if (course_root / part).is_dir()]
    for path in [p for folder in folders for p in (folder, *folder.rglob("*"))]:
        if path.is_symlink():
            continue
        os.chown(path, 0, gid)
        path.chmod(0o750 if path.is_dir() else 0o640)


KITS_ACCOUNT = "stemlab-kits"
EXCHANGE_ACCOUNT = "stemlab-exchange"
DEMO_ACCOUNT = "stemlab-demo"
SERVICE_COMMENT = "STEM-Lab Hub service account"


def ensure_service_account(name: str, groups: tuple[str, ...] = ()) -> pwd.struct_passwd:
    """An unprivileged system account of ours (no home, no login shell), created if missing; the
    one mechanism the grading sandbox's accounts use too (autograders/confinement.py)."""
    try:
        return ensure_system_account(name, SERVICE_COMMENT, groups)
    except ForeignAccount as err:
        raise SystemAccountError(err.en.replace("try again", "start again")) from err
    except subprocess.CalledProcessError as err:
        raise SystemAccountError(f"`useradd {name}` bị lỗi: {(err.stderr or b'').decode().strip()}",
                                 f"`useradd {name}` failed: {(err.stderr or b'').decode().strip()}") from err


def ensure_kits_account(folders: KitFolders) -> pwd.struct_passwd:
    """The kits service's account: the serial ports (group dialout) and the simulated kits, which
    run students' code, without root."""
    entry = ensure_service_account(KITS_ACCOUNT, groups=("dialout",))
    for folder in (folders.simulated, folders.kits):
        folder.mkdir(parents=True, exist_ok=True)
    os.chown(folders.simulated, entry.pw_uid, entry.pw_gid)
    folders.simulated.chmod(0o700)
    folders.kits.chmod(0o755)  # self-test reports: the service shows the last result
    return entry


def ensure_exchange_account(store: Path) -> pwd.struct_passwd:
    """The exchange service's account: it alone reads the courses' releases, submissions and
    feedback it keeps; no server and no grader account reaches that folder."""
    entry = ensure_service_account(EXCHANGE_ACCOUNT)
    store.mkdir(parents=True, exist_ok=True)
    for folder, _, files in os.walk(store):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    store.chmod(0o700)
    return entry


def ensure_demo_account() -> pwd.struct_passwd:
    """Demo mode started by root: the one unprivileged account every user's server runs as.

    Demo users share it (they are not isolated from each other, as every page says), but none of
    them is root: the course sources, gradebooks, password sheets and secrets stay closed to them.
    """
    return ensure_service_account(DEMO_ACCOUNT)
