"""The `stemlab` front door: help grouped by audience, clear errors, config commands."""

import subprocess

from ..conftest import STEMLAB


def stemlab(*args, cwd=None):
    return subprocess.run([STEMLAB, *args], capture_output=True, text=True, cwd=cwd, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_help_groups_commands_by_who_uses_them():
    out = stemlab("--help").stdout
    sections = [line for line in out.splitlines() if line.endswith(":") and "/" in line]
    assert [s.split(" / ")[1].split(" (")[0] for s in sections[1:]] == [
        "Run the platform", "Accounts", "Courses", "Grading", "Classes", "Kits", "Configuration"]
    for command in ("up", "accounts", "courses", "grade", "grades", "class", "kits", "config"):
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
