"""The hub's configuration inside Zero to JupyterHub's hub pod.

On a lab server `stemlab up` validates the site's settings, writes them for the hub as its runtime
file and starts the proxy, the hub and the teacher's page. In the hub pod the chart starts
JupyterHub with its own jupyterhub_config.py, which runs the values' `hub.extraConfig`; ours
(deploy/kubernetes/values.yaml) calls `load_into(c)`, which does the launcher's part and then runs
the same hub configuration as a lab server (hub_config/jupyterhub_config.py), which leaves the
proxy, the hub's address and the pods' network to the chart and selects our KubeSpawner
(hub_config/system/kubernetes.py).

The site's settings come from $STEMLAB_CONFIG (the chart mounts stemlab.toml from a ConfigMap),
the database from $STEMLAB_DATABASE_URL (a Secret), the hub pod's address from $POD_IP.
"""

from __future__ import annotations

import os
from pathlib import Path

from traitlets.config import Config

from hub_config.runtime import RUNTIME_ENV, Runtime
from hub_config.site.paths import DataDir
from hub_config.site.settings import load_settings
from hub_config.system.ports import free_port

HUB_CONFIG = Path(__file__).resolve().parent.parent / "jupyterhub_config.py"
Z2JH_HUB_PORT = 8081
Z2JH_PROXY_API_PORT = 8001


def write_runtime() -> Path:
    """The runtime file the launcher would write, for this hub pod; its path."""
    settings = load_settings(os.environ.get("STEMLAB_CONFIG")).settings
    data = DataDir(settings.data_path()).ensure()
    runtime = Runtime(settings=settings, data_dir=str(data.root), database_url=settings.hub_database_url(),
                      hub_port=Z2JH_HUB_PORT, proxy_api_port=Z2JH_PROXY_API_PORT,
                      project_root=str(HUB_CONFIG.parent.parent), teach_port=free_port(),
                      service_host=os.environ.get("POD_IP", "127.0.0.1"))
    path = data.run_dir / "runtime.json"
    runtime.save(path)
    return path


def load_into(c: Config) -> None:
    """Zero to JupyterHub's `hub.extraConfig`: the site's hub configuration on top of the chart's."""
    os.environ[RUNTIME_ENV] = str(write_runtime())
    code = compile(HUB_CONFIG.read_text(encoding="utf-8"), str(HUB_CONFIG), "exec")
    exec(code, {"get_config": lambda: c, "__file__": str(HUB_CONFIG), "__name__": "stemlab_hub_config"})
