"""Checks of what a kit sent on the radio (ESP-NOW), and what it heard from the scenario's other kits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab_hardware.sim.radio import BROADCAST, mac_text, parse_mac

from .kit_feedback import REACTION_MS, KitCheckFailed, seconds_en, seconds_vi


@dataclass(frozen=True)
class RadioMessage:
    """One message a board sent on the radio (`KitRun.sent`)."""

    t: float       # ms from the start
    peer: str      # "aa:bb:cc:dd:ee:ff"; "ff:ff:ff:ff:ff:ff" is every kit in range
    sender: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def _quoted(messages: list[RadioMessage]) -> tuple[str, str]:
    if not messages:
        return "không gửi tin nào", "no message sent"
    more = "…" if len(messages) > 4 else ""
    return ("đã gửi " + ", ".join(f'"{m.text}" lúc {seconds_vi(m.t)}' for m in messages[:4]) + more,
            "sent " + ", ".join(f'"{m.text}" at {seconds_en(m.t)}' for m in messages[:4]) + more)



class RadioChecks:
    """KitRun's radio checks (a mixin: the run's timeline is `events`, its scenario `scenario`)."""

    events: list[dict[str, Any]]
    scenario: dict[str, Any]

    def sent(self, target: str = "radio", text: str | None = None) -> list[RadioMessage]:
        """The messages the board sent (all, or those whose text is `text`), in order."""
        return [RadioMessage(e["t"], e["value"]["peer"], e["value"]["from"], bytes.fromhex(e["value"]["hex"]))
                for e in self.events if e["kind"] == "radio" and e["target"] == target
                and (text is None or bytes.fromhex(e["value"]["hex"]) == text.encode())]

    def received(self, text: str | None = None) -> list[float]:
        """When the scenario's messages (all, or those whose text is `text`) reached the board, in ms."""
        return sorted(float(t) for t, _, msg in self.scenario.get("radio", []) if text is None or msg == text)

    def radio_scenario(self, to: str | None = None) -> list[list[Any]]:
        """What this run sent that a kit with MAC `to` would hear (everything, if None), as the
        `radio` of that kit's scenario: two simulated kits talk, one run after the other."""
        heard = {mac_text(BROADCAST)} | ({mac_text(parse_mac(to))} if to else set())
        return [[m.t, m.sender, m.text] for m in self.sent() if to is None or m.peer in heard]

    def expect_sent(self, text: str, at: list[Any] | None = None, peer: str | None = None,
                    vi: str = "", en: str = "", reaction_ms: float = REACTION_MS) -> None:
        """The board sent `text` (to `peer`, if given): with `at` (times, or intervals by their start),
        exactly once within `reaction_ms` of each, and never at other times; without, at least once."""
        every, mine = self.sent(), self.sent(text=text)
        what_vi, what_en = (f" {vi}" if vi else ""), (f" {en}" if en else "")
        if peer is not None:
            to = mac_text(parse_mac(peer))
            for m in mine:
                if m.peer != to:
                    raise KitCheckFailed(f'radio lúc {seconds_vi(m.t)}: gửi "{text}" tới {m.peer}; cần gửi tới {to}.',
                                         f'radio at {seconds_en(m.t)}: sent "{text}" to {m.peer}; expected to {to}.')
        if at is None:
            if not mine:
                seen_vi, seen_en = _quoted(every)
                raise KitCheckFailed(f'radio: {seen_vi}; cần gửi "{text}"{what_vi}.',
                                     f'radio: {seen_en}; expected "{text}" sent{what_en}.')
            return
        starts = sorted(float(a[0]) if isinstance(a, (list, tuple)) else float(a) for a in at)
        for t0 in starts:
            inside = [m for m in mine if t0 <= m.t <= t0 + reaction_ms]
            if len(inside) != 1:
                seen_vi, seen_en = _quoted([m for m in every if t0 <= m.t <= t0 + reaction_ms])
                raise KitCheckFailed(
                    f'radio, {seconds_vi(reaction_ms)} sau lúc {seconds_vi(t0)}: {seen_vi}; cần gửi "{text}" đúng một lần{what_vi}.',
                    f'radio, {seconds_en(reaction_ms)} after {seconds_en(t0)}: {seen_en}; expected "{text}" sent exactly once{what_en}.')
        for m in mine:
            if not any(t0 <= m.t <= t0 + reaction_ms for t0 in starts):
                raise KitCheckFailed(f'radio lúc {seconds_vi(m.t)}: gửi "{text}"; cần gửi "{text}" chỉ{what_vi}.',
                                     f'radio at {seconds_en(m.t)}: sent "{text}"; expected "{text}" only{what_en}.')
