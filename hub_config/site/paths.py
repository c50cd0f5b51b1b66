"""The one owner of paths inside the data directory; nobody else joins them by hand."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from lab_hardware.folders import KitFolders

from hub_config.site.errors import DataDirError


# Files the platform writes are private unless made readable on purpose: the hub database holds
# password hashes and tokens, logs and runtime files hold URLs, gradebooks hold grades.
PRIVATE_UMASK = 0o077


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def hub_db(self) -> Path:
        return self.root / "jupyterhub.sqlite"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    @property
    def cookie_secret(self) -> Path:
        return self.secrets_dir / "jupyterhub_cookie_secret"

    @property
    def accounts_db(self) -> Path:
        return self.root / "accounts" / "accounts.sqlite"

    @property
    def sheets_dir(self) -> Path:
        """Per-class password sheets for teachers (readable by admins only)."""
        return self.root / "accounts" / "sheets"

    @property
    def homes_dir(self) -> Path:
        """Home directories of users in demo mode (production uses /home of real accounts)."""
        return self.root / "homes"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def warm_dir(self) -> Path:
        """The warm process's (hub_config/warm): matplotlib's font cache, readable by every server."""
        return self.root / "warm"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def launcher_state(self) -> Path:
        """Where `stemlab up` records its process ids and ports for other commands."""
        return self.run_dir / "launcher.json"

    @property
    def platform_lock(self) -> Path:
        """Held by the one `stemlab up` that runs on this data directory (hub_config/app/instance.py)."""
        return self.run_dir / "platform.lock"

    @property
    def graders_dir(self) -> Path:
        """Homes of the offerings' grader accounts (production mode)."""
        return self.root / "graders"

    @property
    def offerings_dir(self) -> Path:
        return self.root / "offerings"

    @property
    def exchange_dir(self) -> Path:
        return self.root / "exchange"

    @property
    def exchange_store_dir(self) -> Path:
        """The exchange service's own folder (`[exchange] kind = "service"`): only it reads it."""
        return self.root / "exchange-service"

    @property
    def jupyter_config_dir(self) -> Path:
        """On JUPYTER_CONFIG_PATH of every server and formgrader: the site-wide nbgrader config."""
        return self.root / "etc" / "jupyter"

    @property
    def student_config_dir(self) -> Path:
        """First on JUPYTER_CONFIG_PATH of students' servers only: JupyterLab without authoring tools."""
        return self.root / "etc" / "jupyter-student"

    @property
    def formgrader_config_dir(self) -> Path:
        """First on JUPYTER_CONFIG_PATH of every offering's formgrader service: the formgrader alone."""
        return self.root / "etc" / "jupyter-formgrader"

    @property
    def grades_dir(self) -> Path:
        """Where `stemlab grades export` writes grade sheets unless told otherwise."""
        return self.root / "grades"

    @property
    def kit_folders(self) -> KitFolders:
        """The kits' part of the data directory, laid out by the kits' own package."""
        return KitFolders.under(self.root)

    @property
    def journal_dir(self) -> Path:
        """Notes of the long steps running now (hub_config/site/journal.py); a note left behind is a
        step a crash cut short."""
        return self.root / "journal"

    def home_of(self, username: str) -> Path:
        return self.homes_dir / username

    def secret(self, name: str, nbytes: int = 32) -> str:
        """Read a named secret, creating it (0600) on first use so it survives restarts."""
        path = self.secrets_dir / name
        if path.exists():
            return path.read_text().strip()
        self.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        value = secrets.token_hex(nbytes)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
        return value

    def ensure(self) -> DataDir:
        """Create the layout; fail with a clear message if the directory is not usable."""
        try:
            created = not self.root.exists()
            self.root.mkdir(parents=True, exist_ok=True)
            if created:
                # Traversable, so students' servers reach the exchange and the site's nbgrader
                # settings inside; everything else in it is private (see PRIVATE_UMASK).
                self.root.chmod(0o755)
            for sub, mode in (
                (self.secrets_dir, 0o700),
                (self.accounts_db.parent, 0o700),
                (self.sheets_dir, 0o700),
                (self.homes_dir, 0o755),
                (self.logs_dir, 0o700),
                (self.run_dir, 0o700),
                (self.journal_dir, 0o700),
            ):
                sub.mkdir(parents=True, exist_ok=True)
                sub.chmod(mode)
            if self.hub_db.exists():
                self.hub_db.chmod(0o600)  # password hashes and tokens
            probe = self.root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as err:
            raise DataDirError(
                f"Không dùng được thư mục dữ liệu {self.root}: {err.strerror or err}. "
                "Hãy chọn một thư mục bạn có quyền ghi bằng --data DIR (hoặc STEMLAB_DATA), "
                "hoặc sửa chủ sở hữu và quyền truy cập của thư mục này.",
                f"Data directory {self.root} is not usable: {err.strerror or err}. "
                "Choose a directory you can write to with --data DIR (or STEMLAB_DATA), "
                "or fix its owner and permissions."
            ) from err
        return self
