"""Offering a course to a class: its own nbgrader course, the class enrolled, groups for the hub."""

import json
import subprocess

import pytest
from jupyterhub import orm as hub_orm
from nbgrader.api import Gradebook

from hub_config.people.accounts import open_session
from hub_config.people.roster_import import apply_roster
from hub_config.teaching.catalog import load_catalog
from hub_config.site.errors import StemlabError
from hub_config.teaching.offerings import current_school_year, list_offerings, offer, split_name
from hub_config.site.paths import DataDir
from hub_config.people.roster import parse_roster

from ..conftest import FILES, STEMLAB


@pytest.fixture
def site(tmp_path):
    data = DataDir(tmp_path / "var").ensure()
    url = f"sqlite:///{data.hub_db}"
    apply_roster(data, url, parse_roster(FILES / "two_classes.csv"))
    return data, url


def group_members(url, name):
    session = open_session(url)
    try:
        return sorted(u.name for u in hub_orm.Group.find(session, name).users)
    finally:
        session.close()


def test_offer_creates_course_dir_gradebook_and_groups(site):
    data, url = site
    course = load_catalog().course("python-co-ban")
    o = offer(data, url, course, "10A1", "THPT Mẫu", "2025-2026")
    assert o.id == "python-co-ban-10a1-2025-2026"
    assert (o.root / "source").resolve() == (course.root / "source").resolve(), "one source of truth"
    config = json.loads((o.root / "nbgrader_config.json").read_text())  # data, not generated Python
    assert config["CourseDirectory"]["course_id"] == o.id and not (o.root / "nbgrader_config.py").exists()
    with Gradebook(o.gradebook_url, course_id=o.id) as gb:
        names = sorted(f"{s.first_name} {s.last_name}" for s in gb.students)
    assert names == ["Lê Hoàng Anh", "Phạm Minh Châu"]
    assert len(group_members(url, o.student_group)) == 2
    assert len(group_members(url, o.grader_group)) == 1 and group_members(url, o.grader_group)[0].startswith("gv")
    assert o.counts() == {"students": 2, "released": 0, "submissions": 0}


def test_offering_again_is_idempotent_and_offerings_sit_side_by_side(site):
    data, url = site
    course = load_catalog().course("python-co-ban")
    first = offer(data, url, course, "10A1", "THPT Mẫu", "2025-2026")
    again = offer(data, url, course, "10A1", "THPT Mẫu", "2025-2026")
    other = offer(data, url, course, "10A2", "THPT Mẫu", "2025-2026")
    assert first == again
    assert [o.id for o in list_offerings(data)] == [first.id, other.id]
    assert set(group_members(url, first.student_group)).isdisjoint(group_members(url, other.student_group))


def test_bad_offers_are_clear_and_change_nothing(site):
    data, url = site
    course = load_catalog().course("python-co-ban")
    with pytest.raises(StemlabError, match="No class 11B9 with students"):
        offer(data, url, course, "11B9", "THPT Mẫu", "2025-2026")
    with pytest.raises(StemlabError, match="must look like 2025-2026"):
        offer(data, url, course, "10A1", "THPT Mẫu", "2025-2027")
    assert list_offerings(data) == []
    with pytest.raises(StemlabError, match="No course 'hoa-hoc'"):
        load_catalog().course("hoa-hoc")


def test_helpers():
    assert split_name("Nguyễn Văn An") == ("Nguyễn Văn", "An")
    assert split_name("An") == ("", "An")
    import datetime as dt
    assert current_school_year(dt.date(2026, 11, 27)) == "2026-2027"
    assert current_school_year(dt.date(2026, 3, 1)) == "2025-2026"


