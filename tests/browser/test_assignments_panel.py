"""A student in Chromium finds the released assignment from JupyterLab's "Bài tập" menu; nbgrader's
English menu and panels (and its teacher tools) are not there for a student."""

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
        assert page.get_by_role("menuitem", name="Nbgrader").count() == 0, "no English nbgrader menu for students"
        page.get_by_role("menuitem", name="Bài tập").click()
        with page.context.expect_page() as opened:
            page.get_by_text("Bài tập của em", exact=True).click()
        listing = opened.value
        row = listing.wait_for_selector("text=Biến, lệnh gán và kiểu dữ liệu")
        assert row.is_visible() and "chưa nhận" in listing.inner_text("table.assignments")
