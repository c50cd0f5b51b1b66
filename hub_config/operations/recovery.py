"""What `stemlab up` settles and says before it starts: every long step that a crash, a SIGKILL or
a power cut stopped half-way (a note left in the journal, hub_config/site/journal.py).

Each step was written so that stopping it anywhere leaves nothing half-made where the platform
looks; what is left here is putting aside what it had begun (password sheets kept aside, a
submission being built, a feedback page being copied) and telling the admin what to do again.
The last start's words stay in the journal folder for the admin's health page.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from hub_config.people.accounts import settle_pending_sheets
from hub_config.site.journal import Note, Operation, interrupted
from hub_config.site.paths import DataDir
from hub_config.site.settings import SiteSettings
from hub_config.teaching.exchange import COLLECTING_PREFIX
from hub_config.teaching.loop import RECORDING_ASIDE
from hub_config.teaching.offerings import list_offerings

LAST_START = "settled-at-last-start.json"


@dataclass(frozen=True)
class Settled:
    note: Note
    vi: str
    en: str


def settle_interrupted(settings: SiteSettings, data: DataDir) -> list[Settled]:
    """Settle and describe each interrupted step, oldest first; their notes are then removed."""
    settled = []
    for path, note in interrupted(data):
        vi, en = _SETTLE[note.step](settings, data, note)
        settled.append(Settled(note, vi, en))
        path.unlink()
    data.journal_dir.mkdir(mode=0o700, exist_ok=True)
    (data.journal_dir / LAST_START).write_text(json.dumps([{"vi": s.vi, "en": s.en} for s in settled],
                                                          ensure_ascii=False), encoding="utf-8")
    return settled


def settled_at_last_start(data: DataDir) -> list[tuple[str, str]]:
    try:
        return [(s["vi"], s["en"]) for s in json.loads((data.journal_dir / LAST_START).read_text(encoding="utf-8"))]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _when(note: Note) -> str:
    return dt.datetime.fromisoformat(note.started).strftime("%Y-%m-%d %H:%M UTC")


def _roster(settings: SiteSettings, data: DataDir, note: Note) -> tuple[str, str]:
    published, _ = settle_pending_sheets(data, settings.hub_database_url(), note.id)
    head = (f"Nhập danh sách {note.subject} lúc {_when(note)} bị ngắt",
            f"The roster import of {note.subject} at {_when(note)} was cut short")
    if published:
        names = ", ".join(p.name for p in published)
        return (f"{head[0]} sau khi đã lưu: các tài khoản đã có; phiếu mật khẩu: {names}.",
                f"{head[1]} after it was saved: its accounts exist; password sheets: {names}.")
    return (f"{head[0]}: không có tài khoản mới nào được lưu. Hãy nhập lại danh sách (nhập lại không tạo trùng).",
            f"{head[1]}: no new account was saved. Import the roster again (importing twice creates nothing twice).")


def _offering_root(data: DataDir, note: Note) -> Path | None:
    offering_id = note.subject.split("/", 1)[0]
    return next((o.root for o in list_offerings(data) if o.id == offering_id), None)


def _collect(settings: SiteSettings, data: DataDir, note: Note) -> tuple[str, str]:
    root = _offering_root(data, note)
    for building in root.glob(f"submitted/*/{COLLECTING_PREFIX}*") if root else []:
        shutil.rmtree(building, ignore_errors=True)
    return (f"Thu bài {note.subject} lúc {_when(note)} bị ngắt: mọi bài đã thu đều trọn vẹn, bài của học sinh vẫn "
            "còn trong kho nộp. Hãy thu bài lại để lấy phần còn lại.",
            f"Collecting {note.subject} at {_when(note)} was cut short: every submission collected is whole, and the "
            "students' submissions are still in the exchange. Collect again for the rest.")


def _grading(settings: SiteSettings, data: DataDir, note: Note) -> tuple[str, str]:
    root = _offering_root(data, note)
    if root:  # the copy nbgrader was recording into: the gradebook itself was left as it was
        (root / RECORDING_ASIDE).unlink(missing_ok=True)
    return (f"Chấm bài {note.subject} lúc {_when(note)} bị ngắt: sổ điểm vẫn như trước lần chấm này. Hãy chấm lại bài này.",
            f"Grading {note.subject} at {_when(note)} was cut short: the gradebook is as it was before this batch. "
            "Grade it again.")


def _feedback(settings: SiteSettings, data: DataDir, note: Note) -> tuple[str, str]:
    # nbgrader copies each page to <hash>-tmp.html and renames it: a cut-off copy is never a student's page
    for partial in (settings.exchange_root(data) / note.subject.split("/", 1)[0] / "feedback").glob("*-tmp.html"):
        partial.unlink(missing_ok=True)
    return (f"Trả nhận xét {note.subject} lúc {_when(note)} bị ngắt: học sinh chỉ nhận được trang nhận xét trọn vẹn, "
            "có thể chưa đủ cả lớp. Hãy trả nhận xét lại.",
            f"Releasing feedback of {note.subject} at {_when(note)} was cut short: students get only whole feedback "
            "pages, perhaps not the whole class's yet. Release the feedback again.")


_SETTLE = {Operation.ROSTER_IMPORT: _roster, Operation.COLLECT: _collect, Operation.GRADING: _grading,
           Operation.FEEDBACK: _feedback}
