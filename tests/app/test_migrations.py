"""Schema migrations: from nothing, from the previous revision with real data, and in step with
the models."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pycrdt
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.projects import ProjectStore
from app.storage import Base, migrate, open_database

pytestmark = pytest.mark.usefixtures("english")


def _database_at(path: Path, revision: str) -> None:
    """A database migrated only up to ``revision``, as an older Hookline left it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            migrate.upgrade(connection, revision)
    finally:
        engine.dispose()


def _lyrics_update(text: str) -> bytes:
    doc: pycrdt.Doc[object] = pycrdt.Doc()
    with doc.transaction():
        doc.get("meta", type=pycrdt.Map)["name"] = "Old song"
        doc.get("lyrics", type=pycrdt.Text).insert(0, text)
    return doc.get_update()


def test_migrations_are_a_single_line_ending_at_head() -> None:
    assert migrate.known_revisions() == {
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
    }
    assert migrate.head_revision() == "0008"


def test_upgrade_from_empty_creates_every_table(db_path: Path) -> None:
    db = open_database(db_path)
    try:
        assert db.revision() == migrate.head_revision()
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "projects",
            "project_updates",
            "blobs",
            "analysed_tracks",
            "stats_imports",
            "stats_points",
            "stats_entities",
            "alembic_version",
        } <= tables
    finally:
        db.close()


def test_models_match_the_migrated_schema(db_path: Path) -> None:
    db = open_database(db_path)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diffs = compare_metadata(context, Base.metadata)
        assert diffs == []
    finally:
        db.close()


def test_upgrade_from_0001_keeps_every_row(db_path: Path) -> None:
    _database_at(db_path, "0001")
    update = _lyrics_update("Written before the trash existed")
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        columns = {r[1] for r in raw.execute("PRAGMA table_info(projects)")}
        assert "deleted_at" not in columns
        raw.execute(
            "INSERT INTO projects (id, name, created_at, updated_at) VALUES "
            "('6f1c0d2e-7b1a-4c55-9d0e-3f4a5b6c7d8e', 'Old song', "
            "'2024-05-01 10:00:00.000000', '2024-05-02 11:30:00.000000')"
        )
        raw.execute(
            "INSERT INTO project_updates (project_id, data, created_at) VALUES "
            "('6f1c0d2e-7b1a-4c55-9d0e-3f4a5b6c7d8e', ?, '2024-05-02 11:30:00.000000')",
            (update,),
        )
    raw.close()

    db = open_database(db_path)
    try:
        assert db.revision() == migrate.head_revision()
        inspector = inspect(db.engine)
        assert "blobs" in inspector.get_table_names()
        assert "deleted_at" in {c["name"] for c in inspector.get_columns("projects")}
        store = ProjectStore(db)
        [info] = store.list()
        assert (info.name, info.deleted_at) == ("Old song", None)
        assert info.updated_at.isoformat() == "2024-05-02T11:30:00+00:00"
        project = store.open(info.id)
        assert str(project.lyrics) == "Written before the trash existed"
        assert project.warnings == []
        project.close()
    finally:
        db.close()

    # The old file was copied before the upgrade, and the copy is still at 0001.
    backup = db_path.with_name("hookline.r0001.bak.sqlite3")
    with sqlite3.connect(backup) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        assert raw.execute("SELECT data FROM project_updates").fetchone() == (update,)
    raw.close()


