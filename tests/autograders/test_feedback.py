"""Feedback keeps hidden tests hidden: their result and message, never their code."""

import nbformat
from traitlets.config import Config

from traitlets.utils.importstring import import_item

from autograders.feedback import HIDDEN_LINE, HideHiddenTests, configure_feedback

TEST = """# Kiểm tra câu 1 / Tests for question 1
assert f(1) == 2, "f(1) phải bằng 2 / f(1) must be 2"
### BEGIN HIDDEN TESTS
kq = f(" a ")
assert kq == "a", f"f(' a ') phải bằng 'a' / f(' a ') must be 'a', got {kq!r}"
### END HIDDEN TESTS
print("xong / done")"""


def test_a_hidden_region_and_its_traceback_are_replaced_by_their_result():
    cell = nbformat.v4.new_code_cell(TEST, metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 2}})
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError",
                                           evalue="f(' a ') phải bằng 'a' / f(' a ') must be 'a', got ' a '",
                                           traceback=["---> 5 assert kq == \"a\", ...", "kq = f(\" a \")"])]
    nb = nbformat.v4.new_notebook(cells=[cell])
    out, _ = HideHiddenTests().preprocess(nb, {})
    shown = out.cells[0]
    assert "kq = f(" not in shown.source and "BEGIN HIDDEN" not in shown.source and HIDDEN_LINE in shown.source
    assert 'assert f(1) == 2' in shown.source and 'print("xong / done")' in shown.source, "visible tests stay"
    assert shown.outputs[0]["traceback"] == ["AssertionError: f(' a ') phải bằng 'a' / f(' a ') must be 'a', got ' a '"]


def test_cells_without_hidden_tests_are_left_alone():
    cell = nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {"grade": True}})
    cell.outputs = [nbformat.v4.new_output("error", ename="E", evalue="v", traceback=["frame"])]
    out, _ = HideHiddenTests().preprocess(nbformat.v4.new_notebook(cells=[cell]), {})
    assert out.cells[0].source == "assert True" and out.cells[0].outputs[0]["traceback"] == ["frame"]


def test_feedback_hides_hidden_tests_first_and_is_sanitized():
    c = Config()
    configure_feedback(c)
    first = c.GenerateFeedback.preprocessors[0]  # by import name: the configuration is data
    assert import_item(first) is HideHiddenTests
    assert c.HTMLExporter.sanitize_html is True
