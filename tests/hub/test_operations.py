"""Operations on a running platform: the daily backup the launcher makes."""

import time

import pytest

from hub_config.operations.backup import complete_backups
from hub_config.operations.manifest import Manifest

pytestmark = pytest.mark.hub


def test_a_platform_started_after_its_backup_time_makes_the_missed_daily_backup(start_hub, tmp_path):
    folder = tmp_path / "usb"
    config = tmp_path / "stemlab.toml"
    config.write_text(f'[backup]\ndaily = "00:00"\nfolder = "{folder}"\n', encoding="utf-8")
    hub = start_hub(extra_args=("--config", str(config)))
    deadline = time.monotonic() + 60
    while not complete_backups(folder):
        assert time.monotonic() < deadline, f"no daily backup within 60 s:\n{hub.output[-2000:]}"
        time.sleep(0.5)
    [backup] = complete_backups(folder)
    assert any(e.path == "jupyterhub.sqlite" for e in Manifest.read(backup).entries)
    deadline = time.monotonic() + 10
    while "Daily backup" not in hub.output:
        assert time.monotonic() < deadline, hub.output[-2000:]
        time.sleep(0.2)
    time.sleep(3)  # the launcher asks again every 2 s: made today, it is not due again
    assert len(complete_backups(folder)) == 1


def test_status_and_metrics_of_a_running_platform(demo_hub):
    """`stemlab status` asks the real hub and proxy; the monitoring token reads the metrics and
    nothing else; a student reads no metrics."""
    import json
    import subprocess

    import requests

    from ..conftest import STEMLAB

    done = subprocess.run([STEMLAB, "status", "--json", "--data", str(demo_hub.data_dir)], capture_output=True, text=True,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert done.returncode == 0, done.stdout + done.stderr
    assert {checks[n]["state"] for n in ("platform", "hub", "proxy")} == {"ok"}
    services = {n for n in checks if n.startswith("service:")}
    assert {"service:stemlab-kits", "service:stemlab-teach"} <= services, checks  # what the proxy routes
    assert {checks[n]["state"] for n in services} == {"ok"}, checks
    assert "kits" in checks and "servers" in checks
    token = (demo_hub.data_dir / "secrets" / "monitoring_token").read_text().strip()
    metrics = requests.get(f"{demo_hub.url}/hub/metrics", headers={"Authorization": f"token {token}"}, timeout=30)
    assert metrics.status_code == 200 and "jupyterhub_total_users" in metrics.text
    assert requests.get(f"{demo_hub.url}/hub/api/users", headers={"Authorization": f"token {token}"},
                        timeout=30).status_code == 403
    assert requests.get(f"{demo_hub.url}/hub/metrics", timeout=30).status_code in (401, 403)
    student = demo_hub.account("student", 2)
    s = demo_hub.login(student["login"], student["password"])
    assert s.get(f"{demo_hub.url}/hub/metrics", timeout=30).status_code == 403


def test_status_names_a_service_that_does_not_answer(demo_hub):
    """The kits service frozen (SIGSTOP: it holds its port and answers nothing): status says so
    by name and exits 1; the other services stay ok."""
    import json
    import signal
    import subprocess

    import psutil

    from ..conftest import STEMLAB

    [kits] = [p for p in psutil.Process(demo_hub.proc.pid).children(recursive=True)
              if "lab_hardware.service" in " ".join(p.cmdline())]
    kits.send_signal(signal.SIGSTOP)
    try:
        done = subprocess.run([STEMLAB, "status", "--json", "--data", str(demo_hub.data_dir)], capture_output=True,
                              text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}, timeout=120)
    finally:
        kits.send_signal(signal.SIGCONT)
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert done.returncode == 1, done.stdout
    assert checks["service:stemlab-kits"]["state"] == "down" and "stemlab-kits" in checks["service:stemlab-kits"]["vi"]
    assert checks["service:stemlab-teach"]["state"] == "ok"
