"""Kit self-test: the checks in DOMAIN.md, a room of kits at once, reports kept with history.

Automatic where the board can answer (REPL, identity, I2C sensors, 1 g at rest, temperature,
Wi-Fi scan). Where a person must act (press the buttons, cover the light sensor) the board watches
for it while the operator is asked; where a person must look or listen (LEDs, buzzer) the
operator confirms. Without an operator those checks are skipped, and the report says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Callable, Protocol

from . import board_side
from .errors import KitError
from .inventory import Identity, Kit, identify
from .transport import KitConnection

class CheckStatus(StrEnum):
    """A self-test check's outcome (kept as its text in the reports' JSON and CSV)."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    WARN = "warn"


PASS, FAIL, SKIP, WARN = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.SKIP, CheckStatus.WARN
EXPECTED_SENSORS = {"Yolo:Bit v4": {0x19: "LIS3DH"}, "Yolo:Bit v5": {0x19: "LIS3DH"}, "xBot": {0x68: "MPU6050"}}


@dataclass
class CheckResult:
    check: str
    title: str
    status: CheckStatus
    detail: str = ""

    @classmethod
    def from_json(cls, data: dict[str, str]) -> CheckResult:
        return cls(data["check"], data["title"], CheckStatus(data["status"]), data.get("detail", ""))


@dataclass
class KitReport:
    kit: str
    url: str
    model: str = "?"
    unique_id: str = ""
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.status != FAIL for r in self.results)

    @property
    def verdict(self) -> str:
        return verdict(self.results)


class Operator(Protocol):
    """The person at the lab bench. `ask` shows an instruction; `confirm` asks yes/no."""

    def ask(self, kit: str, instruction: str) -> None: ...

    def confirm(self, kit: str, question: str) -> bool: ...


CHECKS = [
    ("usb", "Định danh USB / USB identity"),
    ("repl", "REPL trả lời / REPL answers"),
    ("i2c", "Cảm biến trên I2C / Sensors on I2C"),
    ("accel", "Gia tốc kế ≈ 1 g khi để yên / Accelerometer ≈ 1 g at rest"),
    ("leds_buzzer", "Đèn và còi / LEDs and buzzer"),
    ("buttons", "Nút A và B / Buttons A and B"),
    ("light", "Cảm biến ánh sáng khi che / Light sensor when covered"),
    ("temperature", "Nhiệt độ hợp lý / Plausible temperature"),
    ("wifi", "Quét Wi-Fi / Wi-Fi scan"),
]
TITLES = dict(CHECKS)
# The words the skip reasons are built from, in Vietnamese
VI_PARTS = {"display or buzzer": "màn hình hay còi", "buttons A/B": "nút A/B", "light sensor": "cảm biến ánh sáng",
            "temperature sensor in our table": "cảm biến nhiệt độ trong bảng của chúng tôi"}
VI_PERSON = {"look and listen": "nhìn và nghe", "press them": "bấm nút", "cover the sensor": "che cảm biến"}


def verdict(results: list[CheckResult]) -> str:
    """The kit's verdict as a technician reads it: a pass that skipped checks says so, never a bare PASS."""
    failed = [r for r in results if r.status == FAIL]
    if failed:
        vi = ", ".join(r.title.split(" / ")[0] for r in failed)
        en = ", ".join(r.title.split(" / ")[-1] for r in failed)
        return f"LỖI: {vi} / FAIL: {en}"
    skipped = sum(r.status == SKIP for r in results)
    if skipped:
        return f"ĐẠT, {skipped} mục bỏ qua / PASS, {skipped} check{'s' if skipped != 1 else ''} skipped"
    return "ĐẠT / PASS"


def skip_reasons(results: list[CheckResult]) -> list[str]:
    """Why each skipped check was skipped: '<check>: <reason>', both in Vietnamese then English."""
    return [f"{r.title}: {r.detail}" for r in results if r.status == SKIP]

ACCEL_ADDRESSES = (0x19, 0x68)  # the accelerometers selftest_board.accel reads


