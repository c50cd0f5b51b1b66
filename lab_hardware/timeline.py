"""The simulated kit's timeline, for people: pins as step lines, display frames and sounds as marks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_timeline(events: list[dict[str, Any]]) -> Figure:
    """A matplotlib figure of what the board did (times in seconds since the run started)."""
    import matplotlib.pyplot as plt

    pins = sorted({e["target"] for e in events if e["kind"] == "pin"})
    others = [e for e in events if e["kind"] in ("display", "sound", "pwm")]
    rows = len(pins) + (1 if others else 0)
    fig, axes = plt.subplots(max(rows, 1), 1, figsize=(7, 1.2 + 0.9 * max(rows, 1)), sharex=True, squeeze=False)
    end = max((e["t"] for e in events), default=0) / 1000 + 0.1
    for ax, pin in zip(axes[:, 0], pins):
        points = [(0.0, 0)] + [(e["t"] / 1000, e["value"]) for e in events if e["kind"] == "pin" and e["target"] == pin]
        times, levels = zip(*points)
        ax.step(list(times) + [end], list(levels) + [levels[-1]], where="post")
        ax.set_ylim(-0.2, 1.2)
        ax.set_yticks([0, 1])
        ax.set_ylabel(pin)
    if others:
        ax = axes[-1, 0]
        for e in others:
            label = e["value"].get("image") or e["value"].get("text") or e["value"].get("freq") or e["kind"]
            ax.axvline(e["t"] / 1000, color={"display": "tab:red", "sound": "tab:green"}.get(e["kind"], "tab:gray"))
            ax.annotate(str(label), (e["t"] / 1000, 0.5), rotation=90, fontsize=7)
        ax.set_yticks([])
        ax.set_ylabel("display / sound")
    axes[-1, 0].set_xlabel("giây / seconds")
    fig.tight_layout()
    return fig
