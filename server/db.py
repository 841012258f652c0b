"""The server's tables (SQLAlchemy Core) and its database engine.

Times are Unix seconds (floats); ``events.day`` is the Unix day number (seconds // 86400, UTC).
Identifiers of users, teams and projects are 32 lowercase hex digits. Tokens and invitation
tokens are stored only as SHA-256 hex digests.

Schema versions: :func:`create_schema` creates every missing table and records
:data:`SCHEMA_VERSION` in ``meta``; a database with a newer version is refused (an older server
must not write to it), an older one is upgraded step by step by :data:`UPGRADES` inside one
transaction. Version 2 added ``team_stats`` (a new table: ``create_all`` makes it, the step only
records the version).

SQLite runs in WAL mode with ``synchronous`` FULL by default and every write transaction starts
with ``BEGIN IMMEDIATE`` (the per-project lock of a push); PostgreSQL pushes lock the project row
with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
)

SCHEMA_VERSION = 2

metadata = MetaData()
_Id = String(32)
_Hash = String(64)
# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (autoincrement).
_BigId = BigInteger().with_variant(Integer(), "sqlite")

meta = Table(
    "meta", metadata, Column("key", String(64), primary_key=True), Column("value", String(200))
)
users = Table(
    "users",
    metadata,
    Column("id", _Id, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)
access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_hash", _Hash, primary_key=True),
    Column("user_id", _Id, ForeignKey("users.id"), nullable=False),
    Column("family_id", _Id, nullable=False, index=True),
    Column("expires_at", Float, nullable=False),
)
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", _Hash, primary_key=True),
    Column("user_id", _Id, ForeignKey("users.id"), nullable=False),
    Column("family_id", _Id, nullable=False, index=True),
    Column("expires_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)
teams = Table(
    "teams",
    metadata,
    Column("id", _Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)
memberships = Table(
    "memberships",
    metadata,
    Column("team_id", _Id, ForeignKey("teams.id"), primary_key=True),
    Column("user_id", _Id, ForeignKey("users.id"), primary_key=True, index=True),
    Column("role", String(16), nullable=False),
)
invitations = Table(
    "invitations",
    metadata,
    Column("token_hash", _Hash, primary_key=True),
    Column("team_id", _Id, ForeignKey("teams.id"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_by", _Id, ForeignKey("users.id"), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Column("used_by", _Id),
)
projects = Table(
    "projects",
    metadata,
    Column("id", _Id, primary_key=True),
    Column("team_id", _Id, ForeignKey("teams.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("revision", BigInteger, nullable=False, default=0),
    Column("snapshot_revision", BigInteger, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)
updates = Table(
    "updates",
    metadata,
    Column("project_id", _Id, ForeignKey("projects.id"), primary_key=True),
    Column("revision", BigInteger, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
snapshots = Table(
    "snapshots",
    metadata,
    Column("project_id", _Id, ForeignKey("projects.id"), primary_key=True),
    Column("revision", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
)
blobs = Table(
    "blobs",
    metadata,
    Column("sha256", _Hash, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)
team_blobs = Table(
    "team_blobs",
    metadata,
    Column("team_id", _Id, ForeignKey("teams.id"), primary_key=True),
    Column("sha256", _Hash, ForeignKey("blobs.sha256"), primary_key=True, index=True),
    Column("created_at", Float, nullable=False),
)
team_stats = Table(  # a member's shared artist statistics (protocol.clean_stats_snapshot)
    "team_stats",
    metadata,
    Column("team_id", _Id, ForeignKey("teams.id"), primary_key=True),
    Column("user_id", _Id, ForeignKey("users.id"), primary_key=True),
    Column("shared_at", Float, nullable=False),
    Column("data", Text, nullable=False),
)
events = Table(
    "events",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("day", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # push, pull, blob_put, blob_get, login
    Column("team_id", _Id),
    Column("user_id", _Id),
    Column("project_id", _Id),
    Column("count", Integer, nullable=False, default=0),  # updates pushed or pulled
    Column("bytes", BigInteger, nullable=False, default=0),
)
Index("events_team_day", events.c.team_id, events.c.day)


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine with this server's connection settings (see the module docstring)."""
    if url.startswith("sqlite"):
        if sqlite_synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"sqlite_synchronous: FULL, NORMAL or EXTRA, not {sqlite_synchronous}")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 60},
            pool_size=20,
            max_overflow=40,
        )
        synchronous = sqlite_synchronous.upper()

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            immediate = connection.get_execution_options().get("sqlite_immediate", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that reads then writes: on SQLite it begins ``IMMEDIATE`` (the write lock
    first, waiting up to the busy timeout), since a plain ``BEGIN`` that reads and then writes
    fails at once with "database is locked" when another connection committed in between."""
    with engine.connect().execution_options(sqlite_immediate=True) as c, c.begin():
        yield c


def create_schema(engine: Engine) -> None:
    """Create missing tables and check or record the schema version."""
    metadata.create_all(engine)
    with engine.begin() as connection:
        row = connection.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
        if row is None:
            version = str(SCHEMA_VERSION)
            connection.execute(meta.insert().values(key="schema_version", value=version))
        elif int(row.value) > SCHEMA_VERSION:
            raise RuntimeError(
                f"the database has schema version {row.value}; this server knows {SCHEMA_VERSION}"
            )
        elif int(row.value) < SCHEMA_VERSION:
            for step in range(int(row.value) + 1, SCHEMA_VERSION + 1):
                for statement in UPGRADES.get(step, ()):
                    connection.exec_driver_sql(statement)
            connection.execute(
                meta.update()
                .where(meta.c.key == "schema_version")
                .values(value=str(SCHEMA_VERSION))
            )


UPGRADES: dict[int, tuple[str, ...]] = {
    2: (),  # team_stats is a new table: create_all above made it
}
"""Per schema version, the SQL that brings a database from the version before up to it (beyond
the new tables ``create_all`` makes); run in order, in one transaction."""
