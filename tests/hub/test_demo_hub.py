"""The embedded default, end to end: real hub, real proxy, real servers and kernels."""

import pytest
import requests

from .helpers import open_server, page_text, run_code, xsrf_headers

pytestmark = pytest.mark.hub


def test_login_page_is_bilingual(demo_hub):
    page = page_text(requests.get(f"{demo_hub.url}/hub/login"))
    for text in ("Đăng nhập", "Sign in", "Tên đăng nhập", "Mật khẩu", "Password", demo_hub_school()):
        assert text in page


def demo_hub_school():
    return "Trường THPT Mẫu (demo)"


def test_demo_mode_says_students_are_not_isolated(demo_hub):
    student = demo_hub.account("student")
    s = demo_hub.login(student["login"], student["password"])
    home = page_text(s.get(f"{demo_hub.url}/hub/home"))
    assert "KHÔNG được tách biệt" in home and "NOT isolated" in home
    assert "NOT isolated" in demo_hub.output


def test_demo_accounts_printed_once_with_sheets(demo_hub):
    accounts = demo_hub.accounts()
    roles = sorted(a["role"] for a in accounts)
    assert roles.count("teacher") == 1 and roles.count("technician") == 1 and roles.count("student") >= 5
    for a in accounts:
        assert a["login"] in demo_hub.output and a["password"] in demo_hub.output


def test_wrong_password_is_a_clear_403_not_a_500(demo_hub):
    student = demo_hub.account("student", 1)
    s = requests.Session()
    s.get(f"{demo_hub.url}/hub/login")
    r = s.post(f"{demo_hub.url}/hub/login?next=",
               data={"username": student["login"], "password": "wrong-password", "_xsrf": s.cookies.get("_xsrf")})
    assert r.status_code == 403
    assert "Sai tên đăng nhập hoặc mật khẩu" in page_text(r) and "Wrong login or password" in r.text


def test_student_logs_in_spawns_and_runs_code_in_a_kernel(demo_hub):
    student = demo_hub.account("student", 2)
    s = demo_hub.login(student["login"], student["password"])
    open_server(s, demo_hub.url, student["login"])
    status = s.get(f"{demo_hub.url}/user/{student['login']}/api/status")
    assert status.status_code == 200
    assert run_code(s, demo_hub.url, student["login"], "print(6 * 7)") == "42\n"
    home = run_code(s, demo_hub.url, student["login"], "import os; print(os.getcwd())").strip()
    assert home == str(demo_hub.data_dir / "homes" / student["login"])


def test_jupyterlab_is_vietnamese_by_default_and_english_selectable(demo_hub):
    student = demo_hub.account("student", 3)
    login = student["login"]
    s = demo_hub.login(login, student["password"])
    open_server(s, demo_hub.url, login)
    settings_url = f"{demo_hub.url}/user/{login}/lab/api/settings/@jupyterlab/translation-extension:plugin"
    assert s.get(settings_url).json()["settings"]["locale"] == "vi_VN"
    packs = s.get(f"{demo_hub.url}/user/{login}/lab/api/translations/").json()["data"]
    assert "vi_VN" in packs
    strings = s.get(f"{demo_hub.url}/user/{login}/lab/api/translations/vi_VN").json()["data"]
    assert strings, "the Vietnamese language pack has translations"
    r = s.put(settings_url, json={"raw": '{"locale": "en"}'}, headers=xsrf_headers(s, login))
    assert r.status_code == 204, r.text
    assert s.get(settings_url).json()["settings"]["locale"] == "en"
