"""The environment every process we start inherits."""

import os
import sys
from pathlib import Path


def tools_on_path() -> None:
    """Put this installation's bin directory first on PATH.

    `stemlab` is usually run as .venv/bin/stemlab without activating the venv, but the tools it
    starts look for their helpers by name on PATH: nbgrader runs `alembic` to create a
    gradebook, JupyterHub's default command is `jupyterhub-singleuser`.
    """
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", os.defpath).split(os.pathsep)
    if parts[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir, *(p for p in parts if p != bindir)])


def in_kubernetes_pod() -> bool:
    """Whether this process runs in a Kubernetes pod (the API's address is in every pod's
    environment): the hub pod holds the site's secrets, so students' code never runs unconfined there."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
