"""One batch of submissions through `stemlab grade`'s runner, as root: honest ones between
malicious and broken ones. Every honest score is exact; every cheat gets the score the honest
code behind it earns and, where it tried something, a flag with the reason in the gradebook;
broken notebooks are reported; afterwards no sandbox process is left and the gradebook is whole."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading

import nbformat
import psutil
import pytest

from autograders.limits import Limits
from autograders.sandbox import ACCOUNT_PREFIX
from hub_config.teaching.catalog import load_catalog
from hub_config.site.errors import StemlabError
from hub_config.teaching.offerings import offer
from hub_config.teaching.loop import autograde, release

from .helpers import grading_site, scores_and_flags, write_submission

pytestmark = [pytest.mark.root, pytest.mark.timeout(900)]
A = "bai01-bien-va-kieu-du-lieu"
Q1 = "def chu_vi_hinh_chu_nhat(dai, rong):\n    return 2 * (dai + rong)"
Q2 = "def doi_nhiet_do(do_c):\n    return do_c * 9 / 5 + 32"
Q3 = "def gioi_thieu(ho_ten, tuoi):\n    return 'Em là ' + ho_ten + ', ' + str(int(tuoi)) + ' tuổi.'"
FULL = {"cau1-loi-giai": Q1, "cau2-loi-giai": Q2, "cau3-loi-giai": Q3}
ALWAYS_EQ = "class Du:\n    def __eq__(self, other):\n        return True\n"
LISTENER = socket.create_server(("127.0.0.1", 0))
CONNECTIONS: list = []
threading.Thread(target=lambda: CONNECTIONS.append(LISTENER.accept()), daemon=True).start()


def extra(code: str) -> dict:
    """A cell the student added after the answers."""
    return {"__extra__": code}


CASES = {
    # student: (answers, changes to the notebook, expected autograded score, flag that must appear)
    "honest-full": (FULL, None, 8, None),
    "honest-q1": ({"cau1-loi-giai": Q1}, None, 2, None),
    "honest-none": ({}, None, 0, None),
    "always-eq": ({"cau1-loi-giai": ALWAYS_EQ + "def chu_vi_hinh_chu_nhat(d, r):\n    return Du()",
                   "cau2-loi-giai": Q2,
                   "cau3-loi-giai": ALWAYS_EQ + "def gioi_thieu(h, t):\n    return Du()"}, None, 3, "__eq__"),
    "spoofed-class": ({**FULL, "cau2-loi-giai": "class Gia:\n    __class__ = float\n    def __sub__(self, o):\n"
                       "        return 0\n    def __rsub__(self, o):\n        return 0\n"
                       "def doi_nhiet_do(do_c):\n    return Gia()"}, None, 5, "__class__"),
    "strips-asserts": ({"cau1-loi-giai": "import ast\nclass Bo(ast.NodeTransformer):\n    def visit_Assert(self, n):\n"
                        "        return None\nget_ipython().ast_transformers.append(Bo())\n"
                        "get_ipython().input_transformers_post.append(lambda lines: [l.replace('assert', 'pass #') for l in lines])\n"
                        "def chu_vi_hinh_chu_nhat(d, r):\n    return 0"}, None, 0, "IPython"),
    "patched-builtins": ({**FULL, "cau2-loi-giai": "import builtins\nbuiltins.isinstance = lambda *a: True\n"
                          "def doi_nhiet_do(do_c):\n    return do_c * 9 // 5 + 32"}, None, 5, "builtin"),
    "fake-abs": ({**FULL, "cau2-loi-giai": "import builtins\nbuiltins.abs = lambda x: 0\n"
                  "def doi_nhiet_do(do_c):\n    return 0.0"}, None, 5, "builtin"),  # the tests use the real abs
    "sys-exit": ({**FULL, "cau1-loi-giai": Q1 + "\nimport sys\nsys.exit(0)"}, None, 8, "sys.exit"),
    "os-exit": (FULL, extra("import os\nos._exit(0)"), 8, "kernel died"),
    "kills-kernel": (FULL, extra("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"), 8, "kernel died"),
    "swallows-interrupt": (FULL, extra("while True:\n    try:\n        pass\n    except KeyboardInterrupt:\n        pass"),
                           8, "KeyboardInterrupt"),
    "endless-loop": (FULL, extra("while True:\n    pass"), 8, "longer than"),
    "memory-bomb": (FULL, extra("x = []\nwhile True:\n    x.append(bytearray(100 * 1024 * 1024))"), 8, "kernel died"),
    "fork-bomb": (FULL, extra("import os\nwhile True:\n    os.fork()"), 8, "os.fork"),
    "output-one-line": (FULL, extra("print('x' * 50_000_000)"), 8, "output over"),
    "output-many-lines": (FULL, extra("for i in range(1_000_000):\n    print(i)"), 8, "output over"),
    "detached-process": (FULL, extra("import subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)"), 8, None),
    "network": (FULL, extra(f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {LISTENER.getsockname()[1]}), timeout=2)\n"
                            "except OSError as e:\n    print('no network', e)"), 8, None),
    "reads-gradebook": (FULL, extra("import sqlite3, os\nfor p in open('gradebook-paths.txt').read().split():\n"
                                    "    try:\n        sqlite3.connect(p).execute('update grade set manual_score = 99')\n"
                                    "    except Exception as e:\n        print('denied', p, e)"), 8, None),
    "deleted-test": (FULL, "delete:cau1-kiem-tra", 8, "deleted"),
    "tampered-points": (FULL, "points:cau1-kiem-tra", 8, "changed"),
    "emptied-test": (FULL, "empty:cau2-kiem-tra", 8, "emptied"),
    "markdown-test": (FULL, "markdown:cau1-kiem-tra", 8, "changed this cell's type"),
    "renamed-grade-id": (FULL, "rename:cau2-kiem-tra", 8, "deleted this cell"),
    "unlocked-test": (FULL, "unlock:cau3-kiem-tra", 8, "grading metadata"),
    # honest, from an older nbgrader: its cells' metadata lack the keys newer versions write
    "honest-old-nbgrader": (FULL, "oldmeta:*", 8, None),
    "reads-classmate": (FULL, extra("for p in open('classmate-paths.txt').read().split():\n    try:\n"
                                    "        print(open(p).read()[:50])\n    except OSError as e:\n"
                                    "        print('denied', e)"), 8, None),
    "writes-classmate": (FULL, extra("for p in open('classmate-paths.txt').read().split():\n    try:\n"
                                     "        open(p, 'w').write('{}')\n    except OSError as e:\n"
                                     "        print('denied', e)"), 8, None),
    # the environment block the kernel's process started with (its zygote's), read from its own
    # memory: argv's strings, then the environment's, at the top of the stack; and os.environb
    "reads-environment": (FULL, extra(
        "import ctypes, os\n"
        "p, seen = ctypes.c_void_p.in_dll(ctypes.CDLL(None), 'program_invocation_name').value, []\n"
        "for _ in range(5000):\n    s = ctypes.string_at(p)\n    if not s:\n        break\n"
        "    seen.append(s)\n    p += len(s) + 1\n"
        "seen += [k + v for k, v in os.environb.items()]\n"
        "print('read', len(seen), 'strings; grader secret', 'SEEN' if any(b'hunter2' in s for s in seen) else 'absent')"),
        8, None),
}
GRADER_SECRET = ("STEMLAB_TEST_GRADER_SECRET", "hunter2")  # in the grading command's environment
BROKEN = {"not-json": b'{"cells": [ {"cell_type": "code", bi c\xe1t', "schema-invalid": b'{"nbformat": 4, "metadata": {}}',
          # valid JSON that no reader survives: nested 100,000 deep, a number of 5,000 digits
          "deep-nesting": b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": ' + b"[" * 100_000
                          + b"]" * 100_000 + b"}",
          "huge-number": b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"n": ' + b"9" * 5000 + b'}, "cells": []}',
          "not-utf8": b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"t": "\xff\xfe"}, "cells": []}'}


def make_submission(offering, student: str, answers: dict, change) -> None:  # type: ignore[no-untyped-def]
    nb = nbformat.read(offering.root / "release" / A / "bai01.ipynb", as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    if isinstance(change, dict):
        nb.cells.append(nbformat.v4.new_code_cell(change["__extra__"]))
    elif isinstance(change, str):
        action, gid = change.split(":")
        if action == "oldmeta":  # older nbgrader versions wrote no `cell_type` in a cell's nbgrader metadata
            for c in nb.cells:
                c.metadata.get("nbgrader", {}).pop("cell_type", None)
            write_submission(offering, A, student, "bai01.ipynb", nb)
            return
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
        if action == "delete":
            nb.cells.remove(cell)
        elif action == "points":
            cell.metadata["nbgrader"]["points"] = 100
        elif action == "empty":
            cell.source = ""
        elif action == "markdown":
            nb.cells[nb.cells.index(cell)] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
        elif action == "rename":
            cell.metadata["nbgrader"]["grade_id"] = "cau-de-nhat"
        elif action == "unlock":
            cell.metadata["nbgrader"]["locked"] = False
            cell.source = "pass"
    write_submission(offering, A, student, "bai01.ipynb", nb)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    data, url = grading_site(tmp_path_factory.mktemp("grading"))
    offering = offer(data, url, load_catalog().course("python-co-ban"), "10A1", "THPT Mẫu", "2025-2026")
    release(data, offering, A)
    for student, (answers, change, _, _) in CASES.items():
        make_submission(offering, student, answers, change)
    # the cheat knows where the gradebook is (it could guess): the sandbox must still stop it
    (offering.root / "submitted" / "reads-gradebook" / A / "gradebook-paths.txt").write_text(
        str(offering.root / "gradebook.db"))
    classmate = str(offering.root / "submitted" / "honest-full" / A / "bai01.ipynb")
    for student in ("reads-classmate", "writes-classmate"):
        (offering.root / "submitted" / student / A / "classmate-paths.txt").write_text(classmate)
    for student, raw in BROKEN.items():
        folder = offering.root / "submitted" / student / A
        folder.mkdir(parents=True)
        (folder / "bai01.ipynb").write_bytes(raw)
        (folder / "timestamp.txt").write_text("2025-10-01 08:00:00.000000 UTC")
    os.environ[GRADER_SECRET[0]] = GRADER_SECRET[1]
    try:
        with pytest.raises(StemlabError) as broken:
            autograde(data, offering, A, workers=2, limits=Limits(cell_seconds=3))
    finally:
        del os.environ[GRADER_SECRET[0]]
    return offering, str(broken.value)


@pytest.mark.parametrize("student", list(CASES))
def test_each_submission_gets_its_honest_score_and_its_flag(graded, student):
    offering, _ = graded
    _, _, expected_score, expected_flag = CASES[student]
    score, flags = scores_and_flags(offering, A)[student]
    assert score == expected_score, (student, score, flags)
    if expected_flag is None and student.startswith("honest"):
        assert flags == [], f"an honest submission is never flagged: {flags}"
    if expected_flag:
        assert any(expected_flag in f for f in flags), (student, flags)


def test_a_grading_kernel_sees_nothing_of_the_grading_commands_environment(graded):
    offering, _ = graded
    nb = nbformat.read(offering.root / "autograded" / "reads-environment" / A / "bai01.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "grader secret absent" in printed, printed


def test_broken_notebooks_are_reported_and_the_batch_went_on(graded):
    offering, message = graded
    assert "not valid JSON" in message
    for student in BROKEN:  # each named, with its file
        assert any(student in line and "bai01.ipynb" in line for line in message.splitlines()), (student, message)
    assert set(scores_and_flags(offering, A)) == set(CASES), "every other submission was graded"


def test_nothing_is_left_running_the_gradebook_is_whole_and_no_connection_was_made(graded):
    offering, _ = graded
    sandbox_uids = {p.pw_uid for p in __import__("pwd").getpwall() if p.pw_name.startswith(ACCOUNT_PREFIX)}
    stray = [p.pid for p in psutil.process_iter(["uids", "status"])
             if p.info["uids"] and p.info["uids"].real in sandbox_uids and p.info["status"] != psutil.STATUS_ZOMBIE]
    assert not stray
    db = sqlite3.connect(offering.root / "gradebook.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not db.execute("SELECT count(*) FROM grade WHERE manual_score = 99").fetchone()[0]
    assert not CONNECTIONS, "no submission reached the network"


def test_flags_reach_the_grade_sheet(graded, tmp_path):
    import csv

    from hub_config.teaching.grade_sheets import export

    offering, _ = graded
    csv_path, _ = export(offering, tmp_path, "vi")
    # columns: STT, code, name, the assignment, total, late, review, login
    rows = {r[-1]: r for r in csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";")}
    assert rows["honest-full"][-2] == "" and rows["honest-full"][3] == "8"
    assert "__eq__" in rows["always-eq"][-2] and rows["always-eq"][3] == "3"
