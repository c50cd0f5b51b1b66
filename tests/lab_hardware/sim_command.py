"""`stemlab kits sim` as a technician runs it, for tests: started, its kits' devices read from its
SIMKIT lines within a deadline, stopped with Ctrl-C at the end.

A start that hangs fails within the deadline with the command's own stack (faulthandler on
SIGABRT) and whatever it printed, instead of a bare pytest timeout minutes later."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..conftest import STEMLAB

START_SECONDS = 60.0


@dataclass
class RunningSim:
    proc: subprocess.Popen[bytes]
    paths: list[str]


@contextmanager
def running_kits_sim(data: Path, count: int = 2, *options: str) -> Iterator[RunningSim]:
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        proc = subprocess.Popen([STEMLAB, "kits", "sim", "--count", str(count), *options, "--data", str(data)],
                                stdout=subprocess.PIPE, stderr=errors, bufsize=0,
                                env={**os.environ, "COLUMNS": "200", "PYTHONFAULTHANDLER": "1"})
        try:
            yield RunningSim(proc, _devices(proc, count, errors))
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _devices(proc: subprocess.Popen[bytes], count: int, errors: IO[str]) -> list[str]:
    assert proc.stdout is not None
    printed = b""  # read unbuffered: a buffered reader's lines would hide from select
    deadline = time.monotonic() + START_SECONDS
    while len(paths := _simkit_paths(printed)) < count:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            proc.wait(timeout=30)
            raise AssertionError(f"kits sim printed {len(paths)} of {count} devices in {START_SECONDS:.0f} s.\n"
                                 f"stdout:\n{printed.decode(errors='replace')}\nstderr:\n{_read(errors)}")
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            proc.wait(timeout=30)
            raise AssertionError(f"kits sim ended early (exit {proc.returncode}).\n"
                                 f"stdout:\n{printed.decode(errors='replace')}\nstderr:\n{_read(errors)}")
        printed += chunk
    return paths


def _simkit_paths(printed: bytes) -> list[str]:
    lines = printed.decode("utf-8", "replace").splitlines(keepends=True)
    return [line.split()[1] for line in lines if line.startswith("SIMKIT ") and line.endswith("\n")]


def _read(file: IO[str]) -> str:
    file.flush()
    file.seek(0)
    return file.read()
