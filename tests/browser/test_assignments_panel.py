"""A student in Chromium opens JupyterLab's Assignments panel and sees the released assignment;
the Nbgrader menu offers a student no teacher tools."""

import pytest

from ..conftest import FILES, launch, leftovers_after_stop
from ..hub.helpers import stemlab_on, wait_for_service
from .test_student_in_chromium import browser, logged_in_page  # noqa: F401  (the shared Chromium fixture)

pytestmark = [pytest.mark.hub, pytest.mark.browser]
OFFERING = "python-co-ban-10a1-2025-2026"
ASSIGNMENT = "bai01-bien-va-kieu-du-lieu"


@pytest.fixture
def released(tmp_path):
    hub = launch(tmp_path / "var", roster=FILES / "two_classes.csv")
    try:
        stemlab_on(hub, "courses", "offer", "python-co-ban", "--class", "10A1", "--year", "2025-2026")
        wait_for_service(hub, OFFERING)
        stemlab_on(hub, "courses", "release", OFFERING, ASSIGNMENT)
        yield hub
    finally:
        hub.stop()
        leftovers_after_stop(hub.data_dir)


def test_assignments_panel_lists_the_released_assignment(released, browser):  # noqa: F811
    student = released.account("student", classes="10A1")
    with logged_in_page(browser, released, student, "student-assignments-panel.png") as page:
        page.get_by_role("menuitem", name="Nbgrader").click()
        menu = page.get_by_role("menu").last.inner_text()
        assert "Assignment List" in menu and "Formgrader" not in menu and "Course List" not in menu, menu
        page.get_by_text("Assignment List", exact=True).click()
        row = page.wait_for_selector(f"text={ASSIGNMENT}")
        assert row.is_visible()
