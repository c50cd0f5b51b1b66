"""The contract between `stemlab up` and the hub process it starts.

The launcher validates the settings once, picks internal ports, and writes them here; the hub's
configuration file reads this instead of re-deriving anything, so both always agree.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from hub_config.site.settings import SiteSettings

RUNTIME_ENV = "STEMLAB_RUNTIME"


@dataclass
class Runtime:
    settings: SiteSettings  # validated by the launcher; the hub reads them typed, not as a dict
    data_dir: str
    database_url: str
    hub_port: int
    proxy_api_port: int
    project_root: str
    teach_port: int = 0  # the teacher's page (hub_config/teaching/page.py), run beside the hub
    # where the hub's own services listen for the proxy: loopback on a lab server; the hub pod's
    # address on Kubernetes, where the proxy is another pod (hub_config/system/kubernetes_hub.py)
    service_host: str = "127.0.0.1"

    @property
    def teach_url(self) -> str:
        return self.service_url(self.teach_port)

    def service_url(self, port: int) -> str:
        return f"http://{self.service_host}:{port}"

    @property
    def public_url(self) -> str:
        return f"http://{self.settings.ip}:{self.settings.port}"

    @property
    def hub_api_url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}/hub/api"

    def as_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["settings"] = self.settings.values()
        return out

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> Runtime:
        raw = json.loads(Path(path).read_text())
        raw["settings"] = SiteSettings(**raw["settings"])
        return cls(**raw)
