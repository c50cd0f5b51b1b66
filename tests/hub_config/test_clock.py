"""Due dates are typed and shown in the school's time zone; nbgrader keeps UTC."""

import datetime as dt

import pytest

from hub_config.site.errors import StemlabError
from hub_config.site.clock import from_utc, parse_local, school_zone, shown
from hub_config.site.settings import SiteSettings


def test_a_due_date_typed_in_gia_lai_is_seven_hours_ahead_of_utc():
    zone = school_zone()
    due = parse_local("2025-12-01T07:00", zone)
    assert due.utcoffset() == dt.timedelta(hours=7)
    assert due.astimezone(dt.timezone.utc).replace(tzinfo=None) == dt.datetime(2025, 12, 1, 0, 0)
    assert parse_local("2025-12-01T07:00+00:00", zone).utcoffset() == dt.timedelta(0), "an explicit zone is kept"
    assert shown(dt.datetime(2025, 12, 1, 0, 0), zone) == "07:00 01/12/2025"
    assert from_utc(dt.datetime(2025, 12, 31, 20, 0), zone).date() == dt.date(2026, 1, 1)


def test_a_mistyped_date_or_zone_is_explained():
    with pytest.raises(StemlabError, match="2025-12-01T07:00"):
        parse_local("1/12 7h", school_zone())
    with pytest.raises(Exception, match="Unknown time zone"):
        SiteSettings(timezone="Asia/Hanoi_City")


def test_release_due_dates_reach_nbgrader_in_utc(tmp_path):
    """The CLI's --due goes to nbgrader as an aware time, which nbgrader stores as UTC."""
    from nbgrader.utils import parse_utc

    due = parse_local("2025-12-01T07:00", school_zone())
    assert parse_utc(due.isoformat()) == dt.datetime(2025, 12, 1, 0, 0)
