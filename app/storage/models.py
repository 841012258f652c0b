"""The tables, as typed SQLAlchemy models.

The migrations in ``migrations/versions/`` are the source of truth for the schema on disk; these
models must describe exactly what the newest migration creates (a test compares them). When you
change a model, add a migration in the same change.

Times are stored as UTC without a zone (SQLite has no zone-aware type) and come back aware.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints, so later migrations can find and change them (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time: stored as naive UTC, read back as an aware UTC ``datetime``."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProjectRow(Base):
    """One project (a song). Its content is the sum of its :class:`ProjectUpdateRow` rows.

    ``name`` is a copy of the name in the project document, kept for fast listing.
    ``deleted_at`` is set while the project is in the trash.
    """

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ProjectUpdateRow(Base):
    """One Yjs update of a project's document: one saved edit, one received change, or the
    merge of many after compaction. Replayed in ``id`` order; ids are never reused."""

    __tablename__ = "project_updates"
    __table_args__ = (
        Index("ix_project_updates_project_id_id", "project_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("projects.id", ondelete="CASCADE")
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BlobRow(Base):
    """A file known by its content: stems, bounces and samples referenced from projects by
    their SHA-256. The bytes themselves live in the blob folder, not in the database."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AnalysedTrackRow(Base):
    """One audio file in the Library and what the whole-file analysis found in it.

    ``path`` is absolute and unique. ``size`` + ``mtime_ns`` say cheaply whether the file changed;
    ``fingerprint`` is the SHA-256 of the size (8 bytes, little-endian), the first MiB and the
    last MiB: a fast content fingerprint (not a hash of the whole file) that recognises a file
    whose time changed but whose content did not. ``error`` holds the translated reason for a
    file that could not be analysed (the results are then empty). Loudness values that were not
    measurable (silence) are stored as NULL. ``envelope`` is a small waveform overview:
    ``{"min": [...], "max": [...]}`` over equal slices of the file.
    """

    __tablename__ = "analysed_tracks"
    __table_args__ = (
        UniqueConstraint("path", name="uq_analysed_tracks_path"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(String(4096))
    size: Mapped[int] = mapped_column(Integer)
    mtime_ns: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    analysis_version: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    sample_rate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tempo_bpm: Mapped[float | None] = mapped_column(Float, nullable=True)
    tempo_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    key_tonic: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    key_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    camelot: Mapped[str | None] = mapped_column(String(4), nullable=True)
    tuning_cents: Mapped[float | None] = mapped_column(Float, nullable=True)
    loudness_lufs: Mapped[float | None] = mapped_column(Float, nullable=True)
    loudness_range_lu: Mapped[float | None] = mapped_column(Float, nullable=True)
    true_peak_dbtp: Mapped[float | None] = mapped_column(Float, nullable=True)
    sample_peak_dbfs: Mapped[float | None] = mapped_column(Float, nullable=True)
    energy: Mapped[float | None] = mapped_column(Float, nullable=True)
    danceability: Mapped[float | None] = mapped_column(Float, nullable=True)
    brightness: Mapped[float | None] = mapped_column(Float, nullable=True)
    dc_offset: Mapped[float | None] = mapped_column(Float, nullable=True)
    leading_silence_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    trailing_silence_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    beats: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    beats_per_bar: Mapped[int | None] = mapped_column(Integer, nullable=True)
    downbeats: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    sections: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    chords: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    envelope: Mapped[dict[str, list[float]] | None] = mapped_column(JSON, nullable=True)


class StatsImportRow(Base):
    """One import of a statistics CSV file (see :mod:`app.stats_store`). ``rows_*`` count data
    rows of the file; ``values_*`` count the numbers those rows held: newly stored, replacing a
    different earlier value, or equal to the value already stored."""

    __tablename__ = "stats_imports"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(4096))
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    resolution: Mapped[str] = mapped_column(String(8))
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_rejected: Mapped[int] = mapped_column(Integer)
    values_added: Mapped[int] = mapped_column(Integer)
    values_updated: Mapped[int] = mapped_column(Integer)
    values_unchanged: Mapped[int] = mapped_column(Integer)


class StatsSeriesRow(Base):
    """One series of an artist statistic: ``metric`` of ``entity`` (of ``kind``) at
    ``resolution``. ``resolution`` is ``daily`` (a value per day) or ``period`` (totals over
    periods, each stored on the period's last day). ``entity`` is ``""`` for the artist's own
    audience timeline."""

    __tablename__ = "stats_series"
    __table_args__ = (
        UniqueConstraint("kind", "entity", "resolution", "metric", name="uq_stats_series_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(500))
    resolution: Mapped[str] = mapped_column(String(8))
    metric: Mapped[str] = mapped_column(String(32))


class StatsPointRow(Base):
    """One number of a :class:`StatsSeriesRow` series on ``day`` (whole days since
    1970-01-01). ``WITHOUT ROWID``: the table is one B-tree in (series, day) order."""

    __tablename__ = "stats_points"
    __table_args__ = (
        PrimaryKeyConstraint("series_id", "day", name="pk_stats_points"),
        {"sqlite_with_rowid": False},
    )

    series_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("stats_series.id", ondelete="CASCADE")
    )
    day: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(32))
    import_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("stats_imports.id", ondelete="SET NULL"), nullable=True
    )


