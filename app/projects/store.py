"""The user's projects in the database: create, open, list, rename, trash, export, compact.

Each project is a row in ``projects`` plus its document's Yjs updates in ``project_updates``,
replayed in id order when opened. A damaged update row never makes a project unreadable: it is
skipped (and kept, untouched, for a later repair), the rest loads, and the project's
``warnings`` say what is missing. Deleting moves a project to the trash; :meth:`purge` removes
it for good and only from the trash.

Thread contract: the store holds no state of its own besides the database, so any thread may
call it; every call uses its own session. A :class:`Project` it returns belongs to the calling
thread.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pycrdt
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.i18n import _, format_decimal, ngettext
from app.projects import document
from app.projects.errors import ProjectError
from app.projects.project import Project, clean_name
from app.storage import Database, ProjectRow, ProjectUpdateRow, StorageError
from app.storage.models import utc_now

log = logging.getLogger(__name__)

EXPORT_FORMAT = "hookline-project"
EXPORT_VERSION = 1
COMPACT_OVER = 1000  # rows; opening a project with more merges them first


@dataclass(frozen=True)
class ProjectInfo:
    """What a project list shows, without loading the document."""

    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None

    @classmethod
    def from_row(cls, row: ProjectRow) -> ProjectInfo:
        return cls(row.id, row.name, row.created_at, row.updated_at, row.deleted_at)


ProjectInfos = list[ProjectInfo]
UpdateRows = list[tuple[int, bytes]]  # (row id, update); aliases because of ProjectStore.list


class ProjectStore:
    """Projects kept in a :class:`~app.storage.Database`."""

    def __init__(self, database: Database, *, compact_over: int | None = COMPACT_OVER) -> None:
        self._db = database
        self._compact_over = compact_over

    def create(self, name: str) -> Project:
        """A new, empty project called ``name``, already saved."""
        clean = clean_name(name)
        doc = document.new_doc()
        updates: list[bytes] = []
        subscription = doc.observe(lambda event: updates.append(event.update))
        with doc.transaction():
            doc.get("meta", type=pycrdt.Map)["name"] = clean
        doc.unobserve(subscription)
        project_id = str(uuid.uuid4())
        self._insert_project(project_id, clean, updates)
        return Project(self, project_id, doc)

    def create_from_update(self, project_id: str, update: bytes) -> Project:
        """Make a local copy of a project that exists elsewhere (sync, import) from its state.

        The update is checked like any received change; ``project_id`` must be a UUID."""
        try:
            project_id = str(uuid.UUID(project_id))
        except (TypeError, ValueError, AttributeError) as exc:
            raise ProjectError(_("The project's identifier is not valid.")) from exc
        data = document.as_update_bytes(update)
        doc = document.check_update(document.EMPTY_UPDATE, data)
        name = doc.get("meta", type=pycrdt.Map).get("name")
        try:
            clean = clean_name(name)
        except ProjectError:
            clean = _("Untitled song")
        self._insert_project(project_id, clean, [data])
        return Project(self, project_id, doc)

    def open(self, project_id: str) -> Project:
        """Load a project (not in the trash). Raises ProjectError if it does not exist."""
        with self._session(_("The project could not be opened.")) as session:
            row = self._row(session, project_id)
            if row.deleted_at is not None:
                raise ProjectError(
                    _("“{name}” is in the trash. Restore it to open it.").format(name=row.name)
                )
            count = (
                session.scalar(
                    select(func.count()).where(ProjectUpdateRow.project_id == project_id)
                )
                or 0
            )
        if self._compact_over is not None and count > self._compact_over:
            try:
                self.compact(project_id)
            except ProjectError:  # a tidy-up, not a condition for opening
                log.warning("project %s not compacted", project_id, exc_info=True)
        result, rows = self._replay(project_id)
        return Project(
            self,
            project_id,
            result.doc,
            warnings=_load_warnings(result),
            skipped_updates=result.skipped,
            waiting_updates=[data for i, data in rows if i in result.waiting],
        )

    def info(self, project_id: str) -> ProjectInfo:
        with self._session(_("The project list could not be read.")) as session:
            return ProjectInfo.from_row(self._row(session, project_id))

    def list(self) -> ProjectInfos:
        """Projects not in the trash, the most recently changed first."""
        query = (
            select(ProjectRow)
            .where(ProjectRow.deleted_at.is_(None))
            .order_by(ProjectRow.updated_at.desc(), ProjectRow.created_at.desc())
        )
        with self._session(_("The project list could not be read.")) as session:
            return [ProjectInfo.from_row(r) for r in session.scalars(query)]

    def trash(self) -> ProjectInfos:
        """Projects in the trash, the most recently deleted first."""
        query = (
            select(ProjectRow)
            .where(ProjectRow.deleted_at.is_not(None))
            .order_by(ProjectRow.deleted_at.desc())
        )
        with self._session(_("The trash could not be read.")) as session:
            return [ProjectInfo.from_row(r) for r in session.scalars(query)]

    def rename(self, project_id: str, name: str) -> None:
        """Rename a project (the name lives in its document, so it syncs like any edit)."""
        project = self.open(project_id)
        try:
            project.rename(name)
        finally:
            project.close()

    def delete(self, project_id: str) -> None:
        """Move a project to the trash (undo with :meth:`restore`)."""
        with self._session(_("The project could not be moved to the trash."), write=True) as s:
            row = self._row(s, project_id)
            if row.deleted_at is None:
                row.deleted_at = utc_now()

    def restore(self, project_id: str) -> None:
        """Take a project out of the trash."""
        with self._session(_("The project could not be restored."), write=True) as s:
            self._row(s, project_id).deleted_at = None

    def purge(self, project_id: str) -> None:
        """Delete a project from the trash for good, with all its saved changes.

        Files it refers to stay in the blob store (other projects may share them)."""
        with self._session(_("The project could not be deleted."), write=True) as s:
            row = self._row(s, project_id)
            if row.deleted_at is None:
                raise ProjectError(
                    _("Move “{name}” to the trash before deleting it for good.").format(
                        name=row.name
                    )
                )
            s.delete(row)  # its updates go with it (ON DELETE CASCADE)

    def export_json(self, project_id: str) -> dict[str, Any]:
        """Everything the user made in a project, as JSON-safe values (trashed ones too)."""
        info = self.info(project_id)
        result, _rows = self._replay(project_id)
        exported: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "format_version": EXPORT_VERSION,
            "id": info.id,
            "name": info.name,
            "created_at": info.created_at.isoformat(),
            "updated_at": info.updated_at.isoformat(),
            "deleted_at": info.deleted_at.isoformat() if info.deleted_at else None,
            **document.read_parts(result.doc),
        }
        warnings = _load_warnings(result)
        if warnings:
            exported["warnings"] = warnings
        return exported

    def compact(self, project_id: str) -> int:
        """Merge a project's saved updates into one row, in one transaction; return how many
        rows were merged (0 if there was nothing to do).

        Only rows that apply cleanly and completely are merged; damaged rows and rows waiting
        for a missing predecessor are kept as they are. The merged update is checked against
        the replayed document before anything is deleted."""
        with self._session(_("The project could not be tidied up."), write=True) as session:
            self._row(session, project_id)
            rows = _update_rows(session, project_id)
            result = document.replay(rows)
            waiting = set(result.waiting)
            mergeable = [i for i in result.applied if i not in waiting]
            if len(mergeable) < 2:
                return 0
            by_id = {i: d for i, d in rows if isinstance(d, bytes)}
            merged = pycrdt.merge_updates(*(by_id[i] for i in mergeable))
            check = document.new_doc()
            check.apply_update(merged)
            for i in result.waiting:
                check.apply_update(by_id[i])
            same_clocks = document.state_vector(check) == document.state_vector(result.doc)
            if not same_clocks or document.read_parts(check) != document.read_parts(result.doc):
                raise ProjectError(_("The project could not be tidied up; nothing was changed."))
            session.execute(
                insert(ProjectUpdateRow).values(
                    project_id=project_id, data=merged, created_at=utc_now()
                )
            )
            session.execute(delete(ProjectUpdateRow).where(ProjectUpdateRow.id.in_(mergeable)))
        log.info("compacted project %s: %d rows merged", project_id, len(mergeable))
        return len(mergeable)

    # -- used by Project -----------------------------------------------------------------------
    def append_updates(self, project_id: str, updates: Sequence[bytes], name: str | None) -> None:
        """Write a project's updates (and its listed name) in one transaction; durable when
        this returns."""
        if not updates and name is None:
            return
        now = utc_now()
        values: dict[str, Any] = {"updated_at": now} if updates else {}
        if name is not None:
            values["name"] = name
        with self._session(_("Your last change could not be saved."), write=True) as session:
            changed = session.execute(
                update(ProjectRow).where(ProjectRow.id == project_id).values(**values)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise ProjectError(_("The project was deleted; your change could not be saved."))
            if updates:
                session.execute(
                    insert(ProjectUpdateRow),
                    [
                        {"project_id": project_id, "data": data, "created_at": now}
                        for data in updates
                    ],
                )

    # -- internals -----------------------------------------------------------------------------
    def _insert_project(self, project_id: str, name: str, updates: Sequence[bytes]) -> None:
        now = utc_now()
        with self._session(_("The project could not be created."), write=True) as session:
            if session.get(ProjectRow, project_id) is not None:
                raise ProjectError(_("A project with this identifier exists already."))
            session.add(ProjectRow(id=project_id, name=name, created_at=now, updated_at=now))
            session.flush()
            session.execute(
                insert(ProjectUpdateRow),
                [{"project_id": project_id, "data": data, "created_at": now} for data in updates],
            )

    def _replay(self, project_id: str) -> tuple[document.Replay, UpdateRows]:
        with self._session(_("The project could not be opened.")) as session:
            self._row(session, project_id)
            rows = _update_rows(session, project_id)
        result = document.replay(rows)
        if result.skipped:
            log.warning("project %s: skipped damaged update rows %s", project_id, result.skipped)
        return result, [(i, d) for i, d in rows if isinstance(d, bytes)]

    @staticmethod
    def _row(session: Session, project_id: str) -> ProjectRow:
        row = session.get(ProjectRow, project_id) if isinstance(project_id, str) else None
        if row is None:
            raise ProjectError(
                _("The project could not be found; it may have been deleted for good.")
            )
        return row

    @contextmanager
    def _session(self, failure: str, write: bool = False) -> Iterator[Session]:
        """A database session whose storage failures become ProjectError(failure + reason)."""
        opened = self._db.session() if write else self._db.read_session()
        try:
            with opened as session:
                yield session
        except StorageError as exc:
            raise ProjectError(f"{failure} {exc.message}") from exc
        except SQLAlchemyError as exc:
            log.exception("database error")
            raise ProjectError(failure) from exc


def _update_rows(session: Session, project_id: str) -> list[tuple[int, object]]:
    query = (
        select(ProjectUpdateRow.id, ProjectUpdateRow.data)
        .where(ProjectUpdateRow.project_id == project_id)
        .order_by(ProjectUpdateRow.id)
    )
    return [(int(i), data) for i, data in session.execute(query)]


def _load_warnings(result: document.Replay) -> list[str]:
    warnings: list[str] = []
    if result.skipped:
        warnings.append(
            ngettext(
                "{count} saved change to this project is damaged and was left out. "
                "It is kept in the database for a later repair.",
                "{count} saved changes to this project are damaged and were left out. "
                "They are kept in the database for a later repair.",
                len(result.skipped),
            ).format(count=format_decimal(len(result.skipped)))
        )
    if result.waiting:
        warnings.append(
            ngettext(
                "{count} saved change depends on a missing change and is not shown yet.",
                "{count} saved changes depend on missing changes and are not shown yet.",
                len(result.waiting),
            ).format(count=format_decimal(len(result.waiting)))
        )
    return warnings
