"""Kit-behaviour graders, for test cells: run the student's MicroPython (the `%%kit` cell above the
test) on a fresh simulated kit in virtual time, with a scenario of what the world does to it (a
button held, the room getting dark), then check what the board did from its timeline. A failed
check says what was observed against what was expected, in Vietnamese, then English.

    from autograders.kit import run_on_kit
    run = run_on_kit(seconds=5)                         # the last %%kit program, 5 s on the board
    run.expect_blink("matrix", hz=2)                    # the display blinks twice a second
    run = run_on_kit(seconds=6, scenario={"buttons": {"a": [[1000, 2500]]}})
    run.expect_follows("matrix", run.pressed("a"), image="HEART",
                       vi="khi giữ nút A", en="while button A is held")
    run.expect_melody(["C4:4", "D4:4", "E4:8"])          # the buzzer played these notes, in order
    run.expect_sent("3", at=run.pressed("a"), peer="ff:ff:ff:ff:ff:ff")   # one message per press
    run = run_on_kit(seconds=6, scenario={"radio": [[1000, "aa:bb:cc:dd:ee:01", "3"]]})
    run.expect_reacts("matrix", run.received("3"), image="3", vi="khi nhận tin", en="on a message")

The program reaches the kit through the same serial transport as a real board (a pseudo-terminal
with the simulated MCU behind it); in virtual time a 5-second program takes milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lab_hardware import board_side
from lab_hardware.boardcheck import check_cell
from lab_hardware.errors import BoardError, ProgramTimeout
from lab_hardware.sim.hardware import Scenario
from lab_hardware.sim.kit import SimKit
from lab_hardware.sim.radio import check_radio_scenario
from lab_hardware.boards import port_of
from lab_hardware.transport import KitConnection

from .kit_feedback import REACTION_MS, KitCheckFailed, seconds_en, seconds_vi, state_text
from .kit_radio import RadioChecks
from .kit_sound import SoundChecks

SAMPLE_MS = 50.0
# the simulated board restarted and run for the check's time, before the student's program
_PREAMBLE = board_side.source("sim_run") + "\nstart({ms})\ndel start\n"


def last_program() -> str:
    from lab_hardware.magics import PROGRAMS

    if not PROGRAMS:
        raise KitCheckFailed("Chưa có chương trình nào: viết chương trình vào ô %%kit phía trên rồi chạy ô đó.",
                             "No program yet: write your program in the %%kit cell above and run that cell.")
    return PROGRAMS[-1]


@dataclass
class KitRun(SoundChecks, RadioChecks):
    """What the board did in one graded run: timeline events (times in ms from the start)."""

    events: list[dict[str, Any]]
    seconds: float
    output: str
    scenario: dict[str, Any] = field(default_factory=dict)
    _by_target: dict[str, list[tuple[float, Any]]] = field(default_factory=dict, repr=False, compare=False)

    # ---- what the board showed or drove, over time
    def _states(self, target: str) -> list[tuple[float, Any]]:
        """(t, state) at each change: for a pin, its level; for the display, the image or text on
        it, or None when nothing is lit. Worked out once per target (checks sample it often)."""
        if target not in self._by_target:
            self._by_target[target] = self._replay(target)
        return self._by_target[target]

    def _replay(self, target: str) -> list[tuple[float, Any]]:
        states: list[tuple[float, Any]] = [(0.0, None)]
        pixels: dict[tuple[int, int], bool] = {}
        for e in self.events:
            if e["target"] != target:
                continue
            value = e["value"]
            if e["kind"] == "radio":  # messages are not states: see sent()
                continue
            if e["kind"] == "sound":  # a tone of `ms` (or until stopped, when ms <= 0)
                states.append((e["t"], value["freq"] or None))
                if value["freq"] and value["ms"] > 0:
                    states.append((e["t"] + value["ms"], None))
                continue
            if e["kind"] == "pin":
                state: Any = bool(value) or None
            elif e["kind"] == "pwm":
                state = bool(value.get("duty")) or None
            elif "clear" in value:
                pixels.clear()
                state = None
            elif "pixel" in value:
                pixels[tuple(value["pixel"])] = value.get("color", "#000000").lower() not in ("#000000", "#000")
                state = "pixels" if any(pixels.values()) else None
            elif "image" in value:  # a named image, or rows of brightness digits ("00900:...")
                pixels.clear()
                state = None if set(str(value["image"])) <= set("0:") else value["image"]
            else:
                pixels.clear()
                shown = value.get("text", value.get("scroll"))
                state = None if shown in ("", None) else str(shown)
            states.append((e["t"], state))
        return sorted(states, key=lambda ts: ts[0])

    def shown(self, target: str = "matrix") -> list[Any]:
        """Everything the target showed (or, for a pin or the buzzer, each level or tone), in order."""
        return [state for _, state in self._states(target) if state is not None]

    def state_at(self, target: str, t_ms: float) -> Any:
        current = None
        for t, state in self._states(target):
            if t > t_ms:
                break
            current = state
        return current

    def pressed(self, button: str) -> list[tuple[float, float]]:
        """The scenario's presses of a button, as (from, to) in ms."""
        return [(float(a), float(b)) for a, b in self.scenario.get("buttons", {}).get(button, [])]

    # ---- checks
    def expect_blink(self, target: str = "matrix", hz: float = 2.0, seconds: float | None = None,
                     tolerance: float = 0.15) -> None:
        """The target turns on `hz` times a second, for the whole run."""
        span = (seconds or self.seconds) * 1000
        states = self._states(target)
        onsets = [t for (t, s), (_, before) in zip(states[1:], states) if s and not before and t < span]
        observed = len(onsets) / (span / 1000)
        last = onsets[-1] if onsets else 0.0
        period = 1000 / hz
        if abs(observed - hz) > tolerance * hz or last < span - 2 * period:
            until = f", lần cuối lúc {seconds_vi(last)}" if onsets else ""
            until_en = f", the last at {seconds_vi(last).replace(',', '.')}" if onsets else ""
            raise KitCheckFailed(
                f"{target}: quan sát {len(onsets)} lần sáng trong {seconds_vi(span)} ({observed:.2f} Hz{until}); "
                f"cần nháy {hz:g} Hz (±{tolerance:.0%}) suốt {seconds_vi(span)}.".replace(".", ",", 1),
                f"{target}: observed {len(onsets)} flashes in {span / 1000:g} s ({observed:.2f} Hz{until_en}); "
                f"expected {hz:g} Hz (±{tolerance:.0%}) for the whole {span / 1000:g} s.")

    def expect_final(self, target: str, what: Any) -> None:
        """When the run ends, the target shows `what` (an image name, a text, a level)."""
        final = self.state_at(target, self.seconds * 1000)
        if final != what:
            seen = "tắt / off" if final is None else str(final)
            raise KitCheckFailed(f"{target} lúc kết thúc: quan sát {seen}; cần {what}.",
                                 f"{target} at the end: observed {seen}; expected {what}.")

    def expect_printed(self, values: list[float], tolerance: float = 0.5) -> None:
        """The program printed these numbers, one per line, in order (other lines are ignored)."""
        printed = []
        for line in self.output.splitlines():
            try:
                printed.append(float(line.strip().replace(",", ".")))
            except ValueError:
                continue
        if len(printed) != len(values) or any(abs(a - b) > tolerance for a, b in zip(printed, values)):
            seen = ", ".join(f"{v:g}" for v in printed) or "không có số nào / no numbers"
            want = ", ".join(f"{v:g}" for v in values)
            raise KitCheckFailed(f"Kit in ra: {seen}; cần {len(values)} số: {want}.",
                                 f"The kit printed: {seen}; expected {len(values)} numbers: {want}.")

    def expect_follows(self, target: str, on_during: list[tuple[float, float]], image: str | None = None,
                       vi: str = "trong các khoảng đó", en: str = "during those times",
                       reaction_ms: float = REACTION_MS) -> None:
        """The target is on (showing `image`, if given) within `reaction_ms` of each interval's
        start until its end, and off from `reaction_ms` after its end until the next one."""
        span = self.seconds * 1000
        t = 0.0
        while t < span:
            inside = any(a + reaction_ms <= t < b for a, b in on_during)
            settled_off = all(not (a <= t < b + reaction_ms) for a, b in on_during)
            state = self.state_at(target, t)
            shown = state is not None and (image is None or state == image)
            if inside and not shown or settled_off and shown:
                want_vi = (f"hiện {image}" if image else "bật") if inside else "tắt"
                want_en = (f"showing {image}" if image else "on") if inside else "off"
                seen = "tắt / off" if state is None else str(state)
                where_vi = vi if inside else f"ngoài lúc đó ({vi})"
                where_en = en if inside else f"outside those times ({en})"
                raise KitCheckFailed(
                    f"{target} lúc {seconds_vi(t)}: quan sát {seen}; cần {want_vi} {where_vi}.",
                    f"{target} at {t / 1000:g} s: observed {seen}; expected {want_en} {where_en}.")
            t += SAMPLE_MS

    def expect_off(self, target: str, during: list[tuple[float, float]], vi: str = "trong các khoảng đó",
                   en: str = "during those times") -> None:
        """The target is off (dark, silent) throughout each interval."""
        for a, b in during:
            for t in [a] + [t for t, _ in self._states(target) if a < t < b]:
                state = self.state_at(target, t)
                if state is not None:
                    seen_vi, seen_en = state_text(state)
                    raise KitCheckFailed(f"{target} lúc {seconds_vi(t)}: quan sát {seen_vi}; cần tắt {vi}.",
                                         f"{target} at {seconds_en(t)}: observed {seen_en}; expected off {en}.")

    def expect_reacts(self, target: str, at: list[float], image: str | None = None,
                      vi: str = "sau mỗi lúc đó", en: str = "after each of those times",
                      reaction_ms: float = REACTION_MS) -> None:
        """Within `reaction_ms` of each time, the target turns on (to `image`, if given) from a state
        that was not that: a display kept on all along, or a tone already sounding, is no reaction."""
        def wanted(state: Any) -> bool:
            return state is not None and (image is None or state == image)

        changes: list[tuple[float, Any]] = []
        for t, state in self._states(target):
            if changes and changes[-1][0] == t:
                changes.pop()  # several frames at one instant: the last is what was seen
            if not changes or changes[-1][1] != state:
                changes.append((t, state))
        for t0 in at:
            if not any(t0 <= t <= t0 + reaction_ms and wanted(s) and not wanted(before)
                       for (_, before), (t, s) in zip(changes, changes[1:])):
                seen_vi, seen_en = state_text(self.state_at(target, t0 + reaction_ms))
                already = wanted(self.state_at(target, t0 - 0.001))
                want_vi, want_en = (f"hiện {image}", f"showing {image}") if image else ("bật", "on")
                raise KitCheckFailed(
                    f"{target}: {seconds_vi(reaction_ms)} sau lúc {seconds_vi(t0)} quan sát {seen_vi}"
                    f"{' (đã như vậy từ trước, không đổi)' if already else ''}; cần chuyển sang {want_vi} {vi}.",
                    f"{target}: {seconds_en(reaction_ms)} after {seconds_en(t0)} observed {seen_en}"
                    f"{' (already so before, no change)' if already else ''}; expected a change to {want_en} {en}.")



