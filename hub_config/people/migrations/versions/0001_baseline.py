"""The platform's tables as release 0.1.0 made them (before migrations).

A database from 0.1.0 or earlier has these tables but no version table: this revision creates
what is missing (all of it on a fresh database) and adds the columns earlier sites lack, so every
database reaches the same schema by the same path.

Revision ID: 0001
Revises:
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None



def later_account_columns() -> list[sa.Column]:
    """Added to stemlab_accounts after its first release; nullable, so the rows before them stay valid."""
    return [sa.Column("grade_code", sa.String(64), nullable=True), sa.Column("school", sa.String(64), nullable=True)]


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "stemlab_accounts" not in have:
        op.create_table(
            "stemlab_accounts",
            sa.Column("fingerprint", sa.String(64), primary_key=True),
            sa.Column("login", sa.String(64), nullable=False, unique=True),
            sa.Column("full_name", sa.String(255), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("classes", sa.String(1024), nullable=False),
            *later_account_columns(),
            sa.Column("created", sa.DateTime(), nullable=False),
            sa.Column("updated", sa.DateTime(), nullable=False),
        )
    else:
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("stemlab_accounts")}
        with op.batch_alter_table("stemlab_accounts") as table:
            for column in later_account_columns():
                if column.name not in columns:
                    table.add_column(column)
    if "stemlab_first_codes" not in have:
        op.create_table(
            "stemlab_first_codes",
            sa.Column("login", sa.String(64), primary_key=True),
            sa.Column("salt", sa.String(32), nullable=False),
            sa.Column("digest", sa.String(64), nullable=False),
            sa.Column("issued", sa.DateTime(), nullable=False),
        )
    if "stemlab_schools" not in have:
        op.create_table(
            "stemlab_schools",
            sa.Column("code", sa.String(64), primary_key=True),
            sa.Column("name", sa.String(255), nullable=False),
        )


def downgrade() -> None:
    raise NotImplementedError("the baseline is where the platform's history starts: restore a backup instead")
