"""Kubernetes through Zero to JupyterHub, without a cluster: the hub's configuration loads as the
hub pod loads it and selects our KubeSpawner; the pods and volumes KubeSpawner builds for a
student and a teacher hold what the site's settings say and nothing else (resources, security
context, one home volume, no exchange volume); every manifest we ship, and those KubeSpawner
builds, validates against the Kubernetes schemas; the values file's stemlab.toml is a valid site."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from hub_config.people.accounts import list_accounts
from hub_config.site.settings import load_settings

from ..conftest import FILES, STEMLAB, import_roster

PROJECT_ROOT = Path(__file__).resolve().parents[2]

DEPLOY = PROJECT_ROOT / "deploy"
VALUES = DEPLOY / "kubernetes" / "values.yaml"
K8S_VERSION = kubernetes_validate.latest_version()
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none, namespace: stemlab}}]
current-context: none
"""


def site_toml() -> str:
    return yaml.safe_load(VALUES.read_text())["hub"]["extraFiles"]["stemlab-toml"]["stringData"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("k8s")
    data, config = base / "var", base / "stemlab.toml"
    config.write_text(site_toml() + '\n[storage]\ndata_dir = "var"\n', encoding="utf-8")
    (base / "kubeconfig").write_text(KUBECONFIG)
    import_roster(data, FILES / "two_classes.csv", "--config", str(config))
    offered = subprocess.run([STEMLAB, "courses", "offer", "python-co-ban", "--class", "10A1", "--year", "2025-2026",
                              "--data", str(data), "--config", str(config)], capture_output=True, text=True)
    assert offered.returncode == 0, offered.stdout + offered.stderr
    accounts = list_accounts(f"sqlite:///{data / 'jupyterhub.sqlite'}")
    people = {"student": next(a.login for a in accounts if a.role == "student" and a.classes == "10A1"),
              "other_student": next(a.login for a in accounts if a.role == "student" and a.classes == "10A2"),
              "teacher": next(a.login for a in accounts if a.role == "teacher" and a.classes == "10A1")}
    # the chart gives the database's URL from a Secret as $STEMLAB_DATABASE_URL (PostgreSQL there)
    env = {**os.environ, "STEMLAB_CONFIG": str(config), "STEMLAB_DATA": str(data), "POD_IP": "10.1.2.3",
           "STEMLAB_DATABASE_URL": f"sqlite:///{data / 'jupyterhub.sqlite'}",
           "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBECONFIG": str(base / "kubeconfig")}
    built = subprocess.run([sys.executable, "-m", "tests.hub_config.k8s_manifests", *people.values()], cwd=PROJECT_ROOT,
                           env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-4000:]
    out = json.loads(built.stdout.strip().splitlines()[-1])
    return out, people, data, env["STEMLAB_DATABASE_URL"]


def container(pod: dict) -> dict:
    (only,) = pod["spec"]["containers"]
    return only


def env_of(pod: dict) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container(pod)["env"]}


def test_the_hub_configuration_loads_with_our_kubespawner(cluster):
    out, _, _, database = cluster
    assert out["spawner_class"] == "hub_config.system.kubernetes.StemlabKubeSpawner"
    assert out["authenticator_class"] == "hub_config.auth.StemlabAuthenticator"
    assert out["db_url"] == database, "the hub's database is the Secret's"
    names = {s["name"] for s in out["services"]}
    assert {"stemlab-exchange", "stemlab-teach", "python-co-ban-10a1-2025-2026"} <= names
    assert "stemlab-kits" not in names, "simulated kits run students' code: never in the hub's pod"
    for service in out["services"]:
        if "url" in service and service["name"] != "idle-culler":
            assert service["url"].startswith("http://10.1.2.3:"), service  # where the proxy pod reaches it
    teach = next(s for s in out["services"] if s["name"] == "stemlab-teach")
    assert teach.get("command"), "no launcher beside the hub on Kubernetes: the hub starts the teacher's page"
    assert out["bind_url"] == "http://:8000", "the chart's network settings are left alone"
    assert not out["announcement"], "pods isolate students: no demo warning"
    user_role = next(r for r in out["roles"] if r["name"] == "user")
    assert "access:services!service=stemlab-exchange" in user_role["scopes"]


