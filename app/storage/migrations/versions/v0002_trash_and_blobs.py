"""Trash for projects, and the table of content-addressed files.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-25

``projects.deleted_at`` is set while a project is in the trash, so a deletion can be undone.
``blobs`` lists files known by their SHA-256 (stems, bounces) that projects refer to.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Adding a nullable column is a plain ALTER TABLE in SQLite: no table copy, rows untouched.
    op.add_column("projects", sa.Column("deleted_at", sa.DateTime(), nullable=True))
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
    )


def downgrade() -> None:
    op.drop_table("blobs")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("deleted_at")
