"""Where the kits keep their files in the platform's data directory: the one owner of these paths.

The data directory's own layout belongs to the hub (`hub_config.site.paths.DataDir`), which hands
this package its part as a `KitFolders`; the kits service and the `stemlab kits` commands, which
know only the data directory's root, build the same record with `KitFolders.under(root)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KitFolders:
    kits: Path       # readable by the kits service: labels, network kits, self-test reports
    simulated: Path  # private to the kits service's account: simulated kits run students' code

    @classmethod
    def under(cls, data_root: Path) -> KitFolders:
        return cls(data_root / "kits", data_root / "sim-kits")

    @property
    def kits_file(self) -> Path:
        """Labels ("Kit 07") by stable name, and kits reached over the network."""
        return self.kits / "kits.toml"

    @property
    def reports(self) -> Path:
        """Self-test reports, one folder per run (`<time>/room.json`, ...)."""
        return self.kits / "reports"

    def simulated_kit(self, name: str) -> Path:
        """One simulated kit's folder: its flash and, while it runs, its device record."""
        return self.simulated / name

    def flash_of(self, name: str) -> Path:
        return self.simulated_kit(name) / "flash"

    def device_record(self, name: str) -> Path:
        """Written while a simulated kit runs, so listings find its pseudo-terminal."""
        return self.simulated_kit(name) / "device.json"

    def device_records(self) -> list[Path]:
        return sorted(self.simulated.glob("*/device.json"))
