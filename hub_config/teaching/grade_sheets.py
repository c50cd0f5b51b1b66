"""Grade sheets for the school's records, in the shape a Vietnamese school's mark book has: STT
(row number), mã học sinh (the code the school types into vnEdu or SMAS), họ và tên, one column
per assignment by its title, the total on the 10-point scale with one decimal, work handed in late.

"chưa nộp" marks work not handed in, "chưa chấm" work collected but not graded yet. CSV is UTF-8
with a BOM (Excel shows Vietnamese names only then). In the Vietnamese format numbers use a
decimal comma and fields are separated by ';', as Excel does on a Vietnamese Windows; the English
format uses '.' and ','. XLSX stores real numbers, shown with one decimal, and late work in orange.
"""

from __future__ import annotations

import csv
import enum
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from autograders.preprocessors import FLAG_PREFIX

from hub_config.teaching.catalog import load_catalog
from hub_config.system.environment import tools_on_path
from hub_config.teaching.offerings import Offering


class Handed(enum.Enum):
    GRADED = "graded"
    NOT_SUBMITTED = "not submitted"
    NOT_GRADED = "not graded"  # collected, not (yet) in the gradebook


@dataclass(frozen=True)
class Mark:
    handed: Handed
    score: float | None = None
    late: bool = False


@dataclass(frozen=True)
class Column:
    assignment_id: str
    title_vi: str
    title_en: str
    max_score: float

    def title(self, lang: str) -> str:
        return self.title_vi if lang == "vi" else self.title_en


@dataclass
class GradeRow:
    number: int  # STT
    login: str
    code: str  # the grade-system code (never a citizen ID in clear; see logins.grade_code)
    full_name: str
    marks: list[Mark]
    total_10: Decimal
    review: list[str] = field(default_factory=list)  # what the grading runner flagged, with its reason


WORDS = {
    "vi": {"number": "STT", "code": "Mã học sinh", "name": "Họ và tên", "total": "Điểm hệ 10",
           "late": "Nộp muộn", "review": "Cần xem", "login": "Tên đăng nhập",
           Handed.NOT_SUBMITTED: "chưa nộp", Handed.NOT_GRADED: "chưa chấm", "sheet": "Bảng điểm"},
    "en": {"number": "No.", "code": "Student code", "name": "Full name", "total": "Total (10-point)",
           "late": "Late", "review": "Review", "login": "Login",
           Handed.NOT_SUBMITTED: "not submitted", Handed.NOT_GRADED: "not graded", "sheet": "Grades"},
}


