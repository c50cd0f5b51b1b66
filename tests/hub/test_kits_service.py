"""The kits service through the real hub: leases with the users' own hub tokens, one user per
kit (403 for anyone else), a teacher taking a kit back (cleaned for the next user), the
technicians' status page, and the magics in a student's server leasing a kit through it."""

from __future__ import annotations

import json

import pytest
import requests

from ..conftest import FILES, launch, leftovers_after_stop
from .helpers import open_server, run_code

pytestmark = [pytest.mark.hub, pytest.mark.kit]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    hub = launch(tmp_path_factory.mktemp("kits") / "var", roster=FILES / "two_classes.csv")
    try:
        yield hub
    finally:
        hub.stop()
        leftovers_after_stop(hub.data_dir)


def token_of(hub, role, classes=None, index=0):
    acc = hub.account(role, index, classes=classes)
    s = hub.login(acc["login"], acc["password"])
    r = s.post(f"{hub.url}/hub/api/users/{acc['login']}/tokens", json={},
               headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")})
    assert r.status_code == 201, r.text
    return acc, {"Authorization": f"token {r.json()['token']}"}


def api(hub, path):
    return f"{hub.url}/services/stemlab-kits/{path}"


def wait_for_kits(hub, headers, timeout=90):
    """The service answers once its kits are asked what they are."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(api(hub, "api/kits"), headers=headers, timeout=30)
        if r.status_code == 200 and r.json()["kits"] and all(k["model"] != "?" for k in r.json()["kits"]):
            return r.json()["kits"]
        time.sleep(0.5)
    raise AssertionError(f"the kits service did not come up: {r.status_code} {r.text[:300]}")


def printed(events):
    """Output arrives in pieces of any size, as it is printed."""
    return "".join(e.get("out", "") for e in events)


def run_on(hub, kit, headers, code):
    r = requests.post(api(hub, f"api/kits/{kit}/exec"), json={"code": code}, headers=headers, stream=True, timeout=60)
    if r.status_code != 200:
        return r.status_code, []
    return 200, [json.loads(line) for line in r.iter_lines()]


def test_one_user_per_kit_with_hub_tokens(lab):
    a, ha = token_of(lab, "student", "10A1", 0)
    b, hb = token_of(lab, "student", "10A1", 1)
    _, teacher = token_of(lab, "teacher", "10A1")
    _, tech = token_of(lab, "technician")
    kits = wait_for_kits(lab, ha)
    assert requests.get(api(lab, "api/kits"), timeout=30).status_code == 403, "no token, no kits"
    assert [k["name"] for k in kits] == ["Kit 01", "Kit 02", "Kit 03", "Kit 04"]
    assert all(k["model"] == "Yolo:Bit v4" and k["holder"] is None for k in kits)

    lease = requests.post(api(lab, "api/kits/Kit 01/lease"), headers=ha, timeout=30)
    assert lease.status_code == 200 and lease.json()["holder"] == a["login"]
    taken = requests.post(api(lab, "api/kits/Kit 01/lease"), headers=hb, timeout=30)
    assert taken.status_code == 409 and "Kit 01 is in use" in taken.json()["error"] and "%kit list" in taken.json()["error"]
    assert run_on(lab, "Kit 01", hb, "print('not mine')")[0] == 403
    for action in ("interrupt", "reset"):
        assert requests.post(api(lab, f"api/kits/Kit 01/{action}"), headers=hb, timeout=30).status_code == 403
    assert requests.get(api(lab, "api/kits/Kit 01/files"), headers=hb, timeout=30).status_code == 403
    assert requests.delete(api(lab, "api/kits/Kit 01/lease"), headers=hb, timeout=30).status_code == 403
    seen_by_b = {k["name"]: k["holder"] for k in requests.get(api(lab, "api/kits"), headers=hb, timeout=30).json()["kits"]}
    assert seen_by_b["Kit 01"] == "(đang dùng / in use)", "students do not see who holds a kit"

    status, events = run_on(lab, "Kit 01", ha, "print(6 * 7)")
    assert status == 200 and printed(events) == "42\n" and events[-1] == {"done": True}
    status, events = run_on(lab, "Kit 01", ha, "x = 1\nprint(x / 0)")
    assert events[-1]["error"]["exc_type"] == "ZeroDivisionError" and events[-1]["error"]["line"] == 2
    put = requests.put(api(lab, "api/kits/Kit 01/files"), params={"path": "/bai_cua_em.py"}, data=b"print(1)\n",
                       headers=ha, timeout=60)
    assert put.status_code == 200 and put.json()["changed"]

    # the teacher takes the kit back; it is cleaned for the next user
    assert requests.delete(api(lab, "api/kits/Kit 01/lease"), headers=teacher, timeout=60).status_code == 204
    assert run_on(lab, "Kit 01", ha, "print(1)")[0] == 403
    assert requests.post(api(lab, "api/kits/Kit 01/lease"), headers=hb, timeout=30).status_code == 200
    names = [e["name"] for e in requests.get(api(lab, "api/kits/Kit 01/files"), headers=hb, timeout=60).json()["entries"]]
    assert "bai_cua_em.py" not in names, "the previous user's files are gone"
    assert printed(run_on(lab, "Kit 01", hb, "print('x' in dir())")[1]) == "False\n", "the board's memory was cleared"

    # the stop button, through the service: Ctrl-C reaches the board while the program runs
    import threading

    result: list = []
    runner = threading.Thread(target=lambda: result.append(run_on(lab, "Kit 01", hb, "while True:\n    pass\n")))
    runner.start()
    import time

    time.sleep(1.5)
    assert requests.post(api(lab, "api/kits/Kit 01/interrupt"), headers=ha, timeout=30).status_code == 403
    assert requests.post(api(lab, "api/kits/Kit 01/interrupt"), headers=hb, timeout=30).status_code == 204
    runner.join(timeout=30)
    assert result and result[0][1][-1]["error"]["exc_type"] == "KeyboardInterrupt"

    page = requests.get(api(lab, ""), headers=tech, timeout=30)
    assert page.status_code == 200 and "Kit 01" in page.text and b["login"] in page.text
    assert requests.get(api(lab, ""), headers=ha, timeout=30).status_code == 403
    requests.delete(api(lab, "api/kits/Kit 01/lease"), headers=hb, timeout=60)


def test_the_magics_in_a_students_server_lease_through_the_service(lab):
    acc = lab.account("student", 0, classes="10A2")
    s = lab.login(acc["login"], acc["password"])
    open_server(s, lab.url, acc["login"])
    out = run_code(s, lab.url, acc["login"],
                   "ip = get_ipython()\nip.run_line_magic('load_ext', 'lab_hardware.magics')\n"
                   "ip.run_line_magic('kit', 'connect')\nip.run_cell_magic('kit', '', 'print(6 * 7)')\n"
                   "ip.run_line_magic('kit', 'release')\n", timeout=120)
    assert "Connected: Kit 0" in out and "42" in out and "Kit released" in out, out


def test_a_technician_opens_the_kits_page_in_the_browser(lab):
    """Logged in at the hub, a technician opens the page through the hub's OAuth (no token to paste)
    and reads each kit's last self-test, with what it skipped and why; a student gets a page that
    says who it is for, not a bare 403."""
    from lab_hardware.inventory import Kit
    from lab_hardware.selftest import save_reports, test_room
    from lab_hardware.sim.kit import SimKit

    with SimKit(model="yolobit", realtime=False) as bench:  # the technician's run, without --confirm
        reports = test_room([Kit(bench.path, "sim:bench", "Kit 01", kind="simulated")], operator=None)
    save_reports(reports, lab.data_dir / "kits" / "reports")

    tech = lab.account("technician")
    s = lab.login(tech["login"], tech["password"])
    page = s.get(api(lab, ""), timeout=60)
    assert page.status_code == 200 and page.url.rstrip("/") == api(lab, "").rstrip("/"), page.url
    text = page.content.decode("utf-8")
    assert "Kit 01" in text and "ĐẠT, 4 mục bỏ qua / PASS, 4 checks skipped" in text, text
    assert "cần một người bấm nút (chạy với --confirm)" in text and "ĐẠT / PASS<" not in text

    student = lab.account("student", 1, classes="10A1")
    s = lab.login(student["login"], student["password"])
    denied = s.get(api(lab, ""), timeout=60)
    assert denied.status_code == 403
    assert "dành cho kỹ thuật viên" in denied.content.decode("utf-8") and "for technicians" in denied.text
