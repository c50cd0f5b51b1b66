"""Talking to a running hub the way a browser and JupyterLab do: cookies, REST and websockets."""

from __future__ import annotations

import json
import re
import time
import uuid

import requests
import websocket


def open_server(session: requests.Session, hub_url: str, login: str, timeout: float = 120) -> float:
    """Follow the login → spawn → lab redirects until JupyterLab answers; returns seconds taken."""
    start = time.monotonic()
    session.get(f"{hub_url}/hub/spawn/{login}", timeout=30)
    while time.monotonic() - start < timeout:
        r = session.get(f"{hub_url}/user/{login}/lab", timeout=30)
        if r.status_code == 200 and f"/user/{login}/lab" in r.url:
            return time.monotonic() - start
        time.sleep(0.5)
    raise AssertionError(f"server of {login} did not start in {timeout} s (last {r.status_code} {r.url})")


def xsrf_headers(session: requests.Session, login: str) -> dict[str, str]:
    return {"X-XSRFToken": session.cookies.get("_xsrf", path=f"/user/{login}/") or ""}


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def run_code(session: requests.Session, hub_url: str, login: str, code: str, timeout: float = 60) -> str:
    """Start a kernel through the server's REST API, execute code over its websocket, return stdout."""
    r = session.post(f"{hub_url}/user/{login}/api/kernels", json={"name": "python3"}, headers=xsrf_headers(session, login))
    assert r.status_code == 201, r.text
    kernel_id = r.json()["id"]
    try:
        return execute(session, hub_url, login, kernel_id, code, timeout)
    finally:
        # Kernels left running would add up against the student's memory limit.
        session.delete(f"{hub_url}/user/{login}/api/kernels/{kernel_id}", headers=xsrf_headers(session, login))


def execute(session: requests.Session, hub_url: str, login: str, kernel_id: str, code: str, timeout: float = 60) -> str:
    ws_url = hub_url.replace("http://", "ws://") + f"/user/{login}/api/kernels/{kernel_id}/channels"
    xsrf = session.cookies.get("_xsrf", path=f"/user/{login}/") or ""
    ws = websocket.create_connection(
        f"{ws_url}?_xsrf={xsrf}",
        cookie=cookie_header(session),
        origin=hub_url,
        timeout=timeout,
    )
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": login, "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise AssertionError("kernel error: " + "\n".join(msg["content"]["traceback"]))
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
        raise AssertionError(f"no reply from kernel in {timeout} s")
    finally:
        ws.close()


def page_text(response: requests.Response) -> str:
    """The page as UTF-8: JupyterHub's HTML has no charset header, and requests would guess Latin-1."""
    return response.content.decode("utf-8")


def open_as_helper(session: requests.Session, hub_url: str, login: str) -> requests.Response:
    """Open another user's JupyterLab the way a teacher does in the browser, clicking
    'Authorize' on the hub's confirmation page (shown when opening someone else's server)."""
    from bs4 import BeautifulSoup

    r = session.get(f"{hub_url}/user/{login}/lab")
    if "/hub/api/oauth2/authorize" in r.url and r.status_code == 200:
        form = BeautifulSoup(r.content, "html.parser").find("form")
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
        r = session.post(r.url if not form.get("action") else requests.compat.urljoin(r.url, form["action"]), data=fields)
    return r


