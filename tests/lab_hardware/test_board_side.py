"""Board-side code is real MicroPython files (lab_hardware/board_side/), loaded by name: each passes
the stub check for the esp32 and rp2 boards and runs on the simulated kit, and no host module
pastes board code as a string any more."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from lab_hardware import board_side, files
from lab_hardware.boardcheck import check_cell
from lab_hardware.sim.kit import SimKit
from lab_hardware.transport import KitConnection

ROOT = Path(__file__).resolve().parents[2]
# What board code looks like: a host module holding one of these in a string pastes board code.
BOARD_MARKERS = ("import machine", "from yolobit import", "import _sim", "os.ilistdir", "os.statvfs",
                 "__import__('os')", "__import__('yolobit')", "__import__('network')", "binascii.")


@pytest.mark.parametrize("port", ["esp32", "rp2"])
@pytest.mark.parametrize("name", board_side.names())
def test_each_board_file_passes_the_stub_check(name, port):
    assert [str(p) for p in check_cell(board_side.source(name), port)] == []


def test_no_host_module_pastes_board_code_as_a_string():
    pasted = []
    for package in ("lab_hardware", "autograders", "hub_config"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "board_side" in path.parts or "sim" in path.parts:
                continue  # the board's own files, and the simulated board's Python side
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                          if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                          and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
            for node in ast.walk(tree):
                if id(node) not in docstrings and isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and any(m in node.value for m in BOARD_MARKERS):
                    pasted.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not pasted, pasted


@pytest.mark.kit
def test_each_board_file_runs_on_the_simulated_kit(tmp_path):
    with SimKit(flash_dir=str(tmp_path / "flash"), realtime=False) as sim, KitConnection.open(sim.path) as link:
        machine, release, platform, uid, has_yolobit, i2c = board_side.call(link, "identify", "identify")
        assert platform == "esp32" and has_yolobit and uid
        files.mkdir(link, "/lib/sub")
        assert files.put(link, b"x = 1\n", "/lib/sub/b.py")
        assert {e.name for e in files.listdir(link, "/lib/sub")} == {"b.py"}
        assert files.get(link, "/lib/sub/b.py") == b"x = 1\n"
        assert files.sha256(link, "/lib/sub/none.py") is None and files.free_bytes(link) > 0
        files.remove(link, "/lib/sub/b.py")
        assert files.listdir(link, "/lib/sub") == []
        assert isinstance(board_side.call(link, "selftest_yolobit", "light"), (int, float))
        assert isinstance(board_side.call(link, "selftest_yolobit", "celsius"), (int, float))
        assert board_side.call(link, "selftest_yolobit", "wait_button", "a", 50) is False, "nobody pressed it"
        assert board_side.call(link, "selftest_yolobit", "show_colours") is None
        assert isinstance(board_side.call(link, "selftest_board", "networks"), int)
        for address in (a for a in (0x19, 0x68) if a in i2c):
            assert len(board_side.call(link, "selftest_board", "accel", address)) == 3
        assert "events" in json.loads(board_side.call(link, "sim_timeline", "timeline"))
        plotted = link.exec(board_side.source("yolobit_names") + "\n" + board_side.program("plot", "plot", "1 + 1", 100, 40))
        assert plotted.split()[0] == "2"
        assert link.exec("print('show_colours' in dir(), 'listdir' in dir())").strip() == "False False", \
            "a call leaves no function behind in the student's namespace"
