"""The grading sandbox, as root: each attack runs as the student's code would, inside the sandbox,
and is contained: other students' files and the gradebook are closed, there is no network,
fork and memory bombs and endless loops end, output is capped in bytes, files are capped in
size, and nothing the code started outlives its run."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest

from autograders.limits import Limits
from autograders.sandbox import SandboxPool
from hub_config.system.limits import CgroupLimiter

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def pool():
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root; the sandbox tests must run there")
        pytest.skip("the sandbox needs root")
    p = SandboxPool(2, Limits(wall_seconds=8, memory_bytes=256 * 1024**2, max_processes=32,
                              max_file_bytes=1024**2, max_output_bytes=64 * 1024, max_disk_bytes=16 * 1024**2),
                    limiter=CgroupLimiter)
    yield p
    p.close()


def run_python(pool, code: str):
    sandbox = pool.acquire()
    try:
        sandbox.fresh_workdir()
        return sandbox.run([sys.executable, "-c", textwrap.dedent(code)])
    finally:
        pool.release(sandbox)


@pytest.fixture(scope="module")
def secrets_of_others():
    """A classmate's submission and a gradebook, closed to others as the platform keeps them."""
    # outside /tmp, which each sandbox replaces with its own: the test is that the modes keep it closed
    folder = Path(tempfile.mkdtemp(prefix="stemlab-others-", dir="/var/lib"))
    folder.chmod(0o755)
    private = folder / "offering"
    private.mkdir(mode=0o700)
    (private / "gradebook.db").write_text("grades")
    (private / "classmate.ipynb").write_text("answers")
    yield private
    import shutil

    shutil.rmtree(folder)


def test_code_runs_as_its_own_account_in_a_private_folder(pool):
    result = run_python(pool, "import os; print(os.getuid(), os.getcwd(), oct(os.stat('.').st_mode & 0o777))")
    uid, cwd, mode = result.stdout.decode().split()
    assert int(uid) != 0 and cwd.startswith("/var/lib/stemlab-grading/") and mode == "0o700"
    # as root every limit holds (a checkout under /tmp keeps /tmp shared: see the scratch-folder test)
    assert not [m for m in pool.missing if not m.startswith("a private /")], pool.missing


def test_other_students_and_the_gradebook_are_closed(pool, secrets_of_others):
    result = run_python(pool, f"""
        for path in ({str(secrets_of_others / 'gradebook.db')!r}, {str(secrets_of_others / 'classmate.ipynb')!r}):
            try:
                open(path).read()
                print('READ', path)
            except PermissionError:
                print('denied')
        try:
            open({str(secrets_of_others / 'planted.txt')!r}, 'w')
            print('WROTE')
        except PermissionError:
            print('denied')
    """)
    assert result.stdout.decode().split() == ["denied", "denied", "denied"]


def test_there_is_no_network_not_even_loopback(pool):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    threading.Thread(target=lambda: server.accept(), daemon=True).start()
    result = run_python(pool, f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2)
            print("connected")
        except OSError as err:
            print("no network:", err.errno)
    """)
    server.close()
    assert result.stdout.decode().startswith("no network"), result


def test_an_endless_loop_is_stopped_at_the_wall_clock_limit(pool):
    result = run_python(pool, "while True: pass")
    assert result.killed == "time" and result.seconds < 15


def test_a_fork_bomb_is_contained(pool):
    result = run_python(pool, """
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError:
            print("fork refused after", children)
    """)
    assert "fork refused after" in result.stdout.decode() and result.leftover_processes >= 1
    assert int(result.stdout.decode().split()[-1]) < 40


def test_a_memory_bomb_is_killed(pool):
    if pool.limiter is None:
        pytest.skip("no cgroups here")
    result = run_python(pool, "x = []\nwhile True: x.append(bytearray(50 * 1024 * 1024))")
    assert result.returncode not in (0, None) and result.killed is None


def test_output_is_capped_in_bytes_one_line_or_many(pool):
    one_line = run_python(pool, "import sys; sys.stdout.write('x' * 50_000_000)")
    many = run_python(pool, "import sys\nfor i in range(1_000_000): print(i)")
    for result in (one_line, many):
        assert result.output_truncated and len(result.stdout) == 64 * 1024 and result.killed is None


def test_a_file_larger_than_the_limit_cannot_be_written(pool):
    result = run_python(pool, """
        try:
            with open('big.bin', 'wb') as f:
                f.write(b'0' * (5 * 1024 * 1024))
            print('wrote')
        except OSError as err:
            print('refused', err.errno)
    """)
    assert result.stdout.decode().startswith("refused 27"), result  # EFBIG


def test_all_files_together_are_bounded_not_only_each_one(pool):
    """Files each under the per-file limit, many of them: the folder's own quota stops them."""
    result = run_python(pool, """
        written = 0
        try:
            for i in range(64):
                with open(f'part{i}.bin', 'wb') as f:
                    f.write(b'0' * (1024 * 1024 - 1))
                written += 1
        except OSError as err:
            print('full', err.errno, written)
        else:
            print('wrote', written)
    """)
    words = result.stdout.decode().split()
    assert words[:2] == ["full", "28"], result  # ENOSPC
    assert int(words[2]) <= 16, words


