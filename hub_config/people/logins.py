"""Logins and display names for people from a school roster.

A login is opaque and stable: a role prefix plus a keyed hash of the education-database ID,
so it never reveals the ID (which may be the 12-digit citizen ID), is the same on every import,
and is a valid Linux username (``^[a-z][-a-z0-9_]*$``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from hub_config.people.roles import Role

# No i, l, o, 0, 1: students copy logins and passwords from a printed sheet.
UNAMBIGUOUS = "abcdefghjkmnpqrstuvwxyz23456789"
LOGIN_BODY_LENGTH = 8
LINUX_USERNAME = re.compile(r"^[a-z][-a-z0-9_]{0,31}$")

# The personal identification number on the citizen ID card (CCCD), used since 2023 as the
# education-database ID too: personal data under Nghị định 13/2023/NĐ-CP.
CITIZEN_ID = re.compile(r"^\d{12}$")


def _encode(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(UNAMBIGUOUS))
        chars.append(UNAMBIGUOUS[index])
    return "".join(chars)


def id_fingerprint(key: str, person_id: str) -> str:
    """What we store instead of the ID: enough to recognise the person on re-import."""
    return hmac.new(key.encode(), b"id:" + person_id.strip().upper().encode(), hashlib.sha256).hexdigest()


def derive_login(key: str, person_id: str, role: Role, attempt: int = 0) -> str:
    """The login for a person; ``attempt`` > 0 only after a (very unlikely) collision."""
    message = f"login:{attempt}:{person_id.strip().upper()}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    login = Role(role).login_prefix + _encode(digest, LOGIN_BODY_LENGTH)
    assert LINUX_USERNAME.match(login), login
    return login


def generate_password(length: int = 10) -> str:
    return "".join(secrets.choice(UNAMBIGUOUS) for _ in range(length))


def normalize_name(raw: str) -> str:
    """A display name in NFC with single spaces; accents kept exactly as typed."""
    return " ".join(unicodedata.normalize("NFC", raw).split())


def ascii_fold(text: str) -> str:
    """Vietnamese text without accents, for matching headers and naming groups ('Đ' -> 'D')."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def class_group(class_name: str) -> str:
    """JupyterHub group of a school class: '10A1' -> 'class-10a1', '6/1' -> 'class-6-1'."""
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_fold(class_name).lower()).strip("-")
    return f"class-{slug}"


def grader_login(offering_id: str) -> str:
    """The Linux account of an offering's grading: 'gr' and a hash of the offering id (ids are
    longer than Linux allows, and the account needs no secrecy)."""
    digest = hashlib.sha256(b"grader:" + offering_id.encode()).digest()
    login = "gr" + _encode(digest, LOGIN_BODY_LENGTH)
    assert LINUX_USERNAME.match(login), login
    return login


def grade_code(person_id: str, explicit: str = "") -> str:
    """The code a school types into its grade system (vnEdu, SMAS) for a person, as kept for the
    grade sheet: the roster's grade-system code if it has one, else its ID. A citizen ID is never
    kept in clear: only its last four digits, enough for a teacher to match a row by hand."""
    code = (explicit or person_id).strip()
    if CITIZEN_ID.match(code):
        return "••••••••" + code[-4:]
    return code