class KitTester:
    def __init__(self, kit: Kit, operator: Operator | None, wait: float = 10.0,
                 progress: Callable[[str, str, CheckStatus], None] | None = None):
        self.kit, self.operator, self.wait = kit, operator, wait
        self.progress = progress or (lambda kit, check, status: None)
        self.report = KitReport(kit.name, kit.url)
        self.identity: Identity | None = None

    def record(self, check: str, status: CheckStatus, detail: str = "") -> None:
        self.report.results.append(CheckResult(check, TITLES[check], status, detail))
        self.progress(self.kit.name, check, status)

    def run(self) -> KitReport:
        port = self.kit.port
        if port:
            self.record("usb", PASS, f"{port.usb_id} serial {port.serial_number or '(none)'}")
        else:
            self.record("usb", SKIP, f"kit {self.kit.kind}: không có định danh USB / {self.kit.kind} kit: no USB identity")
        try:
            with KitConnection.open(self.kit.url, timeout=3.0) as link:
                link.exec("pass")  # the REPL answers: what follows is about the board, not the REPL
                try:
                    self.identity = identify(link)
                except KitError as err:
                    self.record("repl", PASS, f"MicroPython answers; identification failed: {err.en}")
                    return self.report
                self.report.model, self.report.unique_id = self.identity.model, self.identity.unique_id
                self.record("repl", PASS, f"{self.identity.machine}, MicroPython {self.identity.firmware}, "
                                          f"id {self.identity.unique_id or '(none)'}")
                for check in ("i2c", "accel", "leds_buzzer", "buttons", "light", "temperature", "wifi"):
                    try:
                        getattr(self, f"check_{check}")(link)
                    except KitError as err:
                        self.record(check, FAIL, err.en)
        except KitError as err:
            self.record("repl", FAIL, err.en)
        return self.report

    @property
    def yolobit(self) -> bool:
        return bool(self.identity and self.identity.model.startswith("Yolo:Bit"))

    def check_i2c(self, link: KitConnection) -> None:
        assert self.identity
        expected = EXPECTED_SENSORS.get(self.identity.model)
        if not expected:
            self.record("i2c", SKIP, "bo mạch này không có cảm biến gắn sẵn / no on-board sensor expected")
            return
        missing = [f"{name} (0x{addr:02X})" for addr, name in expected.items() if addr not in self.identity.i2c]
        found = ", ".join(f"0x{a:02X}" for a in self.identity.i2c) or "nothing"
        self.record("i2c", FAIL if missing else PASS, f"missing {', '.join(missing)}; found {found}" if missing
                    else f"found {found}")

    def check_accel(self, link: KitConnection) -> None:
        assert self.identity
        address = next((a for a in ACCEL_ADDRESSES if a in self.identity.i2c), None)
        if address is None:
            self.record("accel", SKIP, "không thấy gia tốc kế / no accelerometer found")
            return
        x, y, z = board_side.call(link, "selftest_board", "accel", address, timeout=10)
        g = (x * x + y * y + z * z) ** 0.5
        self.record("accel", PASS if 0.85 <= g <= 1.15 else FAIL, f"{g:.2f} g (x {x:.2f}, y {y:.2f}, z {z:.2f})")

    def _person(self) -> Operator:
        """The person at the bench (a check that needs one runs only after `_can_run` found one)."""
        assert self.operator is not None
        return self.operator

    def _can_run(self, check: str, what: str, person: str | None = None) -> bool:
        """A Yolo:Bit check; `person`: what someone at the bench must do for it."""
        if not self.yolobit:
            self.record(check, SKIP, f"bo mạch này không có {VI_PARTS.get(what, what)} / no {what} on this board")
            return False
        if person and not self.operator:
            self.record(check, SKIP, f"cần một người {VI_PERSON.get(person, person)} (chạy với --confirm) / "
                                    f"needs a person to {person} (run with --confirm)")
            return False
        return True

    def check_leds_buzzer(self, link: KitConnection) -> None:
        if not self._can_run("leds_buzzer", "display or buzzer", "look and listen"):
            return
        board_side.call(link, "selftest_yolobit", "show_colours")
        seen = self._person().confirm(self.kit.name, "Đèn sáng đỏ, xanh lá, xanh dương và còi kêu? / "
                                                    "Did the LEDs show red, green, blue and the buzzer beep?")
        self.record("leds_buzzer", PASS if seen else FAIL, "confirmed by the operator" if seen else "operator saw a fault")

    def check_buttons(self, link: KitConnection) -> None:
        if not self._can_run("buttons", "buttons A/B", "press them"):
            return
        missed = []
        for name in ("a", "b"):
            self._person().ask(self.kit.name, f"Nhấn nút {name.upper()} / Press button {name.upper()}")
            if not board_side.call(link, "selftest_yolobit", "wait_button", name, int(self.wait * 1000),
                                   timeout=self.wait + 10):
                missed.append(name.upper())
        self.record("buttons", FAIL if missed else PASS,
                    f"not pressed within {self.wait:g} s: {', '.join(missed)}" if missed else "A and B pressed")

    def check_light(self, link: KitConnection) -> None:
        if not self._can_run("light", "light sensor", "cover the sensor"):
            return
        before = board_side.call(link, "selftest_yolobit", "light")
        self._person().ask(self.kit.name, "Lấy tay che cảm biến ánh sáng / Cover the light sensor with your hand")
        fell = board_side.call(link, "selftest_yolobit", "wait_dark", before, int(self.wait * 1000),
                               timeout=self.wait + 10)
        self.record("light", PASS if fell else FAIL, f"from {before}: " + ("fell below half" if fell
                    else f"did not fall below half within {self.wait:g} s"))

    def check_temperature(self, link: KitConnection) -> None:
        if not self._can_run("temperature", "temperature sensor in our table"):
            return
        celsius = board_side.call(link, "selftest_yolobit", "celsius")
        self.record("temperature", PASS if 5 <= celsius <= 50 else FAIL, f"{celsius} °C")

    def check_wifi(self, link: KitConnection) -> None:
        assert self.identity
        if self.identity.platform != "esp32":
            self.record("wifi", SKIP, "bo mạch này không có Wi-Fi / no Wi-Fi on this board")
            return
        networks = board_side.call(link, "selftest_board", "networks", timeout=20)
        self.record("wifi", PASS if networks else WARN, f"{networks} networks seen")


