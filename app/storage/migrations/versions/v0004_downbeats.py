"""Downbeats and beats per bar in the Library's analyses.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

``beats_per_bar`` (3 or 4; NULL when unknown) and ``downbeats`` (a JSON list of seconds, a
subset of ``beats``) come from :mod:`audio.meter`. Rows analysed before this revision keep their
results and read "meter unknown" until the file is analysed again (analysis version 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns: a plain ALTER TABLE in SQLite, existing rows untouched.
    op.add_column("analysed_tracks", sa.Column("beats_per_bar", sa.Integer(), nullable=True))
    op.add_column("analysed_tracks", sa.Column("downbeats", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("analysed_tracks") as batch:
        batch.drop_column("downbeats")
        batch.drop_column("beats_per_bar")
