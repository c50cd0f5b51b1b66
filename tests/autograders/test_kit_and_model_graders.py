"""Kit-behaviour and model graders, through `stemlab grade`'s runner as root, on the shipped
courses: the Yolo:Bit course's button lesson runs each student's MicroPython on a simulated kit
inside the sandbox; the AI course's project scores each student's model on a hidden set whose
labels never enter the sandbox, with partial credit. Feedback says what was observed against
what was expected (or the score on the scale); cheats get their honest score and a flag."""

from __future__ import annotations

import nbformat
import pytest

from hub_config.teaching.catalog import load_catalog
from hub_config.teaching.offerings import offer
from hub_config.system.linux_accounts import restrict_to_graders
from hub_config.teaching.loop import autograde, release

from .helpers import grading_site, scores_and_flags, write_submission

pytestmark = [pytest.mark.root, pytest.mark.timeout(900)]

KIT_A = "bai02-nut-bam"
HEART_ON_A = ("from yolobit import *\nfor buoc in range(300):\n    if button_a.is_pressed():\n"
              "        display.show(Image.HEART)\n    else:\n        display.clear()\n    sleep(20)")
HEART_ALWAYS = "from yolobit import *\ndisplay.show(Image.HEART)\nsleep(6000)"
COUNT_B = ("from yolobit import *\ndem = 0\ndisplay.show(dem)\nfor buoc in range(300):\n"
           "    if button_b.was_pressed():\n        dem = dem + 1\n        display.show(dem)\n    sleep(20)")
PATCH_KIT_HELPER = "import autograders.kit as k\nk.KitRun.expect_follows = lambda *a, **kw: None\n"
KIT_CASES = {
    # student: ({grade_id: %%kit program}, extra cell, expected code score, flag, feedback that must appear)
    "kit-honest": ({"cau1-loi-giai": HEART_ON_A, "cau2-loi-giai": COUNT_B}, None, 8, None, None),
    "kit-ignores-button": ({"cau1-loi-giai": HEART_ALWAYS, "cau2-loi-giai": COUNT_B}, None, 3, None,
                          "at 0 s: observed HEART; expected off outside those times (while button A is held)"),
    "kit-never-answered": ({}, None, 0, None, "NotImplementedError"),
    # the checks run in the judge, so a patched copy in the student's kernel changes nothing
    "kit-patches-helper": ({"cau1-loi-giai": HEART_ALWAYS, "cau2-loi-giai": COUNT_B}, PATCH_KIT_HELPER, 3,
                           "a part of the grader", None),
}

MODEL_A = "bai04-du-an-nhan-dang-cu-chi"
READ = ("import csv, numpy as np\ndef doc_du_lieu(p):\n    rows = list(csv.reader(open(p, encoding='utf-8')))[1:]\n"
        "    return np.array([[float(v) for v in r[:6]] for r in rows]), [r[6] for r in rows]")
KNN = "mo_hinh = make_pipeline(StandardScaler(), KNeighborsClassifier(5)).fit(X, y)"
TREE = "mo_hinh = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)"
CONSTANT = "from sklearn.dummy import DummyClassifier\nmo_hinh = DummyClassifier(strategy='constant', constant='lac').fit(X, y)"
LABELS = load_catalog().course("nhap-mon-ai").root / "hidden" / MODEL_A / "cu-chi.csv"
STEALS_LABELS = (  # knows where the labels are kept (the project is open source); with them it would score 6
    "import csv\nfrom sklearn.dummy import DummyClassifier\nstolen = None\n"
    f"for p in [{str(LABELS)!r}, 'stemlab-hidden/cu-chi.csv', '../../hidden/{MODEL_A}/cu-chi.csv']:\n"
    "    try:\n        rows = list(csv.reader(open(p)))\n"
    "        if 'cu_chi' in rows[0]:\n            stolen = [r[rows[0].index('cu_chi')] for r in rows[1:]]\n"
    "    except OSError:\n        pass\n"
    "class Nhin(DummyClassifier):\n    def predict(self, X):\n"
    "        return stolen if stolen and len(stolen) == len(X) else ['lac'] * len(X)\n"
    "mo_hinh = Nhin().fit(X, y)")
