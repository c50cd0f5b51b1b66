"""First passwords as one-time codes: cheap to issue by the hundred thousand, safe to keep.

A bcrypt hash costs ~60 ms by design, so a province's 100,000 first passwords would take almost
two hours to hash. A first password is not a person's chosen password, though: it is a random
code of FIRST_CODE_LENGTH unambiguous characters (64 bits), which no one guesses online (logins
lock after a few misses) nor offline: what the database keeps is an HMAC of the code under a
per-row salt and a site key that lives in the data directory's secrets, not in the database, so
a stolen database alone gives nothing to try codes against, and even with the key each code
costs 2^63 tries on average. At the first login the code is checked here, and becomes the
account's NativeAuthenticator password under bcrypt (one hash, spread over the term); the code's
row is deleted. Changing the password later is NativeAuthenticator's, as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets

from sqlalchemy import Connection, DateTime, String, delete, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub_config.people.logins import UNAMBIGUOUS
from hub_config.people.tables import Base

FIRST_CODE_LENGTH = 13
FIRST_CODE_BITS = FIRST_CODE_LENGTH * math.log2(len(UNAMBIGUOUS))
KEY_NAME = "first_code_key"  # DataDir.secret name


class FirstCode(Base):
    __tablename__ = "stemlab_first_codes"
    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    salt: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    issued: Mapped[dt.datetime] = mapped_column(DateTime)


def in_chunks(items: list[str], size: int = 5000) -> list[list[str]]:
    """Lists short enough for one SQL IN (SQLite bounds the parameters of a statement)."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def new_code() -> str:
    return "".join(secrets.choice(UNAMBIGUOUS) for _ in range(FIRST_CODE_LENGTH))


def _digest(key: str, salt: str, login: str, code: str) -> str:
    message = f"{salt}:{login}:{code}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def issue(connection: Connection, key: str, logins: list[str], when: dt.datetime) -> dict[str, str]:
    """A new code for each login (replacing any it had), in one statement; the codes in clear are
    returned once, for the password sheets, and kept nowhere."""
    codes = {login: new_code() for login in logins}
    if not codes:
        return codes
    rows = []
    for login, code in codes.items():
        salt = secrets.token_hex(16)
        rows.append({"login": login, "salt": salt, "digest": _digest(key, salt, login, code), "issued": when})
    for part in in_chunks(list(codes)):
        connection.execute(delete(FirstCode).where(FirstCode.login.in_(part)))
    connection.execute(insert(FirstCode), rows)
    return codes


def matches(session: Session, key: str, login: str, code: str) -> bool:
    """Whether `code` is the login's unused first code (compared in constant time)."""
    row = session.get(FirstCode, login)
    if row is None:
        return False
    return hmac.compare_digest(row.digest, _digest(key, row.salt, login, code.strip()))


def has_code(session: Session, login: str) -> bool:
    return session.get(FirstCode, login) is not None


def consume(session: Session, login: str) -> None:
    """The code was used: it becomes the bcrypt password (the caller's) and is kept no more."""
    session.execute(delete(FirstCode).where(FirstCode.login == login))
