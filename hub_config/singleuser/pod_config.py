"""What a student's server on Kubernetes is given in its environment, and unpacks itself.

On a lab server each server reads the site's Jupyter configuration from the data directory
(JUPYTER_CONFIG_PATH: the site's nbgrader settings and the assignments page, and first for
students the JupyterLab without authoring tools), and the spawner writes the first-start
JupyterLab settings into the home before the server runs. A pod sees neither the hub's data
directory nor the spawner's file system, so the spawner (hub_config/system/kubernetes.py) packs
those folders into one variable and the server (hub_config/singleuser/server.py) writes them out
in the pod, outside the home, and seeds the first-start settings, before Jupyter starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path, PurePosixPath

BUNDLE_ENV = "STEMLAB_JUPYTER_CONFIG"  # the folders of JUPYTER_CONFIG_PATH, first first
LOCALE_ENV = "STEMLAB_LAB_LOCALE"      # the first-start JupyterLab language (vi_VN or en)
STUDENT_ENV = "STEMLAB_STUDENT"        # "1": the student's menu (assignments); "0": the teacher's
POD_CONFIG_ROOT = Path("/tmp/stemlab-jupyter")  # in the pod, where the folders are written out
MAX_BUNDLE_BYTES = 256 * 1024  # Kubernetes keeps a pod's spec in etcd (1.5 MB per object)


class BundleError(ValueError):
    """The folders cannot be carried to a pod: too large, or a path that is not the folder's."""


def pack(folders: list[Path], offerings: set[str] | None = None) -> str:
    """Every file of each folder, by its path inside the folder, as one JSON text; of the site's
    course catalogue, only `offerings` (the user's own: a province's would not fit a pod's spec)."""
    from hub_config.singleuser.assignments_page import CATALOG_FILE

    packed = []
    for folder in folders:
        files = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
                 for p in sorted(folder.rglob("*")) if p.is_file()}
        if offerings is not None and CATALOG_FILE in files:
            catalog = json.loads(files[CATALOG_FILE])
            files[CATALOG_FILE] = json.dumps({k: v for k, v in catalog.items() if k in offerings}, ensure_ascii=False)
        packed.append(files)
    text = json.dumps(packed, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > MAX_BUNDLE_BYTES:
        raise BundleError(f"the Jupyter configuration for a pod is {len(text.encode())} bytes, over "
                          f"{MAX_BUNDLE_BYTES}: {', '.join(str(f) for f in folders)}")
    return text


def unpack(text: str, root: Path = POD_CONFIG_ROOT) -> list[Path]:
    """Write the packed folders under root (root/0, root/1, ...), in their order; their paths."""
    written = []
    for index, files in enumerate(json.loads(text)):
        folder = root / str(index)
        for name, content in files.items():
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts:
                raise BundleError(f"{name!r} is not a path inside a configuration folder")
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        folder.mkdir(parents=True, exist_ok=True)
        written.append(folder)
    return written


def pod_config_path(count: int, root: Path = POD_CONFIG_ROOT) -> str:
    """JUPYTER_CONFIG_PATH of a pod whose bundle holds `count` folders."""
    return os.pathsep.join(str(root / str(i)) for i in range(count))


def prepare_pod(env: MutableMapping[str, str], home: Path, root: Path = POD_CONFIG_ROOT) -> bool:
    """In a pod: write out the Jupyter configuration and the first-start JupyterLab settings.
    False (and nothing done) on a lab server, where the variables are not set."""
    if BUNDLE_ENV not in env:
        return False
    from hub_config.singleuser.first_start import seed_lab_settings

    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(str(p) for p in unpack(env[BUNDLE_ENV], root))
    if env.get(LOCALE_ENV):
        seed_lab_settings(home, env[LOCALE_ENV], env.get("JUPYTERHUB_USER", ""), env.get(STUDENT_ENV) == "1")
    return True


def pod_env(folders: list[Path], locale: str, is_student: bool, offerings: set[str]) -> Mapping[str, str]:
    """The variables the spawner gives a pod for prepare_pod."""
    return {BUNDLE_ENV: pack(folders, offerings), LOCALE_ENV: locale, STUDENT_ENV: "1" if is_student else "0",
            "JUPYTER_CONFIG_PATH": pod_config_path(len(folders))}
