"""Model graders: a test cell scores the student's model on hidden data, with partial credit.

The teacher keeps a labelled hidden set beside the course, out of every release:

    courses/<course>/hidden/<assignment>/<name>.csv     features, then the label column
    courses/<course>/hidden/<assignment>/<name>.toml    label, metric, thresholds

    label = "cu_chi"
    metric = "accuracy"                 # accuracy, balanced_accuracy, f1_macro, r2, neg_mae
    thresholds = [[0.85, 6], [0.75, 5], [0.65, 4], [0.5, 2]]     # score at least → points

A hidden test calls `report_predictions(name, model.predict(hidden_features(name)))`. While a
notebook is graded, the sandbox holds only the features (`stemlab-hidden/<name>.csv`): the labels
stay with the runner, outside the sandbox, which scores the predictions, writes the feedback and
gives nbgrader the partial credit (the cell's result). Nothing in the kernel can see the labels or
change the thresholds. Run by a teacher on the source notebook, the same call scores locally.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab_hardware import GRADING_ENV

from .errors import HiddenDataUnavailable

MIME = "application/vnd.stemlab.predictions+json"
FEATURES_DIR = "stemlab-hidden"   # in the sandbox's folder, while grading: features only
METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "r2", "neg_mae")


@dataclass(frozen=True)
class HiddenSet:
    name: str
    header: list[str]
    rows: list[list[str]]   # features only
    labels: list[str]
    metric: str
    thresholds: list[tuple[float, float]]

    @classmethod
    def load(cls, folder: Path, name: str) -> "HiddenSet":
        spec = tomllib.loads((folder / f"{name}.toml").read_text(encoding="utf-8"))
        with open(folder / f"{name}.csv", encoding="utf-8", newline="") as f:
            table = list(csv.reader(f))
        header, body = table[0], table[1:]
        label = spec.get("label", header[-1])
        if label not in header:
            raise ValueError(f"{name}.csv has no label column {label!r}")
        at = header.index(label)
        metric = spec.get("metric", "accuracy")
        if metric not in METRICS:
            raise ValueError(f"{name}.toml: metric {metric!r} is not one of {', '.join(METRICS)}")
        thresholds = sorted(((float(a), float(p)) for a, p in spec.get("thresholds", [])), reverse=True)
        return cls(name, [h for i, h in enumerate(header) if i != at], [[v for i, v in enumerate(r) if i != at] for r in body],
                   [r[at] for r in body], metric, thresholds)

    def write_features(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{self.name}.csv", "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([self.header, *self.rows])


def hidden_sets(folder: Path | None) -> dict[str, HiddenSet]:
    if folder is None or not folder.is_dir():
        return {}
    return {p.stem: HiddenSet.load(folder, p.stem) for p in sorted(folder.glob("*.toml"))}


# ---------------------------------------------------------------- scoring (runner and teacher)
def _as_label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def metric_value(metric: str, predictions: list[Any], labels: list[str]) -> float:
    from sklearn import metrics

    if metric in ("r2", "neg_mae"):
        truth, values = [float(v) for v in labels], [float(v) for v in predictions]
        if not all(math.isfinite(g) for g in values):
            return -math.inf
        return metrics.r2_score(truth, values) if metric == "r2" else -metrics.mean_absolute_error(truth, values)
    guess = [_as_label(v) for v in predictions]
    if metric == "accuracy":
        return metrics.accuracy_score(labels, guess)
    if metric == "balanced_accuracy":
        return metrics.balanced_accuracy_score(labels, guess)
    return metrics.f1_score(labels, guess, average="macro")


@dataclass(frozen=True)
class Score:
    value: float | None
    points: float
    feedback: str


def score(hidden: HiddenSet, predictions: Any, max_points: float) -> Score:
    """Points for the predictions on the hidden set, with feedback (Vietnamese, then English)."""
    try:
        guesses = list(predictions)
    except TypeError:
        guesses = []
    if len(guesses) != len(hidden.labels):
        return Score(None, 0.0, f"Cần {len(hidden.labels)} dự đoán cho dữ liệu ẩn, nhận được {len(guesses)}: 0 điểm.\n"
                                f"Expected {len(hidden.labels)} predictions for the hidden data, got {len(guesses)}: 0 points.")
    try:
        value = metric_value(hidden.metric, guesses, hidden.labels)
    except (ValueError, TypeError) as err:
        return Score(None, 0.0, f"Không chấm được các dự đoán ({err}): 0 điểm.\n"
                                f"The predictions could not be scored ({err}): 0 points.")
    points = next((min(p, max_points) for at, p in hidden.thresholds if value >= at), 0.0)
    scale = "; ".join(f"≥ {at:g}: {p:g}" for at, p in hidden.thresholds)
    shown = f"{value:.3f}"
    return Score(value, points,
                 f"{hidden.metric} trên {len(hidden.labels)} mẫu ẩn: {shown.replace('.', ',')} → {points:g}/{max_points:g} "
                 f"điểm (thang: {scale.replace('.', ',')}).\n"
                 f"{hidden.metric} on {len(hidden.labels)} hidden samples: {shown} → {points:g}/{max_points:g} points "
                 f"(scale: {scale}).")


# ---------------------------------------------------------------- in the notebook
def _teacher_folder() -> Path | None:
    """Run by a teacher in the course's source folder: the hidden set is two levels up."""
    assignment = Path.cwd()
    folder = assignment.parent.parent / "hidden" / assignment.name
    return folder if folder.is_dir() else None


def hidden_features(name: str) -> list[list[float]]:
    """The hidden set's features, as rows of numbers (only while grading, or for the teacher)."""
    path = Path(FEATURES_DIR) / f"{name}.csv"
    if path.exists():
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))[1:]
    elif (folder := _teacher_folder()) is not None:
        rows = HiddenSet.load(folder, name).rows
    else:
        raise HiddenDataUnavailable(name)
    return [[float(v) for v in row] for row in rows]


def report_predictions(name: str, predictions: Any) -> None:
    """Hand the predictions to the grader (or, for a teacher, score them here)."""
    from IPython.display import display

    values = [v.item() if hasattr(v, "item") else v for v in list(predictions)]
    if os.environ.get(GRADING_ENV):
        display({MIME: {"name": name, "predictions": values},
                 "text/plain": f"({len(values)} dự đoán gửi cho máy chấm / predictions sent to the grader)"}, raw=True)
        return
    folder = _teacher_folder()
    if folder is None:
        raise HiddenDataUnavailable(name)
    result = score(HiddenSet.load(folder, name), values, math.inf)
    sys.stdout.write(result.feedback + "\n")
