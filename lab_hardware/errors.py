"""What can go wrong with a kit, each saying what happened and what to do, in Vietnamese and English.

Students and teachers see these messages in notebooks; technicians in `stemlab kits` output.
"""

from __future__ import annotations

import re


class KitError(Exception):
    """Base: a kit problem a person can act on."""

    def __init__(self, vi: str, en: str):
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


class KitNotFound(KitError):
    def __init__(self, port: str, detail: str = ""):
        super().__init__(
            f"Không thấy bộ kit ở cổng {port}. Kiểm tra dây USB đã cắm chưa, rồi chạy `stemlab kits list`.",
            f"No kit at {port}{f' ({detail})' if detail else ''}. Check the USB cable, then run `stemlab kits list`.",
        )
        self.port = port


class KitBusy(KitError):
    def __init__(self, port: str, detail: str = ""):
        super().__init__(
            f"Cổng {port} đang bị chương trình khác dùng (Thonny, một sổ tay khác?). Đóng chương trình đó rồi thử lại.",
            f"{port} is in use by another program{f' ({detail})' if detail else ''} (Thonny, another notebook?). "
            "Close it and try again.",
        )
        self.port = port


class KitPermissionDenied(KitError):
    def __init__(self, port: str, user: str):
        super().__init__(
            f"Không có quyền mở cổng {port}. Nhờ quản trị thêm tài khoản {user} vào nhóm dialout.",
            f"No permission to open {port}: add the account {user} to the `dialout` group "
            f"(`sudo usermod -aG dialout {user}`, then log in again) or install a udev rule.",
        )
        self.port = port


class KitTimeout(KitError):
    """`seconds` is the time actually waited, which is what the message states."""

    def __init__(self, port: str, waiting_for: str, seconds: float):
        super().__init__(
            f"Bộ kit ở {port} không trả lời sau {seconds:.1f} giây (khi chờ {waiting_for}). "
            "Nhấn nút RESET trên kit hoặc rút ra cắm lại, rồi thử lại.",
            f"The kit at {port} did not answer within {seconds:.1f} s (waiting for {waiting_for}). "
            "Press its RESET button or replug it, then try again.",
        )
        self.port, self.waiting_for, self.seconds = port, waiting_for, seconds


class ProgramTimeout(KitError):
    """The program outlived its limit and was stopped; `waited` is when the error was raised."""

    def __init__(self, port: str, limit: float, waited: float):
        super().__init__(
            f"Chương trình trên kit ở {port} chạy quá giới hạn {limit:g} giây nên đã bị dừng "
            f"(sau {waited:.1f} giây). Kiểm tra vòng lặp (có điều kiện dừng không?) hoặc cho phép chạy lâu hơn.",
            f"The program on the kit at {port} ran past its limit of {limit:g} s and was stopped "
            f"(after {waited:.1f} s). Check its loops (do they end?) or allow it more time.",
        )
        self.port, self.limit, self.seconds = port, limit, waited


class ProgramStillRunning(ProgramTimeout):
    """The program outlived its limit and did not stop when interrupted: it runs on."""

    def __init__(self, port: str, limit: float, waited: float):
        KitError.__init__(
            self,
            f"Chương trình trên kit ở {port} chạy quá giới hạn {limit:g} giây và không dừng khi được yêu cầu "
            f"(đã chờ {waited:.1f} giây): nó VẪN ĐANG CHẠY. Nhấn nút RESET trên kit hoặc rút ra cắm lại, "
            "rồi chạy lại ô.",
            f"The program on the kit at {port} ran past its limit of {limit:g} s and did not stop when "
            f"interrupted (waited {waited:.1f} s): it is STILL RUNNING. Press the kit's RESET button or replug "
            "it, then run the cell again.",
        )
        self.port, self.limit, self.seconds = port, limit, waited


class KitDisconnected(KitError):
    def __init__(self, port: str):
        super().__init__(
            f"Bộ kit ở {port} vừa bị ngắt (dây USB lỏng hoặc bị rút). Cắm lại rồi chạy lại ô.",
            f"The kit at {port} was disconnected (cable pulled or loose). Plug it back in and run the cell again.",
        )
        self.port = port


class KitStuck(KitError):
    """A board known to be MicroPython that does not come back to its prompt."""

    def __init__(self, port: str, printing: bool = False):
        doing_vi = "vẫn in ra liên tục và " if printing else ""
        doing_en = "keeps printing and " if printing else ""
        super().__init__(
            f"Bộ kit ở {port} {doing_vi}đang chạy một chương trình không dừng được bằng Ctrl-C (có thể do "
            "micropython.kbd_intr(-1) hoặc main.py). Nhấn nút RESET trên kit hoặc rút ra cắm lại.",
            f"The kit at {port} {doing_en}is running a program that ignores Ctrl-C (micropython.kbd_intr(-1)? a "
            "main.py that never returns?) and cannot be reset from here. Press its RESET button or replug it.",
        )
        self.port, self.printing = port, printing


