"""Every course in courses/: its metadata is valid, its notebooks teach in the Ministry's lesson
shape, run clean with their solutions, and release without solutions or hidden tests; every
autograded test fails on the unanswered release and passes on the solution."""

import functools
import os
import shutil
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.converters import GenerateAssignment
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from autograders.kernel_channels import CLIENT_CLASS
from courses import COURSES_ROOT
from hub_config.teaching.catalog import load_catalog
from hub_config.teaching.nbgrader_config import CODE_STUB, STUBS
from lab_hardware.magics import DEFAULT_KIT_ENV
from lab_hardware.sim.kit import SimKit

CATALOG = load_catalog()
ASSIGNMENTS = [(c, a) for c in CATALOG.courses.values() for a in c.assignments]
IDS = [f"{c.id}/{a.id}" for c, a in ASSIGNMENTS]
LESSON_SHAPE = ("Mục tiêu", "Khởi động", "Hình thành kiến thức", "Luyện tập", "Vận dụng")
LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "MARK SCHEME")
NBGRADER_STUBS = ("YOUR CODE HERE", "YOUR ANSWER HERE")  # English only: ours replace them, and no text may name them


def generate_assignment(root: Path, assignment_id: str) -> None:
    """`nbgrader generate_assignment ID --no-db --force`, in this process: the same converter and
    preprocessors as the command, without a Python start per assignment (about 2.5 s each).
    `stemlab courses check` runs the command itself (tests/courses/test_authoring.py)."""
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.assignment_id = assignment_id
    config.GenerateAssignment.force = True
    config.GenerateAssignment.no_database = True  # these two are what --no-db sets
    config.SaveCells.enabled = False
    for section, values in STUBS.items():  # the offering's stubs, as a release writes them
        for key, value in values.items():
            setattr(config[section], key, value)
    try:
        GenerateAssignment(coursedir=CourseDirectory(config=config), config=config).start()
    except NbGraderException as err:
        pytest.fail(f"nbgrader could not build the student version of {assignment_id}: {err}")


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def run(nb, cwd, course):
    """Execute as a student would; a kit course's %%kit cells run on a simulated kit of its model
    (virtual time: a 5-second program takes milliseconds) through the serial transport."""
    with ExitStack() as stack:
        env = dict(os.environ)  # the kernel's own: two notebooks run at once, each with its kit
        if course.kits:
            env[DEFAULT_KIT_ENV] = stack.enter_context(SimKit(model=course.kits[0], realtime=False)).path
        # over Unix sockets in a folder of its own (a short path: a socket's is at most 108 bytes):
        # a TCP port picked for a kernel was now and then taken by another process before it bound
        sockets = stack.enter_context(tempfile.TemporaryDirectory(prefix="k", dir="/tmp"))
        # (given as config, not as a kernel manager of ours: nbclient shuts down and frees only
        # the kernels of managers it made, and each kept one held ~10 descriptors to the end)
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.connection_file = os.path.join(sockets, "kernel.json")
        # as grading's runner does: a wakeup pyzmq loses costs a fraction of a second, not the
        # cell's timeout (autograders/kernel_channels.py)
        config.KernelManager.client_class = CLIENT_CLASS
        # 30 s a cell: none of ours takes more than a few
        client = NotebookClient(nb, kernel_name="python3", timeout=30, allow_errors=True, config=config,
                                resources={"metadata": {"path": str(cwd)}})
        client.execute(env=env)
    return nb


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


@pytest.fixture(scope="module", params=ASSIGNMENTS, ids=IDS)
def released(request, tmp_path_factory):
    """The assignment's source notebooks and nbgrader's student version of them, each also as
    executed: the source with its solutions, the release unanswered (both at once, in their own
    folders of a scratch course directory, so a notebook writing files leaves courses/ alone)."""
    course, assignment = request.param
    root = tmp_path_factory.mktemp(assignment.id)
    shutil.copytree(course.root / "source" / assignment.id, root / "source" / assignment.id)
    if (course.root / "hidden" / assignment.id).is_dir():  # a teacher's run scores on it, two levels up
        shutil.copytree(course.root / "hidden" / assignment.id, root / "hidden" / assignment.id)
    generate_assignment(root, assignment.id)
    pairs = []
    with ThreadPoolExecutor(2) as pool:
        for source in assignment.notebooks:
            release = root / "release" / assignment.id / source.name
            read = functools.partial(nbformat.read, as_version=4)
            ran_source = pool.submit(run, read(source), root / "source" / assignment.id, course)
            ran_release = pool.submit(run, read(release), release.parent, course)
            pairs.append((source, read(source), read(release), ran_source, ran_release))
        pairs = [(p, s, r, ran_s.result(), ran_r.result()) for p, s, r, ran_s, ran_r in pairs]
    return course, assignment, pairs


