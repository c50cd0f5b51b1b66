"""Who reaches what, through the hub's API and the proxy (real requests, real tokens).

These boundaries hold in every mode; production mode adds file-system isolation (test_production).
"""

import pytest
import requests

from .helpers import open_as_helper, open_server

pytestmark = pytest.mark.hub


def hub_token(session, hub_url, login):
    r = session.post(f"{hub_url}/hub/api/users/{login}/tokens", json={"note": "test"},
                     headers={"X-XSRFToken": session.cookies.get("_xsrf", path="/hub/")})
    assert r.status_code == 201, r.text
    return r.json()["token"]


@pytest.fixture(scope="module")
def people(two_class_hub):
    hub = two_class_hub
    out = {
        "a1": hub.account("student", 0, classes="10A1"),
        "b1": hub.account("student", 1, classes="10A1"),
        "c2": hub.account("student", 0, classes="10A2"),
        "t1": hub.account("teacher", classes="10A1"),
        "t2": hub.account("teacher", classes="10A2"),
    }
    for key in ("a1", "b1", "c2"):
        s = hub.login(out[key]["login"], out[key]["password"])
        open_server(s, hub.url, out[key]["login"])
        out[key]["session"] = s
        out[key]["token"] = hub_token(s, hub.url, out[key]["login"])
    return out


def test_student_cookies_do_not_reach_a_classmates_server(two_class_hub, people):
    a, b = people["a1"], people["b1"]
    s = a["session"]
    for path in ("api/status", "api/contents", "lab", "files/secret.txt"):
        r = s.get(f"{two_class_hub.url}/user/{b['login']}/{path}", allow_redirects=True)
        assert r.status_code in (403, 404), (path, r.status_code, r.url)
        assert f"/user/{b['login']}/" not in r.url or r.status_code == 403


def test_student_token_does_not_reach_a_classmates_server_or_api(two_class_hub, people):
    a, b = people["a1"], people["b1"]
    headers = {"Authorization": f"token {a['token']}"}
    url = two_class_hub.url
    denied = (403, 404)
    assert requests.get(f"{url}/user/{b['login']}/api/contents", headers=headers).status_code == 403
    assert requests.get(f"{url}/hub/api/users/{b['login']}", headers=headers).status_code in denied
    assert requests.delete(f"{url}/hub/api/users/{b['login']}/server", headers=headers).status_code in denied
    assert requests.post(f"{url}/hub/api/users/{b['login']}/tokens", headers=headers, json={}).status_code in denied
    listing = requests.get(f"{url}/hub/api/users", headers=headers)
    assert listing.status_code == 403 or [u["name"] for u in listing.json()] == [a["login"]]
    # and the student's own server works with the same token
    assert requests.get(f"{url}/user/{a['login']}/api/contents", headers=headers).status_code == 200


def test_teacher_sees_and_helps_only_their_own_class(two_class_hub, people):
    url = two_class_hub.url
    t1 = people["t1"]
    s = two_class_hub.login(t1["login"], t1["password"])
    token = hub_token(s, url, t1["login"])
    headers = {"Authorization": f"token {token}"}

    names = {u["name"] for u in requests.get(f"{url}/hub/api/users", headers=headers).json()}
    assert people["a1"]["login"] in names and people["b1"]["login"] in names
    assert people["c2"]["login"] not in names, "10A2 is not this teacher's class"

    own = people["a1"]["login"]
    assert requests.get(f"{url}/user/{own}/api/status", headers=headers).status_code == 200, "can help own student"
    other = people["c2"]["login"]
    assert requests.get(f"{url}/user/{other}/api/status", headers=headers).status_code == 403
    assert requests.get(f"{url}/hub/api/users/{other}", headers=headers).status_code in (403, 404)
    assert requests.delete(f"{url}/hub/api/users/{other}/server", headers=headers).status_code in (403, 404)
    assert requests.get(f"{url}/hub/api/users/{people['t2']['login']}", headers=headers).status_code in (403, 404)
    # the same through the browser session (cookies, OAuth to the student's server)
    assert open_as_helper(s, url, own).status_code == 200
    assert s.get(f"{url}/user/{own}/api/status").status_code == 200
    assert open_as_helper(s, url, other).status_code == 403
    assert s.get(f"{url}/user/{other}/api/status").status_code == 403


def test_teacher_browser_session_lists_only_their_class(two_class_hub, people):
    t2 = people["t2"]
    s = two_class_hub.login(t2["login"], t2["password"])
    r = s.get(f"{two_class_hub.url}/hub/api/users", headers={"X-XSRFToken": s.cookies.get("_xsrf", path="/hub/")})
    assert r.status_code == 200
    assert {u["name"] for u in r.json()} == {people["c2"]["login"], two_class_hub.account("student", 1, classes="10A2")["login"]}
