"""The school authenticator: NativeAuthenticator with our bilingual login page.

Accounts are created from rosters (see accounts.py) with generated first passwords; students
change theirs at /hub/change-password. Failed-login lockout comes from NativeAuthenticator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyterhub.handlers.login import LoginHandler as HubLoginHandler
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler

TEMPLATES = Path(__file__).resolve().parent / "templates"


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
