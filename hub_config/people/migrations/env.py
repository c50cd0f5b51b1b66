"""Alembic's environment for the platform's own tables (hub_config.people.schema runs it): on the
connection it is given, with a version table of our own beside JupyterHub's `alembic_version`."""

from alembic import context

from hub_config.people.schema import VERSION_TABLE
from hub_config.people.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE,
                  render_as_batch=True)  # SQLite alters a table by copying it
with context.begin_transaction():
    context.run_migrations()
