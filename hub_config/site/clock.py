"""The school's clock: due dates are typed, and shown, in the school's local time.

nbgrader keeps due dates and submission times as naive UTC, and takes a due date given without a
zone as UTC: "07:00" typed in Gia Lai would fall due at 14:00 there. Everything a person types or
reads goes through here instead.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub_config.site.errors import StemlabError

SCHOOL_TIMEZONE = "Asia/Ho_Chi_Minh"


def school_zone(name: str = SCHOOL_TIMEZONE) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise StemlabError(f"Múi giờ {name!r} không có.", f"Unknown time zone {name!r}: use a name such as "
                           f"{SCHOOL_TIMEZONE} (install Debian's tzdata if it is missing).") from err


def parse_local(text: str, zone: ZoneInfo) -> dt.datetime:
    """A date and time as a person types it ('2025-12-01T07:00', '2025-12-01 07:00'), in the
    school's zone unless it names its own; returned aware."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise StemlabError(f"Thời hạn {text!r} không đúng dạng.", f"{text!r} is not a date and time: "
                           "use the form 2025-12-01T07:00") from err
    return when if when.tzinfo else when.replace(tzinfo=zone)


def from_utc(naive_utc: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """nbgrader's naive UTC time in the school's zone."""
    return naive_utc.replace(tzinfo=dt.timezone.utc).astimezone(zone)


def shown(when: dt.datetime | None, zone: ZoneInfo) -> str:
    """As a Vietnamese school writes it: '07:00 01/12/2025' (naive times are nbgrader's UTC)."""
    if when is None:
        return ""
    local = from_utc(when, zone) if when.tzinfo is None else when.astimezone(zone)
    return local.strftime("%H:%M %d/%m/%Y")
