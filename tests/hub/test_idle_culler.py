"""The idle culler stops a server nobody uses; the student's files stay."""

import time

import pytest

from .helpers import open_server, run_code

pytestmark = pytest.mark.hub


def test_idle_server_is_stopped_and_files_kept(start_hub, tmp_path):
    config = tmp_path / "stemlab.toml"
    config.write_text("[limits]\nidle_timeout = 10\n")
    hub = start_hub(extra_args=("--config", str(config)))
    student = hub.account("student")
    login = student["login"]
    s = hub.login(login, student["password"])
    open_server(s, hub.url, login)
    run_code(s, hub.url, login, "open('ghi_chu.txt', 'w').write('không mất')")
    headers = {"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")}
    deadline = time.monotonic() + 90
    while s.get(f"{hub.url}/hub/api/users/{login}", headers=headers).json()["servers"]:
        assert time.monotonic() < deadline, "the idle server was not culled"
        time.sleep(2)
    assert (hub.data_dir / "homes" / login / "ghi_chu.txt").read_text() == "không mất"
