"""The words of a kit check's feedback: the failure a student reads (Vietnamese, then English) and
how times and states are written in each language."""

from __future__ import annotations

from typing import Any

REACTION_MS = 150.0   # how soon after a change (a press, the light, a message) the board must follow it


class KitCheckFailed(AssertionError):
    """A kit-behaviour check failed; the message is the student's feedback."""

    def __init__(self, vi: str, en: str):
        super().__init__(f"{vi}\n{en}")


def seconds_vi(ms: float) -> str:
    return f"{ms / 1000:.2f}".replace(".", ",") + " s"


def seconds_en(ms: float) -> str:
    return f"{round(ms / 1000, 2):g} s"


def state_text(state: Any) -> tuple[str, str]:
    if state is None or state is True:
        return ("tắt", "off") if state is None else ("bật", "on")
    return (f"{state:g} Hz",) * 2 if isinstance(state, (int, float)) else (str(state),) * 2  # a tone, or an image
