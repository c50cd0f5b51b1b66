"""Roster files: good ones in every accepted shape, bad ones rejected whole with line numbers."""

import unicodedata

import pytest

from hub_config.site.errors import RosterError
from hub_config.people.roster import parse_roster

GOOD = [
    ["HS001", "Nguyễn Văn An", "10A1", "học sinh"],
    ["HS002", "Đỗ Thị Bích Đào", "10A1", ""],
    ["GV001", "Trần Thị Hạnh", "10A1; 10A2", "giáo viên"],
    ["KT001", "Lê Văn Đạt", "", "kỹ thuật viên"],
]


@pytest.mark.parametrize("fmt,bom,delimiter", [("csv", True, ","), ("csv", False, ","), ("csv", True, ";"), ("xlsx", False, ",")])
def test_good_roster_in_every_shape(write_roster, fmt, bom, delimiter):
    entries = parse_roster(write_roster("lop", GOOD, fmt=fmt, bom=bom, delimiter=delimiter))
    assert [e.role for e in entries] == ["student", "student", "teacher", "technician"]
    assert entries[1].full_name == "Đỗ Thị Bích Đào"
    assert entries[2].classes == ("10A1", "10A2")
    assert entries[2].groups == ("class-10a1", "class-10a2")
    assert [e.line for e in entries] == [2, 3, 4, 5]


def test_english_headers_and_roles(write_roster):
    path = write_roster("en", [["T1", "Jane Doe", "11B", "teacher"]], header=("student_id", "full_name", "class", "role"))
    assert parse_roster(path)[0].role == "teacher"


def test_names_are_stored_in_nfc(write_roster):
    decomposed = unicodedata.normalize("NFD", "Nguyễn  Thị   Hoà")
    entry = parse_roster(write_roster("nfd", [["HS9", decomposed, "6/1", ""]]))[0]
    assert entry.full_name == unicodedata.normalize("NFC", "Nguyễn Thị Hoà")
    assert entry.groups == ("class-6-1",)


def test_every_bad_row_is_reported_with_its_line(write_roster):
    rows = [
        ["HS001", "Nguyễn Văn An", "10A1", ""],
        ["", "Không Có Mã", "10A1", ""],  # line 3: no ID
        ["HS003", "Tên 123", "10A1", ""],  # line 4: digits in name
        ["HS004", "Lê Văn Bình", "10A1", "hiệu trưởng"],  # line 5: unknown role
        ["HS005", "Phạm Văn Cường", "", ""],  # line 6: student without class
        ["HS001", "Trùng Mã", "10A1", ""],  # line 7: duplicate of line 2
        ["GV9", "Cô Giáo", "", "giáo viên"],  # line 8: teacher without classes
    ]
    with pytest.raises(RosterError) as err:
        parse_roster(write_roster("bad", rows))
    text = str(err.value)
    for line in (3, 4, 5, 6, 7, 8):
        assert f"line {line}:" in text
    assert "line 2:" not in text
    assert "already on line 2" in text
    assert "no account was changed" in text


def test_missing_column_names_what_is_expected(write_roster):
    with pytest.raises(RosterError, match="no column for 'classes'"):
        parse_roster(write_roster("nocol", [["HS1", "An"]], header=("Mã học sinh", "Họ và tên")))


def test_not_utf8_says_how_to_save(tmp_path):
    path = tmp_path / "ansi.csv"
    path.write_bytes("Mã học sinh,Họ và tên,Lớp\nHS1,Nguyễn An,10A1\n".encode("cp1258", errors="replace").replace(b"?", b"\xe0\xff"))
    with pytest.raises(RosterError, match="CSV UTF-8"):
        parse_roster(path)


def test_empty_and_wrong_type(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(RosterError, match="empty"):
        parse_roster(empty)
    with pytest.raises(RosterError, match="unknown file type"):
        parse_roster(tmp_path / "roster.pdf")


def test_corrupt_xlsx(tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RosterError, match="not a readable .xlsx"):
        parse_roster(bad)
