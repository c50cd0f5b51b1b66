"""The Yolo:Bit course's `%%kit` programs (examples and solutions) run, as written, on the kit under
test: a simulated Yolo:Bit in virtual time here, or a real board with `--kit=/dev/ttyUSB0` (then in
real time, about a minute). The graders only ever use the simulated kit; this is what a class runs."""

from __future__ import annotations

import nbformat
import pytest

from hub_config.teaching.catalog import load_catalog
from lab_hardware.errors import BoardError
from lab_hardware.transport import KitConnection

pytestmark = pytest.mark.kit

COURSE = load_catalog().course("lap-trinh-yolobit")
PROGRAMS = [
    (f"{notebook.parent.name}/{cell.metadata['nbgrader']['grade_id']}",
     "\n".join(line for line in cell.source.splitlines()[1:] if "### " not in line))
    for assignment in COURSE.assignments for notebook in assignment.notebooks
    for cell in nbformat.read(notebook, as_version=4).cells
    if cell.cell_type == "code" and cell.source.startswith("%%kit")
]


@pytest.fixture(scope="module")
def kit(request, tmp_path_factory):
    url = request.config.getoption("--kit")
    if url:
        with KitConnection.open(url) as link:
            try:
                link.exec("import yolobit")
            except BoardError:
                pytest.skip(f"the board at {url} has no yolobit module: these programs are for a Yolo:Bit")
            yield link
        return
    from lab_hardware.sim.kit import SimKit

    with SimKit(model="yolobit", realtime=False) as sim, KitConnection.open(sim.path) as link:
        yield link


def test_the_course_has_kit_programs():
    assert len(PROGRAMS) >= 9, [name for name, _ in PROGRAMS]


@pytest.mark.parametrize("program", [p for _, p in PROGRAMS], ids=[name for name, _ in PROGRAMS])
def test_each_program_runs_on_the_kit(kit, program):
    output: list[str] = []
    kit.exec(program, output.append, timeout=30)  # a BoardError (any exception on the board) fails
    kit.exec("from yolobit import *\ndisplay.clear()", timeout=5)
