"""Where an nbgrader course keeps each step's files: the one owner of that layout, built on
nbgrader's own `CourseDirectory.format_path` so it follows nbgrader's settings (directory names,
`directory_structure`) instead of rebuilding `submitted/<student>/<assignment>` by hand."""

from __future__ import annotations

import glob
import re
from enum import Enum
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config


class Step(Enum):
    SOURCE = "source"
    RELEASE = "release"
    SUBMITTED = "submitted"
    AUTOGRADED = "autograded"
    FEEDBACK = "feedback"


class CourseLayout:
    def __init__(self, coursedir: CourseDirectory):
        self.coursedir = coursedir

    @classmethod
    def at(cls, root: Path) -> CourseLayout:
        return cls(CourseDirectory(root=str(root)))

    @classmethod
    def from_config(cls, config: Config) -> CourseLayout:
        """The course an nbgrader app runs in (its `CourseDirectory.root` and layout settings)."""
        return cls(CourseDirectory(config=config))

    @property
    def root(self) -> Path:
        return Path(self.coursedir.root)

    def _step_name(self, step: Step) -> str:
        return str(getattr(self.coursedir, f"{step.value}_directory"))

    def folder(self, step: Step, assignment: str, student: str = ".") -> Path:
        return Path(self.coursedir.format_path(self._step_name(step), student, assignment))

    def step_root(self, step: Step) -> Path:
        return Path(self.coursedir.format_path(self._step_name(step), ".", ".")).resolve()

    def notebooks(self, step: Step, assignment: str, student: str | None = None) -> list[tuple[str, Path]]:
        """Each student's notebooks of an assignment at a step, as (student, notebook), in order."""
        found = glob.glob(str(self.folder(step, glob.escape(assignment), student or "*") / "*.ipynb"))
        pattern = re.compile(self.coursedir.format_path(self._step_name(step), "(?P<student>[^/]+)",
                                                        re.escape(assignment), escape=True))
        out = []
        for path in sorted(found):
            match = pattern.fullmatch(str(Path(path).parent))
            if match:
                out.append((match["student"], Path(path)))
        return out

    def submission_folders(self) -> list[Path]:
        """Every (student, assignment) folder collected so far."""
        return [Path(p) for p in sorted(glob.glob(str(self.folder(Step.SUBMITTED, "*", "*")))) if Path(p).is_dir()]

    def assignments(self, step: Step) -> list[str]:
        """The assignments with a folder at a step that has no student level (source, release)."""
        top = self.step_root(step)
        return sorted(p.name for p in top.iterdir() if p.is_dir()) if top.is_dir() else []

    def hidden(self, assignment: str) -> Path:
        """The assignment's hidden data: `hidden/<assignment>` beside the course's sources (an
        offering's `source` is a link to them), never inside what students receive."""
        return self.step_root(Step.SOURCE).parent / "hidden" / assignment
