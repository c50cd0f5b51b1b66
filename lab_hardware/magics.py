"""IPython extension: `%kit` and `%%kit`, to run notebook cells on a MicroPython kit.

    %load_ext lab_hardware.magics
    %kit list                      the kits you can use
    %kit connect [KIT]             a kit by port, name or label (on the hub: lease one from the lab)
    %%kit [--timeout 30] [--no-check]
    from yolobit import *          ...runs on the kit, output live; the stop button stops the kit
    %kit reset [--hard]            soft reset (memory cleared), or hard (the EN/RESET line)
    %kit upload FILE [REMOTE]      copy a file onto the kit (skipped when unchanged)
    %kit files [PATH]              list the kit's files
    %kit plot EXPR [--every MS] [--seconds S]   a live plot of a sensor reading
    %kit timeline                  what a simulated kit did: pins, display, sounds over time
    %kit release                   give the kit back

Before a cell is sent, it is checked against the board's stubs: a misused API is named with its
line, and nothing is sent. Every `%%kit` program is kept in `PROGRAMS`, in order: a kit-behaviour
grader's test cell runs the one above it on a simulated kit (autograders/kit.py). While a
notebook is being graded (`STEMLAB_GRADING` is set) `%%kit` only keeps the program: the grader
runs it. `%kit connect` with no kit named takes `STEMLAB_KIT` (a port or URL), then the first kit
found. On the hub, the kits service owns the serial ports and the magics talk
to it with the user's hub token (see lab_hardware/service.py); elsewhere they open the port.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Any, Callable, Protocol

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from . import GRADING_ENV, board_side, files
from .boardcheck import check_cell
from .errors import BoardError, KitError
from .boards import port_of
from .stubs import completion_path

SERVICE_ENV = "STEMLAB_KITS_URL"
DEFAULT_KIT_ENV = "STEMLAB_KIT"
PROGRAMS: list[str] = []  # every %%kit cell's program, in the order they ran


class Backend(Protocol):
    name: str
    model: str

    def exec(self, code: str, on_output: Callable[[str], None], timeout: float | None) -> str: ...
    def reset(self, hard: bool) -> None: ...
    def upload(self, data: bytes, remote: str) -> bool: ...
    def listdir(self, path: str) -> list[files.Entry]: ...
    def close(self) -> None: ...


class LocalBackend:
    """The port opened from this kernel (a kit on this computer)."""

    def __init__(self, url: str):
        from .inventory import identify
        from .transport import KitConnection

        self.link = KitConnection.open(url)
        self.name = url
        self.model = identify(self.link).model

    def exec(self, code: str, on_output: Callable[[str], None], timeout: float | None) -> str:
        return self.link.exec(code, on_output=on_output, timeout=timeout)

    def reset(self, hard: bool) -> None:
        self.link.hard_reset() if hard else self.link.soft_reset()

    def upload(self, data: bytes, remote: str) -> bool:
        return files.put(self.link, data, remote)

    def listdir(self, path: str) -> list[files.Entry]:
        return files.listdir(self.link, path)

    def close(self) -> None:
        self.link.close()


def _resolve_local(name: str | None) -> str:
    from .folders import KitFolders
    from .inventory import all_kits, find_kits

    if not name and os.environ.get(DEFAULT_KIT_ENV):
        return os.environ[DEFAULT_KIT_ENV]
    data = Path(os.environ.get("STEMLAB_DATA", "var"))
    kits = all_kits(KitFolders.under(data)) if data.exists() else []
    if not name:
        if not kits:
            raise KitError("Không thấy bộ kit nào; cắm kit vào rồi thử lại.", "No kit found: plug one in and try again.")
        return kits[0].url
    found, _ = find_kits(kits, [name])
    return found[0].url if found else name  # else a port or URL


def _svg_plot(values: list[float], width: int = 420, height: int = 140) -> str:
    if not values:
        return "<i>chờ số liệu… / waiting for data…</i>"
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - (v - low) / span * (height - 10) - 5:.1f}" for i, v in enumerate(values))
    return (f'<svg width="{width}" height="{height}" style="border:1px solid #ccc">'
            f'<polyline fill="none" stroke="#d33" stroke-width="2" points="{points}"/></svg>'
            f"<div>n = {len(values)} · min {low:g} · max {high:g} · mới nhất / latest {values[-1]:g}</div>")


@magics_class
class KitMagics(Magics):
    backend: Backend | None = None
    last_plot: Any = None

    def _backend(self) -> Backend:
        if self.backend is None:
            self._connect(None)
        assert self.backend is not None
        return self.backend

    def _connect(self, name: str | None) -> None:
        if self.backend:
            self.backend.close()
            self.backend = None
        if os.environ.get(SERVICE_ENV):
            from .service_client import ServiceBackend

            self.backend = ServiceBackend(os.environ[SERVICE_ENV], name)
        else:
            self.backend = LocalBackend(_resolve_local(name))
        # completion for board code: the board's own modules on this kernel's path
        stub_path = str(completion_path(port_of(self.backend.model)))
        if stub_path not in sys.path:
            sys.path.append(stub_path)

    @staticmethod
    def _say(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    @line_magic
    def kit(self, line: str) -> Any:
        args = shlex.split(line)
        action, rest = (args[0], args[1:]) if args else ("status", [])
        if os.environ.get(GRADING_ENV):
            print(f"(Đang chấm: bỏ qua / grading: skipped) %kit {line}")
            return None
        try:
            return self._line_action(action, rest)
        except KitError as err:
            print(str(err), file=sys.stderr)
            return None

    def _line_action(self, action: str, rest: list[str]) -> Any:
        if action == "connect":
            self._connect(rest[0] if rest else None)
            assert self.backend
            print(f"Đã kết nối / Connected: {self.backend.name} ({self.backend.model})")
        elif action == "list":
            if os.environ.get(SERVICE_ENV):
                from .service_client import list_kits

                for kit in list_kits(os.environ[SERVICE_ENV]):
                    print(f"{kit['name']:<14} {kit['model']:<16} {kit.get('holder') or 'trống / free'}")
            else:
                from .folders import KitFolders
                from .inventory import all_kits

                data = Path(os.environ.get("STEMLAB_DATA", "var"))
                for known in all_kits(KitFolders.under(data)) if data.exists() else []:
                    print(f"{known.name:<14} {known.url}")
        elif action == "reset":
            self._backend().reset(hard="--hard" in rest)
            print("Đã khởi động lại kit. / The kit was reset.")
        elif action == "upload":
            local = Path(rest[0])
            remote = rest[1] if len(rest) > 1 else "/" + local.name
            changed = self._backend().upload(local.read_bytes(), remote)
            print(f"{local} → {remote}" + ("" if changed else " (không đổi / unchanged)"))
        elif action == "files":
            for entry in self._backend().listdir(rest[0] if rest else "/"):
                print(f"{entry.name}/" if entry.is_dir else f"{entry.name:<24}{entry.size:>8}")
        elif action == "plot":
            return self._plot(rest)
        elif action == "timeline":
            self._timeline()
        elif action in ("release", "disconnect"):
            if self.backend:
                self.backend.close()
                self.backend = None
            print("Đã trả kit. / Kit released.")
        elif action == "status":
            print(f"{self.backend.name} ({self.backend.model})" if self.backend else "Chưa kết nối / Not connected")
        else:
            print(f"%kit {action}: không có lệnh này / unknown; see %kit? for help", file=sys.stderr)
        return None

    @cell_magic("kit")  # type: ignore[arg-type]
    def kit_cell(self, line: str, cell: str) -> None:
        args = shlex.split(line)
        timeout = float(args[args.index("--timeout") + 1]) if "--timeout" in args else 30.0
        PROGRAMS.append(cell)
        if os.environ.get(GRADING_ENV):
            print("(Đang chấm: chương trình sẽ chạy trên kit mô phỏng trong ô kiểm tra. / Grading: the program "
                  "runs on a simulated kit in the test cell.)")
            return
        try:
            backend = self._backend()
            if "--no-check" not in args:
                problems = check_cell(cell, port_of(backend.model))
                if problems:
                    print("Chưa gửi lên kit: ô có lỗi. / Not sent to the kit:", file=sys.stderr)
                    for p in problems:
                        print(f"  {p}", file=sys.stderr)
                    return
            backend.exec(cell, self._say, timeout)
        except BoardError as err:
            print(str(err), file=sys.stderr)
        except KitError as err:
            print(str(err), file=sys.stderr)

    def _timeline(self) -> None:
        import json

        from IPython.display import display

        from .timeline import plot_timeline

        try:
            answer = self._backend().exec(board_side.program("sim_timeline", "timeline"), lambda _: None, 30)
            events = json.loads(board_side.value_of(answer))["events"]
        except BoardError:
            print("Chỉ kit mô phỏng mới ghi dòng thời gian. / Only simulated kits record a timeline.", file=sys.stderr)
            return
        display(plot_timeline(events))

    def _plot(self, rest: list[str]) -> Any:
        import ipywidgets as widgets
        from IPython.display import display

        parser = argparse.ArgumentParser(prog="%kit plot", add_help=False)
        parser.add_argument("expression", nargs="+")
        parser.add_argument("--every", type=int, default=200)
        parser.add_argument("--seconds", type=float, default=10.0)
        options = parser.parse_args(rest)
        every, seconds, expression = options.every, options.seconds, " ".join(options.expression)
        values: list[float] = []
        view = widgets.HTML(_svg_plot(values))
        display(widgets.VBox([widgets.HTML(f"<b>{expression}</b>"), view]))
        pending = [""]

        def on_output(text: str) -> None:
            pending[0] += text
            *lines, pending[0] = pending[0].split("\n")
            for line in lines:
                try:
                    values.append(float(line))
                except ValueError:
                    continue
            view.value = _svg_plot(values[-200:])

        # the expression is evaluated on the board, among the board's names (and Yolo:Bit's)
        names = board_side.source("yolobit_names") + "\n" if self._backend().model.startswith("Yolo:Bit") else ""
        code = names + board_side.program("plot", "plot", expression, int(seconds * 1000), every)
        self._backend().exec(code, on_output, timeout=seconds + 30)
        self.last_plot = values
        return None


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(KitMagics)


def unload_ipython_extension(ipython: Any) -> None:
    magics = ipython.magics_manager.registry.get("KitMagics")
    if magics and magics.backend:
        magics.backend.close()
