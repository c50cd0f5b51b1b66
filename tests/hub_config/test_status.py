"""`stemlab status` (hub_config/operations/health.py) without a running platform; with one, in
tests/hub/test_operations.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_status_says_what_is_down_and_exits_non_zero(tmp_path):
    config = tmp_path / "stemlab.toml"
    config.write_text("", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "hub_config.app.cli", "--data", str(tmp_path / "var"), "--config",
                           str(config), "status", "--json"], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1, done.stdout + done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert checks["platform"]["state"] == "down" and "stemlab up" in checks["platform"]["en"]
    assert checks["backup"]["state"] == "warning" and "No backup yet" in checks["backup"]["en"]
    assert checks["disk"]["state"] in ("ok", "warning") and "GB" in checks["disk"]["vi"]