def ten_point(score: float, max_score: float) -> Decimal:
    """Score on the 10-point scale, one decimal, halves rounded up (7.25 -> 7.3)."""
    if max_score <= 0:
        return Decimal("0.0")
    return (Decimal(str(score)) * 10 / Decimal(str(max_score))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _catalog_titles(course_id: str) -> dict[str, tuple[str, str]]:
    catalog = load_catalog()
    course = catalog.courses.get(course_id)
    return {a.id: (a.title.vi, a.title.en) for a in course.assignments} if course else {}


def grade_rows(offering: Offering) -> tuple[list[Column], list[GradeRow]]:
    tools_on_path()
    titles = _catalog_titles(offering.course_id)
    with Gradebook(offering.gradebook_url, course_id=offering.id) as gb:
        # In teaching order (course.toml), as the teacher's mark book runs; assignments the course
        # no longer lists come after, by due date.
        order = {a_id: i for i, a_id in enumerate(titles)}
        assignments = sorted(gb.assignments, key=lambda a: (order.get(a.name, len(order)), a.duedate is None,
                                                            a.duedate or 0, a.name))
        columns = []
    for a in assignments:
        title_vi, title_en = titles.get(a.name, (a.name, a.name))
        columns.append(Column(a.name, title_vi, title_en, float(a.max_score)))
        rows = []
        students = sorted(gb.students, key=lambda s: (s.last_name or "", s.first_name or "", s.id))
        for number, student in enumerate(students, start=1):
            marks: list[Mark] = []
            review: list[str] = []
            for assignment, column in zip(assignments, columns):
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    collected = offering.submitted_dir(student.id, assignment.name).is_dir()
                    marks.append(Mark(Handed.NOT_GRADED if collected else Handed.NOT_SUBMITTED))
                    continue
                marks.append(Mark(Handed.GRADED, float(submission.score), submission.total_seconds_late > 0))
                review += [f"{column.title_vi}: {c.auto_comment.split(FLAG_PREFIX, 1)[1].splitlines()[0]}"
                           for nb in submission.notebooks for c in nb.comments
                           if c.auto_comment and FLAG_PREFIX in c.auto_comment]
            earned = sum(m.score for m in marks if m.score is not None)
            full_name = " ".join(p for p in (student.first_name, student.last_name) if p)
            rows.append(GradeRow(number, student.id, student.lms_user_id or "", full_name, marks,
                                 ten_point(earned, sum(c.max_score for c in columns)), review))
    return columns, rows


def _number(value: float | Decimal, decimal_comma: bool) -> str:
    text = f"{Decimal(str(value)).normalize():f}" if not isinstance(value, Decimal) else f"{value:.1f}"
    return text.replace(".", ",") if decimal_comma else text


def header(columns: list[Column], lang: str) -> list[str]:
    w = WORDS[lang]
    return [w["number"], w["code"], w["name"], *[f"{c.title(lang)} (/{c.max_score:g})" for c in columns],
            w["total"], w["late"], w["review"], w["login"]]


def export(offering: Offering, out_dir: Path, fmt: str = "vi") -> list[Path]:
    """Write `<offering>-grades.csv` and `.xlsx` in out_dir, in Vietnamese (`vi`) or English (`en`)."""
    columns, rows = grade_rows(offering)
    out_dir.mkdir(parents=True, exist_ok=True)
    w = WORDS[fmt]
    decimal_comma = fmt == "vi"
    csv_path = out_dir / f"{offering.id}-grades.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";" if decimal_comma else ",")
        writer.writerow(header(columns, fmt))
        for row in rows:
            cells = [_number(m.score, decimal_comma) if m.score is not None else w[m.handed] for m in row.marks]
            late = [c.title(fmt) for c, m in zip(columns, row.marks) if m.late]
            writer.writerow([row.number, row.code, row.full_name, *cells, _number(row.total_10, decimal_comma),
                             ", ".join(late), " | ".join(row.review), row.login])
    xlsx_path = out_dir / f"{offering.id}-grades.xlsx"
    _write_xlsx(xlsx_path, offering, columns, rows, fmt)
    return [csv_path, xlsx_path]


def _write_xlsx(path: Path, offering: Offering, columns: list[Column], rows: list[GradeRow], fmt: str) -> None:
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    w = WORDS[fmt]
    late_fill = PatternFill("solid", fgColor="FFD8A8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = w["sheet"]
    ws.append([f"{offering.course_id} · {offering.class_name} · {offering.year} · {offering.school}"])
    ws.append(header(columns, fmt))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    first_mark = 4  # STT, code, name come first (1-based columns)
    for row in rows:
        cells = [m.score if m.score is not None else w[m.handed] for m in row.marks]
        late = [c.title(fmt) for c, m in zip(columns, row.marks) if m.late]
        ws.append([row.number, row.code, row.full_name, *cells, float(row.total_10), ", ".join(late),
                   " | ".join(row.review), row.login])
        for offset, mark in enumerate(row.marks):
            if mark.late:
                cell = ws.cell(ws.max_row, first_mark + offset)
                cell.fill = late_fill
                cell.comment = Comment(w["late"], "STEM-Lab Hub")
        ws.cell(ws.max_row, first_mark + len(columns)).number_format = "0.0"
    ws.column_dimensions["C"].width = 28
    wb.save(path)
