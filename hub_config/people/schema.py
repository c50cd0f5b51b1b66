"""The platform's own tables under alembic migrations (hub_config/people/migrations), like
JupyterHub's: which revision a database is at, and bringing it to this release's.

The revision lives in `stemlab_alembic_version`, beside JupyterHub's `alembic_version` in the same
database. A fresh database is made by running every migration; an older one is upgraded only by
`stemlab up` or `stemlab upgrade`, which back the data up first (hub_config/operations/upgrade.py);
a revision this release does not know is a newer release's, and nothing here touches it.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import jupyterhub
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, inspect, text

from hub_config.site.errors import DataVersionError

MIGRATIONS = Path(__file__).with_name("migrations")
JUPYTERHUB_MIGRATIONS = Path(jupyterhub.__file__).with_name("alembic")
VERSION_TABLE = "stemlab_alembic_version"
# A table of ours that a database from before migrations (release 0.1.0) already has
FIRST_TABLE = "stemlab_accounts"


class SchemaState(str, Enum):
    FRESH = "fresh"        # none of the tables yet
    CURRENT = "current"    # at this release's head
    OLDER = "older"        # an earlier release's revision (or no revision: from before migrations)
    NEWER = "newer"        # a revision this release does not know: a later release wrote it


@dataclass(frozen=True)
class Revision:
    state: SchemaState
    found: str | None      # the database's revision; None when it has none
    head: str              # this release's


@functools.cache
def scripts(location: Path) -> tuple[str, frozenset[str]]:
    """An alembic script folder's head and every revision it knows (read once per process)."""
    directory = ScriptDirectory(str(location))
    heads = directory.get_heads()
    assert len(heads) == 1, f"{location}: one line of migrations, not {heads}"
    return heads[0], frozenset(r.revision for r in directory.walk_revisions())


def revision_of(connection: Connection, location: Path, version_table: str, first_table: str) -> Revision:
    """Where a database stands against the migrations in `location` (ours, JupyterHub's, nbgrader's)."""
    head, known = scripts(location)
    tables = set(inspect(connection).get_table_names())
    if version_table not in tables:
        return Revision(SchemaState.OLDER if first_table in tables else SchemaState.FRESH, None, head)
    found = connection.execute(text(f"SELECT version_num FROM {version_table}")).scalar()
    if found is None:
        return Revision(SchemaState.OLDER if first_table in tables else SchemaState.FRESH, None, head)
    if found == head:
        return Revision(SchemaState.CURRENT, found, head)
    return Revision(SchemaState.OLDER if found in known else SchemaState.NEWER, found, head)


def revision_at(url: str, location: Path, version_table: str, first_table: str) -> Revision:
    """revision_of, on an engine of its own for one look."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return revision_of(connection, location, version_table, first_table)
    finally:
        engine.dispose()


def platform_revision(engine: Engine) -> Revision:
    with engine.connect() as connection:
        return revision_of(connection, MIGRATIONS, VERSION_TABLE, FIRST_TABLE)


def migrate(engine: Engine) -> None:
    """Run the migrations this database has not had (all of them on a fresh one)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the caller says what was upgraded
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def version_error(found: Revision, where: str, where_en: str | None = None) -> DataVersionError:
    """What an admin reads when a database of the data directory is not this release's."""
    where_vi, where_en = where, where_en or where
    was = found.found or "0.1"
    if found.state is SchemaState.NEWER:
        return DataVersionError(
            f"Dữ liệu ({where_vi}) do một phiên bản MỚI HƠN của STEM-Lab Hub ghi (lược đồ {was}; phiên bản đang cài "
            f"chỉ biết đến {found.head}). Không có gì bị thay đổi. Hãy cài lại phiên bản mới hơn đó, hoặc khôi phục "
            "một bản sao lưu do phiên bản này làm (stemlab restore).",
            f"The data ({where_en}) was written by a NEWER release of STEM-Lab Hub (schema {was}; the installed "
            f"release knows up to {found.head}). Nothing was changed. Install that newer release again, or "
            "restore a backup this release made (stemlab restore).")
    return DataVersionError(
        f"Dữ liệu ({where_vi}) là của một phiên bản cũ hơn của STEM-Lab Hub (lược đồ {was}; phiên bản này cần "
        f"{found.head}). Hãy chạy `stemlab up` hoặc `stemlab upgrade`: dữ liệu được sao lưu trước rồi mới nâng cấp.",
        f"The data ({where_en}) is from an older release of STEM-Lab Hub (schema {was}; this release needs "
        f"{found.head}). Run `stemlab up` or `stemlab upgrade`: the data is backed up first, then upgraded.")
