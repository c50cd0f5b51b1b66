"""The exchange service's disk and the archives it trades: what a server uploads is refused whole
if anything in it is not a plain file or folder; a submission is named after the login that sent
it and timed by the service; a student's copy holds what is released and their own feedback only."""

from __future__ import annotations

import io
import tarfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from nbgrader.utils import notebook_hash

from hub_config.teaching.exchange_archive import ArchiveLimits, ArchiveRefused, packed, unpack
from hub_config.teaching.exchange_store import CourseStore, Part, Role

COURSE = "python-co-ban-10a1-2025-2026"
SECRET = "ab" * 32


def tar(*members: tuple[str, bytes | None, bytes]) -> io.BytesIO:
    """(name, tar type, content) members; type None: a regular file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, kind, content in members:
            info = tarfile.TarInfo(name)
            info.type = kind or tarfile.REGTYPE
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = content.decode()
                archive.addfile(info)
            elif kind == tarfile.DIRTYPE:
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("member", [
    ("a/link", tarfile.SYMTYPE, b"/etc/shadow"),
    ("a/hard", tarfile.LNKTYPE, b"a/x.ipynb"),
    ("a/fifo", tarfile.FIFOTYPE, b""),
    ("a/dev", tarfile.CHRTYPE, b""),
    ("/etc/cron.d/x", None, b"boom"),
    ("../../outside", None, b"boom"),
    ("a/../../outside", None, b"boom"),
], ids=["symlink", "hardlink", "fifo", "device", "absolute", "climbing", "climbing-inside"])
def test_an_archive_with_anything_but_files_and_folders_is_refused_whole(tmp_path, member):
    into = tmp_path / "into"
    with pytest.raises(ArchiveRefused) as refused:
        unpack(tar(("a/x.ipynb", None, b"{}"), member), into)
    assert refused.value.vi and refused.value.en
    assert not into.exists(), "nothing is left of a refused archive"
    assert not (tmp_path.parent / "outside").exists()


def test_an_archive_past_the_limits_is_refused(tmp_path):
    with pytest.raises(ArchiveRefused):
        unpack(tar(("big", None, b"x" * 2000)), tmp_path / "a", ArchiveLimits(max_file_bytes=1000))
    with pytest.raises(ArchiveRefused):
        unpack(tar(*[(f"f{i}", None, b"x" * 600) for i in range(3)]), tmp_path / "b",
               ArchiveLimits(max_total_bytes=1500))
    with pytest.raises(ArchiveRefused):
        unpack(io.BytesIO(b"not a tar at all" * 100), tmp_path / "c")


def test_packing_leaves_links_out(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.ipynb").write_text("{}")
    (tmp_path / "src" / "secret").symlink_to("/etc/passwd")
    files = unpack(io.BytesIO(packed(tmp_path, ["src"])), tmp_path / "out")
    assert files == ["src/x.ipynb"]


def released(store_root: Path, assignment: str = "bai01") -> CourseStore:
    store = CourseStore(store_root, COURSE)
    store.release(assignment, tar((f"{COURSE}/outbound/{assignment}/bai01.ipynb", None, b"{}")))
    return store


def submission(notebook: bytes = b"{}", timestamp: str = "2020-01-01 00:00:00.000000 UTC") -> io.BytesIO:
    return tar(("bai01.ipynb", None, notebook), ("submission_secret.txt", None, SECRET.encode()),
               ("timestamp.txt", None, timestamp.encode()))


def test_a_submission_is_named_after_its_sender_and_timed_by_the_service(tmp_path):
    store = released(tmp_path)
    before = datetime.now(timezone.utc)
    done = store.submit("hs-an", "bai01", submission(timestamp="2020-01-01 00:00:00.000000 UTC"))
    assert done.folder.startswith("hs-an+bai01+")
    folder = store.path(Part.INBOUND) / done.folder
    stamped = (folder / "timestamp.txt").read_text()
    assert stamped == done.timestamp and "2020" not in stamped, "a back-dated timestamp.txt is replaced"
    assert datetime.strptime(stamped, "%Y-%m-%d %H:%M:%S.%f UTC").replace(tzinfo=timezone.utc) >= before.replace(microsecond=0)


def test_a_submission_is_refused_before_release_and_without_nbgraders_secret(tmp_path):
    store = released(tmp_path)
    with pytest.raises(ArchiveRefused):
        store.submit("hs-an", "bai02", submission())
    with pytest.raises(ArchiveRefused):
        store.submit("hs-an", "bai01", tar(("bai01.ipynb", None, b"{}")))
    with pytest.raises(ArchiveRefused):
        store.submit("hs-an+hs-binh", "bai01", submission())
    assert not list(store.path(Part.INBOUND).glob("*"))


def test_a_students_copy_holds_the_release_and_their_own_feedback_only(tmp_path):
    store = released(tmp_path)
    mine = store.submit("hs-an", "bai01", submission())
    time.sleep(0.01)
    theirs = store.submit("hs-binh", "bai01", tar(("bai01.ipynb", None, b"{}"),
                                                  ("submission_secret.txt", None, ("cd" * 32).encode())))
    my_page = f"{notebook_hash(secret=SECRET, notebook_id='bai01')}.html"
    their_page = f"{notebook_hash(secret='cd' * 32, notebook_id='bai01')}.html"
    store.release_feedback(tar((f"{COURSE}/feedback/{my_page}", None, b"<p>an</p>"),
                               (f"{COURSE}/feedback/{their_page}", None, b"<p>binh</p>")))
    everything = set(Part)
    student = store.view(Role.STUDENT, "hs-an", everything, None)
    assert f"{COURSE}/outbound/bai01" in student and f"{COURSE}/feedback/{my_page}" in student
    assert f"{COURSE}/feedback/{their_page}" not in student
    assert not any(p.startswith(f"{COURSE}/inbound/") for p in student), "no submission, not even their own"
    grader = store.view(Role.GRADER, "", everything, "bai01")
    assert {f"{COURSE}/inbound/{mine.folder}", f"{COURSE}/inbound/{theirs.folder}"} <= set(grader)
    copy = unpack(io.BytesIO(packed(tmp_path, student)), tmp_path / "copy")
    assert sorted(copy) == [f"{COURSE}/feedback/{my_page}", f"{COURSE}/outbound/bai01/bai01.ipynb"]


def test_a_release_holds_its_assignment_only_and_feedback_holds_pages_only(tmp_path):
    store = released(tmp_path)
    with pytest.raises(ArchiveRefused):
        store.release("bai01", tar((f"{COURSE}/outbound/bai01/a.ipynb", None, b"{}"),
                                   (f"{COURSE}/outbound/bai02/planted.ipynb", None, b"{}")))
    assert store.released() == ["bai01"] and (store.path(Part.OUTBOUND) / "bai01" / "bai01.ipynb").exists()
    with pytest.raises(ArchiveRefused):
        store.release_feedback(tar((f"{COURSE}/inbound/hs-an+bai01+x+y/bai01.ipynb", None, b"{}")))
    with pytest.raises(ArchiveRefused):
        store.release_feedback(tar((f"{COURSE}/feedback/../outbound/x.html", None, b"")))
    store.release("bai01", tar((f"{COURSE}/outbound/bai01/v2.ipynb", None, b"{}")))
    assert sorted(p.name for p in (store.path(Part.OUTBOUND) / "bai01").iterdir()) == ["v2.ipynb"], "replaced whole"


def test_course_and_assignment_names_cannot_leave_the_store(tmp_path):
    for bad in ("..", "a/b", "x+y", "", "*"):
        with pytest.raises(ArchiveRefused):
            CourseStore(tmp_path, bad)
    with pytest.raises(ArchiveRefused):
        released(tmp_path).view(Role.STUDENT, "hs-an", {Part.OUTBOUND}, "../../etc")
