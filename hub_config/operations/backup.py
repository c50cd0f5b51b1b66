"""`stemlab backup`: a consistent snapshot of a term's data while the platform runs.

Every SQLite database (the hub's, with the accounts beside JupyterHub's tables; each offering's
gradebook; the exchange service's) is copied through SQLite's online backup API, so a database
in WAL mode with a writer at work is stored as one committed state, never as torn pages. Other
files are copied without following links (a student's symlink to /etc/shadow is stored as a
link). The snapshot is written into a hidden `.partial` folder and renamed only once its manifest
is on disk: a backup that was cut off never looks whole. A hub database on PostgreSQL is dumped
by `pg_dump` (one consistent snapshot, as SQLite's backup is). Everything in it is private (0700
folders, 0600 files) whatever the original's mode, which the manifest keeps for a restore.
"""

from __future__ import annotations

import datetime as dt
import grp
import hashlib
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import make_url

from hub_config.operations.manifest import MANIFEST_NAME, Entry, EntryKind, Manifest, Tree
from hub_config.site.paths import DataDir

BACKUP_PREFIX = "stemlab-backup-"
PARTIAL_SUFFIX = ".partial"
SQLITE_HEADER = b"SQLite format 3\x00"
# SQLite's side files: what they hold is in the online copy of their database
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
# rebuilt at each start (run/: process ids, sockets; warm/: a font cache) or backups themselves
NOT_BACKED_UP = ("run", "warm", "backups")
# what a backup marks as secret: site keys, password hashes and tokens, first passwords
SECRET_PLACES = ("secrets/", "accounts/", "jupyterhub.sqlite", "exchange-service/")
POSTGRESQL_DUMP_NAME = "hub-database.pgdump"
_CHUNK = 1 << 20


@dataclass
class BackupReport:
    folder: Path
    manifest: Manifest
    removed: list[Path] = field(default_factory=list)    # older backups rotated out, and cut-off ones


def platform_version() -> str:
    return version("stemlab-hub")


def is_sqlite(path: Path) -> bool:
    if path.name.endswith(SQLITE_SIDE_FILES):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(16) == SQLITE_HEADER
    except OSError:
        return False


def is_sqlite_side_file(path: Path) -> bool:
    for suffix in SQLITE_SIDE_FILES:
        if path.name.endswith(suffix) and is_sqlite(path.with_name(path.name.removesuffix(suffix))):
            return True
    return False


def make_backup(data: DataDir, destination: Path, keep: int, production: bool = False,
                home_root: Path | None = None, homes: list[str] | None = None,
                database_url: str = "", now: dt.datetime | None = None) -> BackupReport:
    """Write one backup under `destination` and keep the newest `keep` there. `homes`: the logins
    whose Linux homes under `home_root` are part of the term (production mode); `database_url`:
    the hub database when it is not the data directory's SQLite file."""
    moment = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    destination.mkdir(parents=True, exist_ok=True, mode=0o700)
    removed = _remove_cut_off(destination)
    name = BACKUP_PREFIX + moment.strftime("%Y%m%dT%H%M%SZ")  # made_at reads it back
    partial = destination / ("." + name + PARTIAL_SUFFIX)
    partial.mkdir(mode=0o700)
    manifest = Manifest(version=platform_version(), created=moment.isoformat(), data_dir=str(data.root),
                        production=production, home_root=str(home_root or ""))
    writer = _Writer(partial, manifest)
    skip = {data.root / part for part in NOT_BACKED_UP} | {destination}
    writer.tree(Tree.DATA, data.root, skip)
    if database_url.startswith("postgresql"):
        writer.postgresql(database_url)
    if production and home_root is not None:
        for login in sorted(set(homes or [])):
            home = home_root / login
            if home.is_dir() and not home.is_symlink():
                writer.tree(Tree.HOMES, home, set(), prefix=login)
    manifest.write(partial)
    final = destination / name
    os.rename(partial, final)
    removed += _rotate(destination, keep)
    return BackupReport(final, manifest, removed)


def complete_backups(destination: Path) -> list[Path]:
    """Oldest first (names sort by their UTC time)."""
    if not destination.is_dir():
        return []
    return sorted(p for p in destination.iterdir()
                  if p.name.startswith(BACKUP_PREFIX) and (p / MANIFEST_NAME).is_file())


def made_at(backup: Path) -> dt.datetime:
    """When a backup was made, from its name (without reading its manifest, which lists every file)."""
    stamp = backup.name.removeprefix(BACKUP_PREFIX)
    return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)


def _rotate(destination: Path, keep: int) -> list[Path]:
    backups = complete_backups(destination)
    old = backups[:-keep] if keep > 0 else []
    for path in old:
        shutil.rmtree(path)
    return old


