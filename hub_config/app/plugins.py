"""Commands other packages plug into `stemlab`, as JupyterHub plugs spawners: each names an object
in the entry-point group `stemlab.commands` (pyproject.toml), which adds its subcommands.

The packages that plug in (lab_hardware, autograders) import nothing of the hub, so what a command
gets from the platform is the `PlatformSite` below; each package types the part it uses as a
Protocol of its own (lab_hardware.cli.KitSite, autograders.cli.GradingSite).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import cached_property
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from autograders.limits import Limits
from lab_hardware.folders import KitFolders

from hub_config.people.schools import SITE_SCHOOL, ClassRef, school_option
from hub_config.site.errors import StemlabError
from hub_config.site.paths import DataDir
from hub_config.site.settings import LoadedSettings, SiteSettings, load_settings
from hub_config.system.limits import CgroupLimiter

ENTRY_POINT_GROUP = "stemlab.commands"


class CommandGroup(Protocol):
    # its headings in `stemlab --help` (who uses the commands, Vietnamese first), each with its
    # place there and the top-level commands under it
    help_sections: tuple[tuple[int, str, tuple[str, ...]], ...]
    errors: tuple[type[Exception], ...]    # its package's error root: shown as a message, not a traceback

    def add_to(self, commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None: ...


def plugged_groups() -> list[CommandGroup]:
    groups: list[CommandGroup] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            groups.append(entry.load())
        except Exception as err:  # one broken plug-in must not take the admin's commands with it
            raise StemlabError(f"Không nạp được lệnh {entry.name} ({entry.value}): {err}. Cài lại gói: make install.",
                               f"The command {entry.name} ({entry.value}) could not be loaded: {err}. "
                               "Reinstall: make install.") from err
    return groups


Handler = Callable[[argparse.Namespace, "PlatformSite"], int]


Adder = Callable[[argparse._SubParsersAction, str, "Handler | None", str], argparse.ArgumentParser]


def command_adder(common: argparse.ArgumentParser) -> Adder:
    """Adds subcommands whose --config and --data may come before or after their name."""

    def add(parent: argparse._SubParsersAction, name: str, handler: Handler | None, text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=text, description=text, parents=[common])
        if handler:
            p.set_defaults(handler=handler)
        return p

    return add


class PlatformSite:
    """The site a command acts on: its settings and data directory, loaded when first asked for
    (`stemlab config init` must run without either)."""

    def __init__(self, args: argparse.Namespace):
        self.args = args

    @cached_property
    def loaded(self) -> LoadedSettings:
        overrides = {"data_dir": getattr(self.args, "data", None), "port": getattr(self.args, "port", None)}
        return load_settings(getattr(self.args, "config", None), overrides)

    @property
    def settings(self) -> SiteSettings:
        return self.loaded.settings

    @cached_property
    def data(self) -> DataDir:
        return DataDir(self.settings.data_path()).ensure()

    @property
    def data_root(self) -> Path:
        return self.data.root

    @property
    def kit_folders(self) -> KitFolders:
        return self.data.kit_folders

    def grading_limits(self) -> Limits:
        return self.settings.grading_limits()

    @property
    def limiter(self) -> type[CgroupLimiter]:
        """What gives each grading sandbox its memory and CPU limits on this machine."""
        return CgroupLimiter


def class_of(args: argparse.Namespace) -> ClassRef:
    """The class `--class` and `--school` name (the site's own school without --school)."""
    school = getattr(args, "school", None)
    return ClassRef(SITE_SCHOOL if school is None else school_option(school), args.class_name)
