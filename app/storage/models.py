"""The tables, as typed SQLAlchemy models.

The migrations in ``migrations/versions/`` are the source of truth for the schema on disk; these
models must describe exactly what the newest migration creates (a test compares them). When you
change a model, add a migration in the same change.

Times are stored as UTC without a zone (SQLite has no zone-aware type) and come back aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
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
