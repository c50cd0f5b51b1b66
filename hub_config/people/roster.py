"""Read a school roster (CSV in UTF-8 with or without BOM, or XLSX) into checked entries.

Nothing here writes anything: a roster is either entirely valid (a list of entries) or
rejected with every problem listed by line number (RosterError).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from hub_config.site.errors import RosterError
from hub_config.people.logins import CITIZEN_ID, ascii_fold, normalize_name
from hub_config.people.schools import SITE_SCHOOL, ClassRef, school_code
from hub_config.people.roles import ROLE_ALIASES, Role

ROLES = tuple(Role)
K = TypeVar("K", bound=str)  # a canonical name: a header's field, or a Role

# Accepted header spellings (compared without accents, case or punctuation).
HEADER_ALIASES = {
    "person_id": ["student id", "id", "ma hoc sinh", "ma hs", "ma dinh danh", "ma", "ma so", "ma gv", "ma nguoi dung"],
    "full_name": ["full name", "name", "ho va ten", "ho ten", "ten"],
    "classes": ["class", "classes", "lop", "cac lop", "lop day"],
    "role": ["role", "vai tro", "chuc vu"],
    # the student's code in the school's grade system, when the ID column holds something else
    "grade_code": ["grade code", "ma nhap diem", "ma smas", "ma vnedu", "ma so diem"],
    # the person's school, on a roster that holds several (or the import's --school)
    "school": ["school", "truong", "ma truong", "ten truong", "don vi", "co so"],
}
PERSON_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
CLASS_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._/-]{0,15}$")
NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*$")


@dataclass(frozen=True)
class RosterEntry:
    line: int
    person_id: str
    full_name: str
    role: Role
    classes: tuple[str, ...]
    grade_code: str = ""  # as the roster gave it; empty: the ID is the grade-system code
    school: str = SITE_SCHOOL  # its code
    school_name: str = ""  # the school as the roster wrote it, when that was more than its code

    @property
    def class_refs(self) -> tuple[ClassRef, ...]:
        return tuple(ClassRef(self.school, c) for c in self.classes)

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(ref.group for ref in self.class_refs)


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_fold(text).lower()).split())


def _lookup(aliases: Mapping[K, list[str]], value: str) -> K | None:
    wanted = _key(value)
    for canonical, spellings in aliases.items():
        if wanted == canonical.replace("_", " ") or wanted in spellings:
            return canonical
    return None


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Rows with their 1-based line (CSV) or row (XLSX) number, header first."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix not in (".csv", ".txt"):
        raise RosterError(str(path), [f"không đọc được loại tệp {suffix!r}: dùng .csv (UTF-8) hoặc .xlsx / unknown file type {suffix!r}: use .csv (UTF-8) or .xlsx"])
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise RosterError(str(path), [f"không mở được tệp / cannot read the file: {err.strerror}"]) from err
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise RosterError(
            str(path),
            [
                f"line {line}: not UTF-8 text. In Excel choose 'Save as' > 'CSV UTF-8 (Comma delimited)', "
                "or import the .xlsx file directly"
            ],
        ) from err
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows = []
    for fields in reader:
        rows.append((reader.line_num, fields))
    return rows


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as err:
        raise RosterError(str(path), [f"không phải tệp Excel .xlsx đọc được / not a readable .xlsx workbook ({err})"]) from err
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, ["" if v is None else _cell_text(v) for v in values]))
        return rows
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    # Excel stores IDs typed as numbers as floats: 1234.0 must stay "1234".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_roster(path: str | Path, school: str | None = None) -> list[RosterEntry]:
    """The roster's people. `school` (a code) is the school the whole file is for; without it, a
    School column names each person's, and a roster with neither is the site's own school."""
    path = Path(path)
    rows = [(n, [f.strip() for f in fields]) for n, fields in _read_rows(path)]
    rows = [(n, fields) for n, fields in rows if any(fields)]
    if not rows:
        raise RosterError(str(path), ["tệp trống: cần một dòng tiêu đề và mỗi người một dòng / the file is empty: expected a header row and one row per person"])
    header_line, header = rows[0]
    columns: dict[str, int] = {}
    problems: list[str] = []
    for index, title in enumerate(header):
        canonical = _lookup(HEADER_ALIASES, title)
        if canonical and canonical not in columns:
            columns[canonical] = index
    for required in ("person_id", "full_name", "classes"):
        if required not in columns:
            problems.append(
                f"dòng {header_line}: thiếu cột {required!r}; dòng tiêu đề cần có 'Mã học sinh', 'Họ và tên', "
                "'Lớp' và (nếu cần) 'Vai trò' / "
                f"line {header_line}: no column for {required!r}; the header must name "
                "'Mã học sinh' (student id), 'Họ và tên' (full name), 'Lớp' (class) and optionally 'Vai trò' (role). "
                f"Found: {', '.join(header)}"
            )
    if problems:
        raise RosterError(str(path), problems)

    entries: list[RosterEntry] = []
    first_seen: dict[str, int] = {}
    for line, fields in rows[1:]:
        entry, row_problems = _parse_row(line, fields, columns, school)
        problems.extend(row_problems)
        if entry is None:
            continue
        key = entry.person_id.upper()
        if key in first_seen:
            problems.append(f"dòng {line}: mã {entry.person_id} đã có ở dòng {first_seen[key]} / "
                            f"line {line}: ID {entry.person_id} is already on line {first_seen[key]}")
            continue
        first_seen[key] = line
        entries.append(entry)
    if problems:
        raise RosterError(str(path), problems)
    if not entries:
        raise RosterError(str(path), ["tệp có dòng tiêu đề nhưng không có ai / the file has a header but no people"])
    return entries


def _field(fields: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    if index is None or index >= len(fields):
        return ""
    return unicodedata.normalize("NFC", fields[index])


def _school_of(line: int, written: str, school: str | None, problems: list[str]) -> str:
    if not written:
        return SITE_SCHOOL if school is None else school
    try:
        code = school_code(written)
    except ValueError:
        problems.append(f"dòng {line}: {written!r} không phải mã trường (chữ và số, ví dụ thpt-quy-nhon) / "
                        f"line {line}: {written!r} is not a school code (letters and digits, e.g. thpt-quy-nhon)")
        return SITE_SCHOOL
    if school is not None and code != school:
        problems.append(f"dòng {line}: trường {code} khác trường của lần nhập này ({school or 'trường của hệ thống'}) / "
                        f"line {line}: school {code} is not the school this import is for "
                        f"({school or 'the site school'}); split the file by school, or import without --school")
    return code


def _parse_row(line: int, fields: list[str], columns: dict[str, int],
               school: str | None = None) -> tuple[RosterEntry | None, list[str]]:
    problems: list[str] = []
    school_of_row = _school_of(line, _field(fields, columns, "school").strip(), school, problems)
    person_id = _field(fields, columns, "person_id").strip()
    if not PERSON_ID.match(person_id):
        problems.append(
            f"dòng {line}: mã {person_id!r} trống hoặc có kí tự khác chữ, số, '.', '_', '-' / "
            f"line {line}: ID {person_id!r} is empty or has characters other than letters, digits, '.', '_', '-'"
        )
    full_name = normalize_name(_field(fields, columns, "full_name"))
    if not full_name or not NAME_CHARS.match(full_name):
        problems.append(f"dòng {line}: họ tên {full_name!r} trống hoặc có chữ số, kí hiệu / "
                        f"line {line}: full name {full_name!r} is empty or contains digits or symbols")
    role_text = _field(fields, columns, "role").strip() or "student"
    role = _lookup(ROLE_ALIASES, role_text)
    if role is None:
        problems.append(
            f"dòng {line}: không rõ vai trò {role_text!r} / "
            f"line {line}: unknown role {role_text!r}; use học sinh/student, giáo viên/teacher, "
            "kỹ thuật viên/technician or quản trị/admin"
        )
    classes = tuple(c for c in (p.strip() for p in re.split(r"[;,]", _field(fields, columns, "classes"))) if c)
    for name in classes:
        if not CLASS_NAME.match(name):
            problems.append(f"dòng {line}: {name!r} không phải tên lớp như 10A1 hay 6/1 / "
                            f"line {line}: class {name!r} is not a class name like 10A1 or 6/1")
    if role == Role.STUDENT and len(classes) != 1:
        problems.append(f"dòng {line}: mỗi học sinh thuộc đúng một lớp (thấy {len(classes)}) / "
                        f"line {line}: a student belongs to exactly one class (found {len(classes)})")
    if role == Role.TEACHER and not classes:
        problems.append(f"dòng {line}: giáo viên cần ghi các lớp mình dạy, cách nhau bằng ';' / "
                        f"line {line}: a teacher needs the classes they teach, separated by ';'")
    code = _field(fields, columns, "grade_code").strip()
    if code and not PERSON_ID.match(code):
        problems.append(f"dòng {line}: mã nhập điểm {code!r} chỉ được có chữ, số, '.', '_', '-' / "
                        f"line {line}: grade-system code {code!r} has characters other than letters, digits, '.', '_', '-'")
    elif CITIZEN_ID.match(code):
        problems.append(f"dòng {line}: mã nhập điểm {code} giống số CCCD 12 chữ số; hãy dùng mã học sinh của trường / "
                        f"line {line}: grade-system code {code} looks like a 12-digit citizen ID; use the school's "
                        "own student code (vnEdu, SMAS), or leave the column empty")
    if problems:
        return None, problems
    assert role is not None
    written = _field(fields, columns, "school").strip()
    name = written if written and written != school_of_row else ""
    return RosterEntry(line, person_id, full_name, role, classes, code, school_of_row, name), []
