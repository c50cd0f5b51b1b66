"""How a student's server is started.

Demo mode: every server runs as the account that runs the hub, each in its own home under the
data directory: convenient, and NOT isolated (said on every page). Production mode: each server
runs as the student's own Linux account (LocalProcessSpawner's setuid) with a private home.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Bool, Unicode, default

USER_SETTINGS = Path(".jupyter/lab/user-settings")


def first_start_settings(locale: str) -> dict[str, dict]:
    """JupyterLab settings a new user starts with: the site's language, and no news pop-up
    (lab servers in schools often have no Internet, and the question confuses students)."""
    return {
        "@jupyterlab/translation-extension/plugin": {"locale": locale},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    }


def seed_lab_settings(home: Path, locale: str) -> None:
    """Write each first-start setting unless the user already has that file: a user's own
    choice (English, say) is never overridden."""
    for plugin, values in first_start_settings(locale).items():
        target = home / USER_SETTINGS / f"{plugin}.jupyterlab-settings"
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))


class StemlabSpawner(LocalProcessSpawner):
    production = Bool(
        False,
        config=True,
        help="Run each server as the user's own Linux account (needs root). Off: demo mode, no isolation.",
    )
    demo_home_template = Unicode(
        "/tmp/stemlab-homes/{username}",
        config=True,
        help="Home directory of each user in demo mode.",
    )
    default_locale = Unicode(
        "vi_VN",
        config=True,
        help="JupyterLab language given to a user on their first start: vi_VN or en.",
    )

    @default("oauth_access_scopes")
    def _access_scopes_with_class(self) -> list[str]:
        # Teachers hold access:servers!group=<class>. The single-user server cannot resolve a
        # group filter to its owner by itself, so it must name its class groups as accepted scopes.
        scopes = [f"access:servers!server={self.user.name}/{self.name}", f"access:servers!user={self.user.name}"]
        scopes += [f"access:servers!group={g.name}" for g in self.user.groups if g.name.startswith("class-")]
        return scopes

    @property
    def home_dir(self) -> Path:
        if self.production:
            import pwd

            return Path(pwd.getpwnam(self.user.name).pw_dir)
        return Path(self.demo_home_template.format(username=self.user.name))

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        locale = self.default_locale
        if self.production:
            become_user = super().make_preexec_fn(name)
            home = self.home_dir

            def preexec() -> None:
                become_user()
                seed_lab_settings(home, locale)

            return preexec

        home = self.home_dir

        def demo_preexec() -> None:
            home.mkdir(parents=True, exist_ok=True)
            os.chdir(home)
            seed_lab_settings(home, locale)

        return demo_preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        if self.production:
            return super().user_env(env)
        env["USER"] = self.user.name
        env["HOME"] = str(self.home_dir)
        env["SHELL"] = "/bin/bash"
        return env

    def get_args(self) -> list[str]:
        args = super().get_args()
        if not self.production and os.geteuid() == 0:
            # Demo mode run by root: servers share the hub's account, so Jupyter must be told.
            args.append("--allow-root")
        return args