def run_on_kit(program: str | None = None, seconds: float = 5.0, scenario: dict[str, Any] | None = None,
               model: str = "yolobit", wall_seconds: float = 30.0) -> KitRun:
    """Run the program on a fresh simulated kit for `seconds` of board time; the run ends there
    (or earlier, when the program does). In the judge (autograders/judge.py) the run happens in the
    student's sandbox, beside the student's code, and only its timeline comes back: the checks on
    it are made here."""
    from .kernel_side import judge_side

    arguments: dict[str, Any] = {"program": program, "seconds": seconds, "scenario": scenario, "model": model,
                 "wall_seconds": wall_seconds}
    data = judge_side.library("kit_run_data", **arguments) if judge_side.active() else kit_run_data(**arguments)
    return KitRun(data["events"], data["seconds"], data["output"], data["scenario"])


def kit_run_data(program: str | None = None, seconds: float = 5.0, scenario: dict[str, Any] | None = None,
                 model: str = "yolobit", wall_seconds: float = 30.0) -> dict[str, Any]:
    """One run on a simulated kit, as data: the board's timeline, its output, the scenario."""
    program = last_program() if program is None else program
    problems = check_cell(program, port_of(model))
    if problems:
        raise KitCheckFailed("Chương trình có lỗi, chưa chạy được: " + "; ".join(f"dòng {p.line}: {p.message_vi}" for p in problems),
                             "The program has errors and cannot run: " + "; ".join(f"line {p.line}: {p.message_en}" for p in problems))
    scenario = scenario or {}
    # a scenario's mistake is the teacher's: said here, before the run, not as the student's error
    check_radio_scenario(scenario.get("radio", []))
    Scenario.from_dict(scenario)
    preamble = _PREAMBLE.format(ms=seconds * 1000)
    output: list[str] = []
    with SimKit(model=model, realtime=False, scenario=scenario) as kit:
        connection = KitConnection.open(kit.path)
        try:
            try:
                connection.exec(preamble + program, output.append, timeout=wall_seconds,
                                line_offset=preamble.count("\n"))
            except BoardError as err:
                if err.exc_type != "TimeUp":
                    raise KitCheckFailed(f"Chương trình dừng vì lỗi trên kit: {err.vi}",
                                         f"The program stopped with an error on the kit: {err.en}") from None
            except ProgramTimeout:
                raise KitCheckFailed(
                    f"Chương trình chạy quá {wall_seconds:g} s thời gian thực mà không chờ (sleep): "
                    "một vòng lặp không bao giờ nghỉ?",
                    f"The program ran over {wall_seconds:g} s of real time without waiting (sleep): "
                    "a loop that never pauses?") from None
            timeline = json.loads(board_side.call(connection, "sim_timeline", "timeline", timeout=10))
        finally:
            connection.close()
    return {"events": timeline["events"], "seconds": seconds, "output": "".join(output), "scenario": scenario}
