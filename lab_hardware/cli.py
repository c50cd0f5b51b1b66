"""`stemlab kits`: the lab technician's commands, plugged into `stemlab` (entry-point group
`stemlab.commands`, see hub_config/app/plugins.py).

This package knows nothing of the hub: the command that runs these asks the site only for the
kits' folders in its data directory (`KitSite`).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .boards import KIT_MODELS
from .errors import KitError
from .folders import KitFolders

console = Console(highlight=False)


class KitSite(Protocol):
    """What these commands need from the platform that runs them."""

    @property
    def kit_folders(self) -> KitFolders: ...


class NoSuchKit(KitError):
    def __init__(self, names: list[str]):
        shown = ", ".join(names)
        super().__init__(f"Không thấy kit {shown}. Xem `stemlab kits list`.",
                         f"No kit {shown}: see `stemlab kits list`.")


def cmd_list(args: argparse.Namespace, site: KitSite) -> int:
    from .inventory import all_kits, probe_all

    kits = all_kits(site.kit_folders)
    if not kits:
        console.print("Không thấy bộ kit nào. / No kit found: check the USB cable (some are charge-only), "
                      "plug the kit in again, and run `stemlab kits list` again.")
        return 1
    if not args.no_probe:
        kits = probe_all(kits)
    table = Table(title="Bộ kit / Kits")
    for column in ("Kit", "Cổng / Port", "VID:PID", "Bo mạch / Board", "Tên cố định / Stable name", "Ghi chú / Note"):
        table.add_column(column)
    for kit in kits:
        if kit.identity:
            board = f"{kit.identity.model} (MicroPython {kit.identity.firmware})"
        elif kit.port and kit.port.hint:
            board = "? " + ", ".join(kit.port.hint.candidates) + f" ({kit.port.hint.bridge})"
        else:
            board = "?"
        usb = kit.port.usb_id if kit.port else kit.kind
        table.add_row(escape(kit.name), kit.url, usb or "", escape(board), kit.stable_name, escape(kit.problem or ""))
    console.print(table)
    return 0


def cmd_label(args: argparse.Namespace, site: KitSite) -> int:
    from .inventory import KitsFile, all_kits, find_kits

    found, _ = find_kits(all_kits(site.kit_folders), [args.kit])  # each listing scans the USB ports: once
    if not found:
        raise NoSuchKit([args.kit])
    kit = found[0]
    kits_file = KitsFile.load(site.kit_folders)
    kits_file.labels[kit.stable_name] = args.label
    kits_file.save()
    console.print(f"{kit.stable_name} → {escape(args.label)}")
    return 0


class _ConsoleOperator:
    def ask(self, kit: str, instruction: str) -> None:
        console.print(f"[bold]{escape(kit)}[/]: {escape(instruction)}")

    def confirm(self, kit: str, question: str) -> bool:
        return console.input(f"[bold]{escape(kit)}[/]: {escape(question)} [y/n] ").strip().lower().startswith(("y", "c"))


def cmd_test(args: argparse.Namespace, site: KitSite) -> int:
    from rich.live import Live

    from .inventory import all_kits, find_kits
    from .selftest import CHECKS, CheckStatus, save_reports, skip_reasons, test_room

    kits = all_kits(site.kit_folders)
    if args.kits:
        kits, unknown = find_kits(kits, args.kits)
        if unknown:
            raise NoSuchKit(unknown)
    elif not args.all:
        raise KitError("Chọn kit cần kiểm tra, hoặc --all.", "Name the kits to test, or --all.")
    if not kits:
        raise KitError("Không thấy bộ kit nào. Xem `stemlab kits list`.", "No kit found: see `stemlab kits list`.")
    state: dict[str, dict[str, CheckStatus]] = {k.name: {} for k in kits}
    symbols = {CheckStatus.PASS: "[green]✓[/]", CheckStatus.FAIL: "[red]✗[/]", CheckStatus.SKIP: "–",
               CheckStatus.WARN: "[yellow]![/]"}

    def table() -> Table:
        t = Table(title="Kiểm tra kit / Kit self-test")
        t.add_column("Kit")
        for check, _ in CHECKS:
            t.add_column(check)
        for name, checks in state.items():
            t.add_row(escape(name), *[symbols[checks[c]] if c in checks else "…" for c, _ in CHECKS])
        return t

    operator = _ConsoleOperator() if args.confirm else None
    with Live(table(), console=console, refresh_per_second=4, transient=False) as live:
        def progress(kit: str, check: str, status: CheckStatus) -> None:
            state[kit][check] = status
            live.update(table())

        reports = test_room(kits, operator, wait=args.wait, progress=progress)
    folder = save_reports(reports, site.kit_folders.reports)
    passed = sum(r.passed for r in reports)
    console.print(f"{passed}/{len(reports)} kit đạt / kits passed. Báo cáo / Reports: {folder}/room.html, room.csv, room.json")
    for r in reports:
        console.print(f"{escape(r.kit)}: {escape(r.verdict)}")
        for c in r.results:
            if c.status is CheckStatus.FAIL:
                console.print(f"  [red]✗[/] {escape(c.title)}: {escape(c.detail)}")
        for reason in skip_reasons(r.results):
            console.print(f"  – {escape(reason)}")
    return 0 if passed == len(reports) else 1


def cmd_sim(args: argparse.Namespace, site: KitSite) -> int:
    from .sim.kit import SimKit

    folders = site.kit_folders
    kits = []
    try:
        for n in range(1, args.count + 1):
            kits.append(SimKit(model=args.board, flash_dir=str(folders.flash_of(f"{args.board}-{n:02d}")),
                               realtime=not args.virtual_time, board_id=f"5e{n:010x}").start())
    except ValueError as err:
        raise KitError(f"Không mô phỏng được: {err}", f"Cannot simulate: {err}") from err
    table = Table(title="Bộ kit mô phỏng / Simulated kits (Ctrl-C: dừng / stop)")
    for column in ("Kit", "Thiết bị / Device", "Bo mạch / Board", "Flash"):
        table.add_column(column)
    for n, kit in enumerate(kits, 1):
        table.add_row(f"Kit {n:02d}", kit.path, args.board, str(kit.flash_dir))
    console.print(table)
    console.print(f"Thử / Try: mpremote connect {kits[0].path} exec \"print('Xin chào')\"")
    records = []
    for n, kit in enumerate(kits, 1):
        # `kits list`, `kits test` and the kits service find running simulated kits by this record
        record = folders.device_record(f"{args.board}-{n:02d}")
        record.write_text(json.dumps({"path": kit.path, "model": args.board}), encoding="utf-8")
        records.append(record)
        print(f"SIMKIT {kit.path}", flush=True)  # one line per kit, for scripts
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    for kit, record in zip(kits, records):
        record.unlink(missing_ok=True)
        kit.stop()
    console.print("Đã dừng các kit mô phỏng. / Simulated kits stopped.")
    return 0


Handler = Callable[[argparse.Namespace, KitSite], int]


class KitCommands:
    """The entry point `stemlab.commands: kits`."""

    help_sections = ((60, "Bộ kit / Kits (lab technician)", ("kits",)),)
    errors: tuple[type[Exception], ...] = (KitError,)

    def add_to(self, commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
        def add(parent: argparse._SubParsersAction, name: str, handler: Handler | None,
                text: str) -> argparse.ArgumentParser:
            p: argparse.ArgumentParser = parent.add_parser(name, help=text, description=text, parents=[common])
            if handler:
                p.set_defaults(handler=handler)
            return p

        kits = add(commands, "kits", None, "find the lab's MicroPython kits")
        sub = kits.add_subparsers(dest="action", metavar="ACTION", required=True)
        lst = add(sub, "list", cmd_list, "every kit with its board (asked), port and a name that survives replugging")
        lst.add_argument("--no-probe", action="store_true", help="do not ask the boards (only USB ids)")
        lab = add(sub, "label", cmd_label, "give a kit a label such as 'Kit 07' (kept across replugging)")
        lab.add_argument("kit", metavar="KIT", help="its port or stable name, from `stemlab kits list`")
        lab.add_argument("label", metavar="LABEL")
        kt = add(sub, "test", cmd_test, "self-test kits (all at once), with reports kept in the data directory")
        kt.add_argument("kits", nargs="*", metavar="KIT", help="ports, stable names or labels from `stemlab kits list`")
        kt.add_argument("--all", action="store_true", help="every kit this machine reaches")
        kt.add_argument("--confirm", action="store_true",
                        help="a person is at the bench: run the checks where someone presses, covers, looks or listens")
        kt.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a button press or a covered sensor")
        sim = add(sub, "sim", cmd_sim, "start simulated kits on pseudo-terminals (until Ctrl-C)")
        sim.add_argument("--count", type=int, default=1, help="how many kits (default 1)")
        sim.add_argument("--board", default="yolobit", choices=[m.key for m in KIT_MODELS],
                         help="which board to simulate (default yolobit)")
        sim.add_argument("--virtual-time", action="store_true",
                         help="sleep() returns at once and time jumps (for graders); default: real time")


COMMANDS = KitCommands()
