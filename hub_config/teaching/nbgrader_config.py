"""nbgrader's configuration for the site and for each offering, written as data (JSON, which
nbgrader reads beside its Python configuration files), never generated as Python source."""

from __future__ import annotations

import json
import os
import pwd
import shutil
from pathlib import Path
from typing import Any

from autograders.feedback import feedback_config
from autograders.limits import Limits
from autograders.preprocessors import autograde_config

from hub_config.teaching.exchange import FACTORY as EXCHANGE_FACTORY
from hub_config.teaching.exchange_client import FACTORY as SERVICE_FACTORY

COURSE_CONFIG = "nbgrader_config.json"
PYTHON_CONFIG = "nbgrader_config.py"  # earlier releases wrote the offering's as Python: removed
SITE_RULE = Path(__file__).with_name("site_nbgrader_rule.py")
# What a student finds in an answer cell of a released notebook: nbgrader's own stubs are English
# only ("# YOUR CODE HERE"), and a Vietnamese screen must not greet a student in English.
CODE_STUB = ("# Viết câu trả lời của em vào đây / Write your answer here\n"
             "raise NotImplementedError(\"Em chưa trả lời câu này / not answered yet\")")
TEXT_STUB = "Viết câu trả lời của em vào đây. / Write your answer here."
STUBS = {"ClearSolutions": {"code_stub": {"python": CODE_STUB}, "text_stub": TEXT_STUB}}


def course_config(course_id: str, root: Path, db_url: str, exchange_root: Path, confined: bool,
                  limits: Limits) -> dict[str, dict[str, Any]]:
    """An offering's course directory: its course is fixed, and enrolment comes from rosters, so it
    need not ask JupyterHub for courses (which it could not: it runs as a service, not as a hub
    user). Autograding runs each notebook in the grading sandbox, and what it flags reaches the
    gradebook."""
    config: dict[str, dict[str, Any]] = {
        **autograde_config(), **feedback_config(), **STUBS,
        "SandboxedExecute": {"unconfined_ok": not confined,
                             "limiter_class": "hub_config.system.limits.CgroupLimiter",
                             "timeout": int(limits.cell_seconds), "wall_seconds": float(limits.wall_seconds)},
        "Authenticator": {"plugin_class": "nbgrader.auth.NoAuthPlugin"},
        "CourseDirectory": {"course_id": course_id, "root": str(root), "db_url": db_url},
        "Exchange": {"root": str(exchange_root)},
    }
    return config


def site_config(exchange_root: Path, titles: dict[str, str], production: bool,
                exchange_url: str | None = None) -> dict[str, dict[str, Any]]:
    """What every server and formgrader shares: the exchange, courses from JupyterHub groups, our
    exchange classes. With a folder exchange, owner checks by mode (production: one Linux account
    per student, so a submission's owner must be the student it names; demo: every server shares
    one account, so nbgrader's own check would call every honest submission a possible cheat).
    With the exchange service (`exchange_url`), the service names each submission after the login
    that sent it: no owner to check in a grader's private copy."""
    factory = SERVICE_FACTORY if exchange_url else EXCHANGE_FACTORY
    checks_owner = production and not exchange_url
    config: dict[str, dict[str, Any]] = {
        "Exchange": {"root": str(exchange_root), "path_includes_course": True},
        "Authenticator": {"plugin_class": "nbgrader.auth.JupyterHubAuthPlugin"},
        "NbGrader": {"course_titles": titles},
        "ExchangeFactory": {role: f"{cls.__module__}.{cls.__name__}" for role, cls in factory.items()},
        "OwnerCheckedCollect": {"quarantine_forged": checks_owner},
        "ExchangeCollect": {"check_owner": checks_owner},
    }
    if exchange_url:
        config["ServiceMirror"] = {"url": exchange_url}
    return config


def write_json(path: Path, config: dict[str, dict[str, Any]], owner: tuple[int, int] | None, mode: int) -> None:
    """Whole or not at all: a reader never meets half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
    if owner:
        os.chown(tmp, *owner)
    tmp.chmod(mode)
    tmp.replace(path)


def write_course_config(root: Path, config: dict[str, dict[str, Any]], grader: str | None) -> None:
    owner = None
    if grader:  # the offering's nbgrader runs as its grader account, which alone reads it
        entry = pwd.getpwnam(grader)
        owner = (entry.pw_uid, entry.pw_gid)
    write_json(root / COURSE_CONFIG, config, owner, 0o600)
    (root / PYTHON_CONFIG).unlink(missing_ok=True)


def write_site_config(folder: Path, config: dict[str, dict[str, Any]]) -> None:
    write_json(folder / COURSE_CONFIG, config, None, 0o644)
    rule = folder / PYTHON_CONFIG
    shutil.copyfile(SITE_RULE, rule)
    rule.chmod(0o644)
