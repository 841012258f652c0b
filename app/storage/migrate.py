"""Schema migrations, run in code at open: no ``alembic.ini`` is needed at run time.

The migration scripts live in ``app/storage/migrations/`` and ship inside the package. Every
function here takes a connection that is already inside a transaction, so the whole upgrade
(every step and the new version stamp) commits at once or not at all.

Thread contract: called by :func:`app.storage.open_database`, on the thread that opens it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code; ``connection`` is handed to ``env.py`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def known_revisions() -> frozenset[str]:
    """Every revision this build of Hookline knows how to read."""
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(s.revision for s in script.walk_revisions())


@cache
def head_revision() -> str:
    """The newest revision this build creates."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found in " + str(MIGRATIONS_DIR))
    return head


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions stamped in the database (empty for a new database)."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


def unknown_revisions(connection: Connection) -> tuple[str, ...]:
    """Stamped revisions this build does not know: a newer Hookline wrote the database."""
    return tuple(r for r in current_revisions(connection) if r not in known_revisions())


def foreign_tables(connection: Connection) -> list[str]:
    """Tables in an unstamped database: non-empty means another program made the file."""
    if current_revisions(connection):
        return []
    return [t for t in inspect(connection).get_table_names() if t != VERSION_TABLE]


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` inside the caller's transaction."""
    command.upgrade(alembic_config(connection), revision)
