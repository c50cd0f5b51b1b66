"""The grading side's one error root. Each error says what went wrong and what to do, in Vietnamese
and in English, in the same shape as the kits' errors (lab_hardware/errors.py)."""

from __future__ import annotations


class GradingError(Exception):
    """Base: a grading problem a person can act on; ``str(err)`` is "Vietnamese / English"."""

    exit_code = 2

    def __init__(self, vi: str, en: str):
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


class CannotIsolate(GradingError):
    """Students' code would run without an account of its own where the site requires one."""

    def __init__(self) -> None:
        super().__init__("Ở đây không cách ly được bài làm của học sinh (formgrader không chạy với quyền root); hãy chấm "
                         "bằng lệnh: stemlab grade <lớp-khóa> <bài>.",
                         "Students' code cannot be isolated here (the formgrader does not run as root); grade with: "
                         "stemlab grade <offering> <assignment>.")


class OutsideTheRunner(GradingError):
    """A notebook reached nbgrader's own execution step that the grading runner did not run."""

    def __init__(self) -> None:
        super().__init__("Một bài nộp chưa được chạy trong hộp cát đã đến bước chấm của nbgrader; không chạy nó bên ngoài "
                         "hộp cát. Chấm lại bằng stemlab grade.",
                         "A notebook the grading runner did not run reached nbgrader; refusing to run it outside the "
                         "sandbox. Grade again with stemlab grade.")


class HiddenDataUnavailable(GradingError):
    """A student's code asked for a hidden data set, which exists only while grading."""

    def __init__(self, name: str):
        super().__init__(f"Dữ liệu ẩn '{name}' chỉ có khi chấm bài.", f"The hidden data '{name}' exists only while grading.")
