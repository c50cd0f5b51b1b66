"""The judge against a student who has read our code: one batch of an assignment whose tests use
`math.isclose`, `numpy.testing`, `isinstance`, an expected exception, a function that sorts in
place, and hidden tests. Honest submissions (with plain Python values or numpy's) get their exact
scores; each attack patches something inside the student's own kernel (IPython's
`user_expressions`, the runner's helpers and their `__defaults__`, `math.isclose`,
`numpy.testing`, `isinstance`, the bridge that answers the judge, exceptions, `__eq__`) beside
wrong answers, and gets exactly the score of those wrong answers, with its flag. The student's
kernel never sees a hidden test: not its source, not its expected values."""

from __future__ import annotations

import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograders.limits import Limits
from hub_config.teaching.catalog import load_catalog
from hub_config.teaching.offerings import offer
from hub_config.teaching.loop import autograde, release
from hub_config.teaching.page import grading_report

from .helpers import grading_site, scores_and_flags, write_submission

pytestmark = [pytest.mark.root, pytest.mark.timeout(900)]
A = "bai01-tin-cay"
HIDDEN_VALUE = "314.15926535"  # only in a hidden test: the student's kernel must never see it

GIVEN = "import math\nimport numpy as np\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt"
QUESTIONS = {  # grade id: (solution, test source)
    "dien-tich": ("def dien_tich(r):\n    return math.pi * r * r",
                  "assert math.isclose(dien_tich(2), 12.566370614359172), 'Sai diện tích / wrong area'\n"
                  "### BEGIN HIDDEN TESTS\n"
                  f"assert math.isclose(dien_tich(10), {HIDDEN_VALUE}89793), 'Sai diện tích / wrong area'\n"
                  "### END HIDDEN TESTS"),
    "binh-phuong": ("def binh_phuong(xs):\n    return np.asarray(xs) ** 2",
                    "np.testing.assert_allclose(binh_phuong(np.array([1, 2, 3])), [1, 4, 9])\n"
                    "assert isinstance(binh_phuong(np.array([1.0])), np.ndarray), 'Cần mảng numpy / a numpy array'"),
    "sap-xep": ("def sap_xep(ds):\n    ds.sort()",
                "ds = [3, 1, 2]\nsap_xep(ds)\nassert ds == [1, 2, 3], f'Cần [1, 2, 3], nhận {ds} / expected [1, 2, 3], got {ds}'"),
    "can": ("def can(x):\n    if x < 0:\n        raise ValueError('âm / negative')\n    return x ** 0.5",
            "try:\n    can(-1)\nexcept ValueError:\n    pass\nelse:\n    raise AssertionError('Cần ValueError / expected ValueError')\n"
            "assert can(4) == 2.0, 'can(4) = 2.0'"),
    # a test about what the student's code left in its own process (a figure): judged in its kernel
    "ve": ("def ve():\n    plt.plot([1, 2, 3])",
           "ve()\nassert len(plt.gca().lines) >= 1, 'Chưa vẽ gì / nothing drawn'"),
}
IN_KERNEL = "ve-kiem-tra"
WRONG = {"dien-tich": "def dien_tich(r):\n    return 3 * r * r",
         "binh-phuong": "def binh_phuong(xs):\n    return [x * 2 for x in xs]",
         "sap-xep": "def sap_xep(ds):\n    return sorted(ds)",
         "can": "def can(x):\n    return 2.0 if x >= 0 else None"}
ALL_WRONG = {**{q: s for q, (s, _) in QUESTIONS.items()}, **WRONG}  # the plot question always right
HONEST = {q: s for q, (s, _) in QUESTIONS.items()}
NUMPY_TYPES = {**HONEST, "dien-tich": "def dien_tich(r):\n    return np.float64(np.pi) * r * r",
               "can": "def can(x):\n    if x < 0:\n        raise ValueError('âm')\n    return np.sqrt(np.float32(x))"}

