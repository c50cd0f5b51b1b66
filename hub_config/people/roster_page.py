"""The admin's roster page (on the staff service, /services/stemlab-teach/roster): upload a CSV or
XLSX roster, read every bad line explained, confirm, hand out the password sheets.

The same rules as `stemlab accounts import`, by the same functions: parse_roster rejects a roster
with any bad line as a whole, apply_roster writes all of it in one transaction or nothing.
Between upload and confirmation the file waits in the data directory's private run folder.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from tornado import web

from hub_config.people.accounts import known_people, sheet_school
from hub_config.people.roster_import import apply_roster
from hub_config.site.errors import RosterError
from hub_config.people.logins import id_fingerprint
from hub_config.people.roster import parse_roster
from hub_config.site.staff_pages import StaffHandler

ALLOWED = (".csv", ".xlsx", ".txt")
MAX_BYTES = 20 * 1024 * 1024


class AdminHandler(StaffHandler):
    def admin_only(self) -> None:
        if not self.manages_people:
            raise web.HTTPError(403, self.w("admins_only"))

    def render_page(self, template: str, **values: Any) -> None:
        """Every admin page says when the term's data was last backed up (or that it never was)."""
        from hub_config.operations.daily import last_backup

        last = last_backup(self.site.backup_folder) if self.site.backup_folder else None
        if last is None:
            backup = self.w("backup_none")
        else:
            when = dt.datetime.fromisoformat(last.created).astimezone(self.site.zone).strftime("%d/%m/%Y %H:%M")
            backup = self.w("backup_last", when=when, size=f"{last.total_bytes / 2**20:.1f}")
        super().render_page(template, backup=backup, **values)

    @property
    def roster_school(self) -> str | None:
        """The school every roster this admin imports is for: a school's admin imports only their
        own school's people (rows naming another are refused); the province's admin any."""
        return self.school_admin_of

    @property
    def uploads(self) -> Path:
        folder = self.site.data.run_dir / "roster-uploads"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder


class RosterPage(AdminHandler):
    @web.authenticated
    def get(self) -> None:
        self.admin_only()
        self.render_page("roster.html", problems=None, preview=None, token="", report=None, name="")

    @web.authenticated
    def post(self) -> None:
        """An uploaded roster: checked at once, nothing written until the admin confirms."""
        self.admin_only()
        files = self.request.files.get("roster") or []
        if not files:
            raise web.HTTPError(400, self.w("roster_choose"))
        upload = files[0]
        name = Path(upload["filename"]).name
        suffix = Path(name).suffix.lower()
        if suffix not in ALLOWED or len(upload["body"]) > MAX_BYTES:
            self.render_page("roster.html", problems=[self.w("roster_bad_file")], preview=None, token="",
                             report=None, name=name)
            return
        token = secrets.token_hex(16)
        path = self.uploads / f"{token}{suffix}"
        path.write_bytes(upload["body"])
        path.chmod(0o600)
        try:
            entries = parse_roster(path, self.roster_school)
        except RosterError as err:
            path.unlink(missing_ok=True)
            self.render_page("roster.html", problems=err.problems, preview=None, token="", report=None, name=name)
            return
        key = self.site.data.secret("login_key")
        fingerprints = [id_fingerprint(key, e.person_id) for e in entries]
        known = known_people(self.site.database_url, fingerprints)
        new = [e for e, f in zip(entries, fingerprints) if f not in known]
        by_class: dict[str, int] = {}
        for e in entries:
            for c in [str(ref) for ref in e.class_refs] or ["—"]:  # two schools' 10A1 are two classes
                by_class[c] = by_class.get(c, 0) + 1
        preview = {"total": len(entries), "new": len(new), "existing": len(entries) - len(new),
                   "by_class": sorted(by_class.items()), "rows": entries[:200]}
        self.render_page("roster.html", problems=None, preview=preview, token=token + suffix, report=None, name=name)


class RosterConfirm(AdminHandler):
    @web.authenticated
    def post(self) -> None:
        self.admin_only()
        token = self.get_body_argument("token")
        path = self.uploads / Path(token).name
        if not path.is_file() or not path.name[:32].isalnum():
            raise web.HTTPError(400, self.w("roster_expired"))
        try:
            report = apply_roster(self.site.data, self.site.database_url, parse_roster(path, self.roster_school), "roster")
        except RosterError as err:
            self.render_page("roster.html", problems=err.problems, preview=None, token="", report=None, name="")
            return
        finally:
            path.unlink(missing_ok=True)
        if report.created or report.updated:
            self.site.reload_hub()
        self.render_page("roster.html", problems=None, preview=None, token="", name="",
                         report={"created": len(report.created), "updated": len(report.updated),
                                 "unchanged": len(report.unchanged), "sheets": [p.name for p in report.sheets]})


class PasswordSheet(AdminHandler):
    @web.authenticated
    def get(self, name: str) -> None:
        self.admin_only()
        path = self.site.data.sheets_dir / Path(name).name
        if not path.is_file() or path.suffix != ".csv":
            raise web.HTTPError(404)
        if not self.is_admin and sheet_school(path.name) != self.school_admin_of:
            raise web.HTTPError(403, self.w("admins_only"))
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{path.name}"')
        self.finish(path.read_bytes())


HANDLERS = [(r"roster", RosterPage), (r"roster/confirm", RosterConfirm), (r"roster/sheets/([^/]+\.csv)", PasswordSheet)]
