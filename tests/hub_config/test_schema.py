"""The platform's own tables under migrations (hub_config/people/schema.py): a fresh database is
made by them and matches the models; one from before migrations is refused until upgraded and then
keeps every row; a newer release's is refused and left as it was."""

import hashlib
import sqlite3
import subprocess
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from hub_config.people import accounts
from hub_config.people.accounts import open_session
from hub_config.people.schema import VERSION_TABLE, SchemaState, migrate, platform_revision
from hub_config.people.tables import Base
from hub_config.site.errors import DataVersionError

from ..conftest import STEMLAB

assert accounts  # the models of every table are on Base.metadata


def differences(url: str) -> list:
    """What alembic finds between the models and the database (JupyterHub's and NativeAuthenticator's
    tables, which are not ours, aside)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            ours = lambda name, kind, parents: kind != "table" or name.startswith("stemlab_")  # noqa: E731
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE,
                                                                   "include_name": ours})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_a_fresh_database_is_made_by_the_migrations_and_matches_the_models(engine_name, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'hub.sqlite'}" if engine_name == "sqlite" else request.getfixturevalue("postgres_url")
    session = open_session(url)
    try:
        assert platform_revision(session.get_bind()).state is SchemaState.CURRENT
    finally:
        session.close()
    # a model changed without a migration shows here (a column, a type, an index, a table)
    assert differences(url) == []


# The accounts table as the earliest sites' create_all made it: no grade code, no school, no version table
EARLY_SCHEMA = """
CREATE TABLE stemlab_accounts (fingerprint VARCHAR(64) NOT NULL, login VARCHAR(64) NOT NULL,
  full_name VARCHAR(255) NOT NULL, role VARCHAR(16) NOT NULL, classes VARCHAR(1024) NOT NULL,
  created DATETIME NOT NULL, updated DATETIME NOT NULL, PRIMARY KEY (fingerprint), UNIQUE (login));
INSERT INTO stemlab_accounts VALUES ('f1', 'hsan', 'Hà Sơn An', 'student', '10A1', '2025-09-01 07:00:00',
  '2025-09-01 07:00:00');
"""


def early_site(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    open_session(url).close()  # JupyterHub's tables, as any release made them
    db = sqlite3.connect(tmp_path / "hub.sqlite")
    db.executescript(f"DROP TABLE stemlab_accounts; DROP TABLE {VERSION_TABLE}; DROP TABLE stemlab_schools;"
                     + EARLY_SCHEMA)
    db.close()
    return url


def test_a_database_from_before_migrations_is_refused_until_upgraded_and_keeps_its_rows(tmp_path):
    url = early_site(tmp_path)
    with pytest.raises(DataVersionError) as refused:
        open_session(url)
    assert "stemlab upgrade" in str(refused.value) and "cũ hơn" in refused.value.vi
    engine = create_engine(url)
    migrate(engine)
    assert platform_revision(engine).state is SchemaState.CURRENT
    engine.dispose()
    assert differences(url) == []
    [an] = accounts.list_accounts(url)
    assert (an.login, an.full_name, an.class_list, an.school_code) == ("hsan", "Hà Sơn An", ["10A1"], "")
    assert "ix_stemlab_accounts_school_role" in {i["name"] for i in inspect(create_engine(url)).get_indexes(
        "stemlab_accounts")}


def test_a_newer_releases_database_is_refused_and_left_as_it_was(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    open_session(url).close()
    db = sqlite3.connect(tmp_path / "hub.sqlite")
    db.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0099'")
    db.commit()
    db.close()
    before = hashlib.sha256((tmp_path / "hub.sqlite").read_bytes()).hexdigest()
    with pytest.raises(DataVersionError) as refused:
        open_session(url)
    assert "MỚI HƠN" in refused.value.vi and "0099" in refused.value.en and "NEWER" in refused.value.en
    # the admin's commands say so too, and `stemlab up` refuses before it starts anything
    data = tmp_path / "var"
    data.mkdir()
    (tmp_path / "hub.sqlite").rename(data / "jupyterhub.sqlite")
    for command in (["accounts", "list"], ["up", "--port", "1"]):
        done = subprocess.run([STEMLAB, *command, "--data", str(data)], capture_output=True, text=True,
                              env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}, timeout=120)
        assert done.returncode != 0 and "NEWER release" in done.stdout + done.stderr, (command, done.stdout, done.stderr)
    assert hashlib.sha256((data / "jupyterhub.sqlite").read_bytes()).hexdigest() == before
    assert not (data / "backups").exists()


def test_stemlab_upgrade_backs_up_then_upgrades_once(tmp_path):
    early_site(tmp_path)
    data = tmp_path / "var"
    data.mkdir()
    (tmp_path / "hub.sqlite").rename(data / "jupyterhub.sqlite")
    first = subprocess.run([STEMLAB, "upgrade", "--data", str(data)], capture_output=True, text=True,
                           env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert first.returncode == 0 and "Upgraded the platform's tables (0.1 → 0002)" in first.stdout, first
    [backup] = (data / "backups").iterdir()
    assert (backup / "data" / "jupyterhub.sqlite").is_file()
    again = subprocess.run([STEMLAB, "upgrade", "--data", str(data)], capture_output=True, text=True,
                           env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert again.returncode == 0 and "nothing to upgrade" in again.stdout and len(list((data / "backups").iterdir())) == 1
    assert [a.login for a in accounts.list_accounts(f"sqlite:///{data / 'jupyterhub.sqlite'}")] == ["hsan"]
