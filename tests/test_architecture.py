"""The packages' arrows run one way (../shared/STYLE.md): `lab_hardware` imports neither other
package, `autograders` may use `lab_hardware` but never `hub_config`, and `hub_config` composes
both. Every import counts, those inside functions too; a name handed over as configuration (a
traitlets `Type` set by hub_config's nbgrader config) is how a lower package receives a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"lab_hardware": {"autograders", "hub_config"}, "autograders": {"hub_config"}}


def imported_packages(path: Path) -> set[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, a.name.split(".")[0]) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__" \
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.add((node.lineno, node.args[0].value.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_no_package_above_it(package):
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name}"
             for path in sorted((ROOT / package).rglob("*.py"))
             for line, name in sorted(imported_packages(path)) if name in FORBIDDEN[package]]
    assert not wrong, wrong


MAX_LINES = 400  # a module a newcomer reads in one sitting


def test_no_module_is_longer_than_one_sitting():
    long = [f"{path.relative_to(ROOT)}: {n} lines"
            for package in ("hub_config", "autograders", "lab_hardware")
            for path in sorted((ROOT / package).rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, long


def test_each_package_plugs_its_own_commands_into_stemlab():
    """lab_hardware and autograders own their commands; `stemlab` finds every group, the hub's own
    included, through one entry-point group, and each group's commands are its own."""
    from importlib.metadata import entry_points

    from hub_config.app.cli import build_parser
    from hub_config.app.plugins import ENTRY_POINT_GROUP, plugged_groups

    owners = {e.name: e.value.split(".")[0] for e in entry_points(group=ENTRY_POINT_GROUP)}
    assert owners["kits"] == "lab_hardware" and owners["sandbox"] == "autograders"
    groups = plugged_groups()
    commands = [name for g in groups for _, _, names in g.help_sections for name in names]
    assert len(commands) == len(set(commands))
    parser = build_parser(groups)
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert set(commands) | {"up", "config"} == set(choices)


def test_types_are_checked(monkeypatch):
    """mypy, with pyproject.toml's settings (untyped definitions refused), over the three packages."""
    from mypy import api

    monkeypatch.chdir(ROOT)
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, out + err
