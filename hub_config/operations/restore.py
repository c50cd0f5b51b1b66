"""`stemlab restore BACKUP`: a backup back into a data directory (a fresh machine's, or this one's).

Nothing is written until the whole backup has been checked against its manifest (every stored
file there, of its size and SHA-256): a corrupt or partial backup is refused with what is wrong.
The data is then built in a folder beside the target and renamed into place; a target that held
data (allowed only with --force) is moved aside, never deleted. Owners are given back by name,
since a fresh machine numbers its accounts anew.
"""

from __future__ import annotations

import datetime as dt
import grp
import hashlib
import os
import pwd
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url

from hub_config.operations.backup import PARTIAL_SUFFIX, POSTGRESQL_DUMP_NAME, libpq_address
from hub_config.operations.manifest import FORMAT, MANIFEST_NAME, Entry, EntryKind, Manifest, Tree
from hub_config.site.errors import StemlabError
from hub_config.site.paths import DataDir

_CHUNK = 1 << 20
HUB_DB_NAME = "jupyterhub.sqlite"  # DataDir.hub_db's name


class RestoreRefused(StemlabError):
    """The backup or the target is not fit for a restore; the message says what and what to do."""


@dataclass
class RestoreReport:
    manifest: Manifest
    restored: int = 0
    moved_aside: Path | None = None            # what the target held before, kept
    notes: list[str] = field(default_factory=list)
    accounts_made: list[str] = field(default_factory=list)  # production: owners this machine did not have


def check_backup(backup: Path) -> Manifest:
    """The backup's manifest, if every file it lists is there and whole."""
    if backup.name.endswith(PARTIAL_SUFFIX):
        raise RestoreRefused(f"{backup} là bản sao lưu dở dang (bị ngắt khi đang ghi); hãy chọn một bản khác.",
                             f"{backup} is a backup that was cut off while being written; choose another one.")
    try:
        manifest = Manifest.read(backup)
    except FileNotFoundError as err:
        raise RestoreRefused(f"{backup} không có {MANIFEST_NAME}: không phải bản sao lưu, hoặc chưa đầy đủ.",
                             f"{backup} has no {MANIFEST_NAME}: not a backup, or not a whole one.") from err
    except (ValueError, TypeError, KeyError) as err:
        raise RestoreRefused(f"{MANIFEST_NAME} của {backup} bị hỏng ({err}).",
                             f"The {MANIFEST_NAME} of {backup} is damaged ({err}).") from err
    if manifest.format > FORMAT:
        raise RestoreRefused(f"{backup} được ghi bởi phiên bản mới hơn ({manifest.version}); hãy nâng cấp STEM-Lab Hub trước.",
                             f"{backup} was written by a newer release ({manifest.version}); upgrade STEM-Lab Hub first.")
    wrong = [f"{e.stored_as()}: {problem}" for e in manifest.entries if (problem := _damage(backup, e))]
    if wrong:
        listed = "; ".join(wrong[:10]) + (f" (+{len(wrong) - 10})" if len(wrong) > 10 else "")
        raise RestoreRefused(f"Bản sao lưu {backup} bị hỏng, không khôi phục gì: {listed}.",
                             f"The backup {backup} is damaged, nothing was restored: {listed}.")
    return manifest


def holds_data(target: Path) -> bool:
    """Any file at all, but a running platform's own (run/): an empty layout is no data."""
    if not target.is_dir():
        return False
    for folder, dirs, files in os.walk(target):
        if Path(folder) == target:
            dirs[:] = [d for d in dirs if d != "run"]
        if files:
            return True
    return False