def test_a_detached_process_is_gone_when_the_run_ends(pool):
    result = run_python(pool, """
        import os, subprocess
        subprocess.Popen(['sleep', '600'], start_new_session=True)
        print(os.getuid())
    """)
    assert result.stdout, result.stderr.decode()[-600:]
    uid = int(result.stdout.decode())
    import psutil

    alive = [p for p in psutil.process_iter(["uids", "status"])
             if p.info["uids"] and p.info["uids"].real == uid and p.info["status"] != psutil.STATUS_ZOMBIE]
    assert result.leftover_processes == 1 and not alive


def test_tmp_var_tmp_and_dev_shm_are_the_sandboxs_own(pool):
    """What one submission leaves in the machine's scratch folders, neither the machine nor the
    next submission sees; and those folders are small, so they cannot fill the disk. A folder that
    holds the Python installation or the project (a checkout in /tmp) stays shared, and says so."""
    private = pool.private_folders
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(folder) and folder not in private:
            assert any(f"a private {folder}" in m for m in pool.missing), (folder, pool.missing)
    assert private, "at least /var/tmp and /dev/shm are the sandbox's own"
    marker = f"stemlab-left-behind-{os.getpid()}"
    first = run_python(pool, f"""
        import os
        for folder in {list(private)!r}:
            open(os.path.join(folder, {marker!r}), "w").write("a note for the next student")
        try:  # files of 1000 KB (under the file-size limit) until the folder is full
            for i in range(200):
                open(os.path.join({private[0]!r}, f"part{{i}}"), "wb").write(b"x" * 1_000_000)
        except OSError as e:
            print("full", e.errno, i)
        print("wrote")
    """)
    assert b"wrote" in first.stdout, first.stderr
    assert b"full 28" in first.stdout, "a private scratch folder is bounded (ENOSPC)"
    for folder in private:
        assert not os.path.exists(os.path.join(folder, marker)), folder
    second = run_python(pool, f"""
        import os
        print([f for f in {list(private)!r} if os.path.exists(os.path.join(f, {marker!r}))])
    """)
    assert second.stdout.strip() == b"[]", second.stdout + second.stderr


def test_a_sites_own_account_is_never_taken_for_a_sandbox():
    """An account of that name we did not make (a site's own) is refused, not used: the sandbox
    would run students' code as it and end all its processes after each submission."""
    import subprocess

    from autograders.confinement import ForeignAccount, ensure_system_account

    if os.geteuid() != 0:
        pytest.skip("creating Linux accounts needs root")
    name = f"stemlab-t{os.getpid() % 100000}"
    subprocess.run(["/usr/sbin/useradd", "--system", "--no-create-home", "--comment", "the school's backup job", name],
                   check=True)
    try:
        with pytest.raises(ForeignAccount) as refused:
            ensure_system_account(name, "STEM-Lab Hub grading sandbox")
        assert name in refused.value.en and name in refused.value.vi
    finally:
        subprocess.run(["/usr/sbin/userdel", name], check=True)
    ours = ensure_system_account(name, "STEM-Lab Hub grading sandbox")
    try:
        assert ours.pw_shell.endswith("nologin") and ensure_system_account(name, "STEM-Lab Hub grading sandbox") == ours
    finally:
        subprocess.run(["/usr/sbin/userdel", name], check=True)


def test_a_grading_root_made_under_a_private_umask_is_opened_for_the_sandboxes(pool):
    """The first grading on a new lab server may come from the hub's side, whose umask is 077: the
    sandboxes' root must still let their accounts through to their folders."""
    from autograders.confinement import GRADING_ROOT

    GRADING_ROOT.chmod(0o700)
    again = SandboxPool(1, Limits(wall_seconds=8, memory_bytes=256 * 1024**2, max_processes=32,
                                  max_file_bytes=1024**2, max_output_bytes=64 * 1024, max_disk_bytes=16 * 1024**2))
    try:
        assert GRADING_ROOT.stat().st_mode & 0o777 == 0o711
        sandbox = again.acquire()
        try:
            sandbox.fresh_workdir()
            assert sandbox.run([sys.executable, "-c", "import os; print(os.getcwd())"]).stdout.strip()
        finally:
            again.release(sandbox)
    finally:
        again.close()