class KeepsSending(KitStuck):
    """A device never seen at a MicroPython prompt on this link that streams on through Ctrl-C:
    a program that ignores Ctrl-C, or firmware that is not MicroPython. Both are said."""

    def __init__(self, port: str, seen: bytes):
        sample = seen[-60:].decode("utf-8", "replace").replace("\r", "\\r").replace("\n", "\\n")
        KitError.__init__(
            self,
            f"Thiết bị ở {port} gửi dữ liệu liên tục và không dừng khi nhận Ctrl-C (gần nhất: {sample!r}): "
            "có thể kit đang chạy một chương trình chặn Ctrl-C (micropython.kbd_intr(-1) trong main.py), hoặc "
            "thiết bị chưa có firmware MicroPython. Nhấn nút RESET rồi thử lại; nếu vẫn vậy, nhờ kỹ thuật viên "
            "kiểm tra main.py hoặc nạp lại MicroPython.",
            f"The device at {port} keeps sending and does not stop on Ctrl-C (last: {sample!r}): either a "
            "program that ignores Ctrl-C is running (micropython.kbd_intr(-1) in main.py?) or it has no "
            "MicroPython firmware. Press its RESET button and try again; if it still happens, ask the "
            "technician to check main.py or flash MicroPython.",
        )
        self.port, self.printing = port, True


class KitRestarted(KitError):
    """The board restarted by itself (a soft reboot, a reset button): its memory is gone."""

    def __init__(self, port: str, during: str):
        super().__init__(
            f"Bộ kit ở {port} vừa khởi động lại ({during}): các biến và hàm của những ô trước trên kit đã mất. "
            "Chạy lại các ô cần thiết rồi chạy lại ô này.",
            f"The kit at {port} restarted ({during}): what earlier cells set up on the kit is gone. "
            "Run the cells it needs again, then this one.",
        )
        self.port, self.during = port, during


class NotMicroPython(KitError):
    def __init__(self, port: str, seen: bytes):
        sample = seen[-60:].decode("ascii", "replace").replace("\r", "\\r").replace("\n", "\\n")
        super().__init__(
            f"Thiết bị ở {port} không phải MicroPython (hoặc chưa nạp firmware MicroPython). Nhờ kỹ thuật viên nạp lại.",
            f"The device at {port} does not speak MicroPython's REPL (no MicroPython firmware?); last bytes: "
            f"{sample!r}. Ask the technician to flash MicroPython.",
        )
        self.port = port


class NoFilesystem(KitError):
    def __init__(self, port: str):
        super().__init__(
            f"Bộ kit ở {port} không có hệ thống tệp (firmware này không có bộ nhớ flash cho tệp), nên không "
            "chép, đọc hay xóa tệp được. Chạy mã trực tiếp trong ô, hoặc nhờ kỹ thuật viên nạp firmware có "
            "hệ thống tệp.",
            f"The kit at {port} has no filesystem (its firmware keeps no files), so files cannot be copied, "
            "read or removed. Run the code in a cell instead, or ask the technician for firmware with a "
            "filesystem.",
        )
        self.port = port


class FlashFull(KitError):
    def __init__(self, port: str, path: str, size: int, free: int | None):
        left = f"{free} bytes free" if free is not None else "not enough free space"
        super().__init__(
            f"Bộ nhớ flash của kit ở {port} không đủ chỗ cho {path} ({size} byte). Xóa bớt tệp rồi thử lại.",
            f"The kit's flash at {port} has no room for {path} ({size} bytes; {left}). Remove files and try again.",
        )
        self.port, self.path = port, path


TRACEBACK_LINE = re.compile(r'File "([^"]+)", line (\d+)')


class BoardError(KitError):
    """Code raised an exception on the board. `line` is the line in the code that was sent."""

    def __init__(self, traceback_text: str, line_offset: int = 0):
        self.traceback = traceback_text.strip()
        last = self.traceback.splitlines()[-1] if self.traceback else "Error"
        self.exc_type, _, self.message = last.partition(":")
        self.exc_type, self.message = self.exc_type.strip(), self.message.strip()
        lines = [int(n) for name, n in TRACEBACK_LINE.findall(self.traceback) if name == "<stdin>"]
        self.line = lines[-1] - line_offset if lines else None
        where = f" (dòng / line {self.line})" if self.line else ""
        super().__init__(f"Lỗi trên kit{where}: {last}", f"Error on the kit{where}: {last}")
        self.args = (self.traceback_for_user(line_offset),)

    def traceback_for_user(self, line_offset: int) -> str:
        def shift(m: re.Match[str]) -> str:
            name, n = m.group(1), int(m.group(2))
            return f'File "{"cell" if name == "<stdin>" else name}", line {n - line_offset if name == "<stdin>" else n}'

        return TRACEBACK_LINE.sub(shift, self.traceback)
