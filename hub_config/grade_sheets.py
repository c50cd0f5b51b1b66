"""Grade sheets for the school's records: one row per student, one column per assignment, the
total on the Vietnamese 10-point scale with one decimal.

CSV is UTF-8 with a BOM (Excel shows Vietnamese names only then). In the Vietnamese format numbers
use a decimal comma and fields are separated by ';', as Excel does on a Vietnamese Windows; the
English format uses '.' and ','. XLSX stores real numbers, shown with one decimal.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from autograders.preprocessors import FLAG_PREFIX

from .catalog import load_catalog
from .environment import tools_on_path
from .offerings import Offering


@dataclass
class GradeRow:
    login: str
    full_name: str
    scores: list[float | None]  # None: nothing submitted
    late: list[str]
    total_10: Decimal
    review: list[str] = field(default_factory=list)  # what the grading runner flagged, with its reason


def ten_point(score: float, max_score: float) -> Decimal:
    """Score on the 10-point scale, one decimal, halves rounded up (7.25 -> 7.3)."""
    if max_score <= 0:
        return Decimal("0.0")
    return (Decimal(str(score)) * 10 / Decimal(str(max_score))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _course_assignments(course_id: str) -> list:
    catalog = load_catalog()
    return list(catalog.courses[course_id].assignments) if course_id in catalog.courses else []


def grade_rows(offering: Offering) -> tuple[list[str], list[float], list[GradeRow]]:
    tools_on_path()
    with Gradebook(offering.gradebook_url, course_id=offering.id) as gb:
        # In teaching order (course.toml), as the teacher's mark book runs; assignments the course
        # no longer lists come after, by due date.
        order = {a.id: i for i, a in enumerate(_course_assignments(offering.course_id))}
        assignments = sorted(gb.assignments, key=lambda a: (order.get(a.name, len(order)), a.duedate is None,
                                                            a.duedate or 0, a.name))
        names = [a.name for a in assignments]
        maxima = [float(a.max_score) for a in assignments]
        rows = []
        for student in sorted(gb.students, key=lambda s: (s.last_name or "", s.first_name or "", s.id)):
            scores: list[float | None] = []
            late: list[str] = []
            review: list[str] = []
            for assignment in assignments:
                try:
                    submission = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    scores.append(None)
                    continue
                scores.append(float(submission.score))
                if submission.total_seconds_late > 0:
                    late.append(assignment.name)
                review += [f"{assignment.name}: {c.auto_comment.split(FLAG_PREFIX, 1)[1].splitlines()[0]}"
                           for nb in submission.notebooks for c in nb.comments
                           if c.auto_comment and FLAG_PREFIX in c.auto_comment]
            earned = sum(s for s in scores if s is not None)
            full_name = " ".join(p for p in (student.first_name, student.last_name) if p)
            rows.append(GradeRow(student.id, full_name, scores, late, ten_point(earned, sum(maxima)), review))
    return names, maxima, rows


def _number(value: float | Decimal | None, decimal_comma: bool) -> str:
    if value is None:
        return ""
    text = f"{Decimal(str(value)).normalize():f}" if not isinstance(value, Decimal) else f"{value:.1f}"
    return text.replace(".", ",") if decimal_comma else text


def export(offering: Offering, out_dir: Path, fmt: str = "vi") -> list[Path]:
    names, maxima, rows = grade_rows(offering)
    out_dir.mkdir(parents=True, exist_ok=True)
    header = ["Tên đăng nhập / Login", "Họ và tên / Full name", *[f"{n} (/{m:g})" for n, m in zip(names, maxima)],
              "Điểm hệ 10 / Total (10-point)", "Nộp muộn / Late", "Cần xem / Review"]
    decimal_comma = fmt == "vi"
    csv_path = out_dir / f"{offering.id}-grades.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";" if decimal_comma else ",")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.login, row.full_name, *[_number(s, decimal_comma) for s in row.scores],
                             _number(row.total_10, decimal_comma), ", ".join(row.late), " | ".join(row.review)])
    xlsx_path = out_dir / f"{offering.id}-grades.xlsx"
    _write_xlsx(xlsx_path, offering, header, rows)
    return [csv_path, xlsx_path]


def _write_xlsx(path: Path, offering: Offering, header: list[str], rows: list[GradeRow]) -> None:
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bảng điểm"
    ws.append([f"{offering.course_id} · {offering.class_name} · {offering.year} · {offering.school}"])
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row.login, row.full_name, *row.scores, float(row.total_10), ", ".join(row.late),
                   " | ".join(row.review)])
        ws.cell(ws.max_row, len(header) - 2).number_format = "0.0"
    ws.column_dimensions["B"].width = 28
    wb.save(path)
