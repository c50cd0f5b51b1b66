"""One nbgrader command whose outcome is read as records, not scraped from its log.

`run_nbgrader` (teaching/loop.py) starts `python -m hub_config.teaching.nbgrader_run ARGS` in the
offering's course directory instead of `python -m nbgrader`: this module runs nbgrader's own
application and writes every warning and error it logs, and an exception that escapes it, as one
JSON object per line to the file named by $STEMLAB_NBGRADER_REPORT. The caller reads them back as
`NbgraderMessage` records and decides from their levels, whatever words nbgrader chose.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPORT_ENV = "STEMLAB_NBGRADER_REPORT"


@dataclass(frozen=True)
class NbgraderMessage:
    level: int        # logging's: WARNING, ERROR, CRITICAL
    source: str       # the logger (nbgrader's application) or "exception"
    text: str

    @property
    def is_error(self) -> bool:
        return self.level >= logging.ERROR


def read_messages(report: Path) -> list[NbgraderMessage]:
    """What the run reported; a line that is not a record is kept as an error, not lost."""
    try:
        lines = report.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            data = json.loads(line)
            out.append(NbgraderMessage(int(data["level"]), str(data["source"]), str(data["text"])))
        except (ValueError, KeyError, TypeError):
            out.append(NbgraderMessage(logging.ERROR, "report", line))
    return out


@dataclass(frozen=True)
class NbgraderRun:
    returncode: int
    messages: list[NbgraderMessage]
    output: str  # what it printed, for a crash before nbgrader could log anything

    @property
    def errors(self) -> list[str]:
        return [m.text for m in self.messages if m.is_error]

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or bool(self.errors)

    def reasons(self, last: int = 6) -> list[str]:
        """What to tell the teacher: nbgrader's own error messages, or the end of its output."""
        return self.errors[-last:] or self.output.splitlines()[-last:]


def run_recorded(args: list[str], cwd: Path, report: Path, env: dict[str, str] | None = None,
                 report_owner: tuple[int, int] | None = None, **popen: Any) -> NbgraderRun:
    """`nbgrader ARGS` in `cwd`, its log read back as records from `report` (then removed);
    `report_owner`: the account nbgrader runs as (`popen`'s user), which must write the report."""
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("")
    if report_owner:
        for path in (report.parent, report):
            os.chown(path, *report_owner)
    environment = dict(env if env is not None else os.environ)
    environment[REPORT_ENV] = str(report)
    result = subprocess.run([sys.executable, "-m", "hub_config.teaching.nbgrader_run", *args], cwd=cwd,
                            env=environment, capture_output=True, text=True, **popen)
    messages = read_messages(report)
    report.unlink(missing_ok=True)
    return NbgraderRun(result.returncode, messages, result.stdout + result.stderr)


class _Records(logging.Handler):
    def __init__(self, path: str):
        super().__init__(logging.WARNING)
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception_only(record.exc_info[1])).strip()
        self.write(record.levelno, record.name, text)

    def write(self, level: int, source: str, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"level": level, "source": source, "text": text}, ensure_ascii=False) + "\n")


def main(argv: list[str]) -> int:
    from jupyter_core.application import NoStart
    from nbgrader.apps.nbgraderapp import NbGraderApp

    records = _Records(os.environ[REPORT_ENV])
    app = NbGraderApp.instance()
    try:
        app.initialize(argv)
        for each in (app, app.subapp):
            if each is not None:
                each.log.addHandler(records)
        app.start()
    except NoStart:  # a command that is done before its start (jupyter_core's launch_instance agrees)
        return 0
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except Exception as err:  # noqa: BLE001  (reported to the caller as a record, with its type)
        records.write(logging.CRITICAL, "exception", f"{type(err).__name__}: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
