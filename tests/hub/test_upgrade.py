"""A term's data directory as release 0.1.0 left it (tests/files/releases/v0.1.0, written by that
tagged commit's own teaching loop: make_release_data.py) comes through `stemlab up` of this release
whole: refused by the other commands until upgraded, backed up before the first change, upgraded,
every grade, notebook, feedback file and password as it was."""

import json
import sqlite3
import subprocess
import tarfile

import pytest

from hub_config.operations.backup import complete_backups
from hub_config.people.schema import VERSION_TABLE

from ..conftest import FILES, STEMLAB, launch, leftovers_after_stop
from ..files.releases.make_release_data import OFFERING, checksums
from .helpers import open_server, wait_for_service

pytestmark = pytest.mark.hub
RELEASE = FILES / "releases" / "v0.1.0"
ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}


def stemlab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([STEMLAB, *args], capture_output=True, text=True, env=ENV, timeout=120)


def test_the_previous_releases_term_is_upgraded_by_stemlab_up_and_nothing_is_lost(tmp_path):
    with tarfile.open(RELEASE / "data.tar.xz") as tar:
        tar.extractall(tmp_path)  # (our own fixture; Python 3.11.2 has no extraction filters)
    data = tmp_path / "var"
    expected_files = json.loads((RELEASE / "files.json").read_text())
    assert checksums(data) == expected_files and len(expected_files) > 10

    refused = stemlab("accounts", "list", "--data", str(data))
    assert refused.returncode != 0 and "stemlab upgrade" in refused.stdout + refused.stderr, refused

    hub = launch(data)
    try:
        assert "backing up before upgrading" in hub.output and "Upgraded the platform's tables" in hub.output, hub.output
        [backup] = complete_backups(data / "backups")
        tables = sqlite3.connect(backup / "data" / "jupyterhub.sqlite").execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        assert ("stemlab_accounts",) in tables and (VERSION_TABLE,) not in tables  # the release's, before the change

        # every password the release's students and teacher had still opens their account
        by_name = {a["name"]: a for a in hub.accounts() if a["role"] == "student"}
        khoa = by_name["Trần Minh Khoa"]
        s = hub.login(khoa["login"], khoa["password"])
        open_server(s, hub.url, khoa["login"])
        teacher = hub.account("teacher")
        t = hub.login(teacher["login"], teacher["password"])
        wait_for_service(hub, OFFERING)
        assert t.get(f"{hub.url}/services/{OFFERING}/").status_code == 200

        exported = stemlab("grades", "export", OFFERING, "--data", str(data))
        assert exported.returncode == 0, exported
        sheet = (data / "grades" / f"{OFFERING}-grades.csv").read_bytes()
        assert sheet == (RELEASE / "grades.csv").read_bytes()  # every score, late mark and "not graded"
        after = checksums(data)
        assert {k: after.get(k) for k in expected_files} == expected_files
    finally:
        hub.stop()
        leftovers_after_stop(hub.data_dir)

    again = stemlab("upgrade", "--data", str(data))  # the survey `stemlab up` makes: upgraded once, nothing more
    assert "nothing to upgrade" in again.stdout and len(complete_backups(data / "backups")) == 1, again