FAKES_RESULT = ("from sklearn.dummy import DummyClassifier\nclass Gian(DummyClassifier):\n    def predict(self, X):\n"
                "        get_ipython().displayhook(6)\n        return super().predict(X)\n"
                "mo_hinh = Gian(strategy='constant', constant='lac').fit(X, y)")
MODEL_CASES = {
    # student: (model code, expected code score (2 for reading + the model's), flag)
    "model-knn": (KNN, 2 + 6, None),
    "model-tree": (TREE, 2 + 5, None),
    "model-constant": (CONSTANT, 2 + 0, None),
    "model-steals-labels": (STEALS_LABELS, 2 + 0, None),
    # its fake result is made in the student's kernel, which no test cell's output comes from any more
    "model-fakes-result": (FAKES_RESULT, 2 + 0, "displayhook"),
}


def submit(offering, assignment: str, notebook: str, student: str, answers: dict, extra: str | None) -> None:
    nb = nbformat.read(offering.root / "release" / assignment / notebook, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            magic = "%%kit\n" if cell.source.startswith("%%kit") else ""
            cell.source = magic + answers[gid]
    if extra:  # the student's own Python cell, after the first answer
        at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "cau1-loi-giai")
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(extra))
    write_submission(offering, assignment, student, notebook, nb)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    data, url = grading_site(tmp_path_factory.mktemp("kit-model-grading"))
    catalog = load_catalog()
    kit_offering = offer(data, url, catalog.course("lap-trinh-yolobit"), "10A1", "THPT Mẫu", "2025-2026")
    ai_course = catalog.course("nhap-mon-ai")
    model_offering = offer(data, url, ai_course, "10A1", "THPT Mẫu", "2025-2026")
    restrict_to_graders(ai_course.root)  # as `stemlab up` leaves it in production: the labels are closed
    release(data, kit_offering, KIT_A)
    release(data, model_offering, MODEL_A)
    for student, (answers, extra, _, _, _) in KIT_CASES.items():
        submit(kit_offering, KIT_A, "bai02.ipynb", student, answers, extra)
    for student, (model, _, _) in MODEL_CASES.items():
        submit(model_offering, MODEL_A, "bai04.ipynb", student, {"cau1-loi-giai": READ, "cau2-loi-giai": model}, None)
    for offering, assignment in ((kit_offering, KIT_A), (model_offering, MODEL_A)):
        summary = autograde(data, offering, assignment, workers=2)
        assert not summary.failed, [(r.student, r.error) for r in summary.failed]  # say why, not a KeyError later
    return kit_offering, model_offering


def autograded_text(offering, assignment: str, notebook: str, student: str, grade_id: str) -> str:
    nb = nbformat.read(offering.root / "autograded" / student / assignment / notebook, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "\n".join(o.get("text", "") + o.get("evalue", "") + "".join(o.get("traceback", []))
                     + str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)


@pytest.mark.parametrize("student", list(KIT_CASES))
def test_kit_behaviour_is_graded_on_a_simulated_kit_with_observed_and_expected(graded, student):
    kit_offering, _ = graded
    _, _, expected_score, expected_flag, feedback = KIT_CASES[student]
    score, flags = scores_and_flags(kit_offering, KIT_A)[student]
    if expected_score is not None:
        assert score == expected_score, (student, score, flags)
    if expected_flag:
        assert any(expected_flag in f for f in flags), (student, flags)
    else:
        assert flags == [], flags
    if feedback:
        assert feedback in autograded_text(kit_offering, KIT_A, "bai02.ipynb", student, "cau1-kiem-tra")


@pytest.mark.parametrize("student", list(MODEL_CASES))
def test_models_are_scored_on_hidden_data_with_partial_credit(graded, student):
    _, model_offering = graded
    _, expected_score, expected_flag = MODEL_CASES[student]
    score, flags = scores_and_flags(model_offering, MODEL_A)[student]
    assert score == expected_score, (student, score, flags)
    if expected_flag:
        assert any(expected_flag in f for f in flags), (student, flags)
    else:
        assert flags == [], flags


def test_model_feedback_gives_the_score_on_the_scale(graded):
    _, model_offering = graded
    text = autograded_text(model_offering, MODEL_A, "bai04.ipynb", "model-tree", "cau2-kiem-tra")
    assert "accuracy on 160 hidden samples: 0.844 → 5/6 points" in text and "trên 160 mẫu ẩn" in text
    assert "cu_chi" not in text  # the labels are not echoed