def test_offer_and_list_commands(site):
    data, _ = site
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([STEMLAB, "courses", "offer", "python-co-ban", "--class", "10A2", "--year", "2025-2026",
                             "--data", str(data.root)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "python-co-ban-10a2-2025-2026" in result.stdout
    listing = subprocess.run([STEMLAB, "courses", "list", "--data", str(data.root)], capture_output=True, text=True, env=env)
    assert "python-co-ban-10a2-2025-2026" in listing.stdout and "10A2" in listing.stdout




def test_grading_limits_from_the_settings_reach_every_offering(site, tmp_path):
    """[grading] in stemlab.toml sets what nbgrader's own execution step gets (the formgrader's
    button in demo mode) as it sets the grading runner's, and a hub start brings every offering up to date."""
    from traitlets.config.loader import JSONFileConfigLoader

    from autograders.limits import Limits
    from hub_config.site.settings import load_settings
    from hub_config.teaching.offerings import write_site_nbgrader_config

    data, url = site
    o = offer(data, url, load_catalog().course("python-co-ban"), "10A1", "THPT Mẫu", "2025-2026",
              limits=Limits(wall_seconds=77, cell_seconds=7))

    def executor() -> dict:
        loaded = JSONFileConfigLoader("nbgrader_config.json", path=str(o.root)).load_config()
        return dict(loaded.SandboxedExecute)

    assert executor()["timeout"] == 7 and executor()["wall_seconds"] == 77
    (tmp_path / "stemlab.toml").write_text("[grading]\nnotebook_seconds = 120\ncell_seconds = 12\n", encoding="utf-8")
    settings = load_settings(tmp_path / "stemlab.toml", {"data_dir": str(data.root)}).settings
    assert settings.grading_limits() == Limits(wall_seconds=120, cell_seconds=12)
    write_site_nbgrader_config(data, False, settings.grading_limits())
    assert executor()["timeout"] == 12 and executor()["wall_seconds"] == 120


def test_nbgrader_failures_are_read_as_records_not_scraped(site):
    """An nbgrader command's errors come back as records of its log (teaching/nbgrader_run.py):
    the teacher sees nbgrader's own words for a release that cannot be built, and a run that
    only warns succeeds with its warnings."""
    import logging

    from hub_config.teaching.loop import run_nbgrader
    from hub_config.teaching.nbgrader_run import read_messages

    data, url = site
    o = offer(data, url, load_catalog().course("python-co-ban"), "10A1", "THPT Mẫu", "2025-2026")
    with pytest.raises(StemlabError) as failed:
        run_nbgrader(data, o, "generate_assignment", "khong-co-bai-nay", "--force")
    assert "generate_assignment failed for " + o.id in str(failed.value)
    assert "khong-co-bai-nay" in str(failed.value), "nbgrader's own message names what is missing"
    messages = run_nbgrader(data, o, "db", "student", "list")
    assert all(not m.is_error for m in messages)
    broken = o.reports_dir / "broken.jsonl"
    broken.write_text('{"level": 30, "source": "NbGraderApp", "text": "careful"}\nnot a record\n')
    assert [(m.level, m.text) for m in read_messages(broken)] == [(logging.WARNING, "careful"),
                                                                   (logging.ERROR, "not a record")]


def test_nbgrader_reads_our_configuration_as_data(site):
    """nbgrader itself, in the offering's folder, finds the course, our exchange classes and our
    grading steps from the JSON we wrote, and a student's server takes the hub's name for the student."""
    import os
    import sys

    from autograders.limits import Limits
    from hub_config.teaching.offerings import write_site_nbgrader_config

    data, url = site
    o = offer(data, url, load_catalog().course("python-co-ban"), "10A1", "THPT Mẫu", "2025-2026")
    write_site_nbgrader_config(data, False, Limits())
    probe = ("from nbgrader.apps.nbgraderapp import NbGraderApp\nfrom nbgrader.coursedir import CourseDirectory\n"
             "app = NbGraderApp()\napp.load_config_file()\nc = app.config\n"
             "print(c.CourseDirectory.course_id, c.Exchange.root, c.ExchangeFactory.collect,"
             " c.Autograde.autograde_preprocessors[0], CourseDirectory(config=c).student_id)")
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(data.jupyter_config_dir), JUPYTERHUB_USER="hs-an")
    out = subprocess.run([sys.executable, "-c", probe], cwd=o.root, env=env, capture_output=True, text=True)
    course_id, exchange, collect, first_step, student = out.stdout.split()
    assert course_id == o.id and exchange == str(data.exchange_dir), out.stderr
    assert collect.startswith("hub_config.teaching.exchange.") and first_step.endswith("SandboxedExecute")
    assert student == "hs-an"
