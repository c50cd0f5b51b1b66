"""What a new user's JupyterLab starts with: the site's language and a menu to their own page.

Written into their home when their server starts: by the local spawner before the server runs
(hub_config/spawner.py), and in a pod by the server itself (hub_config/singleuser/pod_config.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from hub_config.teaching.scopes import TEACH_PREFIX

USER_SETTINGS = Path(".jupyter/lab/user-settings")


def first_start_settings(locale: str, login: str, is_student: bool) -> dict[str, dict]:
    """JupyterLab settings a new user starts with: the site's language, no news pop-up (lab servers
    in schools often have no Internet, and the question confuses students), and a menu that leads
    to their own page: a student's assignments (in their own server), a teacher's page."""
    vi = locale.startswith("vi")
    if is_student:
        menu = {"id": "jp-mainmenu-stemlab", "label": "Bài tập" if vi else "Assignments", "rank": 50, "items": [
            {"command": "help:open", "rank": 0, "args": {
                "url": f"/user/{login}/stemlab/assignments", "newBrowserTab": True,
                "text": "Bài tập của em" if vi else "My assignments"}}]}
    else:
        menu = {"id": "jp-mainmenu-stemlab", "label": "Lớp học" if vi else "Classes", "rank": 50, "items": [
            {"command": "help:open", "rank": 0, "args": {
                "url": TEACH_PREFIX, "newBrowserTab": True,
                "text": "Trang giáo viên" if vi else "Teacher's page"}}]}
    return {
        "@jupyterlab/translation-extension/plugin": {"locale": locale},
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
        "@jupyterlab/mainmenu-extension/plugin": {"menus": [menu]},
    }


def seed_lab_settings(home: Path, locale: str, login: str, is_student: bool) -> None:
    """Write each first-start setting unless the user already has that file: a user's own
    choice (English, say) is never overridden."""
    for plugin, values in first_start_settings(locale, login, is_student).items():
        target = home / USER_SETTINGS / f"{plugin}.jupyterlab-settings"
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