def _remove_cut_off(destination: Path) -> list[Path]:
    cut_off = [p for p in destination.iterdir() if p.name.startswith("." + BACKUP_PREFIX) and p.name.endswith(PARTIAL_SUFFIX)]
    for path in cut_off:
        shutil.rmtree(path)
    return cut_off


class _Writer:
    def __init__(self, folder: Path, manifest: Manifest):
        self.folder = folder
        self.manifest = manifest

    def tree(self, tree: Tree, root: Path, skip: set[Path], prefix: str = "") -> None:
        (self.folder / tree.value).mkdir(mode=0o700, exist_ok=True)
        for path in self._walk(root, skip):
            relative = path.relative_to(root).as_posix()
            relative = f"{prefix}/{relative}" if prefix and relative != "." else (prefix or relative)
            try:
                self._one(tree, path, relative)
            except OSError as err:  # a file that vanished or cannot be read: the others go on
                self.manifest.problems.append(f"{tree.value}/{relative}: {err.strerror or err}")

    def postgresql(self, url: str) -> None:
        target = self.folder / Tree.DATA.value / POSTGRESQL_DUMP_NAME
        try:
            _dump_postgresql(url, target)
        except OSError as err:
            self.manifest.problems.append(f"{POSTGRESQL_DUMP_NAME}: {err.strerror or err}")
            return
        size, digest = _digest(target)
        self.manifest.entries.append(Entry(tree=Tree.DATA, path=POSTGRESQL_DUMP_NAME, kind=EntryKind.POSTGRESQL_DUMP,
                                           mode=0o600, owner="", group="", mtime=target.stat().st_mtime,
                                           size=size, sha256=digest, secret=True))

    def _walk(self, root: Path, skip: set[Path]) -> Iterator[Path]:
        yield root
        for folder, dirs, files in os.walk(root, followlinks=False, onerror=self._unreadable):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if here / d not in skip)
            for name in dirs:  # (sorted just above)
                yield here / name
            for name in sorted(files):
                if here / name not in skip:
                    yield here / name

    def _unreadable(self, err: OSError) -> None:
        self.manifest.problems.append(f"{err.filename}: {err.strerror or err}")

    def _one(self, tree: Tree, path: Path, relative: str) -> None:
        info = path.lstat()
        base = Entry(tree=tree, path=relative, kind=EntryKind.FILE, mode=stat.S_IMODE(info.st_mode),
                     owner=_user(info.st_uid), group=_group(info.st_gid), mtime=info.st_mtime,
                     secret=tree is Tree.DATA and relative.startswith(SECRET_PLACES))
        stored = self.folder / tree.value / relative
        if stat.S_ISLNK(info.st_mode):
            entry = replace(base, kind=EntryKind.SYMLINK, target=os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            stored.mkdir(mode=0o700, parents=True, exist_ok=True)
            entry = replace(base, kind=EntryKind.DIRECTORY)
        elif not stat.S_ISREG(info.st_mode) or is_sqlite_side_file(path):
            return  # sockets and pipes are a running process's; a side file is in its database's copy
        elif is_sqlite(path):
            _copy_sqlite(path, stored)
            size, digest = _digest(stored)
            entry = replace(base, kind=EntryKind.SQLITE, size=size, sha256=digest)
        else:
            size, digest = _copy_file(path, stored)
            entry = replace(base, size=size, sha256=digest)
        self.manifest.entries.append(entry)


def _copy_file(source: Path, target: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    # O_NOFOLLOW: a file swapped for a link between the walk and the copy is not followed either
    src = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            while chunk := os.read(src, _CHUNK):
                digest.update(chunk)
                size += len(chunk)
                os.write(dst, chunk)
            os.fsync(dst)
        finally:
            os.close(dst)
    finally:
        os.close(src)
    return size, digest.hexdigest()


def _copy_sqlite(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, whatever the original's mode
    except sqlite3.Error as err:
        raise OSError(f"SQLite: {err}") from err
    finally:
        dst.close()
        src.close()


def libpq_address(url: str) -> tuple[str, dict[str, str]]:
    """A libpq address for pg_dump, pg_restore and psql, and an environment holding the password
    (never on a command line, which `ps` shows to every user)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _dump_postgresql(url: str, target: Path) -> None:
    libpq, env = libpq_address(url)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", libpq],
                              capture_output=True, text=True, env=env, timeout=3600)
    except FileNotFoundError as err:
        raise OSError("pg_dump is not installed (apt-get install postgresql-client)") from err
    if done.returncode != 0:
        raise OSError(f"pg_dump: {done.stderr.strip()[-300:]}")


def _digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
