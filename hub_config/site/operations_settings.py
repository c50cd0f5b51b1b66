"""Site settings for operations (backups): a part of `SiteSettings` (hub_config/site/settings.py),
kept here so each file reads in one sitting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from traitlets import Int, TraitError, Unicode, validate
from traitlets.config import Configurable


class OperationsSettings(Configurable):
    backup_folder = Unicode(
        "",
        config=True,
        help="Where `stemlab backup` writes backups. Empty: backups/ in the data directory. A folder on "
        "another disk (or a mounted USB drive) keeps a term's grades when the lab server's disk dies.",
    ).tag(section="backup", key="folder")

    backup_keep = Int(
        7,
        config=True,
        help="How many backups are kept in the backup folder; older ones are removed after each new one.",
    ).tag(section="backup", key="keep")

    backup_daily = Unicode(
        "",
        config=True,
        help="A backup every day at this time (HH:MM, site time; empty: none). A server that was off then "
        "makes the missed one when it starts.",
    ).tag(section="backup", key="daily")

    @validate("backup_daily")
    def _valid_daily(self, proposal: dict[str, Any]) -> str:
        value = str(proposal["value"]).strip()
        if value:
            try:
                dt.time.fromisoformat(value)
            except ValueError:
                raise TraitError(f"{value!r} is not a time of day such as \"02:00\"") from None
        return value

    @validate("backup_keep")
    def _valid_keep(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 1:
            raise TraitError("keep at least 1 backup")
        return int(proposal["value"])

    def backup_path(self, data_root: Path) -> Path:
        return Path(self.backup_folder).expanduser() if self.backup_folder else data_root / "backups"