def restore_backup(backup: Path, target: Path, force: bool = False, home_root: Path | None = None,
                   database_url: str = "") -> RestoreReport:
    """The caller holds the target's platform lock (no platform runs on it meanwhile).
    `database_url`: the site's PostgreSQL hub database, which a backup's dump is loaded into."""
    manifest = check_backup(backup)
    dumped = any(e.kind is EntryKind.POSTGRESQL_DUMP for e in manifest.entries)
    if dumped and database_url.startswith("postgresql") and postgresql_tables(database_url) and not force:
        shown = make_url(database_url).render_as_string(hide_password=True)
        raise RestoreRefused(f"Cơ sở dữ liệu {shown} đã có bảng; khôi phục sẽ thay chúng. Hãy dùng một cơ sở dữ liệu "
                             "trống, hoặc thêm --force.",
                             f"The database {shown} already holds tables that a restore would replace. Use an empty "
                             "database, or add --force.")
    in_the_way = holds_data(target)
    if in_the_way and not force:
        raise RestoreRefused(f"{target} đã có dữ liệu; khôi phục sẽ thay nó. Hãy chọn thư mục trống bằng --data DIR, "
                             "hoặc thêm --force (dữ liệu cũ được giữ lại bên cạnh, không bị xoá).",
                             f"{target} already holds data that a restore would replace. Choose an empty folder "
                             "with --data DIR, or add --force (the old data is kept beside it, not deleted).")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    staging = target.with_name(f".{target.name}.restoring-{stamp}")
    report = RestoreReport(manifest)
    homes = [e for e in manifest.entries if e.tree is Tree.HOMES]
    if home_root is not None and os.geteuid() == 0:
        report.accounts_made = recreate_accounts(manifest, home_root, target)
    _build(backup, [e for e in manifest.entries if e.tree is Tree.DATA], staging, report)
    if in_the_way:
        report.moved_aside = target.with_name(f"{target.name}.before-restore-{stamp}")
        os.rename(target, report.moved_aside)
    elif target.exists():
        shutil.rmtree(target)  # an empty layout (`stemlab up` makes one): no file in it
    forget_running_servers(staging / HUB_DB_NAME)
    os.rename(staging, target)
    if homes:
        if home_root is None:
            report.notes.append("Bản sao lưu có thư mục nhà của tài khoản Linux nhưng hệ thống không ở chế độ production: "
                                "chưa khôi phục chúng. / The backup holds Linux homes, but this site is not in "
                                "production mode: they were not restored.")
        else:
            _build(backup, homes, home_root, report, into_existing=True)
    if dumped:
        dump = target / POSTGRESQL_DUMP_NAME
        if database_url.startswith("postgresql"):
            load_postgresql(dump, database_url)
            report.notes.append(f"Đã nạp cơ sở dữ liệu của hub vào / Loaded the hub database into "
                                f"{make_url(database_url).render_as_string(hide_password=True)}")
        else:
            report.notes.append("Cơ sở dữ liệu của hub là bản PostgreSQL nhưng storage.database_url không phải "
                                f"PostgreSQL: nạp nó bằng / The hub database is a PostgreSQL dump but "
                                f"storage.database_url is not PostgreSQL: load it with: pg_restore --clean --no-owner "
                                f"-d URL {dump}")
    return report


def postgresql_tables(url: str) -> list[str]:
    address, env = libpq_address(url)
    done = subprocess.run(["psql", "--no-psqlrc", "--tuples-only", "--no-align", "--command",
                           "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", address],
                          capture_output=True, text=True, env=env, timeout=120)
    if done.returncode != 0:
        raise RestoreRefused(f"Không kết nối được cơ sở dữ liệu: {done.stderr.strip()[-300:]}",
                             f"Cannot reach the database: {done.stderr.strip()[-300:]}")
    return done.stdout.split()


def load_postgresql(dump: Path, url: str) -> None:
    """The whole dump in one transaction: the database has all of it or none."""
    address, env = libpq_address(url)
    done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                           "--dbname", address, str(dump)], capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        raise RestoreRefused(f"Các tệp đã được khôi phục nhưng không nạp được cơ sở dữ liệu (không có gì thay đổi trong "
                             f"nó): {done.stderr.strip()[-300:]}. Sửa lỗi rồi chạy: pg_restore --clean --no-owner -d URL "
                             f"{dump}",
                             f"The files were restored but the database could not be loaded (nothing in it changed): "
                             f"{done.stderr.strip()[-300:]}. Fix it, then run: pg_restore --clean --no-owner -d URL {dump}")


