"""Artist statistics imported from Spotify for Artists CSV exports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10

``stats_points`` holds one number per (kind, entity, resolution, day, metric): kind is
``audience`` (the artist's own timeline; entity ``""``), ``song`` (entity: the song's title, or its
ISRC when the file has no title) or ``playlist`` (entity: the playlist's title). ``resolution`` is
``daily`` for a value of that day, or ``period`` for a total over a period that ends on ``day``
(exports without a date column). ``metric`` is ``listeners``, ``streams``, ``followers`` or
``saves``. A re-import replaces a value in place (the primary key is the upsert key), so it never
adds a second row. The table is ``WITHOUT ROWID`` (one B-tree keyed by the primary key, half
the writes of a rowid table plus index). ``import_id`` names the import that last wrote the value.

``stats_imports`` records every import: the file, its SHA-256, and how many rows were read and
rejected and how many values were added, replaced or found unchanged. ``stats_entities`` keeps
what the songs and playlists exports say about a song or playlist besides numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_imports",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("file_name", sa.String(4096), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("resolution", sa.String(8), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("values_added", sa.Integer(), nullable=False),
        sa.Column("values_updated", sa.Integer(), nullable=False),
        sa.Column("values_unchanged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stats_imports"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "stats_points",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("entity", sa.String(500), nullable=False),
        sa.Column("resolution", sa.String(8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["stats_imports.id"],
            name="fk_stats_points_import_id_stats_imports",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint(
            "kind", "entity", "resolution", "day", "metric", name="pk_stats_points"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "stats_entities",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("entity", sa.String(500), nullable=False),
        sa.Column("isrc", sa.String(32), nullable=True),
        sa.Column("author", sa.String(500), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("date_added", sa.Date(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["stats_imports.id"],
            name="fk_stats_entities_import_id_stats_imports",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("kind", "entity", name="pk_stats_entities"),
    )


def downgrade() -> None:
    op.drop_table("stats_entities")
    op.drop_table("stats_points")
    op.drop_table("stats_imports")