class _OneOperator:
    """Prompts from kits tested at once reach the single person one at a time."""

    def __init__(self, operator: Operator):
        self.operator = operator
        self.lock = threading.Lock()

    def ask(self, kit: str, instruction: str) -> None:
        with self.lock:
            self.operator.ask(kit, instruction)

    def confirm(self, kit: str, question: str) -> bool:
        with self.lock:
            return self.operator.confirm(kit, question)


def test_room(kits: list[Kit], operator: Operator | None = None, wait: float = 10.0,
              progress: Callable[[str, str, CheckStatus], None] | None = None) -> list[KitReport]:
    """Every kit at once (one thread each), in the order given."""
    shared = _OneOperator(operator) if operator else None
    with ThreadPoolExecutor(max_workers=max(1, min(40, len(kits)))) as pool:
        return list(pool.map(lambda k: KitTester(k, shared, wait, progress).run(), kits))


# a tool, not a pytest test
test_room.__test__ = False  # type: ignore[attr-defined]


def save_reports(reports: list[KitReport], folder: Path, when: dt.datetime | None = None) -> Path:
    """reports/<time>/: room.json, room.csv, room.html and one JSON per kit; earlier runs stay."""
    when = when or dt.datetime.now()
    out = folder / when.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    data = [asdict(r) | {"passed": r.passed, "verdict": r.verdict} for r in reports]
    (out / "room.json").write_text(json.dumps({"time": when.isoformat(timespec="seconds"), "kits": data},
                                              ensure_ascii=False, indent=1), encoding="utf-8")
    for report, item in zip(reports, data):
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in report.kit)
        (out / f"kit-{safe}.json").write_text(json.dumps(item, ensure_ascii=False, indent=1), encoding="utf-8")
    with (out / "room.csv").open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(["kit", "model", "unique_id", "check", "status", "detail"])
        for r in reports:
            for c in r.results:
                writer.writerow([r.kit, r.model, r.unique_id, c.check, c.status, c.detail])
    (out / "room.html").write_text(_html(reports, when), encoding="utf-8")
    # not secret, and the kits service (its own account) shows each kit's last result
    for path in (folder, out, *out.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return out


def _html(reports: list[KitReport], when: dt.datetime) -> str:
    colour = {PASS: "#c8f7c5", FAIL: "#f7c5c5", SKIP: "#eeeeee", WARN: "#f7ecc5"}
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in CHECKS)
    rows = []
    for r in reports:
        by_check = {c.check: c for c in r.results}
        cells = "".join(
            f'<td style="background:{colour[by_check[k].status]}" title="{html.escape(by_check[k].detail)}">'
            f"{by_check[k].status}</td>" if k in by_check else "<td></td>" for k, _ in CHECKS)
        reasons = "".join(f"<li>{html.escape(reason)}</li>" for reason in skip_reasons(r.results))
        rows.append(f"<tr><td>{html.escape(r.kit)}</td><td>{html.escape(r.model)}</td>{cells}"
                    f"<td>{html.escape(r.verdict)}{f'<ul>{reasons}</ul>' if reasons else ''}</td></tr>")
    passed = sum(r.passed for r in reports)
    return (f"<!doctype html><meta charset='utf-8'><title>Kiểm tra kit / Kit self-test {when:%Y-%m-%d %H:%M}</title>"
            f"<h1>Kiểm tra kit / Kit self-test — {when:%Y-%m-%d %H:%M}</h1>"
            f"<p>{passed}/{len(reports)} kit đạt / kits passed</p>"
            f"<table border=1 cellpadding=4><tr><th>Kit</th><th>Model</th>{head}<th></th></tr>{''.join(rows)}</table>")
