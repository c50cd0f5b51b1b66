"""Checks of what a kit's buzzer played: the tones in a run's timeline against notes named as
`music.play` writes them ("C4:4": C in octave 4, four ticks)."""

from __future__ import annotations

from typing import Any

from .kit_feedback import KitCheckFailed, seconds_en, seconds_vi

STEPS = {"C": -9, "D": -7, "E": -5, "F": -4, "G": -2, "A": 0, "B": 2}  # semitones from A
TICK_MS = 125  # at music's default tempo: 4 ticks a beat, 120 beats a minute


def note_hz_ms(note: str | tuple[float, float]) -> tuple[float, float, str]:
    """(Hz, ms, the note as the teacher wrote it) of "C4:4", "F#5:2", "Bb3" (four ticks), or (Hz, ms).
    Equal temperament from A4 = 440 Hz; the checks allow a few percent, as boards round."""
    if not isinstance(note, str):
        return float(note[0]), float(note[1]), f"{note[0]:g} Hz"
    name, _, ticks = note.partition(":")
    if not name or name[0].upper() not in STEPS:
        raise ValueError(f"{note!r} is not a note: write a letter C D E F G A B, a sharp # or flat b, an octave, "
                         "then ':' and the ticks, e.g. 'C4:4'")
    step = STEPS[name[0].upper()] + name.count("#") - name[1:].count("b")
    digits = "".join(c for c in name if c.isdigit())
    octave = int(digits) if digits else 4
    return 440 * 2 ** ((step + 12 * (octave - 4)) / 12), int(ticks or 4) * TICK_MS, note


class SoundChecks:
    """KitRun's sound checks (a mixin: the run's timeline is `events`, its length `seconds`)."""

    events: list[dict[str, Any]]
    seconds: float

    def tones(self, target: str = "buzzer") -> list[tuple[float, float, float]]:
        """Each tone played, as (start ms, Hz, how long it sounded in ms); rests and stops are no tones."""
        sounds = [e for e in self.events if e["target"] == target and e["kind"] == "sound"]
        span = self.seconds * 1000
        played = []
        for i, e in enumerate(sounds):
            freq, ms = e["value"]["freq"], e["value"]["ms"]
            if freq:
                end = sounds[i + 1]["t"] if i + 1 < len(sounds) else span
                end = min(end, e["t"] + ms, span) if ms > 0 else min(end, span)
                played.append((e["t"], float(freq), max(0.0, end - e["t"])))
        return played

    def expect_melody(self, notes: list[str | tuple[float, float]], target: str = "buzzer",
                      vi: str = "", en: str = "", tolerance: float = 0.03, ms_tolerance: float = 40) -> None:
        """The buzzer played these notes in order and nothing else: "C4:4" (music.play's names; a beat
        is 125 ms) or (Hz, ms), each within `tolerance` of its pitch and `ms_tolerance` of its length."""
        want, played = [note_hz_ms(n) for n in notes], self.tones(target)
        what_vi, what_en = (f" ({vi})" if vi else ""), (f" ({en})" if en else "")
        for i, (hz, ms, label) in enumerate(want):
            if i >= len(played):
                raise KitCheckFailed(
                    f"{target}: chỉ phát {len(played)} nốt; cần {len(want)} nốt{what_vi}, nốt thứ {i + 1} ({label}) chưa phát.",
                    f"{target}: played only {len(played)} notes; expected {len(want)}{what_en}, note {i + 1} ({label}) never played.")
            t, f, d = played[i]
            if abs(f - hz) > tolerance * hz or abs(d - ms) > max(ms_tolerance, 0.1 * ms):
                raise KitCheckFailed(
                    f"{target}, nốt thứ {i + 1} lúc {seconds_vi(t)}: quan sát {f:g} Hz trong {d:.0f} ms; "
                    f"cần {label} ({hz:.0f} Hz trong {ms:g} ms){what_vi}.",
                    f"{target}, note {i + 1} at {seconds_en(t)}: observed {f:g} Hz for {d:.0f} ms; "
                    f"expected {label} ({hz:.0f} Hz for {ms:g} ms){what_en}.")
        if len(played) > len(want):
            t, f, _ = played[len(want)]
            raise KitCheckFailed(f"{target}: phát {len(played)} nốt, thừa từ nốt thứ {len(want) + 1} ({f:g} Hz lúc "
                                 f"{seconds_vi(t)}); cần đúng {len(want)} nốt{what_vi}.",
                                 f"{target}: played {len(played)} notes, extra from note {len(want) + 1} ({f:g} Hz at "
                                 f"{seconds_en(t)}); expected exactly {len(want)}{what_en}.")
