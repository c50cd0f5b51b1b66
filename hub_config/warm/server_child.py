"""A child of the warm process becoming one student's server.

In order: a session of its own (as the plain spawn's start_new_session), the student's identity
(cgroup, account and groups, umask, home: ServerIdentity, before anything of theirs is touched),
the server's environment in place of the warm process's, the kernel nursery forked (already the
student), then the single-user server on the hub's arguments.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setproctitle import setproctitle

from hub_config.server_identity import ServerIdentity
from hub_config.warm.forkserver import Becoming, runs_this_python, take_environment

SERVER_MODULE = "hub_config.singleuser.server"
# The server's kernels come from its nursery (hub_config/warm/kernels.py), by this provisioner.
WARM_KERNELS_ARGUMENT = "--KernelProvisionerFactory.default_provisioner_name=stemlab-warm"


def is_our_server(cmd: list[str]) -> bool:
    """A warm start runs our single-user server only; a site's own command starts plainly."""
    return runs_this_python(cmd, SERVER_MODULE)


def server_title(cmd: list[str], env: dict[str, str]) -> str:
    """What `ps` shows of a warm-started server: the plain start's command line, and whose server
    it is for which hub (its /proc environ is the warm process's, the block it was exec'd with)."""
    return f"{' '.join(cmd)} (server of {env.get('JUPYTERHUB_USER', '?')}, hub {env.get('JUPYTERHUB_API_URL', '?')})"


def reports_to(cmdline: list[str], environ: dict[str, str], hub_api_url: str) -> bool:
    """Whether a process is a server (started plainly or warm) of the hub at hub_api_url."""
    return environ.get("JUPYTERHUB_API_URL") == hub_api_url or " ".join(cmdline).endswith(f", hub {hub_api_url})")


def server_request(identity: ServerIdentity, cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    return {"identity": identity.to_json(), "cmd": cmd, "env": env}


def import_time_defaults() -> list[str]:
    """JupyterLab computes these defaults from HOME when its module is imported (in the warm
    process, HOME is nobody's): given again for this user, on the command line before the hub's
    own arguments, so their settings and workspaces are theirs."""
    from jupyterlab import commands

    return [f"--LabApp.user_settings_dir={commands.get_user_settings_dir()}",
            f"--LabApp.workspaces_dir={commands.get_workspaces_dir()}"]


def become_server(request: dict[str, Any]) -> Becoming:
    from hub_config.singleuser import server
    from hub_config.warm import kernels

    cmd: list[str] = request["cmd"]
    if not is_our_server(cmd):
        raise ValueError(f"not the single-user server this warm process has imported: {cmd[:3]}")
    setproctitle(server_title(cmd, request["env"]))
    os.setsid()
    ServerIdentity.from_json(request["identity"]).apply()
    take_environment(request["env"])
    kernels.start_nursery()

    def run() -> int:
        sys.argv = [server.__file__, *import_time_defaults(), *cmd[3:], WARM_KERNELS_ARGUMENT]
        return server.run()

    return Becoming(run)
