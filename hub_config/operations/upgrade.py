"""Bringing a data directory written by an earlier release up to this one, without loss.

Three owners keep schemas in it, each under its own alembic migrations: the platform's tables
(hub_config/people/migrations), JupyterHub's tables in the same hub database, and nbgrader's
gradebook of each offering. `stemlab up` and `stemlab upgrade` survey all of them first: if any is
a newer release's, nothing is touched and the admin is told; if any is older, the whole data
directory is backed up (the same backup as `stemlab backup`), then each is upgraded by its owner's
migrations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbgrader
from nbgrader import dbutil as nbgrader_dbutil
from jupyterhub import dbutil as hub_dbutil
from sqlalchemy import create_engine, make_url

from hub_config.operations.backup import BackupReport, complete_backups
from hub_config.operations.daily import backup_site
from hub_config.people.accounts import UNUSABLE_DATABASE, unusable_database
from hub_config.people.schema import (JUPYTERHUB_MIGRATIONS, MIGRATIONS, VERSION_TABLE, FIRST_TABLE, Revision,
                                      SchemaState, migrate, revision_at, version_error)
from hub_config.site.paths import DataDir
from hub_config.site.settings import SiteSettings
from hub_config.system.environment import tools_on_path
from hub_config.teaching.offerings import list_offerings

NBGRADER_MIGRATIONS = Path(nbgrader.__file__).with_name("alembic")


@dataclass(frozen=True)
class Schema:
    """One schema of the data directory and where it stands."""

    vi: str
    en: str
    revision: Revision
    upgrade: Callable[[], None]


@dataclass(frozen=True)
class UpgradeReport:
    upgraded: list[Schema]
    backup: BackupReport | None   # made before the first change; None when nothing was older


def survey(settings: SiteSettings, data: DataDir) -> list[Schema]:
    """Every schema of the data directory; a database not made yet is not in the list."""
    url = settings.hub_database_url()
    schemas = []
    if _exists(url):
        def ours() -> None:
            engine = create_engine(url)
            try:
                migrate(engine)
            finally:
                engine.dispose()
        schemas.append(Schema("các bảng của nền tảng", "the platform's tables",
                              _revision(url, MIGRATIONS, VERSION_TABLE, FIRST_TABLE), ours))
        # JupyterHub stamps a database it finds without a version itself; only a stamped one is ours to upgrade
        hub = _revision(url, JUPYTERHUB_MIGRATIONS, "alembic_version", "users")
        if hub.found is not None:
            schemas.insert(0, Schema("các bảng của JupyterHub", "JupyterHub's tables", hub,
                                     lambda: hub_dbutil.upgrade(url)))
    for offering in list_offerings(data):
        book = offering.gradebook_url
        if not _exists(book):
            continue
        found = _revision(book, NBGRADER_MIGRATIONS, "alembic_version", "assignment")
        if found.found is not None:
            schemas.append(Schema(f"sổ điểm của {offering.id}", f"the gradebook of {offering.id}", found,
                                  lambda book=book: nbgrader_dbutil.upgrade(book)))  # type: ignore[misc]
    return schemas


def upgrade_data(settings: SiteSettings, data: DataDir, say: Callable[[str], None]) -> UpgradeReport:
    """Refuse a newer release's data; back up and upgrade an older one's. The caller holds the
    platform lock, so no platform runs on the data meanwhile."""
    schemas = survey(settings, data)
    for schema in schemas:
        if schema.revision.state is SchemaState.NEWER:
            raise version_error(schema.revision, schema.vi, schema.en)
    older = [s for s in schemas if s.revision.state is SchemaState.OLDER]
    if not older:
        return UpgradeReport([], None)
    names = ", ".join(s.vi for s in older), ", ".join(s.en for s in older)
    say(f"Dữ liệu là của một phiên bản cũ hơn ({names[0]}): sao lưu trước khi nâng cấp. / "
        f"The data is from an older release ({names[1]}): backing up before upgrading.")
    # kept beside every backup there is: an upgrade never rotates a backup away
    report = backup_site(settings, data, keep=max(settings.backup_keep, len(complete_backups(settings.backup_path(data.root))) + 1))
    say(f"Đã sao lưu vào / Backed up to {report.folder}")
    tools_on_path()  # JupyterHub's and nbgrader's migrations run `alembic`
    for schema in older:
        schema.upgrade()
        say(f"Đã nâng cấp {schema.vi} ({schema.revision.found or '0.1'} → {schema.revision.head}). / "
            f"Upgraded {schema.en} ({schema.revision.found or '0.1'} → {schema.revision.head}).")
    return UpgradeReport(older, report)


def _exists(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    return bool(parsed.database) and Path(parsed.database or "").is_file()


def _revision(url: str, location: Path, version_table: str, first_table: str) -> Revision:
    try:
        return revision_at(url, location, version_table, first_table)
    except UNUSABLE_DATABASE as err:
        raise unusable_database(url, err) from err
