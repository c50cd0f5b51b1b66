"""Production mode: one Linux account per hub user, with a private home.

Only accounts in our own group (STEMLAB_GROUP) are ever touched, so a roster can never take over
or change a system account that happens to share a name.
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from pathlib import Path

from .errors import StemlabError

STEMLAB_GROUP = "stemlab-users"


class SystemAccountError(StemlabError):
    """A Linux account could not be created or is not ours."""


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemAccountError(f"`{' '.join(cmd)}` failed: {result.stderr.strip() or result.stdout.strip()}")


def ensure_group() -> None:
    try:
        grp.getgrnam(STEMLAB_GROUP)
    except KeyError:
        _run(["groupadd", "--system", STEMLAB_GROUP])


def ensure_linux_account(login: str, home_root: Path) -> Path:
    """Create the account if missing; return its home, which is made private (0700)."""
    if os.geteuid() != 0:
        raise SystemAccountError("Production mode creates Linux accounts and needs root: run `stemlab up` as root.")
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
                f"A Linux account named {login} already exists and is not a STEM-Lab Hub account; "
                "rename or remove it, then try again."
            )
    home = Path(entry.pw_dir)
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    return home


def remove_linux_account(login: str) -> None:
    """Remove one of our accounts and its home (used by tests and `accounts` clean-up)."""
    try:
        entry = pwd.getpwnam(login)
    except KeyError:
        return
    if entry.pw_gid != grp.getgrnam(STEMLAB_GROUP).gr_gid:
        raise SystemAccountError(f"{login} is not a STEM-Lab Hub account; not removing it")
    _run(["userdel", "--remove", login])