class StatsEntityRow(Base):
    """What an export says about a song or playlist besides its numbers."""

    __tablename__ = "stats_entities"
    __table_args__ = (PrimaryKeyConstraint("kind", "entity", name="pk_stats_entities"),)

    kind: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(500))
    isrc: Mapped[str | None] = mapped_column(String(32), nullable=True)
    author: Mapped[str | None] = mapped_column(String(500), nullable=True)
    release_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    date_added: Mapped[date | None] = mapped_column(Date, nullable=True)
    import_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("stats_imports.id", ondelete="SET NULL"), nullable=True
    )


class SpotifySnapshotRow(Base):
    """One Spotify sync (see :mod:`app.spotify.store`)."""

    __tablename__ = "spotify_snapshots"
    __table_args__ = (
        Index("ix_spotify_snapshots_taken_at", "taken_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    account_id: Mapped[str] = mapped_column(String(256))
    account_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    access_level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class SpotifyItemRow(Base):
    """One artist, album or track as a snapshot saw it; ``followers``/``popularity`` NULL when
    the reply did not carry them."""

    __tablename__ = "spotify_items"
    __table_args__ = (
        PrimaryKeyConstraint("snapshot_id", "kind", "spotify_id", name="pk_spotify_items"),
        Index("ix_spotify_items_kind_id", "kind", "spotify_id"),
    )

    snapshot_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("spotify_snapshots.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(24))
    spotify_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(1000))
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    followers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    popularity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class SpotifyStateRow(Base):
    """A small value kept between runs (rate-limit end, last error)."""

    __tablename__ = "spotify_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000))


class SyncAccountRow(Base):
    """The account the user signed in with on a team server. Tokens are in the OS keyring only."""

    __tablename__ = "sync_accounts"

    server_url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SyncProjectRow(Base):
    """A local project shared through a team server (see :mod:`app.sync`).

    ``last_revision`` is the newest server revision applied locally; ``rows_seen`` and
    ``state_vector`` record the project at the sync engine's last clean stop."""

    __tablename__ = "sync_projects"

    project_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    server_url: Mapped[str] = mapped_column(String(2000))
    team_id: Mapped[str] = mapped_column(String(64))
    last_revision: Mapped[int] = mapped_column(Integer)
    rows_seen: Mapped[int] = mapped_column(Integer)
    state_vector: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SyncOutboxRow(Base):
    """One local Yjs update of a shared project not yet acknowledged by the server."""

    __tablename__ = "sync_outbox"
    __table_args__ = (
        Index("ix_sync_outbox_project_id_id", "project_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sync_projects.project_id", ondelete="CASCADE")
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