PATCH_USER_EXPRESSIONS = textwrap.dedent("""\
    ip = get_ipython()
    def every_answer_ok(expressions):
        return {k: {'status': 'ok', 'data': {'text/plain': repr('{"value": true}')}, 'metadata': {}} for k in expressions}
    ip.user_expressions = every_answer_ok
    """)
PATCH_HELPERS = textwrap.dedent("""\
    try:
        __stemlab_strict_eq.__defaults__ = (type,)
        __stemlab_test.__defaults__ = (dict(vars(__import__('builtins')), AssertionError=Warning), exec, compile)
    except NameError:
        pass
    """)
PATCH_LIBRARIES = "import math, numpy\nmath.isclose = lambda *a, **k: True\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
PATCH_BUILTINS = "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.ValueError = Exception\n"
FORGES_ANSWERS = textwrap.dedent("""\
    import json
    real = __stemlab_bridge.serve
    def forged(request):
        return json.dumps({"value": True})
    __stemlab_bridge.serve = forged
    """)
ALWAYS_EQUAL = ("class Du(float):\n    def __eq__(self, o):\n        return True\n    __hash__ = float.__hash__\n"
                "def can(x):\n    if x < 0:\n        raise ValueError('âm')\n    return Du(7)\n")
SPIES = textwrap.dedent("""\
    import json
    seen = []
    real = __stemlab_bridge.serve
    def spy(request):
        seen.append(request)
        return real(request)
    __stemlab_bridge.serve = spy
    get_ipython().events.register('pre_run_cell', lambda info: seen.append(info.raw_cell))
    """)
SPY_REPORT = "print('SPY', seen, [v for k, v in globals().items() if k.startswith('_i')])"

CASES = {
    # student: (answers, cells the student added first, later, expected score, flag that must appear)
    "honest": (HONEST, None, None, 10, None),
    "honest-numpy-types": (NUMPY_TYPES, None, None, 10, None),
    "honest-two": ({"dien-tich": HONEST["dien-tich"], "sap-xep": HONEST["sap-xep"]}, None, None, 4, None),
    "wrong": (ALL_WRONG, None, None, 2, None),
    "patches-user-expressions": (ALL_WRONG, PATCH_USER_EXPRESSIONS, None, 2, "user_expressions"),
    "patches-helper-defaults": (ALL_WRONG, PATCH_HELPERS, None, 2, "__defaults__"),
    "patches-isclose-and-numpy-testing": ({**HONEST, "dien-tich": WRONG["dien-tich"], "binh-phuong": WRONG["binh-phuong"]},
                                          PATCH_LIBRARIES, None, 6, "replaces math.isclose"),
    "patches-isinstance-and-exceptions": ({**HONEST, "binh-phuong": "def binh_phuong(xs):\n    return [x * x for x in xs]",
                                           "can": "def can(x):\n    if x < 0:\n        raise Exception('?')\n    return x ** 0.5"},
                                          PATCH_BUILTINS, None, 6, "builtin"),
    "forges-the-bridge": (ALL_WRONG, FORGES_ANSWERS, None, 2, "grader's own helper"),
    "rebinds-the-teachers-numpy": ({**HONEST, "binh-phuong": "class Gia:\n    class testing:\n"
                                    "        assert_allclose = staticmethod(lambda *a, **k: None)\n"
                                    "    ndarray = list\n    asarray = staticmethod(np.asarray)\n    array = staticmethod(np.array)\n"
                                    "np = Gia\n" + WRONG["binh-phuong"]}, None, None, 8, "redefines np"),
    "always-equal-float": ({**HONEST, "can": ALWAYS_EQUAL}, None, None, 8, "__eq__"),
    "spies-on-the-judge": (HONEST, SPIES, SPY_REPORT, 10, "grader's own helper"),
}


