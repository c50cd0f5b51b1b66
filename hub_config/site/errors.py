"""One exception hierarchy for the hub side.

Every error carries a message a person can act on: what went wrong and what to do.
Where the reader is a student or teacher the message is in Vietnamese, then English.
"""


class StemlabError(Exception):
    """Base class: ``str(err)`` is the message for the person at the keyboard, "Vietnamese /
    English" as the kits' and the grading side's errors (KitError, GradingError): `vi` and `en`
    hold each language. A message given as one string (both languages already in it, or a message
    for an admin's terminal) keeps it as both."""

    exit_code = 2

    def __init__(self, vi: str, en: str | None = None):
        super().__init__(vi if en is None else f"{vi} / {en}")
        self.vi, self.en = vi, vi if en is None else en


class SettingsError(StemlabError):
    """The site configuration file or an override is invalid."""


class RosterError(StemlabError):
    """A roster file cannot be imported; nothing from it was written."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"Không nhập được danh sách {path}: chưa có tài khoản nào được thay đổi.\n"
            f"Roster {path} was not imported; no account was changed.\n{lines}\n"
            "Sửa các dòng trên rồi nhập lại. / Fix the rows above and import again."
        )


class DatabaseError(StemlabError):
    """The hub database cannot be reached or used."""


class DataDirError(StemlabError):
    """The data directory cannot be used."""


class LaunchError(StemlabError):
    """The platform could not start (port in use, proxy missing, hub failed)."""


class DataVersionError(StemlabError):
    """The data directory was written by another release: an older one (upgrade it) or a newer one
    (this release must not touch it)."""
