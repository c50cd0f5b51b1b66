"""An offline install (issue 17): `make bundle` writes one folder, and a fresh copy of the platform
installs from it with `make install BUNDLE=...` inside a network namespace that has no route
anywhere (no registry, no DNS: only its own loopback), then `stemlab up` serves the hub there.

Needs root (unshare --net); CI runs as root."""

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from ..conftest import open_for_servers

ROOT = Path(__file__).resolve().parents[2]


def offline(script: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run a bash script in a new network namespace: its loopback up, nothing else."""
    return subprocess.run(["unshare", "--net", "--", "bash", "-euo", "pipefail", "-c", "ip link set lo up\n" + script],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={"PATH": os.environ["PATH"], "HOME": str(cwd), "LANG": "C.UTF-8"})


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        if os.environ.get("CI"):
            pytest.fail("the offline install test needs root (a network namespace); CI runs as root")
        pytest.skip("needs root for a network namespace (unshare --net)")
    out = tmp_path_factory.mktemp("usb") / "stemlab-bundle"
    made = subprocess.run([str(ROOT / "deploy" / "make-bundle"), str(out)], capture_output=True, text=True, timeout=900)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    return out


def test_a_school_without_registries_installs_from_the_bundle_and_runs(bundle, tmp_path):
    school = tmp_path / "stemlab-hub"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(school)], check=True)
    closed = offline("python3 -c \"import socket; socket.create_connection(('pypi.org', 443), timeout=5)\"",
                     tmp_path, timeout=60)
    assert closed.returncode != 0, "the namespace must have no network"

    installed = offline(f"make install BUNDLE={bundle}", school, timeout=900)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    assert (school / "node_modules" / ".bin" / "configurable-http-proxy").exists()
    assert (school / ".venv" / "share" / "stemlab" / "board-stubs" / "esp32" / "machine.pyi").is_file()

    (tmp_path / "var").mkdir()
    open_for_servers(tmp_path / "var")  # stemlab up as root lets servers reach their data (pytest's tmp is 0700)
    up = textwrap.dedent(f"""
        .venv/bin/stemlab up --data {tmp_path}/var --port 18765 > {tmp_path}/up.log 2>&1 &
        for i in $(seq 1 120); do
          if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:18765/hub/health', timeout=2)" 2>/dev/null
          then .venv/bin/stemlab status --data {tmp_path}/var --json; kill %1; wait; exit 0; fi
          sleep 1
        done
        kill %1; exit 1
    """)
    served = offline(up, school, timeout=300)
    assert served.returncode == 0, served.stdout + served.stderr + (tmp_path / "up.log").read_text(errors="replace")
    assert '"name": "hub", "state": "ok"' in served.stdout and '"name": "proxy", "state": "ok"' in served.stdout


def test_a_damaged_bundle_is_refused_before_anything_is_installed(bundle, tmp_path):
    damaged = tmp_path / "bundle"
    shutil.copytree(bundle, damaged)
    wheel = next((damaged / "wheels").glob("nbgrader-*.whl"))
    wheel.write_bytes(wheel.read_bytes()[:1000])  # a copy cut short
    school = tmp_path / "stemlab-hub"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(school)], check=True)
    refused = offline(f"make install BUNDLE={damaged}", school, timeout=120)
    assert refused.returncode != 0 and "damaged or incomplete" in refused.stderr and wheel.name in refused.stdout + refused.stderr
    assert not (school / ".venv").exists()