def test_a_students_pod_has_the_sites_limits_security_and_one_home_volume(cluster):
    out, people, _, _ = cluster
    pod = out["pods"][people["student"]]
    box = container(pod)
    assert box["image"] == "registry.example.vn/stemlab/singleuser:0.1.0"
    limits, requests = box["resources"]["limits"], box["resources"]["requests"]
    assert limits["memory"] == 1024**3 and requests["memory"] == 1024**3 // 2, "stemlab.toml wins over the chart's 8G"
    assert float(limits["cpu"]) == 1.0 and float(requests["cpu"]) == 0.5
    security = box["securityContext"]
    assert security["runAsUser"] == 1000 and security["runAsNonRoot"] is True
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["spec"]["automountServiceAccountToken"] is False, "no Kubernetes API token in a student's pod"
    pvc = out["pvcs"][people["student"]]
    assert pod["spec"]["volumes"] == [{"name": "home", "persistentVolumeClaim": {"claimName": pvc["metadata"]["name"]}}]
    assert box["volumeMounts"] == [{"name": "home", "mountPath": "/home/jovyan"}], "no exchange volume, nothing shared"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert box["args"] == ["python", "-m", "hub_config.singleuser.server"]


def test_a_pod_carries_the_sites_jupyter_configuration_and_only_its_users_offerings(cluster):
    out, people, _, _ = cluster
    env = env_of(out["pods"][people["student"]])
    assert env["STEMLAB_LAB_LOCALE"] == "vi_VN" and env["STEMLAB_STUDENT"] == "1"
    bundle = json.loads(env["STEMLAB_JUPYTER_CONFIG"])
    student_folder, site_folder = bundle
    assert "labconfig/page_config.json" in student_folder, "the student's JupyterLab, without authoring tools"
    nbgrader = json.loads(site_folder["nbgrader_config.json"])
    assert nbgrader["ServiceMirror"]["url"] == "http://proxy-public/services/stemlab-exchange/"
    assert nbgrader["ExchangeFactory"]["submit"] == "hub_config.teaching.exchange_client.ServiceSubmit"
    assert set(json.loads(site_folder["stemlab_courses.json"])) == {"python-co-ban-10a1-2025-2026"}
    other = json.loads(env_of(out["pods"][people["other_student"]])["STEMLAB_JUPYTER_CONFIG"])
    assert json.loads(other[1]["stemlab_courses.json"]) == {}, "another class's offerings are not in its pods"
    teacher = env_of(out["pods"][people["teacher"]])
    assert teacher["STEMLAB_STUDENT"] == "0" and len(json.loads(teacher["STEMLAB_JUPYTER_CONFIG"])) == 1
    assert "API_TOKEN" not in json.dumps(bundle), "no secret in the bundle"


def test_grading_never_runs_students_code_unconfined_in_the_hubs_pod(cluster):
    _, _, data, _ = cluster
    config = json.loads((data / "offerings" / "python-co-ban-10a1-2025-2026" / "nbgrader_config.json").read_text())
    assert config["SandboxedExecute"]["unconfined_ok"] is False


def test_every_manifest_we_ship_and_kubespawner_builds_validates(cluster):
    out, _, _, _ = cluster
    shipped = [p for p in (DEPLOY / "kubernetes").glob("*.yaml") if p.name != "values.yaml"]
    assert shipped
    for path in shipped:
        for document in yaml.safe_load_all(path.read_text()):
            kubernetes_validate.validate(document, K8S_VERSION, strict=True)
    for kind in ("pods", "pvcs"):
        for manifest in out[kind].values():
            kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def test_the_values_file_gives_a_valid_site_and_runs_our_hub(tmp_path):
    config = tmp_path / "stemlab.toml"
    config.write_text(site_toml(), encoding="utf-8")
    settings = load_settings(config).settings
    assert settings.spawner == "kubernetes" and settings.exchange == "service" and not settings.production
    values = yaml.safe_load(VALUES.read_text())
    assert "load_into(c)" in values["hub"]["extraConfig"]["00-stemlab"]
    assert values["hub"]["args"][:3] == ["python", "-m", "hub_config.app.hub_app"]
    assert values["singleuser"]["image"]["name"] in settings.k8s_image
    assert values["cull"]["enabled"] is False, "the site's own culler, not a second one"


@pytest.mark.parametrize("image", ["hub", "singleuser"])
def test_the_images_build_from_this_tree(image):
    dockerfile = (DEPLOY / "images" / image / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (PROJECT_ROOT / source).exists(), source
    assert re.search(r"^USER 1000$", dockerfile, re.M), "never root"
    cmd = json.loads(re.search(r"^CMD (.+)$", dockerfile, re.M).group(1))
    assert cmd[:3] == ["python", "-m", "hub_config.app.hub_app" if image == "hub" else "hub_config.singleuser.server"]