def recreate_accounts(manifest: Manifest, home_root: Path, target: Path) -> list[str]:
    """Production on a new machine: the Linux accounts that own the term's homes and offerings,
    made before anything is written, so every file is given back to its owner by name (the new
    machine numbers them anew). The platform's service accounts are made by `stemlab up` itself."""
    from hub_config.system.linux_accounts import ensure_grader_account, ensure_linux_account

    graders = DataDir(target).graders_dir
    made = []
    for entry in manifest.entries:
        if entry.kind is not EntryKind.DIRECTORY or not entry.owner or _uid(entry.owner) is not None:
            continue
        if entry.tree is Tree.HOMES and entry.path == entry.owner:  # home_root/<login> itself
            ensure_linux_account(entry.owner, home_root)
        elif entry.tree is Tree.DATA and target / entry.path == graders / entry.owner:
            ensure_grader_account(entry.owner, graders / entry.owner)
        else:
            continue
        made.append(entry.owner)
    return made


def forget_running_servers(hub_db: Path) -> None:
    """The backup was taken with servers running: their addresses and process ids are the old
    machine's (on this one, a pid may be anyone's process). The restored hub starts with none."""
    if not hub_db.is_file():
        return
    with sqlite3.connect(hub_db) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if {"servers", "spawners"} <= tables:
            db.execute("UPDATE spawners SET server_id = NULL, state = '{}'")
            if "services" in tables:  # (its column is JupyterHub's `_server_id`)
                columns = {row[1] for row in db.execute("PRAGMA table_info(services)")}
                for column in columns & {"server_id", "_server_id"}:
                    db.execute(f"UPDATE services SET {column} = NULL")
            db.execute("DELETE FROM servers")
    db.close()


def _build(backup: Path, entries: list[Entry], root: Path, report: RestoreReport, into_existing: bool = False) -> None:
    root.mkdir(parents=True, exist_ok=into_existing, mode=0o700)
    folders = []
    for entry in entries:
        place = root if entry.path == "." else root / entry.path
        if entry.kind is EntryKind.DIRECTORY:
            place.mkdir(mode=0o700, exist_ok=True)
            folders.append((place, entry))
            continue
        if entry.kind is EntryKind.SYMLINK:
            os.symlink(entry.target, place)
        else:
            shutil.copyfile(backup / entry.stored_as(), place)
        _own(place, entry)
        report.restored += 1
    for place, entry in reversed(folders):  # modes last: a folder closed to root's writes is filled first
        _own(place, entry)
        report.restored += 1


def _own(place: Path, entry: Entry) -> None:
    uid = _uid(entry.owner)
    gid = _gid(entry.group)
    if os.geteuid() == 0 and (uid is not None or gid is not None):
        os.chown(place, -1 if uid is None else uid, -1 if gid is None else gid, follow_symlinks=False)
    if entry.kind is not EntryKind.SYMLINK:
        os.chmod(place, entry.mode)
    os.utime(place, (entry.mtime, entry.mtime), follow_symlinks=False)


def _uid(name: str) -> int | None:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def _gid(name: str) -> int | None:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def _damage(backup: Path, entry: Entry) -> str:
    if entry.kind in (EntryKind.DIRECTORY, EntryKind.SYMLINK):
        return ""
    path = backup / entry.stored_as()
    try:
        digest, size = hashlib.sha256(), 0
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as err:
        return f"missing ({err.strerror or err})" if isinstance(err, FileNotFoundError) else str(err.strerror or err)
    if size != entry.size:
        return f"{size} bytes, the manifest says {entry.size}"
    if digest.hexdigest() != entry.sha256:
        return "its content differs from when it was backed up (SHA-256)"
    return ""
