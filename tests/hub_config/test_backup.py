"""`stemlab backup` (hub_config/operations/backup.py): a consistent, private snapshot of a data
directory while it is in use, with a manifest that proves every stored file whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hub_config.operations.backup import BACKUP_PREFIX, complete_backups, make_backup
from hub_config.operations.manifest import EntryKind, Manifest, Tree
from hub_config.site.paths import DataDir

ROOT = Path(__file__).resolve().parents[2]
SECRET_TEXT = "mật khẩu của trường: không được nằm trong bản sao lưu"


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    data = DataDir(tmp_path / "var").ensure()
    data.secret("jupyterhub_cookie_secret")
    home = data.home_of("hs1")
    home.mkdir(parents=True)
    home.chmod(0o750)
    (home / "bai-tap.ipynb").write_text('{"cells": []}', encoding="utf-8")
    outside = tmp_path / "outside.txt"
    outside.write_text(SECRET_TEXT, encoding="utf-8")
    (home / "loi-tat").symlink_to(outside)  # a student's link to a file that is not theirs
    (data.run_dir / "launcher.json").write_text("{}")
    return data


def live_gradebook(data: DataDir, rows: int) -> sqlite3.Connection:
    """A gradebook in WAL mode whose writer is still connected: its rows are in the -wal file,
    not yet in the database file."""
    path = data.offerings_dir / "tin-hoc-10" / "gradebook.db"
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE grade (student TEXT, score REAL)")
    for i in range(rows):
        db.execute("INSERT INTO grade VALUES (?, ?)", (f"hs{i}", i / 2))
        db.commit()
    return db


def backed_up(folder: Path, tree: str, relative: str) -> Path:
    return folder / tree / relative


def test_a_live_sqlite_database_is_stored_as_its_committed_state(data, tmp_path):
    writer = live_gradebook(data, rows=200)
    try:
        plain_copy = tmp_path / "plain.db"
        shutil.copyfile(data.offerings_dir / "tin-hoc-10" / "gradebook.db", plain_copy)
        with sqlite3.connect(plain_copy) as copied:
            # what copying the bytes would have kept (the WAL's rows are missing)
            assert copied.execute("SELECT count(*) FROM sqlite_master WHERE name='grade'").fetchone()[0] == 0
        report = make_backup(data, tmp_path / "backups", keep=3)
    finally:
        writer.close()
    stored = backed_up(report.folder, "data", "offerings/tin-hoc-10/gradebook.db")
    with sqlite3.connect(stored) as db:
        assert db.execute("SELECT count(*), sum(score) FROM grade").fetchone() == (200, sum(i / 2 for i in range(200)))
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not list(stored.parent.glob("gradebook.db-*")), "no WAL or shm file: one self-contained copy"
    [entry] = [e for e in report.manifest.entries if e.path == "offerings/tin-hoc-10/gradebook.db"]
    assert entry.kind is EntryKind.SQLITE


def test_links_are_kept_as_links_and_never_followed(data, tmp_path):
    report = make_backup(data, tmp_path / "backups", keep=3)
    [link] = [e for e in report.manifest.entries if e.path == "homes/hs1/loi-tat"]
    assert link.kind is EntryKind.SYMLINK and link.target == str(tmp_path / "outside.txt")
    for path in report.folder.rglob("*"):
        if path.is_file():
            assert SECRET_TEXT.encode() not in path.read_bytes(), f"{path} holds what a link pointed at"


def test_everything_is_private_and_secrets_are_marked(data, tmp_path):
    report = make_backup(data, tmp_path / "backups", keep=3)
    for path in [report.folder, *report.folder.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"
    entries = {e.path: e for e in report.manifest.entries}
    assert entries["secrets/jupyterhub_cookie_secret"].secret
    assert not entries["homes/hs1/bai-tap.ipynb"].secret
    assert entries["homes/hs1"].mode == 0o750  # the original's mode, for a restore
    assert entries["homes/hs1"].owner == Path(data.home_of("hs1")).owner()
    assert not any(e.path.startswith("run/") for e in report.manifest.entries), "run/ is rebuilt at each start"


def test_the_manifest_proves_every_stored_file_whole(data, tmp_path):
    live_gradebook(data, rows=3).close()
    report = make_backup(data, tmp_path / "backups", keep=3)
    manifest = Manifest.read(report.folder)
    assert manifest.entries == report.manifest.entries and not manifest.problems
    stored = [e for e in manifest.entries if e.kind in (EntryKind.FILE, EntryKind.SQLITE)]
    assert len(stored) >= 3
    for entry in stored:
        content = (report.folder / entry.stored_as()).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry.sha256 and len(content) == entry.size, entry.path
    assert manifest.total_bytes == sum(e.size for e in stored)
    assert all(e.tree is Tree.DATA for e in manifest.entries)


def test_old_and_cut_off_backups_are_removed_and_a_backup_inside_the_data_is_not_backed_up(data):
    destination = data.root / "backups"
    (destination / f".{BACKUP_PREFIX}20261201T000000Z.partial").mkdir(parents=True)  # a backup that was cut off
    first = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.timezone.utc)
    reports = [make_backup(data, destination, keep=2, now=first + dt.timedelta(days=day)) for day in range(3)]
    assert reports[0].removed == [destination / f".{BACKUP_PREFIX}20261201T000000Z.partial"]
    assert reports[2].removed == [reports[0].folder]
    assert complete_backups(destination) == [reports[1].folder, reports[2].folder]
    assert [p.name for p in destination.iterdir() if p.name.startswith(".")] == []
    assert not any(e.path.startswith("backups") for e in reports[2].manifest.entries)


def test_the_admin_backs_up_from_the_command_line(tmp_path):
    data_dir, config = tmp_path / "var", tmp_path / "stemlab.toml"
    roster = tmp_path / "lop.csv"
    roster.write_text("Mã học sinh,Họ và tên,Lớp\n079001,Nguyễn Văn An,10A1\n", encoding="utf-8")
    config.write_text(f'[backup]\nfolder = "{tmp_path / "usb"}"\nkeep = 2\n', encoding="utf-8")
    stemlab = [sys.executable, "-m", "hub_config.app.cli", "--data", str(data_dir), "--config", str(config)]
    subprocess.run([*stemlab, "accounts", "import", str(roster)], check=True, capture_output=True, cwd=ROOT)
    done = subprocess.run([*stemlab, "backup"], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Đã sao lưu / Backed up" in done.stdout
    [folder] = complete_backups(tmp_path / "usb")
    with sqlite3.connect(folder / "data" / "jupyterhub.sqlite") as db:
        assert db.execute("SELECT full_name FROM stemlab_accounts").fetchall() == [("Nguyễn Văn An",)]
    entries = {e.path: e for e in Manifest.read(folder).entries}
    assert entries["jupyterhub.sqlite"].secret and entries["jupyterhub.sqlite"].kind is EntryKind.SQLITE
    assert any(p.startswith("accounts/sheets/class-") and entries[p].secret for p in entries)


def test_production_homes_of_the_platforms_accounts_are_backed_up_and_no_others(data, tmp_path):
    home_root = tmp_path / "home"
    for login in ("hs1", "someone-else"):
        (home_root / login / "bai1").mkdir(parents=True)
        (home_root / login / "bai1" / "ket-qua.txt").write_text(login, encoding="utf-8")
    report = make_backup(data, tmp_path / "backups", keep=3, production=True, home_root=home_root,
                         homes=["hs1", "hs-without-a-home"])
    homes = {e.path: e for e in report.manifest.entries if e.tree is Tree.HOMES}
    assert set(homes) == {"hs1", "hs1/bai1", "hs1/bai1/ket-qua.txt"}
    assert (report.folder / "homes" / "hs1" / "bai1" / "ket-qua.txt").read_text(encoding="utf-8") == "hs1"
    assert stat.S_IMODE((report.folder / "homes").stat().st_mode) == 0o700
    assert Manifest.read(report.folder).home_root == str(home_root)


def test_a_hub_database_on_postgresql_is_dumped_with_the_backup(data, tmp_path, postgres_url):
    import psycopg

    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS backup_probe (login text)")
        conn.execute("INSERT INTO backup_probe VALUES ('hs-backup-probe')")
    report = make_backup(data, tmp_path / "backups", keep=3, database_url=postgres_url)
    assert not report.manifest.problems
    [dump] = [e for e in report.manifest.entries if e.kind is EntryKind.POSTGRESQL_DUMP]
    assert dump.secret and dump.sha256
    listed = subprocess.run(["pg_restore", "--list", str(report.folder / dump.stored_as())],
                            capture_output=True, text=True, check=True).stdout
    assert "TABLE DATA public backup_probe" in listed
    with psycopg.connect(postgres_url) as conn:
        conn.execute("DROP TABLE backup_probe")


def test_a_postgresql_dump_that_fails_is_told_and_the_rest_is_stored(data, tmp_path):
    report = make_backup(data, tmp_path / "backups", keep=3, database_url="postgresql://nobody@127.0.0.1:1/none")
    [problem] = report.manifest.problems
    assert problem.startswith("hub-database.pgdump: pg_dump:") and "127.0.0.1" in problem
    assert any(e.path == "homes/hs1/bai-tap.ipynb" for e in report.manifest.entries)


# ---- restore (hub_config/operations/restore.py) ----

from hub_config.app.instance import Holder, PlatformLock, PlatformRunning  # noqa: E402
from hub_config.operations.restore import RestoreRefused, restore_backup  # noqa: E402


def tree_facts(root: Path) -> dict[str, tuple]:
    facts = {}
    for path in sorted([root, *root.rglob("*")]):
        if path.relative_to(root).parts[:1] in (("run",), ("backups",), ("warm",)) or path.name.endswith(("-wal", "-shm")):
            continue
        info = path.lstat()
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            facts[key] = ("link", os.readlink(path))
        elif path.is_dir():
            facts[key] = ("dir", stat.S_IMODE(info.st_mode), info.st_uid)
        else:
            facts[key] = ("file", stat.S_IMODE(info.st_mode), info.st_uid, int(info.st_mtime))
    return facts


def test_a_restore_brings_back_every_file_mode_link_and_committed_row(data, tmp_path):
    writer = live_gradebook(data, rows=50)
    report = make_backup(data, tmp_path / "backups", keep=3)
    writer.close()
    target = tmp_path / "new-machine" / "var"
    restored = restore_backup(report.folder, target)
    assert restored.moved_aside is None and restored.restored == len(report.manifest.entries)
    before = tree_facts(data.root)
    before.pop("offerings/tin-hoc-10/gradebook.db")  # a database comes back as its committed state, not its bytes
    after = tree_facts(target)
    after.pop("offerings/tin-hoc-10/gradebook.db")
    assert after == before
    with sqlite3.connect(target / "offerings" / "tin-hoc-10" / "gradebook.db") as db:
        assert db.execute("SELECT count(*) FROM grade").fetchone() == (50,)
    assert (target / "homes" / "hs1" / "bai-tap.ipynb").read_text(encoding="utf-8") == '{"cells": []}'


def test_a_damaged_backup_is_refused_whole_and_says_what_is_wrong(data, tmp_path):
    report = make_backup(data, tmp_path / "backups", keep=3)
    target = tmp_path / "new" / "var"
    stored = report.folder / "data" / "homes" / "hs1" / "bai-tap.ipynb"
    stored.write_text('{"cells": [1]}', encoding="utf-8")
    with pytest.raises(RestoreRefused, match="homes/hs1/bai-tap.ipynb: .*the manifest says"):
        restore_backup(report.folder, target)
    stored.unlink()
    with pytest.raises(RestoreRefused, match="homes/hs1/bai-tap.ipynb: missing"):
        restore_backup(report.folder, target)
    (report.folder / "manifest.json").unlink()
    with pytest.raises(RestoreRefused, match="no manifest.json"):
        restore_backup(report.folder, target)
    cut_off = tmp_path / "backups" / f".{BACKUP_PREFIX}20261201T000000Z.partial"
    cut_off.mkdir()
    with pytest.raises(RestoreRefused, match="cut off"):
        restore_backup(cut_off, target)
    assert not target.exists() and not list(target.parent.glob(".*")), "nothing written"


def test_data_in_the_way_needs_force_and_is_kept_aside_and_a_running_platform_is_left_alone(data, tmp_path):
    report = make_backup(data, tmp_path / "backups", keep=3)
    target = DataDir(tmp_path / "other" / "var").ensure()
    assert restore_backup(report.folder, target.root).restored  # an empty layout is no data
    (target.root / "homes" / "ghi-chu.txt").write_text("của máy này", encoding="utf-8")
    with pytest.raises(RestoreRefused, match="already holds data"):
        restore_backup(report.folder, target.root)
    restored = restore_backup(report.folder, target.root, force=True)
    assert (restored.moved_aside / "homes" / "ghi-chu.txt").read_text(encoding="utf-8") == "của máy này"
    assert not (target.root / "homes" / "ghi-chu.txt").exists()
    lock = PlatformLock(target)
    lock.acquire(Holder(os.getpid(), "http://127.0.0.1:1", str(target.root)))
    try:
        config = tmp_path / "stemlab.toml"
        config.write_text("", encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "hub_config.app.cli", "--data", str(target.root), "--config",
                               str(config), "restore", str(report.folder), "--force"],
                              capture_output=True, text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "300"})
    finally:
        lock.release()
    assert done.returncode != 0 and "already running" in done.stdout, done.stdout + done.stderr
    assert PlatformRunning.__name__  # the refusal is the launcher's own, naming the holder


# ---- the daily backup (hub_config/operations/daily.py) ----

from zoneinfo import ZoneInfo  # noqa: E402

from hub_config.operations.daily import DailyBackups, is_due, last_slot  # noqa: E402
from hub_config.site.settings import SiteSettings  # noqa: E402

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_the_daily_backup_is_due_once_a_day_and_catches_up_after_a_night_off():
    at = dt.time(2, 0)
    morning = dt.datetime(2026, 12, 8, 7, 0, tzinfo=HCM)
    assert last_slot(morning, at, HCM) == dt.datetime(2026, 12, 8, 2, 0, tzinfo=HCM)
    assert last_slot(dt.datetime(2026, 12, 8, 1, 0, tzinfo=HCM), at, HCM) == dt.datetime(2026, 12, 7, 2, 0, tzinfo=HCM)
    yesterday_night = dt.datetime(2026, 12, 7, 2, 0, 5, tzinfo=HCM)
    assert is_due(yesterday_night, morning, at, HCM), "switched off at 02:00: the missed backup is made at start"
    assert not is_due(dt.datetime(2026, 12, 8, 2, 0, 5, tzinfo=HCM), morning, at, HCM)
    assert is_due(None, morning, at, HCM)
    # site time, not the machine's: 02:00 in Vietnam is 19:00 UTC the day before
    assert last_slot(dt.datetime(2026, 12, 7, 19, 30, tzinfo=dt.timezone.utc), at, HCM).hour == 2


def test_a_daily_backup_that_fails_is_told_and_tried_again_in_an_hour(data, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backup folder should be")
    settings = SiteSettings(backup_daily="02:00", backup_folder=str(blocked), timezone="Asia/Ho_Chi_Minh")
    said: list[str] = []
    daily = DailyBackups(settings, data, said.append)
    now = dt.datetime(2026, 12, 8, 7, 0, tzinfo=HCM)
    daily.tick(now)
    daily._running.join(30)
    assert len(said) == 1 and "The daily backup failed" in said[0]
    daily.tick(now + dt.timedelta(minutes=30))
    assert not daily._running.is_alive() and len(said) == 1, "not again within the hour"
    blocked.unlink()
    daily.tick(now + dt.timedelta(minutes=61))
    daily._running.join(30)
    assert "Daily backup" in said[-1] and len(complete_backups(blocked)) == 1
    daily.tick(now + dt.timedelta(minutes=62))
    assert not daily._running.is_alive() and len(said) == 2, "made today: not due again"


def test_a_daily_time_that_is_not_a_time_is_refused():
    from traitlets import TraitError

    with pytest.raises(TraitError, match="not a time of day"):
        SiteSettings(backup_daily="2 giờ sáng")


@pytest.mark.skipif(os.geteuid() != 0, reason="makes and removes Linux accounts (root; CI runs as root)")
def test_a_production_restore_on_a_new_machine_makes_the_accounts_and_gives_each_its_files(data, tmp_path):
    """The new machine has none of the term's Linux accounts: restore makes them first (new uids),
    then every home file and a grader's offering files belong to their owner again by name."""
    import pwd

    from hub_config.operations.restore import restore_backup
    from hub_config.system.linux_accounts import ensure_grader_account, ensure_linux_account

    home_root, student, grader = tmp_path / "home", "hsrestore1", "gvrestore1"
    for login in (student, grader):
        subprocess.run(["userdel", login], capture_output=True)  # (a run cut short before)
    home = ensure_linux_account(student, home_root)
    (home / "bai1.ipynb").write_text("{}")
    os.chown(home / "bai1.ipynb", pwd.getpwnam(student).pw_uid, -1)
    grader_home = data.graders_dir / grader
    ensure_grader_account(grader, grader_home)
    (grader_home / "gradebook.db").write_text("rows")
    os.chown(grader_home / "gradebook.db", pwd.getpwnam(grader).pw_uid, -1)
    report = make_backup(data, tmp_path / "backups", keep=1, production=True, home_root=home_root, homes=[student])
    try:
        for login in (student, grader):  # the disk died: a new machine, without the accounts
            subprocess.run(["userdel", login], check=True)
        shutil.rmtree(home_root)
        restored = restore_backup(report.folder, tmp_path / "new-var", home_root=home_root)
        assert sorted(restored.accounts_made) == sorted([student, grader])
        for login, path in ((student, home_root / student / "bai1.ipynb"),
                            (grader, tmp_path / "new-var" / "graders" / grader / "gradebook.db")):
            assert path.owner() == login, (path, path.owner())
        assert pwd.getpwnam(student).pw_dir == str(home_root / student)
        assert (home_root / student).owner() == student and stat.S_IMODE((home_root / student).stat().st_mode) == 0o700
    finally:
        for login in (student, grader):
            subprocess.run(["userdel", login], capture_output=True)


def test_a_postgresql_hub_database_is_loaded_back_whole_and_a_full_one_needs_force(data, tmp_path, postgres_url):
    import psycopg

    from hub_config.operations.restore import RestoreRefused, restore_backup

    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE restore_probe (login text)")
        conn.execute("INSERT INTO restore_probe VALUES ('hs-restore-probe')")
    report = make_backup(data, tmp_path / "backups", keep=3, database_url=postgres_url)
    with pytest.raises(RestoreRefused) as refused:  # the database still holds the term: not without --force
        restore_backup(report.folder, tmp_path / "new-var", database_url=postgres_url)
    assert "--force" in str(refused.value) and not (tmp_path / "new-var").exists()
    with psycopg.connect(postgres_url) as conn:  # a new machine's empty database
        conn.execute("DROP TABLE restore_probe")
    restored = restore_backup(report.folder, tmp_path / "new-var", database_url=postgres_url)
    assert any("Loaded the hub database" in note for note in restored.notes)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT login FROM restore_probe").fetchall() == [("hs-restore-probe",)]
        conn.execute("DROP TABLE restore_probe")
