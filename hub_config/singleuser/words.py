"""The student's assignments page in Vietnamese (first) and English: one table, checked for
completeness by tests/hub_config/test_words.py."""

from __future__ import annotations

from hub_config.site.language import LANGUAGES, in_language, one_language

__all__ = ["LANGUAGES", "PAGE_WORDS", "one_language", "page_word"]

PAGE_WORDS: dict[str, dict[str, str]] = {
    "title": {"vi": "Bài tập của em", "en": "My assignments"},
    "intro": {"vi": "Nhận bài, làm bài trong JupyterLab, bấm Kiểm tra rồi Nộp bài. Nộp lại bao nhiêu lần cũng được "
                    "trước hạn; thầy cô chấm lần nộp cuối.",
              "en": "Fetch the assignment, work on it in JupyterLab, press Check, then Submit. You may submit again "
                    "before the due date; your teacher grades the last one."},
    "no_courses": {"vi": "Chưa có bài tập nào được giao cho lớp em.", "en": "No assignment has been released to your class yet."},
    "assignment": {"vi": "Bài", "en": "Assignment"},
    "due": {"vi": "Hạn nộp", "en": "Due"},
    "status": {"vi": "Tình trạng", "en": "Status"},
    "actions": {"vi": "Việc cần làm", "en": "What to do"},
    "status.released": {"vi": "chưa nhận", "en": "not fetched"},
    "status.fetched": {"vi": "đã nhận, đang làm", "en": "fetched, in progress"},
    "status.submitted": {"vi": "đã nộp", "en": "submitted"},
    "status.removed": {"vi": "thầy cô đã rút bài", "en": "withdrawn by the teacher"},
    "submitted_at": {"vi": "nộp lúc {time}", "en": "submitted at {time}"},
    "fetch": {"vi": "Nhận bài", "en": "Fetch"},
    "open": {"vi": "Mở", "en": "Open"},
    "validate": {"vi": "Kiểm tra", "en": "Check"},
    "submit": {"vi": "Nộp bài", "en": "Submit"},
    "fetch_feedback": {"vi": "Nhận nhận xét", "en": "Fetch feedback"},
    "feedback": {"vi": "Xem nhận xét", "en": "Read the feedback"},
    "new_feedback": {"vi": "Thầy cô đã trả nhận xét.", "en": "Your teacher has returned feedback."},
    "result.fetch.ok": {"vi": "Đã nhận bài {assignment}: mở sổ tay để làm.", "en": "Fetched {assignment}: open a notebook to work."},
    "result.submit.ok": {"vi": "Đã nộp bài {assignment}.", "en": "Submitted {assignment}."},
    "result.fetch_feedback.ok": {"vi": "Đã nhận nhận xét của bài {assignment}.", "en": "Fetched the feedback on {assignment}."},
    "result.failed": {"vi": "Chưa làm được: {detail}. Hãy thử lại; nếu vẫn lỗi, báo thầy cô.",
                      "en": "That did not work: {detail}. Try again; if it still fails, tell your teacher."},
    "result.validate.ok": {"vi": "Tốt lắm! {path} qua hết các kiểm tra.", "en": "Well done! {path} passes every test."},
    "result.validate.failed": {"vi": "{path}: còn {count} kiểm tra chưa đạt. Đọc gợi ý dưới đây, sửa rồi kiểm tra lại.",
                               "en": "{path}: {count} tests do not pass yet. Read the hints below, fix, and check again."},
    "result.validate.changed": {"vi": "{path}: có ô kiểm tra đã bị sửa hoặc xoá; hãy lấy lại ô gốc (nhận lại bài vào một thư mục khác) hoặc báo thầy cô.",
                                "en": "{path}: a test cell was changed or deleted; restore it, or tell your teacher."},
    "back_to_lab": {"vi": "Về JupyterLab", "en": "Back to JupyterLab"},
    "home": {"vi": "Trang chính", "en": "Home"},
    "language": {"vi": "English", "en": "Tiếng Việt"},
}


def page_word(key: str, lang: str, **values: object) -> str:
    return in_language(PAGE_WORDS, key, lang, **values)
