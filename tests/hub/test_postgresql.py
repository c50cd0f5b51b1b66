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
    assert count(postgres_url, "stemlab_accounts") == 7 and count(postgres_url, "stemlab_first_codes") == 7
    assert count(postgres_url, "users") == 7 and count(postgres_url, "users_info") == 0, "bcrypt at the first login"
    assert not (data / "jupyterhub.sqlite").exists(), "no SQLite file when a URL is given"

    hub = start_hub(data, extra_args=("--config", str(config)))
    student = hub.account("student", classes="10A2")
    s = hub.login(student["login"], student["password"])
    open_server(s, hub.url, student["login"])
    assert run_code(s, hub.url, student["login"], "print('PostgreSQL ổn')") == "PostgreSQL ổn\n"
    assert hub.stop() == 0

    again = start_hub(data, extra_args=("--config", str(config)))
    assert count(postgres_url, "users") == 7, "nothing re-created"
    assert count(postgres_url, "users_info") == 1 and count(postgres_url, "stemlab_first_codes") == 6
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


def test_schools_on_postgresql_each_keep_their_class_and_a_transfer_is_all_or_nothing(postgres_url, tmp_path,
                                                                                      write_roster):
    from hub_config.people.accounts import list_accounts
    from hub_config.people.hub_view import hub_view
    from hub_config.people.roster_import import apply_roster
    from hub_config.people.roster import parse_roster
    from hub_config.site.errors import RosterError
    from hub_config.site.paths import DataDir
    from hub_config.teaching.catalog import load_catalog
    from hub_config.teaching.offerings import offer

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE schools")
    url = postgres_url.rsplit("/", 1)[0] + "/schools"
    data = DataDir(tmp_path / "var").ensure()
    header = ("Mã học sinh", "Họ và tên", "Lớp", "Vai trò", "Trường")
    rows = [["QN001", "Nguyễn Văn An", "10A1", "", "thpt-quy-nhon"], ["AN001", "Lê Minh Châu", "10A1", "", "thpt-an-nhon"],
            ["ANGV1", "Phạm Văn Dũng", "10A1", "giáo viên", "thpt-an-nhon"]]
    apply_roster(data, url, parse_roster(write_roster("province", rows, header=header)))
    assert count(url, "stemlab_accounts") == 3
    assert {r["name"] for r in hub_view(url).roles if r["name"].startswith("teacher-")} == {"teacher-class-10a1.thpt-an-nhon"}
    before = {(a.login, a.school_code) for a in list_accounts(url)}
    moved = [["AN001", "Lê Minh Châu", "10A1", "", "thpt-quy-nhon"], ["QN002", "Võ Thị Mới", "10A1", "", "thpt-quy-nhon"]]
    with pytest.raises(RosterError, match="belongs to a person of thpt-an-nhon"):
        apply_roster(data, url, parse_roster(write_roster("moved", moved, header=header)))
    assert {(a.login, a.school_code) for a in list_accounts(url)} == before and count(url, "users") == 3
    course = load_catalog().course("python-co-ban")
    an = offer(data, url, course, "10A1", "THPT An Nhơn", "2025-2026", school_code="thpt-an-nhon")
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT u.name FROM users u JOIN user_group_map m ON m.user_id = u.id JOIN groups g "
                    "ON g.id = m.group_id WHERE g.name = %s", (an.student_group,))
        members = {r[0] for r in cur.fetchall()}
    chau = next(a.login for a in list_accounts(url) if a.full_name == "Lê Minh Châu")
    assert members == {chau}, "only An Nhơn's 10A1"
