"""Run in its own process by test_kubernetes.py: the hub's configuration as the hub pod loads it
(Zero to JupyterHub's config, then ours through hub.extraConfig), and the pod and volume
manifests KubeSpawner builds from it for some of the site's people, printed as JSON.

No cluster here: KubeSpawner is given a kube-config whose API server does not exist (the one part
that cannot run here); nothing in building a manifest talks to it.

    python -m tests.hub_config.k8s_manifests LOGIN [LOGIN ...]
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any


def main(logins: list[str]) -> None:
    from jupyterhub import orm
    from jupyterhub.app import JupyterHub
    from jupyterhub.objects import Hub
    from jupyterhub.user import User
    from kubernetes_asyncio.client import ApiClient

    from hub_config.system.kubernetes_hub import load_into

    app = JupyterHub()
    app.config.JupyterHub.spawner_class = "kubespawner.KubeSpawner"  # what the chart's config sets first
    app.config.KubeSpawner.mem_limit = "8G"  # and a value of the chart's that ours must win over
    load_into(app.config)
    app.update_config(app.config)
    db = orm.new_session_factory(app.db_url)()

    async def build() -> dict[str, Any]:
        api = ApiClient()
        out: dict[str, Any] = {
            "spawner_class": f"{app.spawner_class.__module__}.{app.spawner_class.__name__}",
            "services": [{k: v for k, v in s.items() if k != "api_token"} for s in app.services],
            "roles": app.load_roles,
            "bind_url": app.bind_url,
            "authenticator_class": f"{app.authenticator_class.__module__}.{app.authenticator_class.__name__}",
            "db_url": app.db_url,
            "announcement": app.template_vars.get("announcement"),
            "pods": {}, "pvcs": {},
        }
        for login in logins:
            user = User(db.query(orm.User).filter_by(name=login).one(), settings={}, db=db)
            spawner = app.spawner_class(config=app.config, user=user, hub=Hub(), _mock=True)
            spawner.api_token = "not-a-token"
            out["pods"][login] = api.sanitize_for_serialization(await spawner.get_pod_manifest())
            out["pvcs"][login] = api.sanitize_for_serialization(spawner.get_pvc_manifest())
        await api.close()
        return out

    print(json.dumps(asyncio.run(build()), default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
