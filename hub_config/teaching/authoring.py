"""Checks a teacher runs on a source assignment before releasing it (`stemlab courses check`).

nbgrader stops at the first bad marker with a traceback that names neither the notebook nor the
cell ("no end solution statement found"). These checks name both, and say what to change.
"""

from __future__ import annotations

import ast
import json
import tempfile
import shutil
from pathlib import Path

import nbformat

from hub_config.teaching.catalog import Assignment, Course
from hub_config.teaching.nbgrader_run import run_recorded

PAIRS = (("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
MARK_SCHEME = ("=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ===")


def _cell_name(index: int, cell: nbformat.NotebookNode) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")


def read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str | None]:
    """The notebook, or why it is not one (naming the file), for a person to act on."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError, UnicodeDecodeError) as err:
        return None, f"{path}: not a notebook (not valid JSON: {err})"
    except nbformat.ValidationError as err:
        return None, f"{path}: not a valid notebook ({err.message})"
    except OSError as err:
        return None, f"{path}: cannot be read ({err.strerror})"
    except (RecursionError, MemoryError, ValueError) as err:
        # a hand-made file: JSON nested thousands deep, a number of thousands of digits...
        return None, f"{path}: not a notebook (its content cannot be read as one: {type(err).__name__})"
    except Exception as err:  # noqa: BLE001  (whatever a file can do to the reader, it is one file's problem)
        return None, f"{path}: not a notebook ({type(err).__name__}: {str(err)[:200]})"
    return nb, None


def unexplained_asserts(source: str) -> list[str]:
    """Asserts in a test cell that would fail with a bare AssertionError, or explain in one
    language only: a student who fails a test must read what was checked, in Vietnamese and English."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError as err:
        return [f"line {err.lineno}: not valid Python ({err.msg})"]
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else "assert …"
        if node.msg is None:
            found.append(f"line {node.lineno}: `{text}` has no message")
        elif _literal_text(node.msg) is not None and " / " not in (_literal_text(node.msg) or ""):
            found.append(f"line {node.lineno}: the message of `{text}` is not in both languages (\"tiếng Việt / English\")")
    return found


def _literal_text(message: ast.expr) -> str | None:
    """The written text of an assert's message: a string, an f-string's fixed parts, or parts
    joined with `+`; None when it is computed some other way (a variable, a call)."""
    if isinstance(message, ast.Constant) and isinstance(message.value, str):
        return message.value
    if isinstance(message, ast.JoinedStr):
        return "".join(v.value for v in message.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(message, ast.BinOp) and isinstance(message.op, ast.Add):
        left, right = _literal_text(message.left), _literal_text(message.right)
        return None if left is None and right is None else (left or "") + (right or "")
    return None


def lint_notebook(path: Path) -> list[str]:
    """Every marker and metadata problem in one source notebook, each with its fix."""
    nb, problem = read_notebook(path)
    if nb is None:
        return [f"{problem}. Restore it from the last good copy, or open and save it in JupyterLab to repair it."]
    problems: list[str] = []
    seen_ids: dict[str, str] = {}
    for index, cell in enumerate(nb.cells):
        where = f"{path.name}, {_cell_name(index, cell)}"
        meta = cell.metadata.get("nbgrader", {})
        for begin, end in PAIRS + (MARK_SCHEME,):
            opened = False
            for line in cell.source.splitlines():
                stripped = line.strip()
                if stripped == begin:
                    if opened:
                        problems.append(f"{where}: '{begin}' twice without '{end}' between; add the missing '{end}'")
                    opened = True
                elif stripped == end:
                    if not opened:
                        problems.append(f"{where}: '{end}' without a '{begin}' before it; add '{begin}' or remove it")
                    opened = False
            if opened:
                problems.append(f"{where}: '{begin}' is never closed; add '{end}' after the solution")
        if "### BEGIN SOLUTION" in cell.source and not meta.get("solution"):
            problems.append(f"{where}: has solution markers but is not an answer cell; in the nbgrader "
                            "toolbar choose 'Autograded answer' (or remove the markers)")
        if "BEGIN HIDDEN TESTS" in cell.source and not meta.get("grade"):
            problems.append(f"{where}: has hidden tests but is not a test cell; choose 'Autograder tests'")
        if meta:
            grade_id = meta.get("grade_id")
            if not grade_id:
                problems.append(f"{where}: nbgrader cell without an ID; give it one in the nbgrader toolbar")
            elif grade_id in seen_ids:
                problems.append(f"{where}: ID {grade_id!r} is already used by {seen_ids[grade_id]}; IDs must be unique")
            else:
                seen_ids[grade_id] = _cell_name(index, cell)
            if meta.get("grade") and not (isinstance(meta.get("points"), (int, float)) and meta["points"] > 0):
                problems.append(f"{where}: graded cell without positive points; set its points")
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code" and not meta.get("locked"):
                problems.append(f"{where}: test cell is not locked, so students could edit the tests; lock it")
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                problems += [f"{where}, {p}; say what was checked, e.g. `assert f(2) == 4, \"f(2) phải bằng 4 / "
                             f"f(2) must be 4\"`" for p in unexplained_asserts(cell.source)]
    return problems


def check_assignment(course: Course, assignment: Assignment) -> list[str]:
    """Lint every notebook, then let nbgrader build the student version in a scratch folder."""
    problems = [p for nb in assignment.notebooks for p in lint_notebook(nb)]
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix="stemlab-check-") as scratch:
        root = Path(scratch)
        shutil.copytree(assignment.source_dir, root / "source" / assignment.id)
        run = run_recorded(["generate_assignment", assignment.id, f"--CourseDirectory.root={root}", "--no-db", "--force"],
                           root, root / "nbgrader-report.jsonl")
        if run.failed:
            problems.append(f"{course.id}/{assignment.id}: nbgrader could not build the student version: "
                            + (run.reasons(1)[-1] if run.reasons(1) else f"exit code {run.returncode}"))
    return problems
