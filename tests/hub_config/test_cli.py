"""The `stemlab` front door: help grouped by audience, clear errors, config commands."""

import subprocess

from ..conftest import STEMLAB


def stemlab(*args, cwd=None):
    return subprocess.run([STEMLAB, *args], capture_output=True, text=True, cwd=cwd, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_help_groups_commands_by_who_uses_them():
    out = stemlab("--help").stdout
    sections = [line for line in out.splitlines() if line.endswith(":") and "/" in line]
    assert [s.split(" / ")[1].split(" (")[0] for s in sections[1:]] == [
        "Run the platform", "Accounts", "Courses", "Grading", "Grading sandbox", "Classes", "Kits", "Operations", "Configuration"]
    for command in ("up", "accounts", "courses", "grade", "grades", "sandbox", "class", "kits", "backup", "config"):
        assert f"\n  {command} " in out


def test_config_show_and_init(tmp_path):
    result = stemlab("config", "init", str(tmp_path / "stemlab.toml"))
    assert result.returncode == 0
    (tmp_path / "stemlab.toml").write_text('[school]\nname = "THCS Nguyễn Du"\n', encoding="utf-8")
    shown = stemlab("config", "show", cwd=tmp_path).stdout
    assert "THCS Nguyễn Du" in shown and "file stemlab.toml" in shown
    again = stemlab("config", "init", str(tmp_path / "stemlab.toml"))
    assert again.returncode == 2 and "already exists" in again.stdout


def test_bad_roster_exits_with_every_problem_and_changes_nothing(tmp_path, write_roster):
    bad = write_roster("bad", [["HS1", "Nguyễn An", "10A1", ""], ["HS1", "Trùng", "10A1", ""]])
    result = stemlab("accounts", "import", str(bad), "--data", str(tmp_path / "var"))
    assert result.returncode == 2
    assert "line 3: ID HS1 is already on line 2" in result.stdout
    assert not (tmp_path / "var" / "jupyterhub.sqlite").exists()


def test_sandbox_check_says_what_grading_enforces_here(tmp_path):
    """autograders' own command, plugged into `stemlab`: the limits from the settings, then what
    this machine can and cannot enforce (exit 1 when anything is missing)."""
    (tmp_path / "stemlab.toml").write_text("[grading]\nnotebook_seconds = 120\n", encoding="utf-8")
    result = stemlab("sandbox", "check", "--data", str(tmp_path / "var"), cwd=tmp_path)
    assert "120 s" in result.stdout and "30 s" in result.stdout, result.stdout + result.stderr
    if result.returncode == 0:
        assert "enforces every limit" in result.stdout
    else:
        assert result.returncode == 1 and "cannot enforce" in result.stdout


def test_a_kit_command_error_is_a_message_not_a_traceback(tmp_path):
    """lab_hardware's commands raise its own errors; `stemlab` shows them in both languages."""
    result = stemlab("kits", "test", "--data", str(tmp_path / "var"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Name the kits to test, or --all" in result.stdout and "Chọn kit cần kiểm tra" in result.stdout
