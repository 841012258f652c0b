"""What team sync keeps in the user's database: project links, the outbox, the signed-in account.

The outbox holds every local Yjs update of a shared project until the server has answered a push
containing it with a revision; rows are written in their own committed transaction (durable on
return, see :mod:`app.storage.database`) and deleted only after that answer. Sending a row twice
is harmless: Yjs updates are idempotent.

Thread contract: no state besides the database; any thread may call any method.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.i18n import _
from app.storage import Database, ProjectUpdateRow, StorageError
from app.storage.models import SyncAccountRow, SyncOutboxRow, SyncProjectRow, utc_now
from app.sync.errors import SyncError

log = logging.getLogger(__name__)


class SyncStoreError(SyncError):
    """The database could not be read or written; the message is for the user."""


def wire_id(project_id: str) -> str:
    """The project id on the wire: the local UUID as 32 lowercase hex digits."""
    return uuid.UUID(project_id).hex


def local_id(wire: str) -> str:
    """The local project id (a UUID string) of a project id on the wire."""
    return str(uuid.UUID(hex=wire))


@dataclass(frozen=True)
class SyncLink:
    project_id: str
    server_url: str
    team_id: str
    last_revision: int
    rows_seen: int
    state_vector: bytes | None
    linked_at: datetime
    last_pulled_at: datetime | None

    @property
    def wire_id(self) -> str:
        return wire_id(self.project_id)


@dataclass(frozen=True)
class SavedAccount:
    server_url: str
    user_id: str
    email: str
    name: str | None


class SyncStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    # -- links ---------------------------------------------------------------------------------
    def link(
        self,
        project_id: str,
        server_url: str,
        team_id: str,
        *,
        last_revision: int = 0,
        rows_seen: int = 0,
        state_vector: bytes | None = None,
    ) -> None:
        """Record that ``project_id`` is shared as a team project (replacing an older link)."""
        with self._session(_("The shared project could not be recorded."), write=True) as s:
            s.execute(delete(SyncProjectRow).where(SyncProjectRow.project_id == project_id))
            s.add(
                SyncProjectRow(
                    project_id=project_id,
                    server_url=server_url,
                    team_id=team_id,
                    last_revision=last_revision,
                    rows_seen=rows_seen,
                    state_vector=state_vector,
                    linked_at=utc_now(),
                )
            )

    def unlink(self, project_id: str) -> None:
        """Stop sharing: forget the link and its unsent outbox rows."""
        with self._session(_("The shared project could not be changed."), write=True) as s:
            s.execute(delete(SyncProjectRow).where(SyncProjectRow.project_id == project_id))

    def get_link(self, project_id: str) -> SyncLink | None:
        with self._session(_("The shared projects could not be read.")) as s:
            row = s.get(SyncProjectRow, project_id)
            return _link(row) if row is not None else None

    def links(self, server_url: str | None = None) -> list[SyncLink]:
        query = select(SyncProjectRow).order_by(SyncProjectRow.linked_at)
        if server_url is not None:
            query = query.where(SyncProjectRow.server_url == server_url)
        with self._session(_("The shared projects could not be read.")) as s:
            return [_link(r) for r in s.scalars(query)]

    def set_last_revision(self, project_id: str, revision: int) -> None:
        """Record that every server revision up to ``revision`` is applied (never goes back)."""
        with self._session(_("The sync state could not be saved."), write=True) as s:
            s.execute(
                update(SyncProjectRow)
                .where(
                    SyncProjectRow.project_id == project_id,
                    SyncProjectRow.last_revision < revision,
                )
                .values(last_revision=revision, last_pulled_at=utc_now())
            )

    def reset_last_revision(self, project_id: str, revision: int) -> None:
        """Set the newest applied revision even when lower (the server went back)."""
        with self._session(_("The sync state could not be saved."), write=True) as s:
            s.execute(
                update(SyncProjectRow)
                .where(SyncProjectRow.project_id == project_id)
                .values(last_revision=revision)
            )

    def set_seen(self, project_id: str, rows_seen: int, state_vector: bytes) -> None:
        with self._session(_("The sync state could not be saved."), write=True) as s:
            s.execute(
                update(SyncProjectRow)
                .where(SyncProjectRow.project_id == project_id)
                .values(rows_seen=rows_seen, state_vector=state_vector)
            )

    def newest_update_row(self, project_id: str) -> int:
        """The highest ``project_updates.id`` of the project (0 when none)."""
        query = select(func.max(ProjectUpdateRow.id)).where(
            ProjectUpdateRow.project_id == project_id
        )
        with self._session(_("The project could not be read.")) as s:
            return int(s.scalar(query) or 0)

    # -- outbox --------------------------------------------------------------------------------
    def add_to_outbox(self, project_id: str, data: bytes) -> int:
        """Append one update; durable when this returns. Returns the row id."""
        with self._session(_("Your change could not be queued for the team."), write=True) as s:
            row = SyncOutboxRow(project_id=project_id, data=bytes(data), created_at=utc_now())
            s.add(row)
            s.flush()
            return int(row.id)

    def outbox_batch(
        self, project_id: str, *, max_rows: int, max_bytes: int
    ) -> list[tuple[int, bytes]]:
        """The oldest rows of the project's outbox, at most ``max_rows`` and ``max_bytes`` in
        all (but at least one row when there is one)."""
        query = (
            select(SyncOutboxRow.id, SyncOutboxRow.data)
            .where(SyncOutboxRow.project_id == project_id)
            .order_by(SyncOutboxRow.id)
            .limit(max_rows)
        )
        batch: list[tuple[int, bytes]] = []
        size = 0
        with self._session(_("The queued changes could not be read.")) as s:
            for row_id, data in s.execute(query):
                size += len(data)
                if batch and size > max_bytes:
                    break
                batch.append((int(row_id), bytes(data)))
        return batch

    def remove_from_outbox(self, row_ids: Sequence[int]) -> None:
        if not row_ids:
            return
        with self._session(_("The sync state could not be saved."), write=True) as s:
            s.execute(delete(SyncOutboxRow).where(SyncOutboxRow.id.in_(list(row_ids))))

    def outbox_size(self, project_id: str | None = None) -> int:
        query = select(func.count()).select_from(SyncOutboxRow)
        if project_id is not None:
            query = query.where(SyncOutboxRow.project_id == project_id)
        with self._session(_("The queued changes could not be read.")) as s:
            return int(s.scalar(query) or 0)

    def outbox(self, project_id: str) -> list[bytes]:
        query = (
            select(SyncOutboxRow.data)
            .where(SyncOutboxRow.project_id == project_id)
            .order_by(SyncOutboxRow.id)
        )
        with self._session(_("The queued changes could not be read.")) as s:
            return [bytes(d) for d in s.scalars(query)]

    # -- accounts ------------------------------------------------------------------------------
    def remember_account(self, server_url: str, user_id: str, email: str, name: str | None) -> None:
        with self._session(_("The sign-in could not be recorded."), write=True) as s:
            s.execute(delete(SyncAccountRow).where(SyncAccountRow.server_url == server_url))
            s.add(
                SyncAccountRow(
                    server_url=server_url,
                    user_id=user_id,
                    email=email,
                    name=name,
                    signed_in_at=utc_now(),
                )
            )

    def forget_account(self, server_url: str) -> None:
        with self._session(_("The sign-in could not be removed."), write=True) as s:
            s.execute(delete(SyncAccountRow).where(SyncAccountRow.server_url == server_url))

    def account(self, server_url: str) -> SavedAccount | None:
        with self._session(_("The sign-in could not be read.")) as s:
            row = s.get(SyncAccountRow, server_url)
            if row is None:
                return None
            return SavedAccount(row.server_url, row.user_id, row.email, row.name)

    # -- internals -----------------------------------------------------------------------------
    @contextmanager
    def _session(self, failure: str, write: bool = False) -> Iterator[Session]:
        opened = self._db.session() if write else self._db.read_session()
        try:
            with opened as session:
                yield session
        except StorageError as exc:
            raise SyncStoreError(f"{failure} {exc.message}", code="storage") from exc
        except SQLAlchemyError as exc:
            log.exception("database error")
            raise SyncStoreError(failure, code="storage") from exc


def _link(row: SyncProjectRow) -> SyncLink:
    return SyncLink(
        row.project_id,
        row.server_url,
        row.team_id,
        row.last_revision,
        row.rows_seen,
        row.state_vector,
        row.linked_at,
        row.last_pulled_at,
    )