def test_a_run_leaves_no_kernel_or_descriptor_behind():
    """34 assignments run ~150 kernels in this one process: a kept kernel manager per run took the
    suite past 1024 descriptors, where pyserial's select() fails for every later kit test."""
    course = next(c for c in CATALOG.courses.values() if not c.kits)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    run(nb, Path.cwd(), course)  # the first run imports and caches what every later one shares
    before = set(os.listdir("/proc/self/fd"))
    for _ in range(3):
        run(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), Path.cwd(), course)
    grown = set(os.listdir("/proc/self/fd")) - before
    assert len(grown) <= 2, f"three runs left {len(grown)} descriptors open"
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    assert not children, f"kernels left running: {children}"


def test_catalog_has_no_broken_course():
    assert not CATALOG.broken, "\n".join(str(e) for e in CATALOG.broken)
    assert CATALOG.courses, "courses/ holds at least one course"


def test_lesson_shape_widgets_points_and_manual_answer(released):
    course, assignment, pairs = released
    text = "\n".join(c.source for _, nb, *_ in pairs for c in nb.cells)
    for heading in LESSON_SHAPE:
        assert heading in text, f"{assignment.id}: the lesson has a '{heading}' part"
    assert "ipywidgets" in text, f"{assignment.id}: at least one ipywidgets interaction"
    cells = [c for _, nb, *_ in pairs for c in nb.cells]
    graded = [nbgrader_meta(c) for c in cells if nbgrader_meta(c).get("grade")]
    assert sum(m.get("points", 0) for m in graded) == assignment.points, "points in course.toml = sum of graded cells"
    assert any(c.cell_type == "markdown" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")
               for c in cells), "one manually graded written answer"
    assert any("BEGIN HIDDEN TESTS" in c.source for c in cells), "hidden tests"
    assert any(c.cell_type == "code" and nbgrader_meta(c).get("grade") and "assert" in c.source.split("### BEGIN HIDDEN")[0]
               for c in cells), "visible tests the student can run"


def test_release_has_no_solutions_or_hidden_tests(released):
    _, assignment, pairs = released
    for source_path, source, release, *_ in pairs:
        for cell in release.cells:
            for leak in LEAKS:
                assert leak not in cell.source, f"{source_path.name}: '{leak}' reached the student version"
            for stub in NBGRADER_STUBS:
                assert stub not in cell.source, (f"{source_path.name}: '{stub}' is nbgrader's English stub; the "
                                                 f"student's cell says '{CODE_STUB.splitlines()[0]}'")
        # Each answer cell of the student version has none of its solution's lines (other cells
        # may quote code on purpose, e.g. a buggy program to explain).
        released_by_id = {nbgrader_meta(c).get("grade_id"): c for c in release.cells}
        for cell in source.cells:
            meta = nbgrader_meta(cell)
            if not meta.get("solution") or "### BEGIN SOLUTION" not in cell.source:
                continue
            solution = cell.source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
            student_lines = {line.strip() for line in released_by_id[meta["grade_id"]].source.splitlines()}
            for line in (x.strip() for x in solution.splitlines()):
                assert not line or line not in student_lines, (
                    f"{source_path.name}: solution line {line!r} is in the student's cell {meta['grade_id']}")


def test_source_runs_clean_and_its_tests_pass(released):
    _, _, pairs = released
    for source_path, _, _, executed, _ in pairs:
        failing = [(nbgrader_meta(c).get("grade_id"), errors(c)[0]["ename"]) for c in executed.cells if errors(c)]
        assert not failing, f"{source_path.name}: cells fail with the solutions: {failing}"


def test_every_test_fails_on_the_unanswered_release(released):
    _, _, pairs = released
    for source_path, _, _, _, executed in pairs:
        for cell in executed.cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type == "code" and meta.get("grade") and meta.get("points"):
                assert errors(cell), f"{source_path.name}: test cell {meta['grade_id']} passes without an answer"


@pytest.mark.parametrize("path", sorted(COURSES_ROOT.rglob("*")), ids=lambda p: str(p.relative_to(COURSES_ROOT)))
def test_vietnamese_text_is_nfc(path):
    if path.suffix not in (".ipynb", ".toml", ".md", ".csv", ".py") or not path.is_file():
        pytest.skip("not a text file")
    text = path.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", text), f"{path} has text that is not NFC"
