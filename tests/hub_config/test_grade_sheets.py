"""Grade sheets: 10-point totals with half-up rounding, lateness, Vietnamese and English formats."""

import csv
import datetime as dt
from decimal import Decimal

import openpyxl
from nbgrader.api import Gradebook

from hub_config.environment import tools_on_path
from hub_config.grade_sheets import export, ten_point
from hub_config.offerings import Offering


def test_ten_point_rounds_halves_up():
    assert ten_point(7.25, 10) == Decimal("7.3")
    assert ten_point(2, 3) == Decimal("6.7")
    assert ten_point(0, 0) == Decimal("0.0")
    assert ten_point(14.5, 20) == Decimal("7.3")


def make_offering(tmp_path):
    tools_on_path()
    tmp_path.mkdir(parents=True)
    offering = Offering("tin-hoc-10a9-2025-2026", "tin-hoc", "10A9", "THPT Mẫu", "2025-2026", tmp_path)
    due = dt.datetime(2025, 12, 1, 7, 0)
    with Gradebook(offering.gradebook_url, course_id=offering.id) as gb:
        gb.add_student("hsan", first_name="Nguyễn Văn", last_name="An")
        gb.add_student("hsbinh", first_name="Lê Thị", last_name="Bình")
        for name, points in (("bai01", 10), ("bai02", 10)):
            gb.add_assignment(name, duedate=due)
            gb.add_notebook("nb", name)
            gb.add_grade_cell("q1", "nb", name, max_score=points, cell_type="code")
        for student, assignment, score, when in (("hsan", "bai01", 7.5, due - dt.timedelta(hours=1)),
                                                 ("hsan", "bai02", 7.0, due + dt.timedelta(hours=2)),
                                                 ("hsbinh", "bai01", 10, due)):
            gb.add_submission(assignment, student, timestamp=when)
            grade = gb.find_grade("q1", "nb", assignment, student)
            grade.auto_score = score
            gb.db.commit()
    return offering


def test_vietnamese_csv_and_xlsx(tmp_path):
    offering = make_offering(tmp_path / "course")
    csv_path, xlsx_path = export(offering, tmp_path / "out", "vi")
    rows = list(csv.reader(csv_path.read_bytes().decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0][2:] == ["bai01 (/10)", "bai02 (/10)", "Điểm hệ 10 / Total (10-point)", "Nộp muộn / Late",
                        "Cần xem / Review"]
    assert rows[1] == ["hsan", "Nguyễn Văn An", "7,5", "7", "7,3", "bai02", ""]  # 14.5 / 20 -> 7.25 -> 7.3
    assert rows[2] == ["hsbinh", "Lê Thị Bình", "10", "", "5,0", "", ""]
    ws = openpyxl.load_workbook(xlsx_path).active
    assert [c.value for c in ws[3]][:6] == ["hsan", "Nguyễn Văn An", 7.5, 7.0, 7.3, "bai02"]
    assert ws.cell(3, 5).number_format == "0.0"


def test_english_format(tmp_path):
    offering = make_offering(tmp_path / "course")
    csv_path, _ = export(offering, tmp_path / "out", "en")
    rows = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[1][2:5] == ["7.5", "7", "7.3"]
