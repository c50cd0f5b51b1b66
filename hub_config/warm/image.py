"""The warm process: imports what a student's server and its kernels use, then forks servers.

Started by the hub (hub_config/warm/starter.py) from a clean `exec` with an environment of
Python's needs only, as the hub's own account: what it holds is imported modules and nothing
of the site's, so nothing of the site's reaches the servers it forks.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import socket
import sys
from pathlib import Path

# What every student's server imports as it starts (its server extensions are added from the
# installation's Jupyter config, so one installed later is warm too).
SERVER_MODULES = ("jupyter_server.serverapp", "jupyterhub.singleuser.extension", "jupyterlab.labapp",
                  "jupyterlab_server", "jupyter_server.services.kernels.kernelmanager",
                  "jupyter_server.services.contents.largefilemanager", "jupyter_server.gateway.managers",
                  "jupyter_server_terminals", "jupyter_lsp", "notebook.app", "notebook_shim",
                  "nbgrader.server_extensions.assignment_list", "nbgrader.server_extensions.validate_assignment",
                  "jupyterlab.extensions.pypi", "jupyterlab.extensions.readonly", "httpx",
                  "hub_config.singleuser.server", "hub_config.singleuser.assignments_page",
                  "hub_config.warm.server_child", "hub_config.warm.kernels")
# What a kernel imports before the first cell, and what lessons import most.
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.comm",
                  "ipykernel.debugger", "debugpy.server",
                  "IPython.core.interactiveshell", "IPython.core.completer", "jedi", "numpy", "sklearn",
                  "sklearn.neighbors", "sklearn.tree", "sklearn.linear_model", "sklearn.model_selection",
                  "sklearn.metrics", "matplotlib.pyplot", "matplotlib_inline.backend_inline", "ipywidgets",
                  "lab_hardware.magics")


def installed_server_extensions() -> list[str]:
    names: list[str] = []
    for folder in (Path(sys.prefix, "etc", "jupyter", "jupyter_server_config.d"),):
        for path in sorted(folder.glob("*.json")):
            try:
                enabled = json.loads(path.read_text())["ServerApp"]["jpserver_extensions"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            names += [name for name, on in enabled.items() if on]
    return names


def preload(names: tuple[str, ...] | list[str]) -> list[str]:
    """Import each module; return those that could not be (a missing library costs only speed)."""
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001
            missing.append(name)
    return missing


def fill_shared_caches() -> None:
    """Work every server would do alike at its first page, done once here and inherited: the
    system facts jupyter_server puts in each page (in a git checkout, finding its commit runs a
    `git rev-parse` subprocess: one per student's server otherwise)."""
    from jupyter_server.base.handlers import json_sys_info

    json_sys_info()


def main(channel_fd: int) -> None:
    from hub_config.singleuser import lab_translations
    from hub_config.singleuser.server import prepare_imports
    from hub_config.warm.forkserver import serve
    from hub_config.warm.server_child import become_server

    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # the warm process's own folder is no server's or kernel's
    prepare_imports()
    lab_translations.install()
    # Kernels draw inline, as a fresh kernel would (matplotlib reads this at its import).
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    missing = preload([*SERVER_MODULES, *installed_server_extensions(), *KERNEL_MODULES])
    if missing:
        print(f"[stemlab warm] not preloaded (imported at each start instead): {', '.join(missing)}", file=sys.stderr)
    fill_shared_caches()
    # What is imported now is shared with every server and kernel: keep the collector off it, or
    # its first pass in each of them would copy every page of it (copy-on-write).
    gc.collect()
    gc.freeze()
    serve(socket.socket(fileno=channel_fd), become_server)


if __name__ == "__main__":
    main(int(sys.argv[1]))
