"""Analysed tracks: the Library's whole-file analyses.

Revision ID: 0003
Revises: 0002
Create Date: 2025-12-02

One row per audio file the user added to the Library, keyed by its absolute path. ``size`` and
``mtime_ns`` tell at once whether the file changed since it was analysed; ``fingerprint`` is the
SHA-256 of the file's size (8 bytes, little-endian), its first MiB and its last MiB (the whole
file once when it is shorter than 2 MiB): a fast content fingerprint that recognises a file that
was only touched or copied, without reading all of it. It is not a hash of the whole file.

``analysis_version`` is the version of the analysis that filled the row; a newer Hookline
analyses the file again. A file that could not be analysed keeps its row with ``error`` set and
the results empty. Beats, sections, chords and the waveform overview are JSON lists.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analysed_tracks",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("path", sa.String(4096), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mtime_ns", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("analysed_at", sa.DateTime(), nullable=False),
        sa.Column("analysis_version", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("sample_rate", sa.Integer(), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=True),
        sa.Column("tempo_bpm", sa.Float(), nullable=True),
        sa.Column("tempo_confidence", sa.Float(), nullable=True),
        sa.Column("key_tonic", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(16), nullable=True),
        sa.Column("key_confidence", sa.Float(), nullable=True),
        sa.Column("camelot", sa.String(4), nullable=True),
        sa.Column("tuning_cents", sa.Float(), nullable=True),
        sa.Column("loudness_lufs", sa.Float(), nullable=True),
        sa.Column("loudness_range_lu", sa.Float(), nullable=True),
        sa.Column("true_peak_dbtp", sa.Float(), nullable=True),
        sa.Column("sample_peak_dbfs", sa.Float(), nullable=True),
        sa.Column("energy", sa.Float(), nullable=True),
        sa.Column("danceability", sa.Float(), nullable=True),
        sa.Column("brightness", sa.Float(), nullable=True),
        sa.Column("dc_offset", sa.Float(), nullable=True),
        sa.Column("leading_silence_s", sa.Float(), nullable=True),
        sa.Column("trailing_silence_s", sa.Float(), nullable=True),
        sa.Column("beats", sa.JSON(), nullable=True),
        sa.Column("sections", sa.JSON(), nullable=True),
        sa.Column("chords", sa.JSON(), nullable=True),
        sa.Column("envelope", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_analysed_tracks"),
        sa.UniqueConstraint("path", name="uq_analysed_tracks_path"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("analysed_tracks")
