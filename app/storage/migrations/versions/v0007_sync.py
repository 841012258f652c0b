"""Team sync: which projects are shared through which server, and the outbox of unsent edits.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

``sync_accounts`` has one row per team server the user signed in to: the account's id, e-mail and
name. The tokens themselves live only in the OS keyring (service "Hookline Team Sync"), never here.
``sync_projects`` links a local project to a team project on a server: the server's URL, the team
id, the newest server revision applied locally (``last_revision``), and what the engine last saw
on a clean stop (``rows_seen``: the highest ``project_updates.id``; ``state_vector``: the
document's Yjs state vector), so edits made while no sync engine ran are found and sent.
``sync_outbox`` holds local Yjs updates not yet acknowledged by the server, in ``id`` order; a row
is deleted only after the server answered a push containing it with a revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_accounts",
        sa.Column("server_url", sa.String(2000), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(500), nullable=True),
        sa.Column("signed_in_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("server_url", name="pk_sync_accounts"),
    )
    op.create_table(
        "sync_projects",
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("server_url", sa.String(2000), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("last_revision", sa.Integer(), nullable=False),
        sa.Column("rows_seen", sa.Integer(), nullable=False),
        sa.Column("state_vector", sa.LargeBinary(), nullable=True),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.Column("last_pulled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_sync_projects_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name="pk_sync_projects"),
    )
    op.create_table(
        "sync_outbox",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("project_id", sa.String(36), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["sync_projects.project_id"],
            name="fk_sync_outbox_project_id_sync_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sync_outbox"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sync_outbox_project_id_id", "sync_outbox", ["project_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_sync_outbox_project_id_id", table_name="sync_outbox")
    op.drop_table("sync_outbox")
    op.drop_table("sync_projects")
    op.drop_table("sync_accounts")
