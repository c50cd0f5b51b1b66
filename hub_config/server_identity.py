"""Who a student's server is: what its process does to itself before anything of the student's runs.

One record, applied in the same order by both ways a server starts: the plain spawn (in
subprocess's preexec_fn, between fork and exec) and the warm start (in the child of the warm
process, before it runs the single-user server; hub_config/warm/server_child.py).
"""

from __future__ import annotations

import os
import pwd
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from hub_config.singleuser.first_start import seed_lab_settings


@dataclass(frozen=True)
class ServerIdentity:
    login: str
    home: str
    locale: str
    is_student: bool
    # The Linux account the server runs as: the student's own (production), the demo account
    # (demo started by root), or None (a demo run by an ordinary user: the hub's own account).
    account: str | None = None
    own_account: bool = False  # production: the account is the student's, with a home of its own
    cgroup_dirs: tuple[str, ...] = ()  # joined before dropping root: every child inherits them
    # The account's ids, looked up by the hub before the fork (no name lookups in the child,
    # where another thread of the hub may have held the resolver's lock at the fork).
    uid: int | None = None
    gid: int | None = None
    groups: tuple[int, ...] = ()

    def resolved(self) -> ServerIdentity:
        if not self.account:
            return self
        entry = pwd.getpwnam(self.account)
        return replace(self, uid=entry.pw_uid, gid=entry.pw_gid,
                       groups=tuple(os.getgrouplist(self.account, entry.pw_gid)))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerIdentity:
        return cls(**{**data, "cgroup_dirs": tuple(data["cgroup_dirs"]), "groups": tuple(data["groups"])})

    def apply(self) -> None:
        """Become this server's identity; the error says at which step it failed."""
        step = "joining the server's cgroup"
        try:
            for folder in self.cgroup_dirs:
                Path(folder, "cgroup.procs").write_text(str(os.getpid()))
            if self.account:
                step = f"becoming {self.account}"
                if self.uid is None or self.gid is None:
                    raise ValueError("the account's ids were not looked up (ServerIdentity.resolved)")
                os.setgroups(list(self.groups))  # exactly the account's groups, none of root's
                os.setgid(self.gid)
                os.setuid(self.uid)
                os.umask(0o077)  # files in /tmp are private too
            home = Path(self.home)
            step = f"entering the working folder {home}"
            if not self.own_account:
                home.mkdir(parents=True, exist_ok=True)
            os.chdir(home)
            step = "writing first-start JupyterLab settings"
            seed_lab_settings(home, self.locale, self.login, self.is_student)
        except BaseException as err:
            raise ServerIdentityFailed(f"Starting the server of {self.login} failed while {step}: {err!r}") from err


class ServerIdentityFailed(RuntimeError):
    pass
