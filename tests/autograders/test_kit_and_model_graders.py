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

RADIO_A = "bai06-radio-va-du-an"
SETUP = ("from yolobit import *\nimport network\nimport espnow\nnetwork.WLAN(network.STA_IF).active(True)\n"
         "e = espnow.ESPNow()\ne.active(True)\nMOI_KIT = b'\\xff' * 6\ne.add_peer(MOI_KIT)\n")
CALL = SETUP + "for buoc in range(300):\n    if button_a.was_pressed():\n        e.send(MOI_KIT, '3')\n    sleep(20)"
BELL = SETUP + ("display.clear()\nfor buoc in range(300):\n    if e.any():\n        host, msg = e.recv()\n"
                "        display.show(msg.decode())\n        music.pitch(880, 200)\n"
                "    if button_b.was_pressed():\n        display.clear()\n    sleep(20)")
FAN = SETUP + ("bat = False\nfor buoc in range(100):\n    t = temperature()\n    if t > 34 and not bat:\n"
               "        bat = True\n        e.send(MOI_KIT, 'bat')\n    elif t < 32 and bat:\n"
               "        bat = False\n        e.send(MOI_KIT, 'tat')\n    sleep(100)")
RADIO_CASES = {
    # student: ({grade_id: %%kit program}, expected code score, feedback that must appear in question 1's or 2's test)
    "radio-honest": ({"cau1-loi-giai": CALL, "cau2-loi-giai": BELL, "cau3-loi-giai": FAN}, 8, None),
    "radio-while-held": ({"cau1-loi-giai": CALL.replace("was_pressed", "is_pressed"), "cau2-loi-giai": BELL,
                          "cau3-loi-giai": FAN}, 5, ("cau1-kiem-tra", 'expected "3" sent exactly once')),
    "radio-text-not-bytes": ({"cau1-loi-giai": CALL, "cau3-loi-giai": FAN, "cau2-loi-giai": BELL.replace(
        "display.show(msg.decode())", "if msg == '3':\n            display.show('3')")}, 5,
        ("cau2-kiem-tra", "The display never showed 3")),
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
    release(data, kit_offering, RADIO_A)
    release(data, model_offering, MODEL_A)
    for student, (answers, extra, _, _, _) in KIT_CASES.items():
        submit(kit_offering, KIT_A, "bai02.ipynb", student, answers, extra)
    for student, (answers, _, _) in RADIO_CASES.items():
        submit(kit_offering, RADIO_A, "bai06.ipynb", student, answers, None)
    for student, (model, _, _) in MODEL_CASES.items():
        submit(model_offering, MODEL_A, "bai04.ipynb", student, {"cau1-loi-giai": READ, "cau2-loi-giai": model}, None)
    for offering, assignment in ((kit_offering, KIT_A), (kit_offering, RADIO_A), (model_offering, MODEL_A)):
        summary = autograde(data, offering, assignment, workers=2)
        assert not summary.failed, [(r.student, r.error) for r in summary.failed]  # say why, not a KeyError later
    return kit_offering, model_offering


def autograded_text(offering, assignment: str, notebook: str, student: str, grade_id: str) -> str:
    nb = nbformat.read(offering.root / "autograded" / student / assignment / notebook, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "\n".join(o.get("text", "") + o.get("evalue", "") + "".join(o.get("traceback", []))
                     + str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)


def test_a_released_answer_cell_greets_the_student_in_vietnamese_first(graded):
    from hub_config.teaching.nbgrader_config import CODE_STUB, TEXT_STUB

    _, model_offering = graded
    nb = nbformat.read(model_offering.root / "release" / MODEL_A / "bai04.ipynb", as_version=4)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    code = [c.source for c in answers if c.cell_type == "code"]
    stub = [line.strip() for line in CODE_STUB.splitlines()]
    assert code and all(all(line in [x.strip() for x in source.splitlines()] for line in stub) for source in code), code
    assert [c.source for c in answers if c.cell_type == "markdown"] == [TEXT_STUB]
    assert CODE_STUB.startswith("# Viết câu trả lời của em vào đây") and "YOUR CODE HERE" not in nbformat.writes(nb)


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


@pytest.mark.parametrize("student", list(RADIO_CASES))
def test_radio_between_kits_is_graded_from_what_was_sent_and_how_the_kit_reacted(graded, student):
    kit_offering, _ = graded
    _, expected_score, feedback = RADIO_CASES[student]
    score, flags = scores_and_flags(kit_offering, RADIO_A)[student]
    assert (score, flags) == (expected_score, []), student
    if feedback:
        grade_id, text = feedback
        assert text in autograded_text(kit_offering, RADIO_A, "bai06.ipynb", student, grade_id)


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


# ---- the sound and radio checks, on the simulated kit in this process (as a notebook runs its tests)
RADIO_ON = ("from yolobit import *\nimport network, espnow\nnetwork.WLAN(network.STA_IF).active(True)\n"
            "e = espnow.ESPNow()\ne.active(True)\ne.add_peer(b'\\xff' * 6)\n")
DOORBELL = ("from yolobit import *\nfor buoc in range(300):\n    if button_a.was_pressed():\n"
            "        music.play(['E5:2', 'C5:4'])\n    sleep(20)")
SENDER = RADIO_ON + ("for buoc in range(300):\n    if button_a.was_pressed():\n"
                     "        e.send(b'\\xff' * 6, '3')\n    sleep(20)")
RECEIVER = RADIO_ON + ("for buoc in range(300):\n    if e.any():\n        host, msg = e.recv()\n"
                       "        display.show(msg.decode())\n    if button_b.was_pressed():\n        display.clear()\n"
                       "    sleep(20)")
PRESSES = {"buttons": {"a": [[1000, 1100], [3000, 3100]]}}
MESSAGES = {"radio": [[1000, "aa:bb:cc:dd:ee:01", "3"], [3000, "aa:bb:cc:dd:ee:02", "5"]]}


def failure(check) -> str:
    from autograders.kit import KitCheckFailed

    with pytest.raises(KitCheckFailed) as failed:
        check()
    return str(failed.value)


def test_a_melody_is_checked_note_by_note():
    from autograders.kit import run_on_kit

    run = run_on_kit("from yolobit import *\nmusic.play(['C4:4', 'D4:4', 'E4:4', 'C4:8'])", seconds=4)
    assert [round(f) for _, f, _ in run.tones()] == [262, 294, 330, 262]
    assert [round(ms) for _, _, ms in run.tones()] == [500, 500, 500, 1000]
    run.expect_melody(["C4:4", "D4:4", "E4:4", "C4:8"])
    run.expect_melody([(262, 500), (294, 500), (330, 500), (262, 1000)])
    assert "note 3 at 1 s: observed 330 Hz for 500 ms; expected G4:4 (392 Hz for 500 ms)" in failure(
        lambda: run.expect_melody(["C4:4", "D4:4", "G4:4", "C4:8"]))
    assert "nốt thứ 4 lúc 1,50 s: quan sát 262 Hz trong 1000 ms; cần C4:4" in failure(
        lambda: run.expect_melody(["C4:4", "D4:4", "E4:4", "C4:4"]))
    assert "played only 4 notes; expected 5, note 5 (G4:4) never played" in failure(
        lambda: run.expect_melody(["C4:4", "D4:4", "E4:4", "C4:8", "G4:4"]))
    assert "played 4 notes, extra from note 4 (262 Hz at 1.5 s); expected exactly 3" in failure(
        lambda: run.expect_melody(["C4:4", "D4:4", "E4:4"]))


def test_a_reaction_is_a_change_soon_after_and_off_is_silence():
    from autograders.kit import run_on_kit

    run = run_on_kit(DOORBELL, seconds=6, scenario=PRESSES)
    run.expect_reacts("buzzer", [1000, 3000], vi="khi bấm nút A", en="when A is pressed")
    run.expect_off("buzzer", [(0, 1000), (1900, 3000), (3900, 6000)], vi="khi không ai bấm", en="while nobody presses")
    run.expect_melody(["E5:2", "C5:4"] * 2)
    assert "0.15 s after 0 s observed off; expected a change to on when A is pressed." in failure(
        lambda: run.expect_reacts("buzzer", [0], vi="khi bấm nút A", en="when A is pressed"))
    assert "buzzer at 1 s: observed 660 Hz; expected off" in failure(lambda: run.expect_off("buzzer", [(900, 1300)]))
    slow = run_on_kit(DOORBELL.replace("sleep(20)", "sleep(500)").replace("range(300)", "range(12)"),
                      seconds=6, scenario={"buttons": {"a": [[1100, 1200]]}})
    assert "0,15 s sau lúc 1,10 s quan sát tắt; cần chuyển sang bật" in failure(
        lambda: slow.expect_reacts("buzzer", [1100]))
    always = run_on_kit("from yolobit import *\nmusic.pitch(440)\nsleep(6000)", seconds=6, scenario=PRESSES)
    assert "(already so before, no change)" in failure(lambda: always.expect_reacts("buzzer", [1000]))


def test_sending_is_checked_once_per_press_to_the_peer_and_never_else():
    from autograders.kit import run_on_kit

    run = run_on_kit(SENDER, seconds=6, scenario=PRESSES)
    assert [(round(m.t), m.peer, m.text) for m in run.sent()] == [(1000, "ff:ff:ff:ff:ff:ff", "3"),
                                                                  (3000, "ff:ff:ff:ff:ff:ff", "3")]
    run.expect_sent("3", at=run.pressed("a"), peer="ff:ff:ff:ff:ff:ff", vi="khi bấm nút A", en="when A is pressed")
    run.expect_sent("3")
    assert 'radio: sent "3" at 1 s, "3" at 3 s; expected "5" sent' in failure(lambda: run.expect_sent("5"))
    assert 'expected to aa:aa:aa:aa:aa:aa' in failure(lambda: run.expect_sent("3", peer="aa:aa:aa:aa:aa:aa"))
    assert 'radio at 3 s: sent "3"; expected "3" only when A is pressed' in failure(
        lambda: run.expect_sent("3", at=[1000], en="when A is pressed"))
    held = run_on_kit(SENDER.replace("was_pressed", "is_pressed"), seconds=6, scenario=PRESSES)
    assert 'after 1 s: sent "3" at 1 s, "3" at 1.02 s, "3" at 1.04 s, "3" at 1.06 s…; expected "3" sent exactly once' \
        in failure(lambda: held.expect_sent("3", at=held.pressed("a")))
    silent = run_on_kit(SENDER, seconds=6)
    assert "radio: no message sent" in failure(lambda: silent.expect_sent("3"))


def test_a_reaction_to_a_received_message_and_two_kits_talking():
    from autograders.kit import run_on_kit

    run = run_on_kit(RECEIVER, seconds=6, scenario={**MESSAGES, "buttons": {"b": [[2000, 2100]]}})
    assert run.received() == [1000.0, 3000.0] and run.received("5") == [3000.0]
    for text in ("3", "5"):
        run.expect_reacts("matrix", run.received(text), image=text, vi="khi nhận tin", en="on a message")
    run.expect_off("matrix", [(0, 1000), (2150, 3000)])
    as_str = run_on_kit(RECEIVER.replace("display.show(msg.decode())", "if msg == '3':\n            display.show('3')"),
                        seconds=6, scenario=MESSAGES)
    assert "0.15 s after 1 s observed off; expected a change to showing 3 on a message" in failure(
        lambda: as_str.expect_reacts("matrix", as_str.received("3"), image="3", en="on a message"))
    # kit A's sending, heard by kit B: one run after the other
    sender = run_on_kit(SENDER, seconds=6, scenario=PRESSES)
    relayed = sender.radio_scenario(to="aa:bb:cc:dd:ee:ff")  # broadcasts reach every kit
    assert [[round(t), mac, text] for t, mac, text in relayed] == [[1000, "24:0a:c4:00:00:01", "3"],
                                                                    [3000, "24:0a:c4:00:00:01", "3"]]
    heard = run_on_kit(RECEIVER, seconds=6, scenario={"radio": sender.radio_scenario(), "buttons": {"b": [[2000, 2100]]}})
    heard.expect_reacts("matrix", [1000, 3000], image="3")
    with pytest.raises(ValueError, match="not a MAC address"):
        run_on_kit(RECEIVER, seconds=1, scenario={"radio": [[0, "teacher", "3"]]})


def test_a_measured_circuit_is_graded_and_a_scenarios_mistake_is_the_teachers():
    from autograders.kit import KitCheckFailed, run_on_kit

    meter = ("from machine import ADC, Pin\nimport time\nadc = ADC(Pin(0), atten=ADC.ATTN_11DB)\n"
             "print('%.3f' % (sum(adc.read_uv() for _ in range(32)) / 32e6))")
    divider = {"circuits": {"pin0": {"kind": "divider", "source": 3.3, "r_top": 10000, "r_bottom": 4700}}}
    run_on_kit(meter, seconds=1, scenario=divider).expect_printed([3.3 * 4700 / 14700], tolerance=0.005)
    with pytest.raises(KitCheckFailed):
        run_on_kit(meter, seconds=1, scenario=divider).expect_printed([1.65], tolerance=0.005)
    with pytest.raises(ValueError, match="scenario 'circuits' at pin0: kind 'resistor' is not one of"):
        run_on_kit(meter, seconds=1, scenario={"circuits": {"pin0": {"kind": "resistor"}}})