def stemlab_on(hub, *args: str) -> str:
    """Run a `stemlab` command against a running test hub's data directory; it must succeed."""
    import subprocess

    from ..conftest import STEMLAB

    result = subprocess.run([STEMLAB, *args, "--data", str(hub.data_dir)], capture_output=True, text=True,
                            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def wait_for_service(hub, name: str, timeout: float = 90) -> None:
    """Wait until the hub (reloaded after an offering) lists the service."""
    token = (hub.data_dir / "secrets" / "launcher_token").read_text().strip()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if name in requests.get(f"{hub.url}/hub/api/services", headers={"Authorization": f"token {token}"}).json():
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(1)
    raise AssertionError(f"service {name} did not appear")


def answer_and_submit(hub, s: requests.Session, login: str, offering: str, assignment: str,
                      answers: dict[str, str] | None, notebook: str | None = None) -> None:
    """As a student, through their server's nbgrader API: fetch the assignment, write the answers
    into the cells with those grade ids (None: fetch only) and submit."""
    base = f"{hub.url}/user/{login}"
    fetched = s.post(f"{base}/assignments/fetch", data={"course_id": offering, "assignment_id": assignment},
                     headers=xsrf_headers(s, login)).json()
    assert fetched["success"], fetched
    if answers is None:
        return
    path = f"{offering}/{assignment}/{notebook or assignment.split('-')[0] + '.ipynb'}"
    model = s.get(f"{base}/api/contents/{path}", params={"content": 1}).json()
    for cell in model["content"]["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    saved = s.put(f"{base}/api/contents/{path}", json={"type": "notebook", "format": "json",
                                                       "content": model["content"]}, headers=xsrf_headers(s, login))
    assert saved.status_code == 200, saved.text
    submitted = s.post(f"{base}/assignments/submit", data={"course_id": offering, "assignment_id": assignment},
                       headers=xsrf_headers(s, login)).json()
    assert submitted["success"], submitted


THREE_STUDENTS = (("a", "10A1", 0), ("b", "10A1", 1), ("c", "10A2", 0))


def students_with_servers(hub, plan=THREE_STUDENTS) -> dict[str, dict]:
    """Log students in and start their servers: key -> account fields plus a logged-in `session`."""
    out = {}
    for key, cls, index in plan:
        acc = hub.account("student", index, classes=cls)
        s = hub.login(acc["login"], acc["password"])
        open_server(s, hub.url, acc["login"])
        out[key] = {**acc, "session": s}
    return out


# ---- the teacher's page (its forms and its background jobs)
PAGE = "/services/stemlab-teach/"


def form_xsrf(html: str) -> str:
    return re.search(r'name="_xsrf" value="([^"]+)"', html).group(1)


def open_page(session: requests.Session, url: str) -> requests.Response:
    """What a browser does: follow the hub's OAuth redirects back to the page."""
    r = session.get(url, timeout=60)
    assert r.status_code == 200, (r.status_code, r.url, r.text[:500])
    return r


def post_form(session, hub, page: requests.Response, path: str, **fields) -> requests.Response:
    return session.post(f"{hub.url}{PAGE}{path}", data={"_xsrf": form_xsrf(page_text(page)), **fields}, timeout=60)


def wait_job(session, hub, response: requests.Response) -> dict:
    job_id = re.search(r"job=([0-9a-f]+)", response.url).group(1)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = session.get(f"{hub.url}{PAGE}api/jobs/{job_id}", timeout=30).json()
        if job["state"] != "running":
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not end")


def launcher_state(hub) -> dict:
    return json.loads((hub.data_dir / "run" / "launcher.json").read_text())


def wait_for_new_hub(hub, old_pid: int, timeout: float = 120) -> None:
    """Until the launcher has restarted its hub (a roster import asks it to) and it answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if launcher_state(hub)["hub_pid"] != old_pid and requests.get(f"{hub.url}/hub/login", timeout=5).ok:
                return
        except (OSError, ValueError, requests.RequestException):
            pass
        time.sleep(0.5)
    raise AssertionError("the hub did not come back after the roster import")


def settled_hub_pid(hub, quiet: float = 3.0, timeout: float = 120) -> int:
    """The hub's pid once no reload is under way (the same hub answering for `quiet` seconds): a
    reload asked for by an earlier step must not be taken for the next one's."""
    deadline = time.monotonic() + timeout
    pid, since = None, time.monotonic()
    while time.monotonic() < deadline:
        try:
            now = launcher_state(hub)["hub_pid"] if requests.get(f"{hub.url}/hub/login", timeout=5).ok else None
        except (OSError, ValueError, requests.RequestException):
            now = None
        if now is None or now != pid:
            pid, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return pid
        time.sleep(0.5)
    raise AssertionError("the hub kept restarting")
