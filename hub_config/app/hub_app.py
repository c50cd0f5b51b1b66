"""The hub process: JupyterHub itself, with its start-up made to scale to a province.

JupyterHub's init_users ends by loading every user, with their roles, groups and shares eagerly
(the relationships are `selectin`), only to call Authenticator.add_user on each and to fill a
missing creation date: 5.5 s of the hub's start for 100,000 users on 2 cores, every start.
Here that one query loads the users alone (SQLAlchemy's `lazyload("*")`; anything add_user
touches still loads on access): 1 s.

A class logging in at once makes the hub commit a few rows per student (tokens, OAuth codes,
activity), each an fsync on SQLite's default journal, on the hub's one thread: 2 of the 5 seconds
its event loop was busy in a 40-student storm. A SQLite hub database runs in WAL mode with
`synchronous=NORMAL` (a commit is durable once the log is checkpointed; a crash of the hub loses
nothing, a power cut at most the last moments' activity). Everything else is JupyterHub's own code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jupyterhub import orm
from jupyterhub.app import JupyterHub
from sqlalchemy import event
from sqlalchemy.orm import lazyload


def write_ahead_logging(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class StemlabHub(JupyterHub):
    def init_db(self) -> None:
        super().init_db()
        if self.db_url.startswith("sqlite:///") and not self.db_url.endswith(":memory:"):
            engine = self.db.get_bind()
            event.listen(engine, "connect", write_ahead_logging)
            self.db.close()
            engine.dispose()  # connections made before the listener: made again with it

    async def init_users(self) -> None:
        session = self.db
        query: Callable[..., Any] = session.query

        def users_without_their_relations(*entities: Any, **kwargs: Any) -> Any:
            found = query(*entities, **kwargs)
            return found.options(lazyload("*")) if entities == (orm.User,) else found

        session.query = users_without_their_relations
        try:
            await super().init_users()
        finally:
            del session.query

    async def init_spawners(self) -> Any:
        initialized = await super().init_spawners()
        warm_up = getattr(self.spawner_class, "warm_up", None)
        if warm_up is not None:  # the warm process, ready before the first class logs in
            warm_up(self.config, self.log)
        return initialized


main = StemlabHub.launch_instance

if __name__ == "__main__":
    main()
