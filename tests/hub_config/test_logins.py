"""Logins: opaque, stable, valid Linux usernames that never reveal the person's ID."""

import re

from hub_config.people.logins import ascii_fold, class_group, derive_login, id_fingerprint

KEY = "k" * 64
LINUX = re.compile(r"^[a-z][-a-z0-9_]*$")


def test_login_is_a_stable_linux_username_with_role_prefix():
    citizen_id = "079203001234"
    login = derive_login(KEY, citizen_id, "student")
    assert LINUX.match(login) and len(login) <= 32
    assert login.startswith("hs")
    assert derive_login(KEY, citizen_id, "student") == login
    assert derive_login(KEY, citizen_id.lower(), "student") == login
    assert not re.search(r"\d{4,}", login), "no run of the ID's digits in the login"
    assert citizen_id not in id_fingerprint(KEY, citizen_id)


def test_login_depends_on_site_key_and_id():
    assert derive_login(KEY, "HS1", "student") != derive_login(KEY, "HS2", "student")
    assert derive_login(KEY, "HS1", "student") != derive_login("other" * 10, "HS1", "student")
    assert derive_login(KEY, "T1", "teacher").startswith("gv")


def test_vietnamese_d_is_folded():
    assert ascii_fold("Đặng Đình Đức") == "Dang Dinh Duc"
    assert class_group("10Đ1") == "class-10d1"
