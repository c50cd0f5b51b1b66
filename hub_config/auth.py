"""The school authenticator: NativeAuthenticator with our bilingual login page.

Accounts are created from rosters (people/roster_import.py) with one-time first codes
(people/first_codes.py); the first login turns the code into a bcrypt password, and students
change it at /hub/change-password. Failed-login lockout comes from NativeAuthenticator. Who may
log in is the accounts table's to say, asked per login: a JupyterHub allowed_users list of a
province's 100,000 logins would cost the hub minutes at every start.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import bcrypt
from jupyterhub.handlers.login import LoginHandler as HubLoginHandler
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler
from nativeauthenticator.orm import UserInfo
from sqlalchemy import select
from traitlets import Unicode

from hub_config.people import first_codes
from hub_config.people.accounts import Account

TEMPLATES = Path(__file__).resolve().parent / "templates"
BCRYPT_ROUNDS = 10  # ~60 ms, paid once per person at the first login, off the hub's event loop


class LoginHandler(NativeLoginHandler):
    """NativeAuthenticator's login page, made to work on JupyterHub 6.

    NativeAuthenticator 1.3's handler uses ``self.statsd`` (removed from JupyterHub) and a
    ``_render`` that rejects the extra arguments JupyterHub 6 passes when it renders an error
    on the login form; both fail with a bare 500. JupyterHub's own post() is correct.
    """

    post = HubLoginHandler.post

    def _render(self, login_error: str | None = None, username: str | None = None, **kwargs: Any) -> Any:
        return super()._render(login_error=login_error, username=username)


class StemlabAuthenticator(NativeAuthenticator):
    """NativeAuthenticator whose pages are in Vietnamese and English.

    Our templates (TEMPLATES, on JupyterHub's template_paths) come before NativeAuthenticator's,
    which it appends to the loader chain, so native-login.html here replaces theirs.
    """

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [(path, LoginHandler if path == r"/login" else handler) for path, handler in super().get_handlers(app)]

    first_code_key = Unicode("", config=True, help="The site key first codes are checked with (first_codes.KEY_NAME).")

    def check_allow_config(self) -> None:
        """No allowed_users list is expected: check_allowed asks the accounts table."""

    def check_allowed(self, username: str, authentication: Any = None) -> bool:
        if super().check_allowed(username, authentication):
            return True
        return self.db.scalar(select(Account.login).where(Account.login == username)) is not None

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        """NativeAuthenticator's check, with bcrypt run off the event loop (a class logging in
        at once must not queue behind each other's hashes), and an account's first code accepted
        until it has a password."""
        username = self.normalize_username(data["username"])
        password = data["password"]
        if self.allowed_failed_logins and self.is_blocked(username):
            return None
        user = self.get_user(username)
        if user is None:
            valid = bool(self.first_code_key) and first_codes.matches(self.db, self.first_code_key, username, password)
            if valid:
                await self._code_becomes_password(username, password)
        else:
            stored = user.password
            valid = user.is_authorized and await asyncio.to_thread(bcrypt.checkpw, password.encode(), stored)
            if valid and user.has_2fa:
                valid = user.is_valid_token(data.get("2fa"))
        if not valid:
            self.add_login_attempt(username)
            return None
        self.successful_login(username)
        return username

    async def _code_becomes_password(self, username: str, code: str) -> None:
        hashed = await asyncio.to_thread(bcrypt.hashpw, code.strip().encode(), bcrypt.gensalt(BCRYPT_ROUNDS))
        if self.get_user(username) is None:  # a second tab may have done it meanwhile
            self.db.add(UserInfo(username=username, password=hashed, is_authorized=True))
        first_codes.consume(self.db, username)
        self.db.commit()
