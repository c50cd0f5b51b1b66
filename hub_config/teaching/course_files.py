"""What every file in courses/ is read with: its error (naming the file, with each problem and its
fix) and its texts in Vietnamese and English (`title.vi`, `title.en`)."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub_config.site.errors import StemlabError


class CourseError(StemlabError):
    """A file in courses/ is not usable as it is."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}:\n" + "\n".join(f"  - {p}" for p in problems))


def read_toml(path: Path, missing: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise CourseError(path, [f"missing: {missing}"]) from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise CourseError(path, [f"not valid TOML in UTF-8: {err}"]) from err


@dataclass(frozen=True)
class Bilingual:
    vi: str
    en: str

    def __str__(self) -> str:
        return f"{self.vi} / {self.en}"

    def in_language(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


def read_bilingual(value: Any, key: str, problems: list[str]) -> Bilingual:
    """The text of `key`, NFC; a missing language is added to `problems` with the fix."""
    if isinstance(value, dict) and isinstance(value.get("vi"), str) and isinstance(value.get("en"), str):
        vi, en = (unicodedata.normalize("NFC", value[k]).strip() for k in ("vi", "en"))
        if vi and en:
            return Bilingual(vi, en)
    problems.append(f"{key} needs both languages: {key}.vi = \"...\" and {key}.en = \"...\"")
    return Bilingual("", "")
