"""Find a school's people by an index: a province's hub holds ~100,000 accounts of ~600 schools,
and every class page, pre-start and roster of a school asked for them by school and role.

Revision ID: 0002
Revises: 0001
Created: 2026-12-07
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_stemlab_accounts_school_role", "stemlab_accounts", ["school", "role"])


def downgrade() -> None:
    op.drop_index("ix_stemlab_accounts_school_role", table_name="stemlab_accounts")
