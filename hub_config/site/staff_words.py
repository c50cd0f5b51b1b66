"""The staff pages (teacher's pages, the admin's roster page) in Vietnamese (first) and English. One
table, so a missing translation is a test failure (tests/hub_config/test_words.py), not an English
word on a Vietnamese page."""

from __future__ import annotations

from hub_config.site.language import LANGUAGES, in_language

__all__ = ["LANGUAGES", "WORDS", "word"]

WORDS: dict[str, dict[str, str]] = {
    "title": {"vi": "Trang giáo viên", "en": "Teacher's page"},
    "my_classes": {"vi": "Lớp của tôi", "en": "My classes"},
    "class": {"vi": "Lớp", "en": "Class"},
    "students": {"vi": "Học sinh", "en": "Students"},
    "offerings": {"vi": "Khóa học đang dạy", "en": "Courses being taught"},
    "no_offerings": {"vi": "Chưa có khóa học nào. Tạo một khóa học cho lớp ở dưới.",
                     "en": "No course yet. Create one for a class below."},
    "course": {"vi": "Khóa học", "en": "Course"},
    "year": {"vi": "Năm học", "en": "School year"},
    "open": {"vi": "Mở", "en": "Open"},
    "new_offering": {"vi": "Tạo khóa học cho một lớp", "en": "Create a course for a class"},
    "create": {"vi": "Tạo", "en": "Create"},
    "assignments": {"vi": "Bài tập", "en": "Assignments"},
    "assignment": {"vi": "Bài", "en": "Assignment"},
    "points": {"vi": "Điểm", "en": "Points"},
    "due": {"vi": "Hạn nộp", "en": "Due"},
    "due_help": {"vi": "giờ Việt Nam; để trống nếu không có hạn", "en": "Vietnam time; leave empty for no due date"},
    "released": {"vi": "Đã giao", "en": "Released"},
    "not_released": {"vi": "Chưa giao", "en": "Not released"},
    "release": {"vi": "Giao bài", "en": "Release"},
    "collect": {"vi": "Thu bài", "en": "Collect"},
    "autograde": {"vi": "Chấm tự động", "en": "Autograde"},
    "manual": {"vi": "Chấm tay", "en": "Grade by hand"},
    "feedback": {"vi": "Trả nhận xét", "en": "Release feedback"},
    "grade_sheet": {"vi": "Bảng điểm", "en": "Grade sheet"},
    "download_xlsx": {"vi": "Tải bảng điểm (Excel)", "en": "Download grade sheet (Excel)"},
    "download_csv": {"vi": "Tải bảng điểm (CSV)", "en": "Download grade sheet (CSV)"},
    "no": {"vi": "STT", "en": "No."},
    "name": {"vi": "Họ và tên", "en": "Full name"},
    "stage": {"vi": "Tình trạng", "en": "Status"},
    "submitted_at": {"vi": "Nộp lúc", "en": "Submitted at"},
    "collected": {"vi": "Đã thu", "en": "Collected"},
    "stage.not fetched": {"vi": "chưa nhận bài", "en": "not fetched yet"},
    "stage.fetched": {"vi": "đã nhận, chưa nộp", "en": "fetched, not submitted"},
    "stage.submitted": {"vi": "đã nộp", "en": "submitted"},
    "stage.late": {"vi": "nộp muộn", "en": "submitted late"},
    "summary": {"vi": "{submitted} đã nộp ({late} muộn), {fetched} đã nhận chưa nộp, {nothing} chưa nhận",
                "en": "{submitted} submitted ({late} late), {fetched} fetched, not submitted, {nothing} not fetched"},
    "job.release": {"vi": "Giao bài", "en": "Releasing"},
    "job.collect": {"vi": "Thu bài", "en": "Collecting"},
    "job.autograde": {"vi": "Chấm tự động", "en": "Autograding"},
    "job.feedback": {"vi": "Trả nhận xét", "en": "Releasing feedback"},
    "job.running": {"vi": "đang chạy", "en": "running"},
    "job.done": {"vi": "xong", "en": "done"},
    "job.failed": {"vi": "có lỗi", "en": "failed"},
    "job.progress": {"vi": "{done}/{total} bài, {failed} lỗi", "en": "{done}/{total} notebooks, {failed} failed"},
    "servers": {"vi": "Máy chủ của học sinh", "en": "Students' servers"},
    "prestart": {"vi": "Khởi động máy chủ cả lớp", "en": "Start the class's servers"},
    "prestart_help": {"vi": "Bấm trước giờ học để học sinh vào là dùng được ngay.",
                      "en": "Press before the lesson so students can start at once."},
    "server.running": {"vi": "đang chạy", "en": "running"},
    "server.starting": {"vi": "đang khởi động", "en": "starting"},
    "server.stopped": {"vi": "đã tắt", "en": "stopped"},
    "server.unknown": {"vi": "không rõ", "en": "unknown"},
    "back": {"vi": "Quay lại", "en": "Back"},
    "home": {"vi": "Trang chính", "en": "Home"},
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "forbidden": {"vi": "Trang này dành cho giáo viên. Nếu bạn là giáo viên mà vẫn thấy thông báo này, hãy nhờ "
                        "quản trị viên kiểm tra danh sách lớp.",
                  "en": "This page is for teachers. If you are a teacher and see this, ask the admin to check "
                        "the class roster."},
    "not_your_class": {"vi": "Bạn không dạy lớp này.", "en": "You do not teach this class."},
    "error": {"vi": "Lỗi", "en": "Error"},
    "roster": {"vi": "Danh sách lớp (tài khoản)", "en": "Class rosters (accounts)"},
    "roster_help": {"vi": "Tải lên tệp CSV (UTF-8) hoặc Excel (.xlsx) có các cột Mã học sinh, Họ và tên, Lớp và "
                          "(nếu cần) Vai trò, Mã SMAS. Chưa có gì thay đổi cho đến khi bạn bấm Xác nhận; một dòng "
                          "sai thì cả tệp không được nhập.",
                    "en": "Upload a CSV (UTF-8) or Excel (.xlsx) file with the columns Mã học sinh (ID), Họ và tên "
                          "(full name), Lớp (class) and, if needed, Vai trò (role) and Mã SMAS. Nothing changes until "
                          "you press Confirm; one bad line keeps the whole file out."},
    "upload": {"vi": "Tải lên và kiểm tra", "en": "Upload and check"},
    "backup_last": {"vi": "Bản sao lưu gần nhất: {when}, {size} MB.", "en": "Last backup: {when}, {size} MB."},
    "backup_none": {"vi": "Chưa có bản sao lưu nào: hãy chạy stemlab backup, hoặc bật sao lưu hằng ngày ([backup] daily "
                          "trong stemlab.toml).",
                    "en": "No backup yet: run stemlab backup, or switch on the daily backup ([backup] daily in "
                          "stemlab.toml)."},
    "roster_choose": {"vi": "Hãy chọn một tệp danh sách.", "en": "Choose a roster file."},
    "roster_bad_file": {"vi": "Chỉ nhận tệp .csv hoặc .xlsx, tối đa 20 MB.", "en": "Only .csv or .xlsx files, up to 20 MB."},
    "roster_problems": {"vi": "Tệp {name} chưa được nhập; chưa có tài khoản nào thay đổi. Sửa các dòng sau rồi tải lên lại:",
                        "en": "{name} was not imported; no account changed. Fix these lines and upload again:"},
    "roster_preview": {"vi": "Tệp {name} hợp lệ: {total} người ({new} mới, {existing} đã có). Kiểm tra rồi bấm Xác nhận.",
                       "en": "{name} is valid: {total} people ({new} new, {existing} already known). Check, then confirm."},
    "confirm": {"vi": "Xác nhận nhập", "en": "Confirm the import"},
    "roster_done": {"vi": "Đã nhập: {created} tạo mới, {updated} cập nhật, {unchanged} không đổi.",
                    "en": "Imported: {created} created, {updated} updated, {unchanged} unchanged."},
    "sheets": {"vi": "Phiếu mật khẩu lần đầu (phát cho học sinh, rồi cất kĩ):",
               "en": "First-password sheets (hand them out, then keep them safe):"},
    "roster_expired": {"vi": "Tệp đã tải lên không còn; hãy tải lên lại.", "en": "The uploaded file is gone; upload it again."},
    "admins_only": {"vi": "Trang này dành cho quản trị viên.", "en": "This page is for administrators."},
    "role": {"vi": "Vai trò", "en": "Role"},
    "role.student": {"vi": "học sinh", "en": "student"},
    "role.teacher": {"vi": "giáo viên", "en": "teacher"},
    "role.technician": {"vi": "kỹ thuật viên", "en": "technician"},
    "role.admin": {"vi": "quản trị", "en": "admin"},
    "hub_reloading": {"vi": "Đã tạo. Hub đang nạp lại; mục chấm tay sẵn sàng sau ít giây.",
                      "en": "Created. The hub is reloading; grading by hand is ready in a few seconds."},
    "coverage": {"vi": "Khung năng lực đã xây dựng", "en": "Competence frameworks covered"},
    "coverage_help": {"vi": "Mỗi dòng: một mạch kiến thức AI (QĐ 3439/QĐ-BGDĐT) hoặc một miền năng lực số (TT 02/2025/TT-BGDĐT); "
                            "các bài của khóa học xây dựng nó, và những bài đã giao cho lớp.",
                      "en": "Each row: an AI strand (QĐ 3439/QĐ-BGDĐT) or a digital competence domain (TT 02/2025/TT-BGDĐT); "
                            "the course's assignments that build it, and those released to the class."},
    "coverage_count": {"vi": "{covered}/{total} đã có trong bài đã giao", "en": "{covered}/{total} covered by released work"},
    "coverage_tag": {"vi": "Mạch, miền", "en": "Strand, domain"},
    "coverage_in_course": {"vi": "Bài trong khóa học", "en": "In the course"},
    "coverage_released": {"vi": "Đã giao cho lớp", "en": "Released to the class"},
    "coverage_none": {"vi": "khóa học không có bài nào", "en": "no assignment of the course"},
    "coverage_not_yet": {"vi": "chưa giao", "en": "not yet"},
    "coverage_level": {"vi": "Cấp học", "en": "Level"},
    "preview.title": {"vi": "Xem trước: {path}", "en": "Preview: {path}"},
    "preview.folder_empty": {"vi": "Thư mục này trống.", "en": "This folder is empty."},
    "preview.up": {"vi": "Lên thư mục trên", "en": "Up one folder"},
    "preview.download": {"vi": "tải về", "en": "download"},
    "preview.readonly": {"vi": "Chỉ xem, không sửa được ở đây. Sửa bài trong courses/ rồi giao lại.",
                         "en": "Read only: nothing can be edited here. Edit the course in courses/, then release again."},
    "preview.back": {"vi": "Về trang chấm bài", "en": "Back to grading"},
}


def word(key: str, lang: str, **values: object) -> str:
    return in_language(WORDS, key, lang, **values)
