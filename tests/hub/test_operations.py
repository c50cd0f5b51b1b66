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
