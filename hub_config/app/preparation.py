"""What `stemlab up` checks and sets up on the machine before it starts anything: the proxy
program, production mode's accounts, cgroups and homes, and that servers which do not run as root
can reach what they need (refused with a message saying what to change)."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

from hub_config.site.errors import LaunchError
from hub_config.site.paths import DataDir
from hub_config.site.settings import SiteSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROXY_ENV = "STEMLAB_PROXY"


def find_proxy() -> str:
    """configurable-http-proxy as installed by the set-up command (npm, in the project)."""
    explicit = os.environ.get(PROXY_ENV)
    if explicit:
        if os.access(explicit, os.X_OK):
            return explicit
        raise LaunchError(f"{PROXY_ENV}={explicit} không phải là chương trình chạy được. "
                          f"Hãy sửa đường dẫn hoặc bỏ biến {PROXY_ENV}.",
                          f"{PROXY_ENV}={explicit} is not an executable program. Fix the path or unset {PROXY_ENV}.")
    local = PROJECT_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    if os.access(local, os.X_OK):
        return str(local)
    on_path = shutil.which("configurable-http-proxy")
    if on_path:
        return on_path
    raise LaunchError(
        "Chưa cài configurable-http-proxy (proxy đứng trước JupyterHub). "
        f"Hãy chạy `npm ci` trong {PROJECT_ROOT} (lệnh chạy trong README đã làm việc này), "
        f"hoặc trỏ {PROXY_ENV} tới chương trình đó.",
        "configurable-http-proxy (the proxy in front of JupyterHub) is not installed. "
        f"Run `npm ci` in {PROJECT_ROOT} (the README's run command does this), "
        f"or point {PROXY_ENV} at the program."
    )


def first_unreachable(path: Path) -> Path | None:
    """The first directory on the way to path that other users cannot search, if any."""
    for parent in reversed([path, *path.parents] if path.is_dir() else list(path.parents)):
        if not parent.stat().st_mode & stat.S_IXOTH:
            return parent
    if path.is_file() and not path.stat().st_mode & stat.S_IXOTH:
        return path
    return None


def prepare_production(settings: SiteSettings, data: DataDir) -> None:
    """Refuse to run production mode without isolation."""
    from hub_config.system.limits import CgroupLimiter, LimitsUnavailable
    from hub_config.system.linux_accounts import ensure_kits_account

    if os.geteuid() != 0:
        raise LaunchError(
            "Chế độ production cần quyền root: nó tạo một tài khoản Linux cho mỗi người dùng và chạy máy chủ "
            "của từng người bằng tài khoản đó. Hãy chạy `stemlab up` với quyền root, hoặc đặt "
            "[mode] production = false để chạy thử (demo).",
            "Production mode needs root: it creates a Linux account per user and runs each server as "
            "that user. Run `stemlab up` as root, or set [mode] production = false for a demo."
        )
    try:
        CgroupLimiter()
    except LimitsUnavailable as err:
        raise LaunchError(
            f"Chế độ production áp giới hạn bộ nhớ và CPU, nhưng máy này không làm được: {err}. "
            "Hãy chạy trên máy có bộ điều khiển cgroup memory và cpu, hoặc dùng chế độ demo.",
            f"Production mode enforces memory and CPU limits, but this machine cannot: {err}. "
            "Run on a host with the memory and cpu cgroup controllers, or use demo mode."
        ) from err
    home_root = Path(settings.home_root)
    if not home_root.exists():
        home_root.mkdir(parents=True)
        home_root.chmod(0o755)  # each home inside is private; the folder itself must be searchable
    blocked = first_unreachable(home_root)
    if blocked:
        raise LaunchError(
            f"Người dùng không vào được thư mục home của mình trong {home_root}: {blocked} không cho "
            f"người dùng khác truy cập. Hãy chạy `chmod o+x {blocked}` hoặc chọn [mode] home_root khác.",
            f"Users cannot reach their homes under {home_root}: {blocked} is not searchable by others. "
            f"Run `chmod o+x {blocked}` or choose another [mode] home_root."
        )
    check_reachable_by_servers(data)
    # each person's Linux account is made by the spawner before their first server starts, not
    # here for everyone at every start (a province's 100,000 would hold the hub for minutes)
    ensure_kits_account(data.kit_folders)
    close_course_sources()

def prepare_root_demo(data: DataDir) -> None:
    """Demo mode started by root (what a school admin usually does): no user's code may run as
    root. Servers run as the demo account and the kits service (which runs students' code on
    simulated kits) as its own; the course sources close as in production."""
    from hub_config.system.linux_accounts import ensure_demo_account, ensure_kits_account

    check_reachable_by_servers(
    data,         advice="or, for real classes, use production mode ([mode] production = true; see README)")
    ensure_demo_account()
    ensure_kits_account(data.kit_folders)
    close_course_sources()

def check_reachable_by_servers(data: DataDir, advice: str = "") -> None:
    """Servers that do not run as root must reach the data directory (homes, the exchange, the
    site's nbgrader settings) and the Python installation."""
    extra = f", {advice}" if advice else ""
    blocked = first_unreachable(data.root)
    if blocked:
        raise LaunchError(
            f"Máy chủ của học sinh cần đọc thư mục trao đổi bài và các thiết lập trong {data.root}, nhưng "
            f"{blocked} không cho người dùng khác truy cập. Hãy chạy `chmod o+x {blocked}` hoặc chọn "
            "thư mục --data nằm ngoài thư mục đó.",
            f"Students' servers read the course exchange and settings in {data.root}, but {blocked} is "
            f"closed to other users. Run `chmod o+x {blocked}` or choose a --data directory outside it{extra}."
        )
    for program in (Path(sys.executable), Path(os.path.realpath(sys.executable)), Path(sys.prefix)):
        blocked = first_unreachable(program)
        if blocked:
            raise LaunchError(
                f"Máy chủ của học sinh không chạy bằng quyền root nên không dùng được {program}: {blocked} "
                "không cho người dùng khác truy cập. Hãy cài STEM-Lab Hub với một bản Python mà mọi người "
                "dùng đều chạy được (ví dụ /usr/bin/python3 của Debian, trong một thư mục như /opt/stemlab), "
                "không đặt trong /root.",
                f"Student servers do not run as root, and cannot use {program}: {blocked} is closed to "
                "other users. Install STEM-Lab Hub with a Python every user can run (e.g. Debian's "
                f"/usr/bin/python3, in a folder such as /opt/stemlab), not under /root{extra}."
            )

def close_course_sources() -> None:
    from hub_config.teaching.catalog import load_catalog
    from hub_config.system.linux_accounts import restrict_to_graders

    # The course sources hold solutions and hidden tests, and the install is world-readable.
    for course in load_catalog().courses.values():
        restrict_to_graders(course.root)