def test_upgrade_from_0002_keeps_every_row_and_adds_the_library(db_path: Path) -> None:
    _database_at(db_path, "0002")
    with sqlite3.connect(db_path) as raw:
        assert "analysed_tracks" not in {
            r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        raw.execute(
            "INSERT INTO projects (id, name, created_at, updated_at, deleted_at) VALUES "
            "('0b5c7e3a-1d2f-4a6b-8c9d-0e1f2a3b4c5d', 'Binned song', "
            "'2024-05-01 10:00:00.000000', '2024-05-02 11:30:00.000000', "
            "'2024-05-03 09:00:00.000000')"
        )
        raw.execute(
            "INSERT INTO blobs (sha256, size, media_type, created_at) VALUES "
            "(?, 12, 'audio/wav', '2024-05-01 10:00:00.000000')",
            ("ab" * 32,),
        )
    raw.close()

    db = open_database(db_path)
    try:
        assert db.revision() == migrate.head_revision()
        store = ProjectStore(db)
        [info] = store.trash()
        assert info.name == "Binned song"
        assert info.deleted_at is not None
        with db.read_session() as session:
            from app.storage import AnalysedTrackRow, BlobRow

            [blob] = session.query(BlobRow).all()
            assert (blob.size, blob.media_type) == (12, "audio/wav")
            assert session.query(AnalysedTrackRow).count() == 0
        with db.session() as session:
            from datetime import UTC, datetime

            session.add(
                AnalysedTrackRow(
                    path="/music/song.wav",
                    size=10,
                    mtime_ns=5,
                    analysed_at=datetime.now(UTC),
                    analysis_version=1,
                    beats=[0.5, 1.0],
                    chords=[{"start_s": 0.0, "end_s": 1.0, "name": "Am"}],
                )
            )
        with db.read_session() as session:
            row = session.query(AnalysedTrackRow).one()
            assert row.beats == [0.5, 1.0]
            assert row.chords == [{"start_s": 0.0, "end_s": 1.0, "name": "Am"}]
    finally:
        db.close()
    backup = db_path.with_name("hookline.r0002.bak.sqlite3")
    assert backup.exists()


def test_upgrade_from_0003_keeps_analyses_and_adds_downbeats(db_path: Path) -> None:
    _database_at(db_path, "0003")
    with sqlite3.connect(db_path) as raw:
        raw.execute(
            "INSERT INTO analysed_tracks (path, size, mtime_ns, analysed_at, analysis_version, "
            "tempo_bpm, beats) VALUES ('/music/old.wav', 10, 5, '2025-12-02 10:00:00.000000', "
            "1, 120.0, '[0.5, 1.0, 1.5]')"
        )
    raw.close()
    db = open_database(db_path)
    try:
        assert db.revision() == migrate.head_revision()
        from app.storage import AnalysedTrackRow

        with db.read_session() as session:
            row = session.query(AnalysedTrackRow).one()
            assert (row.path, row.tempo_bpm, row.beats) == (
                "/music/old.wav",
                120.0,
                [0.5, 1.0, 1.5],
            )
            assert (row.beats_per_bar, row.downbeats, row.analysis_version) == (None, None, 1)
    finally:
        db.close()
    assert db_path.with_name("hookline.r0003.bak.sqlite3").exists()


_OLD_POINTS = [  # stats_points as 0005-0007 kept them: the whole key as text
    ("audience", "", "daily", "2025-01-01", "streams", 300.0, "csv", None),
    ("audience", "", "daily", "2025-01-02", "streams", 302.0, "csv", None),
    ("audience", "", "daily", "2025-01-01", "listeners", 100.0, "csv", None),
    ("song", "Ünïcode 🎵", "daily", "1999-12-31", "streams", 7.5, "csv", None),
    ("song", "Ünïcode 🎵", "period", "2026-06-30", "streams", 1e12, "csv", None),
]


def test_upgrade_from_0007_moves_stats_to_series_keys_and_back(db_path: Path) -> None:
    _database_at(db_path, "0007")
    with sqlite3.connect(db_path) as raw:
        raw.executemany(
            "INSERT INTO stats_points (kind, entity, resolution, day, metric, value, source, "
            "import_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _OLD_POINTS,
        )
    raw.close()
    db = open_database(db_path)
    try:
        assert db.revision() == migrate.head_revision()
        from app.stats_store import StatsStore

        stats = StatsStore(db)
        assert stats.series("audience", "", "streams") == [
            (date(2025, 1, 1), 300.0),
            (date(2025, 1, 2), 302.0),
        ]
        assert stats.series("audience", "", "listeners") == [(date(2025, 1, 1), 100.0)]
        assert stats.series("song", "Ünïcode 🎵", "streams") == [(date(1999, 12, 31), 7.5)]
        assert stats.series("song", "Ünïcode 🎵", "streams", resolution="period") == [
            (date(2026, 6, 30), 1e12)
        ]
        with db.read_session() as session:
            from sqlalchemy import text

            assert session.execute(text("SELECT COUNT(*) FROM stats_series")).scalar() == 4
            tables = set(inspect(db.engine).get_table_names())
            assert "stats_points_0007" not in tables
    finally:
        db.close()
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.begin() as connection:
            from alembic import command

            command.downgrade(migrate.alembic_config(connection), "0007")
            rows = connection.exec_driver_sql(
                "SELECT kind, entity, resolution, day, metric, value, source, import_id "
                "FROM stats_points"
            ).all()
            assert sorted(tuple(r) for r in rows) == sorted(_OLD_POINTS)
            assert "stats_series" not in inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_cascade_from_0001_still_works_after_upgrade(db_path: Path) -> None:
    _database_at(db_path, "0001")
    db = open_database(db_path)
    try:
        store = ProjectStore(db)
        project = store.create("Gone soon")
        project.close()
        store.delete(project.id)
        store.purge(project.id)
        with db.engine.connect() as connection:
            left = connection.exec_driver_sql("SELECT COUNT(*) FROM project_updates").scalar()
        assert left == 0
    finally:
        db.close()


def test_downgrade_and_upgrade_again(db_path: Path) -> None:
    """Every migration can be undone, so a developer can step back while writing the next."""
    db = open_database(db_path)
    with db.engine.begin() as connection:
        migrate.upgrade(connection, "head")  # nothing to do
    db.close()
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.begin() as connection:
            from alembic import command

            command.downgrade(migrate.alembic_config(connection), "0001")
            assert migrate.current_revisions(connection) == ("0001",)
            assert "blobs" not in inspect(connection).get_table_names()
    finally:
        engine.dispose()
    db = open_database(db_path)
    assert db.revision() == migrate.head_revision()
    db.close()


def test_the_fast_revision_reader_agrees_with_alembic() -> None:
    """Start-up reads revisions from the scripts' text to avoid importing Alembic; that reading
    must match Alembic's own."""
    from alembic.script import ScriptDirectory

    from app.storage import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.known_revisions() == {s.revision for s in script.walk_revisions()}
    assert migrate.head_revision() == script.get_current_head()
