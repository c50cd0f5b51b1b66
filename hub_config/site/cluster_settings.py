"""Site settings for running the platform on a cluster (Kubernetes through Zero to JupyterHub).

A part of `SiteSettings` (hub_config/site/settings.py), kept here so each file reads in one
sitting; the traits are the same kind (help text, the TOML section they live in). The default,
`server.spawner = "local"`, is the lab server as before and none of these is read. On Kubernetes
each student's server is a pod: its memory and CPU come from `[limits]` (mem_limit, cpu_limit),
its JupyterLab language from `ui.language`, and the hub database from `storage.database_url`
(PostgreSQL; the Helm values give it from a Secret as $STEMLAB_DATABASE_URL).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traitlets import Enum, Float, TraitError, Unicode, validate
from traitlets.config import Configurable

if TYPE_CHECKING:
    from hub_config.site.paths import DataDir

# A Kubernetes quantity as a volume size is written: 2Gi, 500Mi, 10G
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$")
# A Kubernetes namespace: a DNS label
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class ClusterSettings(Configurable):
    """Where students' servers run: on this lab server, or as pods of a Kubernetes cluster; and
    where they reach the hub's services."""

    ip: str  # SiteSettings' traits
    port: int
    production: bool

    spawner = Enum(
        ["local", "kubernetes"],
        default_value="local",
        config=True,
        help="Where students' servers run (máy chủ của học sinh): local (processes on this lab server, "
        "started by `stemlab up`) or kubernetes (one pod per student, the hub deployed with the Zero to "
        "JupyterHub Helm chart and deploy/kubernetes/values.yaml; see the README).",
    ).tag(section="server")

    k8s_image = Unicode(
        "stemlab-hub/singleuser:0.1.0",
        config=True,
        help="Kubernetes: the students' server image (ảnh máy chủ học sinh), built from "
        "deploy/images/singleuser/Dockerfile and pushed to the province's registry, e.g. "
        "registry.sgddt.example.vn/stemlab/singleuser:0.1.0.",
    ).tag(section="kubernetes", key="image")

    k8s_namespace = Unicode(
        "",
        config=True,
        help="Kubernetes: the namespace students' pods and home volumes are made in. Empty: the hub's own.",
    ).tag(section="kubernetes", key="namespace")

    k8s_storage_class = Unicode(
        "",
        config=True,
        help="Kubernetes: the storage class of each student's home volume (ổ lưu trữ). Empty: the "
        "cluster's default class.",
    ).tag(section="kubernetes", key="storage_class")

    k8s_home_size = Unicode(
        "2Gi",
        config=True,
        help="Kubernetes: the size of each student's home volume (one per student, kept when the server "
        "stops), as Kubernetes writes it: 2Gi, 500Mi.",
    ).tag(section="kubernetes", key="home_size")

    k8s_guaranteed_share = Float(
        0.5,
        min=0.05,
        max=1.0,
        config=True,
        help="Kubernetes: the share of limits.mem_limit and limits.cpu_limit each student's pod is "
        "guaranteed (its request; the limit is the cap). 0.5: a 1G, 1-core limit reserves 512M and "
        "half a core, so a node holds twice as many idle students as busy ones.",
    ).tag(section="kubernetes", key="guaranteed_share")

    exchange = Enum(
        ["folder", "service"],
        default_value="folder",
        config=True,
        help="How nbgrader moves assignments, submissions and feedback (nơi trao đổi bài): folder (a folder "
        "on this server's disk that students' servers reach through Linux permissions) or service (the "
        "stemlab-exchange hub service keeps them on a disk of its own; students' servers share no folder "
        "with it or with each other, as on Kubernetes).",
    ).tag(section="exchange", key="kind")

    kits_service_url = Unicode(
        "",
        config=True,
        help="Where students' servers reach the kits service (dịch vụ bộ kit). Empty: through this "
        "hub's proxy: http://127.0.0.1:<port>/services/stemlab-kits/ on a lab server, "
        "http://proxy-public/services/stemlab-kits/ on Kubernetes.",
    ).tag(section="kits", key="service_url")

    @validate("k8s_home_size")
    def _valid_size(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"])
        if not _QUANTITY.match(value):
            raise TraitError(f"{value!r} is not a Kubernetes size such as 2Gi or 500Mi")
        return value

    @validate("k8s_namespace")
    def _valid_namespace(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"])
        if value and not _DNS_LABEL.match(value):
            raise TraitError(f"{value!r} is not a Kubernetes namespace (lower-case letters, digits and -)")
        return value

    @validate("kits_service_url")
    def _valid_kits_url(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"])
        if value and not value.startswith(("http://", "https://")):
            raise TraitError(f"{value!r} is not an http:// or https:// URL")
        return value if not value or value.endswith("/") else value + "/"

    def local_service_url(self, name: str) -> str:
        """A hub service's address through this machine's proxy, for servers on this machine."""
        loopback = "127.0.0.1" if self.ip in ("", "0.0.0.0", "::") else self.ip
        return f"http://{loopback}:{self.port}/services/{name}/"

    def exchange_root(self, data: "DataDir") -> Path:
        """Where this machine holds the courses' releases and submissions, in nbgrader's layout:
        the exchange service's own folder when it keeps them, else the folder exchange."""
        return data.exchange_store_dir if self.exchange == "service" else data.exchange_dir

    def exchange_service_url(self) -> str | None:
        from hub_config.teaching.scopes import EXCHANGE_SERVICE

        if self.exchange != "service":
            return None
        if self.spawner == "kubernetes":  # servers are pods: through the proxy's in-cluster service
            return f"http://proxy-public/services/{EXCHANGE_SERVICE}/"
        return self.local_service_url(EXCHANGE_SERVICE)

    def kits_url(self) -> str:
        """Where students' servers reach the kits service."""
        if self.kits_service_url:
            return self.kits_service_url
        if self.spawner == "kubernetes":
            return "http://proxy-public/services/stemlab-kits/"
        return self.local_service_url("stemlab-kits")

    def check_together(self) -> None:
        """Settings that are each valid but not together."""
        from hub_config.site.errors import SettingsError

        if self.spawner == "kubernetes" and self.production:
            raise SettingsError(
                "Trên Kubernetes, mỗi học sinh có pod riêng: [mode] production (tài khoản Linux trên một máy "
                "chủ) không dùng ở đây; hãy đặt production = false.",
                "On Kubernetes each student has a pod of their own: [mode] production (Linux accounts on one "
                "lab server) does not apply; set production = false.")
        if self.spawner == "kubernetes" and self.exchange != "service":
            raise SettingsError(
                "Trên Kubernetes, máy chủ của học sinh là các pod không dùng chung ổ đĩa: hãy đặt "
                "[exchange] kind = \"service\".",
                "On Kubernetes students' servers are pods that share no disk: set [exchange] kind = \"service\".")
