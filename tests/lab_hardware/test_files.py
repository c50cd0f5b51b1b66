"""Files on a kit over the serial line: round trips, skipping unchanged files, wire overhead,
a full flash, a board with no filesystem, and uploads cut short by a reset, a soft reboot or an
unplugged cable (never a torn file, no `.part` left). Each test puts the board back as it found it
(the `board` fixture checks)."""

from __future__ import annotations

import os
import threading

import pytest

from lab_hardware import files
from lab_hardware.errors import FlashFull, KitDisconnected, KitError, NoFilesystem
from lab_hardware.sim.kit import SimKit
from lab_hardware.transport import KitConnection

pytestmark = pytest.mark.kit


def remove_tree(link: KitConnection, path: str) -> None:
    for entry in files.listdir(link, path):
        inner = f"{path.rstrip('/')}/{entry.name}"
        remove_tree(link, inner) if entry.is_dir else files.remove(link, inner)
    link.exec(f"__import__('os').rmdir({path!r})")


def test_put_get_list_mkdir_remove(board, target):
    target.needs("filesystem")
    binary = os.urandom(20_000)
    text = "# chương trình chính\nprint('Xin chào')\n".encode()
    files.mkdir(board, "/lib/sensors")
    assert files.put(board, binary, "/lib/sensors/blob.bin") is True
    assert files.put(board, text, "/main.py") is True
    assert files.get(board, "/lib/sensors/blob.bin") == binary
    assert files.get(board, "/main.py") == text
    listing = {e.name: e for e in files.listdir(board, "/lib/sensors")}
    assert listing["blob.bin"].size == 20_000 and not listing["blob.bin"].is_dir
    assert any(e.name == "lib" and e.is_dir for e in files.listdir(board, "/"))
    files.remove(board, "/lib/sensors/blob.bin")
    assert "blob.bin" not in {e.name for e in files.listdir(board, "/lib/sensors")}
    with pytest.raises(files.RemoteFileNotFound) as missing:
        files.get(board, "/lib/sensors/blob.bin")
    assert "blob.bin" in missing.value.en
    with pytest.raises(files.RemoteFileNotFound):
        files.remove(board, "/nope.py")
    remove_tree(board, "/lib")  # /main.py is put back by the fixture


def test_a_board_without_a_filesystem_says_so(board, target):
    if "filesystem" in target.has:
        pytest.skip(f"{target.name} has a filesystem")
    for action in (lambda: files.put(board, b"print(1)\n", "/main.py"), lambda: files.listdir(board, "/"),
                   lambda: files.get(board, "/main.py"), lambda: files.mkdir(board, "/lib"),
                   lambda: files.free_bytes(board)):
        with pytest.raises(NoFilesystem) as caught:
            action()
        assert "no filesystem" in caught.value.en and "hệ thống tệp" in caught.value.vi
        assert "flash" not in caught.value.en.lower()
    assert board.exec("print('still fine')") == "still fine\n"


def test_an_unchanged_file_is_skipped_by_hash(board, target):
    target.needs("filesystem")
    data = os.urandom(30_000)
    assert files.put(board, data, "/data.bin") is True
    before = board.bytes_out
    assert files.put(board, data, "/data.bin") is False
    assert board.bytes_out - before < 1000, "only the hash check went over the wire"
    files.remove(board, "/data.bin")


def test_random_binary_costs_less_than_1_4_wire_bytes_per_byte(board, target):
    target.needs("filesystem")
    data = os.urandom(64 * 1024)
    before = board.bytes_out
    files.put(board, data, "/random.bin")
    ratio = (board.bytes_out - before) / len(data)
    assert ratio <= 1.4, ratio
    assert files.get(board, "/random.bin") == data
    files.remove(board, "/random.bin")


def test_a_file_too_large_for_the_flash_is_refused_and_nothing_is_left(board, target):
    target.needs("filesystem")
    files.put(board, b"keep me", "/keep.txt")
    with pytest.raises(FlashFull) as full:
        files.put(board, b"\0" * (3 * 1024 * 1024), "/huge.bin")
    assert "huge.bin" in full.value.en and "flash" in full.value.vi
    names = {e.name for e in files.listdir(board, "/")}
    assert "huge.bin" not in names and "huge.bin.part" not in names
    assert files.get(board, "/keep.txt") == b"keep me"
    files.remove(board, "/keep.txt")


def test_a_soft_reboot_mid_upload_keeps_the_old_file_and_leaves_no_part(board, target):
    target.needs("filesystem")
    old, new = os.urandom(5_000), os.urandom(40_000)
    files.put(board, old, "/app.bin")
    rebooted = threading.Event()

    def reboot_after_first_chunk(sent: int, total: int) -> None:
        if not rebooted.is_set():
            rebooted.set()
            target.inject(b"\x04")  # Ctrl-D at the raw prompt between two chunks: a soft reboot

    with pytest.raises(files.UploadInterrupted) as caught:
        files.put(board, new, "/app.bin", on_progress=reboot_after_first_chunk)
    assert "app.bin" in caught.value.en and "khởi động lại" in caught.value.vi
    assert {e.name for e in files.listdir(board, "/")} == {"app.bin"} | _restored(board)
    assert files.get(board, "/app.bin") == old, "the old file is whole"
    assert files.put(board, new, "/app.bin") is True and files.get(board, "/app.bin") == new
    files.remove(board, "/app.bin")


def _restored(link: KitConnection) -> set[str]:
    """boot.py and main.py, where the board has them (the lab build's boot writes neither)."""
    return {e.name for e in files.listdir(link, "/") if e.name in ("boot.py", "main.py")}


@pytest.mark.parametrize("fault", ["reset", "unplug"])
def test_an_upload_cut_short_never_leaves_a_torn_file(tmp_path, fault):
    flash = tmp_path / "flash"
    old, new = os.urandom(10_000), os.urandom(600_000)
    with SimKit(flash_dir=str(flash)) as kit:
        with KitConnection.open(kit.path, timeout=2.0) as link:
            files.put(link, old, "/app.bin")
        cut = threading.Event()

        def cut_after_some(sent: int, total: int) -> None:
            if sent > total // 3 and not cut.is_set():
                cut.set()
                kit.hard_reset() if fault == "reset" else kit.unplug()

        with KitConnection.open(kit.path, timeout=2.0) as link:
            with pytest.raises(KitDisconnected if fault == "unplug" else KitError):
                files.put(link, new, "/app.bin", on_progress=cut_after_some)
    with SimKit(flash_dir=str(flash)) as kit, KitConnection.open(kit.path) as link:  # plugged in again
        assert files.get(link, "/app.bin") == old, "the old file is whole"
        assert files.put(link, new, "/app.bin") is True
        assert files.get(link, "/app.bin") == new
        assert {e.name for e in files.listdir(link, "/")} == {"app.bin"}, "the torn .part went with the next upload"
