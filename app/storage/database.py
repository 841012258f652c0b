"""The user's database: one SQLite file in WAL mode, opened and migrated in one step.

:func:`open_database` never deletes, recreates or "repairs" an existing file. Before SQLite is
allowed to change anything it checks, with a plain connection that writes nothing, that the file
is a whole SQLite database made by a Hookline that this build understands; otherwise it raises
:class:`~app.storage.errors.StorageError` and leaves the file exactly as it was. Before a schema
upgrade it writes a backup copy next to the file; the upgrade itself is one transaction.

Every connection runs with ``journal_mode=WAL``, ``synchronous=FULL`` (a commit that returned is
on disk, even if the power fails a moment later), ``foreign_keys=ON`` and a busy timeout.

Thread contract: :func:`open_database` and :meth:`Database.close` run on the main thread. The
engine is thread-safe: any thread may open its own :meth:`Database.session`; a session and the
objects it returns stay on the thread that opened it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from app.storage import migrate
from app.storage.errors import StorageError, StorageProblem, message_for, storage_error

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
SQLITE_MAGIC = b"SQLite format 3\x00"
_BEGIN_OPTION = "hookline_begin"
_FOREIGN_KEYS_OPTION = "hookline_foreign_keys"


class Database:
    """An open database. Get one from :func:`open_database`; :meth:`close` it at exit."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self._path = path
        self._engine = engine
        self._reader = engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
        self._unchecked = engine.execution_options(**{_FOREIGN_KEYS_OPTION: False})
        self._closed = False

    @property
    def path(self) -> Path:
        return self._path

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def closed(self) -> bool:
        return self._closed

    @contextmanager
    def session(self, *, check_foreign_keys: bool = True) -> Iterator[Session]:
        """A session in one write transaction (``BEGIN IMMEDIATE``), committed when the block
        ends without an exception and rolled back otherwise. The commit is durable on return.

        ``check_foreign_keys=False`` turns SQLite's per-row foreign-key checks off for this
        transaction only (every transaction sets the pragma before it begins): for bulk writes
        whose keys are valid by construction, such as a statistics import whose rows all name
        the import row it has just inserted. Failures caused by the file or the machine are
        raised as :class:`StorageError`.
        """
        engine = self._engine if check_foreign_keys else self._unchecked
        with self._session(engine) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: a consistent snapshot that never blocks writers."""
        with self._session(self._reader) as session:
            yield session

    def revision(self) -> str | None:
        """The schema revision stamped in the file (None only for a file not yet migrated)."""
        with self.read_session() as session:
            revisions = migrate.current_revisions(session.connection())
        return revisions[0] if revisions else None

    def check_integrity(self) -> list[str]:
        """SQLite's full integrity check: an empty list when the file is sound, otherwise the
        problems it found. Reads the whole file, so run it off the main thread on big files."""
        with self.read_session() as session:
            lines = [str(r[0]) for r in session.execute(text("PRAGMA integrity_check"))]
        return [] if lines == ["ok"] else lines

    def close(self) -> None:
        """Close every connection (SQLite then folds the WAL back into the file). Idempotent."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    @contextmanager
    def _session(self, engine: Engine) -> Iterator[Session]:
        if self._closed:
            raise RuntimeError("the database is closed")
        session = Session(engine, expire_on_commit=False)
        try:
            with session.begin():
                yield session
        except Exception as exc:
            error = storage_error(exc, self._path)
            if error is None or error is exc:
                raise
            raise error from exc
        finally:
            session.close()


