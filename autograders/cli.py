"""`stemlab sandbox check`: what the grading sandbox can enforce on this machine, asked before a
term starts rather than learnt from the first batch. Plugged into `stemlab` (entry-point group
`stemlab.commands`, see hub_config/app/plugins.py); this package knows nothing of the hub, so the
command asks the site only for what gives a sandbox its limits (`GradingSite`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Protocol

from rich.console import Console
from rich.markup import escape

from .errors import GradingError
from .limits import LimiterFactory, Limits

console = Console(highlight=False)


class GradingSite(Protocol):
    """What this command needs from the platform that runs it."""

    @property
    def limiter(self) -> LimiterFactory | None: ...

    def grading_limits(self) -> Limits: ...


def cmd_check(args: argparse.Namespace, site: GradingSite) -> int:
    from .sandbox import SandboxPool

    limits = site.grading_limits()
    pool = SandboxPool(1, limits, limiter=site.limiter)
    try:
        missing = list(pool.missing)
    finally:
        pool.close()
    console.print(f"Mỗi bài nộp / Each submission: {limits.wall_seconds:g} s, {limits.cell_seconds:g} s / ô (cell), "
                  f"{limits.memory_bytes // 2**20} MiB, {limits.cpu_cores:g} CPU, {limits.max_processes} tiến trình / "
                  f"processes, {limits.max_disk_bytes // 2**20} MiB đĩa / disk.")
    if not missing:
        console.print("[green]✓[/] Hộp cát chấm bài giữ được mọi giới hạn trên máy này. / "
                      "The grading sandbox enforces every limit on this machine.")
        return 0
    console.print("[yellow]Hộp cát chấm bài thiếu / The grading sandbox cannot enforce:[/]")
    for item in missing:
        console.print(f"  – {escape(item)}", soft_wrap=True)
    return 1


Handler = Callable[[argparse.Namespace, GradingSite], int]


class SandboxCommands:
    """The entry point `stemlab.commands: sandbox`."""

    help_sections = ((40, "Hộp cát chấm bài / Grading sandbox (admin)", ("sandbox",)),)
    errors: tuple[type[Exception], ...] = (GradingError,)

    def add_to(self, commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
        sandbox = commands.add_parser("sandbox", help="the grading sandbox on this machine",
                                      description="the grading sandbox on this machine", parents=[common])
        sub = sandbox.add_subparsers(dest="action", metavar="ACTION", required=True)
        text = "say which of the sandbox's limits this machine enforces (exit 1 if any is missing)"
        check = sub.add_parser("check", help=text, description=text, parents=[common])
        check.set_defaults(handler=cmd_check)


COMMANDS = SandboxCommands()
