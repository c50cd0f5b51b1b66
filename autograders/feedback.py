"""What a student's feedback may show of the tests: each test's result, points and message, never
the source of a hidden test.

nbgrader's feedback is the autograded notebook, whose test cells hold their hidden tests again
(restored from the gradebook), so one release of feedback would publish them for every later
class (nbgrader's issue #917). `HideHiddenTests` runs first in `GenerateFeedback`: in a test cell
with hidden tests it replaces each hidden region with one line saying so, and an error's
traceback (whose frames quote the failing line) with the error's own message, which the authoring
check makes bilingual. The feedback page is also exported with nbconvert's sanitizer: a
student's outputs must not run script on the hub's origin.
"""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

HIDDEN_LINE = "# (kiểm tra ẩn: kết quả ở dưới / hidden tests: their result is below)"


class HideHiddenTests(NbGraderPreprocessor):
    begin = Unicode("BEGIN HIDDEN TESTS", help="The line that starts hidden tests (nbgrader's own).").tag(config=True)
    end = Unicode("END HIDDEN TESTS", help="The line that ends them.").tag(config=True)

    def preprocess_cell(self, cell: Any, resources: dict[str, Any], index: int) -> tuple[Any, dict[str, Any]]:
        if cell.cell_type != "code" or self.begin not in cell.source:
            return cell, resources
        kept: list[str] = []
        hiding = False
        for line in cell.source.split("\n"):
            if self.begin in line:
                hiding = True
                kept.append(line[: len(line) - len(line.lstrip())] + HIDDEN_LINE)
            elif self.end in line:
                hiding = False
            elif not hiding:
                kept.append(line)
        cell.source = "\n".join(kept)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
                output["traceback"] = [message]
        return cell, resources


def feedback_config() -> dict[str, dict[str, Any]]:
    """An nbgrader config's feedback steps, as data: hidden tests hidden first, then nbgrader's own."""
    steps = [f"{HideHiddenTests.__module__}.HideHiddenTests", "nbgrader.preprocessors.GetGrades",
             "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]
    return {"GenerateFeedback": {"preprocessors": steps}, "HTMLExporter": {"sanitize_html": True}}


def configure_feedback(c: Any) -> None:
    """The same steps in a Python nbgrader config (`configure_feedback(c)`)."""
    for section, values in feedback_config().items():
        for key, value in values.items():
            c[section][key] = value
