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
