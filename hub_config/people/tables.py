"""The platform's own tables in the hub database, beside JupyterHub's: one declarative base for
all of them. Their schema is made and changed by the migrations (hub_config/people/schema.py);
tests/hub_config/test_schema.py holds these models and the migrations to the same schema."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class SchoolName(Base):
    """How a school is called (on grade sheets, offerings): as its roster first wrote it."""

    __tablename__ = "stemlab_schools"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))


def remember_school_names(session: Session, names: dict[str, str]) -> None:
    """Keep a name for each school code that has none yet (a later roster's spelling does not
    rename a school)."""
    for code, name in names.items():
        if code and name and session.get(SchoolName, code) is None:
            session.add(SchoolName(code=code, name=name))


def school_names(session: Session) -> dict[str, str]:
    return {row.code: row.name for row in session.query(SchoolName)}
