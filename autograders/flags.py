"""What grading met that a teacher should look at: one `Flag` per cell and reason. Flags travel
with the executed notebook in its metadata (`stemlab.flags`, JSON), from the sandbox to nbgrader's
autograde step, which puts them in the gradebook (preprocessors.RecordFlags)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WHOLE_NOTEBOOK = "notebook"  # a flag about the notebook as a whole, not one of its cells


@dataclass(frozen=True)
class Flag:
    cell: str | int  # the cell's grade id, or its index when it has none, or WHOLE_NOTEBOOK
    reason: str      # for the teacher, in English (see the closing notes on translating them)

    def as_json(self) -> dict[str, Any]:
        return {"cell": self.cell, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Flag:
        return cls(data["cell"], str(data["reason"]))


def read_flags(nb: Any) -> list[Flag]:
    return [Flag.from_json(f) for f in nb.metadata.get("stemlab", {}).get("flags", [])]


def write_flags(nb: Any, flags: list[Flag]) -> None:
    nb.metadata.setdefault("stemlab", {})["flags"] = [f.as_json() for f in flags]
