"""What a backup holds: one entry per stored item, with what a restore needs to put it back
(owner by name, since a fresh machine numbers its accounts anew) and a checksum to prove it whole."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
FORMAT = 1


class Tree(str, Enum):
    """Where an entry came from: the data directory, or (production) the Linux homes."""

    DATA = "data"
    HOMES = "homes"


class EntryKind(str, Enum):
    DIRECTORY = "directory"
    FILE = "file"
    SQLITE = "sqlite"      # copied through SQLite's online backup API, never as bytes
    SYMLINK = "symlink"    # kept as a link: what it points at is not followed, nor stored
    POSTGRESQL_DUMP = "postgresql-dump"  # the hub database on PostgreSQL, by pg_dump (custom format)


@dataclass(frozen=True)
class Entry:
    tree: Tree
    path: str              # relative to its tree, POSIX form
    kind: EntryKind
    mode: int
    owner: str
    group: str
    mtime: float
    size: int = 0
    sha256: str = ""
    target: str = ""       # a symlink's
    secret: bool = False   # password hashes, tokens, site keys, first passwords

    def stored_as(self) -> str:
        return f"{self.tree.value}/{self.path}"

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Entry:
        return cls(**{**raw, "tree": Tree(raw["tree"]), "kind": EntryKind(raw["kind"])})


@dataclass
class Manifest:
    version: str           # the platform's, as it wrote the backup
    created: str           # UTC, ISO 8601
    data_dir: str
    production: bool
    home_root: str
    entries: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be stored, and why
    format: int = FORMAT

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries)

    def write(self, folder: Path) -> None:
        raw = asdict(self)
        raw["entries"] = [{**asdict(e), "tree": e.tree.value, "kind": e.kind.value} for e in self.entries]
        fd = os.open(folder / MANIFEST_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            json.dump(raw, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        raw = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        entries = [Entry.from_json(e) for e in raw.pop("entries")]
        return cls(**raw, entries=entries)
