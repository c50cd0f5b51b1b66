"""Grade sheets: 10-point totals with half-up rounding, lateness, Vietnamese and English formats."""

import csv
import datetime as dt
from decimal import Decimal

import openpyxl
from nbgrader.api import Gradebook

from hub_config.system.environment import tools_on_path
from hub_config.teaching.grade_sheets import export, ten_point
from hub_config.people.logins import grade_code
from hub_config.teaching.offerings import Offering


def test_ten_point_rounds_halves_up():
    assert ten_point(7.25, 10) == Decimal("7.3")
    assert ten_point(2, 3) == Decimal("6.7")
    assert ten_point(0, 0) == Decimal("0.0")
    assert ten_point(14.5, 20) == Decimal("7.3")


def make_offering(tmp_path):
    """Two assignments of the Python course (titles from its course.toml); An hands bai02 in late,
    Bình hands in bai01 only, Cường's bai02 was collected but is not graded yet."""
    tools_on_path()
    tmp_path.mkdir(parents=True)
    offering = Offering("python-co-ban-10a9-2025-2026", "python-co-ban", "10A9", "THPT Mẫu", "2025-2026", tmp_path)
    due = dt.datetime(2025, 12, 1, 7, 0)
    with Gradebook(offering.gradebook_url, course_id=offering.id) as gb:
        gb.add_student("hsan", first_name="Nguyễn Văn", last_name="An", lms_user_id="HS0101")
        gb.add_student("hsbinh", first_name="Lê Thị", last_name="Bình", lms_user_id="••••••••6789")
        gb.add_student("hscuong", first_name="Phạm", last_name="Cường", lms_user_id="HS0103")
        for name in (BAI1, BAI2):
            gb.add_assignment(name, duedate=due)
            gb.add_notebook("nb", name)
            gb.add_grade_cell("q1", "nb", name, max_score=10, cell_type="code")
        for student, assignment, score, when in (("hsan", BAI1, 7.5, due - dt.timedelta(hours=1)),
                                                 ("hsan", BAI2, 7.0, due + dt.timedelta(hours=2)),
                                                 ("hsbinh", BAI1, 10, due)):
            gb.add_submission(assignment, student, timestamp=when)
            grade = gb.find_grade("q1", "nb", assignment, student)
            grade.auto_score = score
            gb.db.commit()
    offering.submitted_dir("hscuong", BAI2).mkdir(parents=True)
    return offering


BAI1, BAI2 = "bai01-bien-va-kieu-du-lieu", "bai02-cau-lenh-re-nhanh"


def test_vietnamese_csv_and_xlsx(tmp_path):
    offering = make_offering(tmp_path / "course")
    csv_path, xlsx_path = export(offering, tmp_path / "out", "vi")
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0] == ["STT", "Mã học sinh", "Họ và tên", "Biến, lệnh gán và kiểu dữ liệu (/10)",
                       "Câu lệnh rẽ nhánh if (/10)", "Điểm hệ 10", "Nộp muộn", "Cần xem", "Tên đăng nhập"]
    # sorted by given name: An, Bình, Cường; 14.5 / 20 -> 7.25 -> 7.3
    assert rows[1] == ["1", "HS0101", "Nguyễn Văn An", "7,5", "7", "7,3", "Câu lệnh rẽ nhánh if", "", "hsan"]
    assert rows[2] == ["2", "••••••••6789", "Lê Thị Bình", "10", "chưa nộp", "5,0", "", "", "hsbinh"]
    assert rows[3] == ["3", "HS0103", "Phạm Cường", "chưa nộp", "chưa chấm", "0,0", "", "", "hscuong"]
    ws = openpyxl.load_workbook(xlsx_path).active
    assert [c.value for c in ws[3]][:7] == [1, "HS0101", "Nguyễn Văn An", 7.5, 7.0, 7.3, "Câu lệnh rẽ nhánh if"]
    assert ws.cell(3, 6).number_format == "0.0"
    assert ws.cell(3, 5).fill.fgColor.rgb.endswith("FFD8A8") and ws.cell(3, 5).comment.text == "Nộp muộn"
    assert ws.cell(3, 4).comment is None
    assert [c.value for c in ws[4]][3:5] == [10, "chưa nộp"]


def test_english_format(tmp_path):
    offering = make_offering(tmp_path / "course")
    csv_path, _ = export(offering, tmp_path / "out", "en")
    rows = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:4] == ["No.", "Student code", "Full name", "Variables, assignment and data types (/10)"]
    assert rows[1][3:7] == ["7.5", "7", "7.3", "Branching with if"]
    assert rows[2][4] == "not submitted" and rows[3][4] == "not graded"


def test_citizen_ids_are_never_kept_in_clear():
    assert grade_code("079207001234") == "••••••••1234"
    assert grade_code("079207001234", "HS0007") == "HS0007"
    assert grade_code("HS0007") == "HS0007"
