"""How a notebook is split between the student's kernel and the judge (autograders/split.py), and
how values cross between them (kernel_side/plain.py). No kernel here: the grading corpus
(test_judge_attacks.py, test_grading_batch.py) runs both sides for real, as root."""

from __future__ import annotations

import numpy as np
import pytest
from nbformat.v4 import new_code_cell

from autograders.kernel_side import plain
from autograders.split import plan_notebook


def cell(source: str, **meta: object):  # type: ignore[no-untyped-def]
    return new_code_cell(source, metadata={"nbgrader": meta})


def given(source: str):  # type: ignore[no-untyped-def]
    return cell(source, locked=True, grade_id="g")


def answer(source: str):  # type: ignore[no-untyped-def]
    return cell(source, solution=True, grade_id="s")


def graded(source: str, gid: str = "t"):  # type: ignore[no-untyped-def]
    return cell(source, grade=True, locked=True, points=1, grade_id=gid)


def test_students_names_are_asked_for_the_teachers_and_the_tests_own_are_the_judges():
    plan = plan_notebook([given("import numpy as np\nX = np.arange(3)"), answer("import numpy as np\ndef f(x):\n    return x"),
                          graded("for i in range(3):\n    kq = f(i)\n    assert kq == i\nassert np.allclose(f(X), X)")])
    code = plan.tests[2].judge_code
    assert "__stemlab_student__('f')(i)" in code and "__stemlab_student__('f')(X)" in code
    assert "__stemlab_student__('np')" not in code and "__stemlab_student__('kq')" not in code
    assert plan.judge_parts[1] == "import numpy as np"  # the student's import of numpy is the judge's own


def test_a_teachers_name_the_student_rebinds_or_changes_is_the_students():
    plan = plan_notebook([given("data = [3, 1, 2]\nlimit = 5"), answer("data.sort()\nlimit = 6"),
                          graded("assert data == [1, 2, 3] and limit == 6")])
    code = plan.tests[2].judge_code
    assert "__stemlab_student__('data')" in code and "__stemlab_student__('limit')" in code


@pytest.mark.parametrize("source, reason", [
    ("import matplotlib.pyplot as plt\nassert len(plt.gca().lines) == 1", "matplotlib"),
    ("assert open('out.txt').read() == 'x'", "open()"),
    ("assert 'f' in globals()", "globals()"),
    ("%timeit f(1)", "get_ipython()"),
    ("f.cache = {}\nassert f(1) == 1", "changes one of the student's objects"),
    ("import numpy as np\nassert (np.load('out.npy') == 1).all()", "reads or writes files"),
])
def test_a_test_about_the_students_process_is_judged_in_its_kernel_with_the_reason(source, reason):
    plan = plan_notebook([answer("def f(x):\n    return x"), graded(source)])
    assert plan.tests[1].judge_code is None and reason in plan.tests[1].in_kernel_reason


def test_reading_a_released_data_file_by_name_stays_with_the_judge():
    source = "with open('data.csv') as f:\n    first = f.readline()\nassert f(first) == first"
    cells = [answer("def f(x):\n    return x"), graded(source)]
    assert plan_notebook(cells, frozenset({"data.csv"})).tests[1].judge_code is not None
    assert plan_notebook(cells).tests[1].judge_code is None  # a file the student's code may have written


def test_a_tests_names_are_run_for_the_student_too_when_a_later_cell_needs_them():
    plan = plan_notebook([answer("def read():\n    return [1, 2]"),
                          graded("X = read()\nassert len(X) == 2\n### BEGIN HIDDEN TESTS\nassert X == [1, 2]\n### END HIDDEN TESTS"),
                          answer("total = sum(X)")])
    assert plan.tests[1].student_part is not None and "HIDDEN" not in plan.tests[1].student_part
    assert "X == [1, 2]" not in plan.tests[1].student_part


@pytest.mark.parametrize("value", [
    None, True, 3, 2.5, float("inf"), "chữ", b"\x00\xff", bytearray(b"ab"), 1 + 2j, (1, [2, {3}]),
    {1: "a", ("k",): [None]}, frozenset({1, 2}), range(1, 9, 2), np.float32(1.5), np.int64(7),
])
def test_data_crosses_as_itself(value):
    back = plain.decode(plain.loads(plain.dumps(plain.encode(value, pytest.fail))), pytest.fail)
    assert back == value and type(back) is type(value)


def test_arrays_cross_with_dtype_and_shape_and_objects_as_handles():
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    back = plain.decode(plain.encode(array, pytest.fail), pytest.fail)
    assert back.dtype == array.dtype and back.shape == (2, 3) and (back == array).all()
    handles = []
    data = plain.encode([object(), np.array([object()])], lambda o: handles.append(o) or {"@": "handle", "id": 1})
    assert len(handles) == 2 and data[0]["@"] == "handle"


@pytest.mark.parametrize("data", [
    {"@": "ndarray", "dtype": "|O", "shape": [1], "b64": ""},    # an object array: pickles inside
    {"@": "code", "v": "print(1)"},
    {"no": "tag"},
])
def test_what_is_not_our_data_is_refused(data):
    with pytest.raises(plain.NotPlainData):
        plain.decode(data, pytest.fail)


def test_nesting_and_size_are_bounded():
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(plain.NotPlainData):
        plain.encode(deep, pytest.fail)
    with pytest.raises(plain.NotPlainData):
        plain.loads("[" * 100_000 + "]" * 100_000)
