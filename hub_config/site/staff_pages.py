"""What the staff pages share: the site they act on, the hub login, the language, the error page.

The staff service (hub_config/app/staff_service.py) serves the teacher's pages (teaching/page.py)
and the admin's roster page (people/roster_page.py) at /services/stemlab-teach/. It logs in through
the hub (OAuth); each page says itself who may use it, in the reader's language.
"""

from __future__ import annotations

import functools
import pwd
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from autograders.limits import Limits
from jupyterhub.services.auth import HubOAuthenticated
from tornado import web

from hub_config.people.accounts import Account, account_of, classes_with_students, members_of
from hub_config.teaching.catalog import Catalog
from hub_config.site.errors import StemlabError
from hub_config.app.launcher import reload_running_hub
from hub_config.site.paths import DataDir
from hub_config.teaching.jobs import Jobs
from hub_config.site.staff_words import LANGUAGES, word
from hub_config.people.roles import Role
from hub_config.people.schools import SITE_SCHOOL, ClassRef

TEMPLATES = Path(__file__).parent / "staff_templates"
LANG_COOKIE = "stemlab_lang"
# Every staff page lives under /services/ (the teacher's page, each offering's formgrader): one
# choice of language serves them all.
LANG_COOKIE_PATH = "/services/"


@dataclass
class StaffSite:
    data: DataDir
    database_url: str
    production: bool
    school: str
    zone: ZoneInfo
    hub_api_url: str
    grading: Limits = field(default_factory=Limits)  # [grading] of the site's settings
    jobs: Jobs = field(default_factory=Jobs)
    exchange_root: Path | None = None  # SiteSettings.exchange_root: the folder exchange's by default
    backup_folder: Path | None = None  # SiteSettings.backup_path: where the admin's page looks for the last backup

    @property
    def exchange(self) -> Path:
        return self.exchange_root or self.data.exchange_dir

    def home_of(self, login: str) -> Path | None:
        if not self.production:
            return self.data.home_of(login)
        try:
            return Path(pwd.getpwnam(login).pw_dir)
        except KeyError:
            return None

    def reload_hub(self) -> None:
        """A new offering brings a formgrader service and groups: the hub must read them."""
        reload_running_hub(self.data)


class StaffHandler(HubOAuthenticated, web.RequestHandler):
    @property
    def site(self) -> StaffSite:
        return self.settings["site"]

    @property
    def catalog(self) -> Catalog:
        return self.settings["catalog"]

    @functools.cached_property
    def lang(self) -> str:
        asked = self.get_argument("lang", None)
        if asked in LANGUAGES:
            self.set_cookie(LANG_COOKIE, asked, path=LANG_COOKIE_PATH, expires_days=365)
            return asked
        kept = self.get_cookie(LANG_COOKIE)
        return kept if kept in LANGUAGES else "vi"

    def w(self, key: str, **values: object) -> str:
        return word(key, self.lang, **values)

    @functools.cached_property
    def account(self) -> Account | None:
        """The caller's account, read once per request (rosters change while the service runs);
        pages ask the database for what they show, never read a province's 100,000 people."""
        return account_of(self.site.database_url, self.current_user["name"])

    @property
    def is_admin(self) -> bool:
        """The province's admin (an admin of the site's own school): every school."""
        return self.account is not None and self.account.role == Role.ADMIN and self.account.school_code == SITE_SCHOOL

    @property
    def school_admin_of(self) -> str | None:
        """The school an admin of one school manages (their roster's), else None."""
        a = self.account
        return a.school_code if a is not None and a.role == Role.ADMIN and a.school_code != SITE_SCHOOL else None

    @property
    def manages_people(self) -> bool:
        return self.is_admin or self.school_admin_of is not None

    def students_of(self, klass: ClassRef) -> list[Account]:
        return members_of(self.site.database_url, klass, Role.STUDENT)

    @functools.cached_property
    def my_classes(self) -> list[ClassRef]:
        """The classes a teacher teaches, in their own school (every class for an admin); 403 for
        anyone else."""
        if self.account is None or self.account.role not in (Role.TEACHER, Role.ADMIN):
            raise web.HTTPError(403, self.w("forbidden"))
        if self.is_admin or self.school_admin_of is not None:
            return sorted(classes_with_students(self.site.database_url, None if self.is_admin else self.school_admin_of))
        return self.account.class_refs

    def my_class(self, key: str) -> ClassRef:
        """The class a page or form names (ClassRef.key), if it is one of mine; else 403."""
        klass = ClassRef.from_key(key)
        if klass not in self.my_classes:
            raise web.HTTPError(403, self.w("not_your_class"))
        return klass

    def render_page(self, template: str, **values: Any) -> None:
        other = "en" if self.lang == "vi" else "vi"
        self.render(template, w=self.w, lang=self.lang, other_lang=other, prefix=self.settings["prefix"],
                    me=self.current_user["name"], school=self.site.school, is_admin=self.manages_people, site_admin=self.is_admin, **values)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        message = exc.log_message if isinstance(exc, web.HTTPError) and exc.log_message else self._reason
        if isinstance(exc, StemlabError):
            message = str(exc)
        try:
            self.render("error.html", w=self.w, lang=self.lang, other_lang="en" if self.lang == "vi" else "vi",
                        prefix=self.settings["prefix"], me="", school=self.site.school, status=status_code, is_admin=False,
                        site_admin=False,
                        message=message)
        except Exception:  # noqa: BLE001  (the error page must never fail itself)
            self.finish(f"{status_code}: {message}")


