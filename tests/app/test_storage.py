"""The database file: pragmas, refusals that leave the file untouched, errors a user can act on."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from app.storage import (
    BlobRow,
    Database,
    StorageError,
    StorageProblem,
    migrate,
    open_database,
)
from app.storage.errors import problem_of, storage_error

pytestmark = pytest.mark.usefixtures("english")


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _make_real_database(path: Path, payload_rows: int = 0) -> None:
    """A database made by this build (WAL, checkpointed and closed), optionally with data."""
    db = open_database(path)
    with db.session() as session:
        for i in range(payload_rows):
            session.add(
                BlobRow(
                    sha256=f"{i:064x}",
                    size=i,
                    media_type="audio/flac" + "x" * 200,
                    created_at=datetime.now(UTC),
                )
            )
    db.close()


def test_new_database_is_in_wal_mode_with_durable_pragmas(database: Database) -> None:
    with database.session() as session:
        pragma = {
            name: session.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 10_000,
    }  # synchronous 2 == FULL
    database.close()
    header = database.path.read_bytes()[:20]
    assert header[18:20] == b"\x02\x02"  # file format versions 2 = WAL, persisted in the file


def test_reopen_keeps_data_and_revision(db_path: Path) -> None:
    _make_real_database(db_path, payload_rows=3)
    db = open_database(db_path)
    try:
        assert db.revision() == migrate.head_revision()
        with db.read_session() as session:
            assert session.scalar(select(func.count()).select_from(BlobRow)) == 3
        assert db.check_integrity() == []
    finally:
        db.close()
    db.close()  # idempotent


def test_session_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(ZeroDivisionError), database.session() as session:
        session.add(
            BlobRow(sha256="a" * 64, size=1, media_type="audio/wav", created_at=datetime.now(UTC))
        )
        session.flush()
        raise ZeroDivisionError
    with database.read_session() as session:
        assert session.scalar(select(func.count()).select_from(BlobRow)) == 0


def test_foreign_key_checks_are_off_only_for_the_session_that_asks(database: Database) -> None:
    with database.session() as session:
        session.execute(
            text(
                "INSERT INTO stats_series (id, kind, entity, resolution, metric) "
                "VALUES (1, 'song', 'x', 'daily', 'streams')"
            )
        )
    orphan = text(  # import 999 does not exist
        "INSERT INTO stats_points (series_id, day, value, source, import_id) "
        "VALUES (1, :day, 1, 'csv', 999)"
    )
    with database.session(check_foreign_keys=False) as session:
        session.execute(orphan, {"day": 20000})
    # The same pooled connection, next transaction: the checks are back on.
    for day in range(3):
        with pytest.raises(IntegrityError, match="FOREIGN KEY"), database.session() as session:
            session.execute(orphan, {"day": day})
    with database.read_session() as session:
        days = session.execute(text("SELECT day FROM stats_points")).scalars().all()
    assert days == [20000]


def test_closed_database_refuses_sessions(database: Database) -> None:
    database.close()
    with pytest.raises(RuntimeError), database.session():
        pass


def test_writers_on_many_threads_wait_for_each_other(database: Database) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(25):
                with database.session() as session:
                    count = session.scalar(select(func.count()).select_from(BlobRow)) or 0
                    session.add(
                        BlobRow(
                            sha256=f"{worker:02d}{i:062d}",
                            size=count,
                            media_type="audio/wav",
                            created_at=datetime.now(UTC),
                        )
                    )
        except BaseException as exc:  # reported below, with the thread's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.read_session() as session:
        sizes = sorted(session.scalars(select(BlobRow.size)))
    assert sizes == list(range(100))  # read-then-write never raced: each saw all before it


def test_empty_file_is_initialised(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    db = open_database(db_path)
    try:
        assert db.revision() == migrate.head_revision()
    finally:
        db.close()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(os.urandom(8192), id="random-bytes"),
        pytest.param(b"Verse 1\nI wrote my lyrics in the wrong file\n" * 50, id="text-file"),
        pytest.param(b"SQLite format 3", id="shorter-than-a-header"),
    ],
)
def test_file_that_is_not_a_database_is_refused_and_untouched(
    db_path: Path, content: bytes
) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(StorageError) as info:
        open_database(db_path)
    assert info.value.problem is StorageProblem.NOT_A_DATABASE
    assert str(db_path) in str(info.value)
    assert db_path.read_bytes() == content
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name]


def test_sqlite_header_with_garbage_behind_it_is_refused_and_untouched(db_path: Path) -> None:
    _make_real_database(db_path)
    real = db_path.read_bytes()
    damaged = real[:100] + os.urandom(len(real) - 100)
    db_path.write_bytes(damaged)
    with pytest.raises(StorageError) as info:
        open_database(db_path)
    assert info.value.problem in (StorageProblem.NOT_A_DATABASE, StorageProblem.DAMAGED)
    assert db_path.read_bytes() == damaged


@pytest.mark.parametrize("keep", [0.5, 0.9, 4096 + 17])
def test_truncated_database_is_refused_and_untouched(db_path: Path, keep: float) -> None:
    _make_real_database(db_path, payload_rows=200)
    real = db_path.read_bytes()
    assert len(real) > 8 * 4096
    cut = int(len(real) * keep) if keep < 1 else int(keep)
    db_path.write_bytes(real[:cut])
    before = _fingerprint(db_path)
    with pytest.raises(StorageError) as info:
        open_database(db_path)
    assert info.value.problem is StorageProblem.DAMAGED
    assert "damaged" in str(info.value)
    assert _fingerprint(db_path) == before


def test_database_from_a_newer_hookline_is_refused_and_untouched(db_path: Path) -> None:
    _make_real_database(db_path, payload_rows=5)
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
        raw.execute("CREATE TABLE future_things (id INTEGER PRIMARY KEY)")
    raw.close()
    before = _fingerprint(db_path)
    with pytest.raises(StorageError) as info:
        open_database(db_path)
    assert info.value.problem is StorageProblem.NEWER_VERSION
    assert "newer version of Hookline" in str(info.value)
    assert "0099_from_the_future" in str(info.value)
    assert _fingerprint(db_path) == before
    assert not list(db_path.parent.glob("*.bak*")), "no backup, no upgrade, no downgrade"


def test_database_of_another_program_is_refused_and_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as raw:
        raw.execute("CREATE TABLE songs (title TEXT)")
        raw.execute("INSERT INTO songs VALUES ('not ours')")
    raw.close()
    before = _fingerprint(db_path)
    with pytest.raises(StorageError) as info:
        open_database(db_path)
    assert info.value.problem is StorageProblem.NOT_HOOKLINE
    assert _fingerprint(db_path) == before  # not even switched to WAL


def test_folder_in_place_of_the_file_is_a_clear_error(db_path: Path) -> None:
    db_path.mkdir(parents=True)
    with pytest.raises(StorageError) as info:
        open_database(db_path)
    assert info.value.problem is StorageProblem.NO_ACCESS
    assert str(db_path) in str(info.value)


def test_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    # A folder mode that root ignores would make this test skip under CI; /proc refuses new
    # files to every user, root included.
    with pytest.raises(StorageError) as info:
        open_database(Path("/proc/self/hookline.sqlite3"))
    assert info.value.problem is StorageProblem.NO_ACCESS


def test_full_disk_is_reported_and_nothing_saved_is_lost(database: Database) -> None:
    with database.session() as session:
        session.add(
            BlobRow(sha256="0" * 64, size=1, media_type="audio/wav", created_at=datetime.now(UTC))
        )

    def limit(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA max_page_count = 1")  # SQLite then says "disk full"

    event.listen(database.engine, "connect", limit)
    database.engine.dispose()
    with pytest.raises(StorageError) as info, database.session() as session:
        for i in range(1, 200):
            session.add(
                BlobRow(
                    sha256=f"{i:064x}", size=i, media_type="x" * 250, created_at=datetime.now(UTC)
                )
            )
    assert info.value.problem is StorageProblem.DISK_FULL
    assert "full" in str(info.value)
    event.remove(database.engine, "connect", limit)
    database.engine.dispose()
    with database.read_session() as session:
        assert list(session.scalars(select(BlobRow.size))) == [1]


def test_sqlite_error_codes_map_to_problems() -> None:
    def error(name: str) -> sqlite3.Error:
        exc = sqlite3.OperationalError(name.lower())
        exc.sqlite_errorname = name  # type: ignore[attr-defined]
        return exc

    assert problem_of(error("SQLITE_NOTADB")) is StorageProblem.NOT_A_DATABASE
    assert problem_of(error("SQLITE_CORRUPT_INDEX")) is StorageProblem.DAMAGED
    assert problem_of(error("SQLITE_READONLY_DIRECTORY")) is StorageProblem.NO_ACCESS
    assert problem_of(error("SQLITE_IOERR_FSYNC")) is StorageProblem.IO
    assert problem_of(error("SQLITE_BUSY_SNAPSHOT")) is StorageProblem.BUSY
    assert problem_of(error("SQLITE_CONSTRAINT_UNIQUE")) is None  # a bug, not the disk
    assert problem_of(PermissionError(13, "denied")) is StorageProblem.NO_ACCESS
    assert problem_of(ValueError("bug")) is None
    assert storage_error(ValueError("bug"), None) is None
