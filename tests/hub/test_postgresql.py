"""The hub database on PostgreSQL, given by URL in stemlab.toml: the same platform, nothing lost."""

import subprocess

import psycopg
import pytest

from ..conftest import FILES, STEMLAB, free_port
from .helpers import open_server, run_code

pytestmark = pytest.mark.hub


def count(url, table):
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


def test_platform_runs_on_postgresql_and_keeps_its_data(start_hub, postgres_url, tmp_path):
    config = tmp_path / "stemlab.toml"
    config.write_text(f'[storage]\ndatabase_url = "{postgres_url}"\n')
    data = tmp_path / "var"
    data.mkdir()
    imported = subprocess.run([STEMLAB, "accounts", "import", str(FILES / "two_classes.csv"), "--config", str(config),
                               "--data", str(data)], capture_output=True, text=True)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert count(postgres_url, "stemlab_accounts") == 7 and count(postgres_url, "users_info") == 7
    assert not (data / "jupyterhub.sqlite").exists(), "no SQLite file when a URL is given"

    hub = start_hub(data, extra_args=("--config", str(config)))
    student = hub.account("student", classes="10A2")
    s = hub.login(student["login"], student["password"])
    open_server(s, hub.url, student["login"])
    assert run_code(s, hub.url, student["login"], "print('PostgreSQL ổn')") == "PostgreSQL ổn\n"
    assert hub.stop() == 0

    again = start_hub(data, extra_args=("--config", str(config)))
    assert count(postgres_url, "users") == 7, "nothing re-created"
    s = again.login(student["login"], student["password"])
    open_server(s, again.url, student["login"])


def test_unreachable_database_is_a_clear_error(tmp_path):
    config = tmp_path / "stemlab.toml"
    config.write_text(f'[storage]\ndatabase_url = "postgresql://stemlab:secret@127.0.0.1:{free_port()}/none"\n')
    result = subprocess.run([STEMLAB, "up", "--config", str(config), "--data", str(tmp_path / "var"), "--port",
                             str(free_port())], capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "Cannot use the hub database postgresql://stemlab:***@127.0.0.1" in result.stdout
    assert "secret" not in result.stdout
    assert "storage.database_url" in result.stdout