def open_database(path: Path) -> Database:
    """Open (creating it if needed) and upgrade the database at ``path``.

    Raises :class:`StorageError` when the file is not a database, is damaged or truncated, was
    made by another program or by a newer Hookline, or cannot be opened or written. In every
    such case the file is left untouched. An empty file counts as a new database.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _as_storage_error(exc, path) from exc
    current = _inspect_file(path)
    engine = _create_engine(path)
    if current is not None and current == migrate.head_revision():
        log.info("database %s open at revision %s", path, current)
        return Database(path, engine)  # up to date: no migration, no Alembic import
    try:
        with engine.begin() as connection:
            _check_revisions(connection, path)  # again, now under the write lock
            if current is not None and current != migrate.head_revision():
                _backup(path, current)
            migrate.upgrade(connection)
            revision = migrate.current_revisions(connection)
    except BaseException as exc:
        engine.dispose()
        error = storage_error(exc, path)
        if error is None or error is exc:
            raise
        raise error from exc
    log.info("database %s open at revision %s", path, ", ".join(revision))
    return Database(path, engine)


def _create_engine(path: Path) -> Engine:
    engine = create_engine(URL.create("sqlite", database=str(path)))
    event.listen(engine, "connect", _configure_connection)
    event.listen(engine, "begin", _begin)
    return engine


def _configure_connection(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are begun by _begin, not by the sqlite3 module's implicit BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL mode (journal_mode=%s); continuing", mode)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock at BEGIN, so a transaction that reads and then writes never
    # fails half-way with "database is locked"; read sessions ask for a plain (deferred) BEGIN.
    options = connection.get_execution_options()
    # SQLite ignores this pragma inside a transaction, so it is set before every BEGIN: a
    # connection back in the pool never keeps the checks off.
    checks = "ON" if options.get(_FOREIGN_KEYS_OPTION, True) else "OFF"
    connection.exec_driver_sql(f"PRAGMA foreign_keys = {checks}")
    mode = options.get(_BEGIN_OPTION, "IMMEDIATE")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def _inspect_file(path: Path) -> str | None:
    """Check an existing file without changing it; return its schema revision, if any."""
    try:
        if path.is_dir():
            raise IsADirectoryError(str(path))
        if not path.exists() or path.stat().st_size == 0:
            return None
        _check_header(path)
        with closing(sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)) as connection:
            tables = {
                r[0]
                for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            revisions: list[str] = []
            if migrate.VERSION_TABLE in tables:
                revisions = [
                    str(r[0])
                    for r in connection.execute(f"SELECT version_num FROM {migrate.VERSION_TABLE}")
                ]
    except (sqlite3.Error, OSError) as exc:
        raise _as_storage_error(exc, path) from exc
    _refuse_unknown(path, revisions, tables - {migrate.VERSION_TABLE})
    return revisions[0] if revisions else None


def _check_header(path: Path) -> None:
    """Reject files whose header is not SQLite's, or that are shorter than the header says.

    Skipped while a rollback journal or WAL file holds data: after a crash the main file may be
    mid-write, and only SQLite's own recovery (which replays committed data) can judge it."""
    if _holds_data(path.with_name(path.name + "-journal"), 0) or _holds_data(
        path.with_name(path.name + "-wal"), 32
    ):
        return
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise StorageError(
            message_for(StorageProblem.NOT_A_DATABASE, path), StorageProblem.NOT_A_DATABASE, path
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    # The page count is trustworthy only when SQLite stamped it with the current change counter.
    count_valid = page_count > 0 and header[24:28] == header[92:96]
    if count_valid and (size < page_count * page_size or size % page_size):
        raise StorageError(message_for(StorageProblem.DAMAGED, path), StorageProblem.DAMAGED, path)


def _holds_data(path: Path, header_bytes: int) -> bool:
    try:
        return path.stat().st_size > header_bytes
    except FileNotFoundError:
        return False


def _check_revisions(connection: Connection, path: Path) -> None:
    revisions = list(migrate.current_revisions(connection))
    _refuse_unknown(path, revisions, set(migrate.foreign_tables(connection)))


def _refuse_unknown(path: Path, revisions: list[str], other_tables: set[str]) -> None:
    newer = [r for r in revisions if r not in migrate.known_revisions()]
    if newer:
        raise StorageError(
            message_for(StorageProblem.NEWER_VERSION, path, detail=", ".join(newer)),
            StorageProblem.NEWER_VERSION,
            path,
        )
    if not revisions and other_tables:
        raise StorageError(
            message_for(StorageProblem.NOT_HOOKLINE, path), StorageProblem.NOT_HOOKLINE, path
        )


def _backup(path: Path, revision: str) -> Path:
    """Copy the database (consistently, through SQLite) before its schema is upgraded."""
    backup = path.with_name(f"{path.stem}.r{revision}.bak{path.suffix}")
    partial = backup.with_name(backup.name + ".partial")
    try:
        partial.unlink(missing_ok=True)  # our own leftover from an interrupted backup
        with (
            closing(sqlite3.connect(str(path))) as source,
            closing(sqlite3.connect(str(partial))) as target,
        ):
            source.backup(target)
        os.replace(partial, backup)
    except (sqlite3.Error, OSError) as exc:
        raise _as_storage_error(exc, backup) from exc
    log.info("backed up %s (revision %s) to %s before upgrading", path, revision, backup)
    return backup


def _as_storage_error(exc: BaseException, path: Path) -> StorageError:
    error = storage_error(exc, path)
    if error is not None:
        return error
    return StorageError(message_for(StorageProblem.IO, path), StorageProblem.IO, path)
