"""Students' servers as pods: KubeSpawner, configured from the site's stemlab.toml.

With `[server] spawner = "kubernetes"` the hub runs in the hub pod of Zero to JupyterHub
(deploy/kubernetes/values.yaml), and each user's server is a pod of the single-user image
(deploy/images/singleuser/Dockerfile). What a lab server gives a server through its disk, a pod
gets otherwise:

- the site's Jupyter configuration (nbgrader's settings, the student's JupyterLab, the assignments
  page's catalogue, only the user's own offerings of it) and the first-start JupyterLab settings
  travel in the pod's environment and are written out by the server (singleuser/pod_config.py);
- the home is the user's own volume (a PersistentVolumeClaim kept when the server stops), mounted
  at /home/jovyan; no other volume: nbgrader's exchange is the exchange service, reached through
  the proxy with the server's own token, and kits stay on lab machines (`[kits] service_url`,
  or `rfc2217://` URLs);
- memory and CPU come from `[limits]` (the cap) and `[kubernetes] guaranteed_share` (the request);
- the server runs as the image's unprivileged user, without privilege escalation or capabilities,
  under the runtime's default seccomp profile, and gets no Kubernetes API token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubespawner import KubeSpawner
from traitlets import Unicode, default
from traitlets.config import Config

from hub_config.singleuser.pod_config import pod_env
from hub_config.site.paths import DataDir
from hub_config.site.settings import SiteSettings
from hub_config.spawner import access_scopes_with_class, is_student

HOME = "/home/jovyan"
UID, GID = 1000, 100  # the single-user image's user (jovyan) and group (users)
SERVER_COMMAND = ["python", "-m", "hub_config.singleuser.server"]


class StemlabKubeSpawner(KubeSpawner):
    default_locale = Unicode("vi_VN", config=True, help="JupyterLab language on a user's first start: vi_VN or en.")
    site_config_dir = Unicode("", config=True, help="The site's Jupyter configuration folder, carried to each pod.")
    student_config_dir = Unicode("", config=True, help="The students' JupyterLab configuration, first for students.")

    @property
    def is_student(self) -> bool:
        return is_student(self.user)

    @default("oauth_access_scopes")
    def _access_scopes_with_class(self) -> list[str]:
        return access_scopes_with_class(self.user, self.name)

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        student = self.is_student  # one question to the accounts table per start
        folders = [Path(self.student_config_dir)] if self.student_config_dir and student else []
        folders += [Path(self.site_config_dir)] if self.site_config_dir else []
        offerings = {g.name.removeprefix("nbgrader-") for g in self.user.groups if g.name.startswith("nbgrader-")}
        env.update(pod_env(folders, self.default_locale, student, offerings))
        return env


def pod_settings(site: SiteSettings) -> dict[str, Any]:
    """KubeSpawner's settings for every user's pod, from the site's settings."""
    share = site.k8s_guaranteed_share
    settings: dict[str, Any] = {
        "image": site.k8s_image,
        "cmd": SERVER_COMMAND,
        "mem_limit": site.mem_limit,
        "mem_guarantee": int(site.mem_limit * share),
        "cpu_limit": site.cpu_limit,
        "cpu_guarantee": round(site.cpu_limit * share, 3),
        "uid": UID,
        "gid": GID,
        "fs_gid": GID,
        "allow_privilege_escalation": False,
        "container_security_context": {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                                       "seccompProfile": {"type": "RuntimeDefault"}},
        "automount_service_account_token": False,
        "storage_pvc_ensure": True,
        "storage_capacity": site.k8s_home_size,
        "storage_access_modes": ["ReadWriteOnce"],
        "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}],
        "volume_mounts": [{"name": "home", "mountPath": HOME}],
        "working_dir": HOME,
        "notebook_dir": HOME,
        "default_locale": "vi_VN" if site.ui_language == "vi" else "en",
        "extra_labels": {"app.kubernetes.io/part-of": "stemlab-hub"},
    }
    if site.k8s_storage_class:
        settings["storage_class"] = site.k8s_storage_class
    if site.k8s_namespace:
        settings["namespace"] = site.k8s_namespace
    return settings


def configure(c: Config, site: SiteSettings, data: DataDir) -> None:
    """Select our KubeSpawner and give it the site's settings (after Zero to JupyterHub's own:
    the settings of the more specific class win)."""
    c.JupyterHub.spawner_class = StemlabKubeSpawner
    for name, value in pod_settings(site).items():
        setattr(c.StemlabKubeSpawner, name, value)
    c.StemlabKubeSpawner.site_config_dir = str(data.jupyter_config_dir)
    c.StemlabKubeSpawner.student_config_dir = str(data.student_config_dir)
