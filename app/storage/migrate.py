"""Schema migrations, run in code at open: no ``alembic.ini`` is needed at run time.

The migration scripts live in ``app/storage/migrations/`` and ship inside the package. Every
function here takes a connection that is already inside a transaction, so the whole upgrade
(every step and the new version stamp) commits at once or not at all.

Thread contract: called by :func:`app.storage.open_database`, on the thread that opens it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only when a database needs an upgrade (or a check under the write lock):
# an up-to-date database opens without it, which saves start-up time and memory.

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code; ``connection`` is handed to ``env.py`` if given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


_REVISION_LINE = re.compile(r'^(down_)?revision(?::[^=]*)?=\s*(?:"([^"]*)"|None)', re.MULTILINE)


@cache
def _revision_graph() -> dict[str, str | None]:
    """revision -> down_revision, read from the scripts' text (no Alembic import needed)."""
    graph: dict[str, str | None] = {}
    for script in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = {bool(m.group(1)): m.group(2) for m in _REVISION_LINE.finditer(script.read_text())}
        if found.get(False):
            graph[str(found[False])] = found.get(True)
    return graph


@cache
def known_revisions() -> frozenset[str]:
    """Every revision this build of Hookline knows how to read."""
    return frozenset(_revision_graph())


@cache
def head_revision() -> str:
    """The newest revision this build creates (the one no other revision builds on)."""
    graph = _revision_graph()
    heads = set(graph) - {down for down in graph.values() if down}
    if len(heads) != 1:
        raise RuntimeError(f"expected one head revision in {MIGRATIONS_DIR}, found {heads}")
    return heads.pop()


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions stamped in the database (empty for a new database)."""
    from alembic.runtime.migration import MigrationContext

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
    from alembic import command

    command.upgrade(alembic_config(connection), revision)
