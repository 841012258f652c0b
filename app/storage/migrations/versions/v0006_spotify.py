"""Spotify snapshots: what the Web API said about the user's artists, albums and tracks, and when.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Spotify serves only the present; history is kept here. ``spotify_snapshots`` has one row per sync
(complete or not): when it ran, the account, the access level the replies showed (``development``
when artist objects came without ``followers``/``popularity``, ``extended`` when with them) and
a status. ``spotify_items`` has one row per object seen in a snapshot: ``kind`` is ``artist``,
``album``, ``track``, ``top_artist``, ``top_track`` or ``artist_top_track``; ``followers`` and
``popularity`` are NULL when the reply did not carry them (never 0 for "absent"). ``details``
holds the few other fields shown (images, release date, owning artist/album ids) as JSON.
``spotify_state`` keeps small values between runs: the time before which the API must not be
called again (a 429's Retry-After), its reason, and the last sync's outcome.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spotify_snapshots",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("account_id", sa.String(256), nullable=False),
        sa.Column("account_name", sa.String(500), nullable=True),
        sa.Column("access_level", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.String(2000), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_spotify_snapshots"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_spotify_snapshots_taken_at", "spotify_snapshots", ["taken_at"])
    op.create_table(
        "spotify_items",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("spotify_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(1000), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("followers", sa.Integer(), nullable=True),
        sa.Column("popularity", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["spotify_snapshots.id"],
            name="fk_spotify_items_snapshot_id_spotify_snapshots",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "kind", "spotify_id", name="pk_spotify_items"),
    )
    op.create_index("ix_spotify_items_kind_id", "spotify_items", ["kind", "spotify_id"])
    op.create_table(
        "spotify_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(2000), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_spotify_state"),
    )


def downgrade() -> None:
    op.drop_table("spotify_state")
    op.drop_index("ix_spotify_items_kind_id", table_name="spotify_items")
    op.drop_table("spotify_items")
    op.drop_index("ix_spotify_snapshots_taken_at", table_name="spotify_snapshots")
    op.drop_table("spotify_snapshots")