def source_notebook() -> nbformat.NotebookNode:
    def cell(source: str, **meta: object) -> nbformat.NotebookNode:
        return new_code_cell(source, metadata={"nbgrader": {"schema_version": 3, "task": False, **meta}})

    cells = [new_markdown_cell("# Bài kiểm tra độ tin cậy / a trust test"),
             cell(GIVEN, grade=False, solution=False, locked=True, grade_id="thu-vien")]
    for gid, (solution, test) in QUESTIONS.items():
        body = solution.split("\n", 1)
        cells.append(cell(f"{body[0]}\n    ### BEGIN SOLUTION\n{body[1]}\n    ### END SOLUTION",
                          grade=False, solution=True, locked=False, grade_id=f"{gid}-loi-giai"))
        cells.append(cell(test, grade=True, solution=False, locked=True, points=2, grade_id=f"{gid}-kiem-tra"))
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("judge")
    course = root / "courses" / "kiem-tra-tin-cay"
    (course / "source" / A).mkdir(parents=True)
    (course / "course.toml").write_text(textwrap.dedent(f"""\
        id = "kiem-tra-tin-cay"
        title.vi = "Kiểm tra độ tin cậy của máy chấm"
        title.en = "The grader's trustworthiness"
        track = "school"
        audience.vi = "Máy chấm"
        audience.en = "The grader"
        kits = []

        [[assignments]]
        id = "{A}"
        title.vi = "Tin cậy"
        title.en = "Trust"
        points = 10
        ai_strands = []
        ai_level = "upper-secondary"
        digital_domains = ["problem-solving"]
        """), encoding="utf-8")
    nbformat.write(source_notebook(), str(course / "source" / A / "bai01.ipynb"))
    data, url = grading_site(root)
    offering = offer(data, url, load_catalog(root / "courses").course("kiem-tra-tin-cay"), "10A1", "THPT Mẫu", "2025-2026")
    release(data, offering, A)
    for student, (answers, first, last, _, _) in CASES.items():
        nb = nbformat.read(offering.root / "release" / A / "bai01.ipynb", as_version=4)
        for c in nb.cells:
            gid = c.metadata.get("nbgrader", {}).get("grade_id", "").removesuffix("-loi-giai")
            if c.metadata.get("nbgrader", {}).get("solution") and gid in answers:
                c.source = answers[gid]
        if first:
            nb.cells.insert(2, new_code_cell(first))
        if last:
            nb.cells.append(new_code_cell(last))
        write_submission(offering, A, student, "bai01.ipynb", nb)
    summary = autograde(data, offering, A, workers=2, limits=Limits(cell_seconds=10))
    assert not summary.failed, [(r.student, r.error) for r in summary.failed]
    return offering, summary


@pytest.mark.parametrize("student", list(CASES))
def test_each_attack_gets_the_score_of_its_wrong_answers_and_a_flag(graded, student):
    *_, expected, flag = CASES[student]
    score, flags = scores_and_flags(graded[0], A)[student]
    assert score == expected, (student, score, flags)
    if flag:
        assert any(flag in f for f in flags), (student, flags)
    else:
        assert flags == [], (student, flags)


def test_every_test_was_judged_by_the_judge_but_the_plot_which_the_teacher_is_told_of_once(graded):
    offering, summary = graded
    for result in summary.results:
        assert set(result.judged_in_kernel) == {IN_KERNEL}, result
    assert list(summary.judged_in_kernel) == [("bai01", IN_KERNEL)]
    assert "matplotlib" in summary.judged_in_kernel[("bai01", IN_KERNEL)]
    report = grading_report(summary)
    assert sum(IN_KERNEL in line for line in report) == 1, report


def test_the_students_kernel_never_saw_a_hidden_test(graded):
    nb = nbformat.read(graded[0].root / "autograded" / "spies-on-the-judge" / A / "bai01.ipynb", as_version=4)
    report = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "SPY" in report and '"op": "call"' in report  # the spy ran and saw the judge's questions
    assert HIDDEN_VALUE not in report and "BEGIN HIDDEN" not in report and "isclose" not in report
