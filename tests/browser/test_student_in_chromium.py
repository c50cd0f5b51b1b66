"""A student in Debian's Chromium: log in through the form, open a notebook, run a cell."""

import os
import shutil
import time
from contextlib import contextmanager

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ..conftest import ARTIFACTS
from ..hub.helpers import open_server, xsrf_headers

pytestmark = [pytest.mark.hub, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach Google's hosts at every start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@contextmanager
def logged_in_page(browser, hub, account, screenshot):
    """A Vietnamese-locale page logged in through the hub's login form, landed in JupyterLab;
    its screenshot is kept in test-artifacts/ whatever the test's outcome."""
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", account["login"])
        page.fill("#password_input", account["password"])
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{account['login']}/lab**")
        yield page
    finally:
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        context.close()


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed: .ci/install-browser should have installed it")
        pytest.skip("Debian's chromium is not installed (run `make test` as root, or apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def test_student_runs_a_cell_in_jupyterlab(demo_hub, browser):
    student = demo_hub.account("student", 4)
    login = student["login"]
    # The teacher's notebook is already in the student's home (as nbgrader will put it there).
    s = demo_hub.login(login, student["password"])
    open_server(s, demo_hub.url, login)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("tong = sum(range(1, 11))\nprint('Tổng =', tong)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    r = s.put(f"{demo_hub.url}/user/{login}/api/contents/bai1.ipynb",
              json={"type": "notebook", "format": "json", "content": nb}, headers=xsrf_headers(s, login))
    assert r.status_code in (200, 201), r.text

    with logged_in_page(browser, demo_hub, student, "student-runs-cell.png") as page:
        page.goto(f"{demo_hub.url}/user/{login}/lab/tree/bai1.ipynb")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        assert page.get_by_role("menuitem", name="Trợ giúp").count() == 1, "JupyterLab's menus are in Vietnamese"
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        output = None
        # The indicator turns idle a moment before the kernel session takes requests; a run
        # pressed in that moment is dropped by JupyterLab, so press again (as a student would).
        for _ in range(3):
            page.click(".jp-Notebook .jp-Cell >> nth=0")
            page.click(".jp-Notebook .jp-Cell .cm-content >> nth=0")
            page.keyboard.press("Control+Enter")
            try:
                output = page.wait_for_selector(".jp-OutputArea-output:has-text('Tổng = 55')", timeout=15_000)
                break
            except PlaywrightTimeout:
                continue
        assert output is not None and "Tổng = 55" in output.inner_text()


def test_a_warm_kernel_is_interrupted_and_restarted_from_jupyterlab(demo_hub, browser):
    """The kernel JupyterLab drives is forked warm (hub_config/warm): its toolbar's interrupt and
    restart work on it as on any kernel."""
    import re

    import psutil

    student = demo_hub.account("student", 3)
    login = student["login"]
    s = demo_hub.login(login, student["password"])
    open_server(s, demo_hub.url, login)
    code = "import os, sys, time\nprint('pid', os.getpid(), 'sklearn' in sys.modules)\ntime.sleep(120)"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    r = s.put(f"{demo_hub.url}/user/{login}/api/contents/cho.ipynb",
              json={"type": "notebook", "format": "json", "content": nb}, headers=xsrf_headers(s, login))
    assert r.status_code in (200, 201), r.text

    def run_cell(page) -> int:
        for _ in range(3):  # as in the test above: a run pressed before the session takes requests is dropped
            page.click(".jp-Notebook .jp-Cell .cm-content >> nth=0")
            page.keyboard.press("Control+Enter")
            try:
                shown = page.wait_for_selector(".jp-OutputArea-output:has-text('pid ')", timeout=15_000).inner_text()
                break
            except PlaywrightTimeout:
                continue
        else:
            raise AssertionError("the cell never ran")
        pid, warm = re.search(r"pid (\d+) (\w+)", shown).groups()
        assert warm == "True", "scikit-learn was imported before the first cell: a warm kernel"
        return int(pid)

    with logged_in_page(browser, demo_hub, student, "student-interrupts-warm-kernel.png") as page:
        page.goto(f"{demo_hub.url}/user/{login}/lab/tree/cho.ipynb")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        first = run_cell(page)
        nursery = psutil.Process(first).parent()
        assert "nursery" in " ".join(nursery.cmdline())
        page.click(".jp-NotebookPanel-toolbar [data-jp-item-name='interrupt']")
        page.wait_for_selector(".jp-OutputArea-output:has-text('KeyboardInterrupt')", timeout=20_000)
        assert psutil.pid_exists(first)  # interrupted, not killed

        page.click(".jp-NotebookPanel-toolbar [data-jp-item-name='restart']")
        page.click(".jp-Dialog .jp-mod-accept")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        second = run_cell(page)
        assert second != first and psutil.Process(second).parent().pid == nursery.pid
        deadline = time.monotonic() + 10
        while psutil.pid_exists(first) and psutil.Process(first).status() != psutil.STATUS_ZOMBIE \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not psutil.pid_exists(first) or psutil.Process(first).status() == psutil.STATUS_ZOMBIE
        page.click(".jp-NotebookPanel-toolbar [data-jp-item-name='interrupt']")
